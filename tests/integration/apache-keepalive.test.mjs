// The Apache module's kept-alive channel to the core (channel version 3,
// src/integrations/README.md): requests share a few Unix connections to the core, each request
// with its own settings preamble; responses of every framing leave the connection reusable; cut
// responses, WebSockets and a killed core leave nothing stale. One Apache (event MPM, one child
// process) serves every subtest; the core's side of each channel connection is counted in
// /proc/net/unix.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { apacheConfig, makeApacheDir, passengerProcesses, startApache } from './lib/apache.mjs';
import { coreConnections, cutShort, everyFraming, readableApp, servedAfterCoreKilled, twoAppsShareOneConnection, webSocketAfterKeptAlive } from './lib/channel.mjs';
import { rawRequest, request } from './lib/http.mjs';
import { waitFor } from './lib/proc.mjs';
import { freePort } from './lib/server.mjs';

// One child process, so that every request uses the same cache of core connections.
const oneChild = `StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16`;

test('the kept-alive channel between Apache and the core', { skip: process.getuid() !== 0 && 'needs root', timeout: 120000 }, async (t) => {
    const [first, second, realtime] = [await readableApp(t, 'echo'), await readableApp(t, 'echo'), await readableApp(t, 'realtime')];
    const [portA, portB, portC] = [await freePort(), await freePort(), await freePort()];
    const vhosts = [first, second, realtime].map((dir, i) => ({ port: [portA, portB, portC][i], body: `    DocumentRoot ${dir}/public` }));
    const dir = await makeApacheDir(t);
    const apache = await startApache(t, dir, apacheConfig(dir, { vhosts, global: oneChild }), { waitPort: portA });
    const socketPath = apache.log().match(/listening on (\S+\/core\.sock)/)?.[1];
    assert.ok(socketPath, `the core's socket in the log:\n${apache.log()}`);
    const connections = () => coreConnections(socketPath);

    await t.test('requests of two apps, one after another, share one core connection', async () => {
        await twoAppsShareOneConnection({ portA, portB, first, second, connections });
    });

    await t.test('bodies, chunked responses, HEAD, 204 and 304 leave the connection reusable', async () => {
        const before = connections();
        await everyFraming(portA, async () => {
            // A chunked upload is spooled by the module, then sent with its length.
            const chunkedUpload = await rawRequest(portA, 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
            assert.equal(chunkedUpload.status, 200, chunkedUpload.text);
        });
        assert.deepEqual(connections(), before, 'every response was read to its end and the connection kept');
        assert.doesNotMatch(apache.log(), /passenger: the core('s response was cut| sent no valid)/);
    });

    await t.test('an app that dies mid-response: the client sees the cut, the connection is not reused', async () => {
        for (const route of ['/truncate', '/truncate?chunked=1']) {
            const before = connections();
            assert.ok(await cutShort(portA, route), `${route} reached the client as complete`);
            const next = await request(portA, '/pid');
            assert.equal(next.status, 200, next.text);
            await waitFor(() => connections().length === 1 && !connections().includes(before[0]), {
                what: () => `the cut connection ${before} to close: ${connections()}`,
            });
        }
    });

    await t.test('a WebSocket after kept-alive requests, and kept-alive requests after it', () =>
        webSocketAfterKeptAlive(portC, connections));

    await t.test('a core killed with connections in the cache: later GETs and POSTs are served', () =>
        servedAfterCoreKilled(portA, connections, () => passengerProcesses(apache).cores));
});
