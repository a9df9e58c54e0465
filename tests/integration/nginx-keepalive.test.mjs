// The module's kept-alive channel to the core (channel version 3, src/integrations/README.md):
// requests of every app share a few Unix connections to the core, each request with its own
// settings preamble; responses of every framing leave the connection reusable; cut responses,
// WebSockets, a killed core and a reload leave nothing stale. One nginx (one worker) serves every
// subtest; the core's side of each channel connection is counted in /proc/net/unix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { coreConnections, cutShort, everyFraming, readableApp, servedAfterCoreKilled, twoAppsShareOneConnection, webSocketAfterKeptAlive } from './lib/channel.mjs';
import { RawConnection, request } from './lib/http.mjs';
import { makePrefix, nginxConfig, passengerProcesses, runNginx, startNginx } from './lib/nginx.mjs';
import { cmdline, descendantsOf, waitFor, waitForGone } from './lib/proc.mjs';
import { freePort } from './lib/server.mjs';

// Bytes the kernel holds for nginx, not read yet, on its end of the TCP connection from
// `clientPort` to `port` (/proc/net/tcp's rx_queue).
function unreadByNginx(port, clientPort) {
    const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
    const line = fs
        .readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((text) => text.trim().split(/\s+/))
        .find((fields) => fields[1]?.endsWith(`:${hex(port)}`) && fields[2]?.endsWith(`:${hex(clientPort)}`));
    return line ? parseInt(line[4].split(':')[1], 16) : 0;
}

test('the kept-alive channel between nginx and the core', { timeout: 120000 }, async (t) => {
    const [first, second, realtime] = [await readableApp(t, 'echo'), await readableApp(t, 'echo'), await readableApp(t, 'realtime')];
    const prefix = await makePrefix(t);
    const [portA, portB, portC] = [await freePort(), await freePort(), await freePort()];
    const servers = [first, second, realtime].map((dir, i) => ({
        port: [portA, portB, portC][i],
        body: `        root ${dir}/public;\n        passenger_enabled on;`,
    }));
    const nginx = await startNginx(t, prefix, nginxConfig(prefix, { servers }), { waitPort: portA });
    const socketPath = nginx.log().match(/listening on (\S+\/core\.sock) for nginx/)?.[1];
    assert.ok(socketPath, `the core's socket in the log:\n${nginx.log()}`);
    const connections = () => coreConnections(socketPath);

    await t.test('requests of two apps, one after another, share one core connection', async () => {
        await twoAppsShareOneConnection({ portA, portB, first, second, connections });
    });

    await t.test('bodies, chunked responses, HEAD, 204 and 304 leave the connection reusable', async () => {
        const before = connections();
        const streamed = await everyFraming(portA);
        assert.equal(streamed.headers['transfer-encoding'], 'chunked');
        assert.deepEqual(connections(), before, 'every response was read to its end and the connection kept');
        assert.doesNotMatch(nginx.log(), /upstream sent|invalid chunked|prematurely closed/);
    });

    await t.test('an app that dies mid-response: the client sees the cut, the next request is served', async () => {
        for (const route of ['/truncate', '/truncate?chunked=1']) {
            assert.ok(await cutShort(portA, route), `${route} reached the client as complete`);
            const next = await request(portA, '/pid');
            assert.equal(next.status, 200, next.text);
        }
        assert.equal(connections().length, 1, 'the cut connections were not kept');
    });

    await t.test('a WebSocket after kept-alive requests, and kept-alive requests after it', () =>
        webSocketAfterKeptAlive(portC, connections));

    await t.test('a core killed with connections in the cache: every later request is served', () =>
        servedAfterCoreKilled(portA, connections, () => passengerProcesses(nginx).cores));

    // The race the retry rule is for, made certain: the worker is stopped while a client's POST
    // arrives and then the core dies, so the worker sees the request before the end of its
    // cached connections, writes it on one, fails (the core had closed it: nothing reached the
    // core) and sends it again on a fresh connection, which the new core accepts.
    await t.test('a POST that meets a dead core\'s cached connection goes again on a fresh one', async () => {
        const client = await RawConnection.connect(portA);
        try {
            client.write('GET /pid HTTP/1.1\r\nHost: a\r\n\r\n');
            assert.equal((await client.readResponse()).status, 200);
            const [worker] = descendantsOf(nginx.pid)
                .map((stat) => stat.pid)
                .filter((pid) => (cmdline(pid) ?? [''])[0].startsWith('nginx: worker'));
            const [core] = passengerProcesses(nginx).cores;
            process.kill(worker, 'SIGSTOP');
            try {
                client.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nafter');
                await waitFor(() => unreadByNginx(portA, client.socket.localPort) > 0, { what: 'the POST at nginx' });
                process.kill(core, 'SIGKILL');
                await waitForGone([core]);
            } finally {
                process.kill(worker, 'SIGCONT');
            }
            const response = await client.readResponse({ timeoutMs: 30000 });
            assert.equal(response.status, 200, response.body?.toString());
            assert.equal(JSON.parse(response.body).bodyText, 'after');
            assert.match(nginx.log(), /\(32: Broken pipe\) while sending request to upstream/, 'the cached connection was tried first');
        } finally {
            client.close();
        }
    });

    await t.test('nginx reload: the old worker closes its cached connections, the new one serves', async () => {
        assert.equal((await request(portB, '/pid')).status, 200);
        const before = connections();
        assert.ok(before.length > 0);
        const workers = nginx.log().match(/start worker process \d+/g).length;
        assert.equal(runNginx(prefix, ['-s', 'reload']).status, 0);
        await waitFor(() => nginx.log().match(/start worker process \d+/g).length > workers, { what: 'a new worker' });
        await waitFor(() => before.every((inode) => !connections().includes(inode)), {
            what: () => `the old worker's connections to close: ${before} / ${connections()}`,
        });
        for (const port of [portA, portB]) assert.equal((await request(port, '/pid')).status, 200);
        assert.equal(connections().length, 1);
    });
});
