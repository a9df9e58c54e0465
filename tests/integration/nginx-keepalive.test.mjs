// The module's kept-alive channel to the core (channel version 3, src/integrations/README.md):
// requests of every app share a few Unix connections to the core, each request with its own
// settings preamble; responses of every framing leave the connection reusable; cut responses,
// WebSockets, a killed core and a reload leave nothing stale. One nginx (one worker) serves every
// subtest; the core's side of each channel connection is counted in /proc/net/unix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { patternBytes, RawConnection, rawRequest, request, sha256 } from './lib/http.mjs';
import { makeAppReadable, makePrefix, nginxConfig, passengerProcesses, runNginx, startNginx } from './lib/nginx.mjs';
import { cmdline, descendantsOf, waitFor, waitForGone } from './lib/proc.mjs';
import { copyRealtimeFixture, openWebSocket } from './lib/realtime.mjs';
import { copyFixture, freePort } from './lib/server.mjs';

// The core's ends of the module's connections: connected sockets bound to the core's socket
// path (the listener itself is not connected). Returns their inodes, sorted.
function coreConnections(socketPath) {
    return fs
        .readFileSync('/proc/net/unix', 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields[7] === socketPath && fields[5] === '03')
        .map((fields) => Number(fields[6]))
        .sort((a, b) => a - b);
}

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

async function readableApp(t, fixture) {
    const dir = fixture === 'realtime' ? await copyRealtimeFixture(t) : await copyFixture(t, fixture);
    await fsp.mkdir(path.join(dir, 'public'), { recursive: true });
    await makeAppReadable(dir);
    return dir;
}

// A request whose response the app cuts: rejects (node's client notices) or ends short.
async function cutShort(port, urlPath) {
    try {
        const response = await request(port, urlPath);
        return response.body.length < 1000 && !response.text.includes('never');
    } catch {
        return true;
    }
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
        assert.equal((await request(portA, '/pid')).status, 200);
        const before = connections();
        assert.equal(before.length, 1, `one kept-alive connection: ${before}`);
        for (let i = 0; i < 10; i++) {
            const [port, dir] = i % 2 ? [portB, second] : [portA, first];
            const response = await request(port, '/env');
            assert.equal(response.status, 200, response.text);
            assert.equal(response.json().cwd, dir, 'each request is routed by its own preamble');
        }
        assert.deepEqual(connections(), before);
    });

    await t.test('bodies, chunked responses, HEAD, 204 and 304 leave the connection reusable', async () => {
        const before = connections();
        for (const body of [undefined, 'hello', patternBytes(300000, 7)]) {
            const response = await request(portA, '/echo', { method: 'POST', body });
            assert.equal(response.status, 200, response.text);
            assert.equal(response.json().bodyLength, body ? body.length : 0);
            if (body) assert.equal(response.json().bodySha256, sha256(body));
        }
        const streamed = await request(portA, '/stream?ms=100');
        assert.equal(streamed.status, 200);
        assert.equal(streamed.text, 'first\nsecond\n');
        assert.equal(streamed.headers['transfer-encoding'], 'chunked');
        const head = await request(portA, '/pid', { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        for (const code of [204, 304]) {
            const response = await request(portA, `/status?code=${code}`);
            assert.equal(response.status, code);
            assert.equal(response.body.length, 0);
        }
        // An HTTP/1.0 client's request goes on the kept-alive channel too.
        const old = await rawRequest(portA, 'GET /pid HTTP/1.0\r\nHost: a\r\n\r\n');
        assert.equal(old.status, 200, old.text);
        assert.equal((await request(portA, '/pid')).status, 200);
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

    await t.test('a WebSocket after kept-alive requests, and kept-alive requests after it', async () => {
        assert.equal((await request(portC, '/pid')).status, 200);
        assert.equal(connections().length, 1);
        const socket = await openWebSocket(`ws://127.0.0.1:${portC}/ws`);
        let tunnel;
        try {
            socket.send('one');
            assert.equal((await socket.next()).data.toString(), 'one');
            tunnel = connections();
            assert.equal(tunnel.length, 1, 'the upgrade took the cached connection');
        } finally {
            socket.close();
            await socket.closed;
        }
        assert.equal((await request(portC, '/pid')).status, 200);
        await waitFor(() => connections().length === 1 && !connections().includes(tunnel[0]), {
            what: () => `the tunnel's connection ${tunnel} to close and not come back: ${connections()}`,
        });
    });

    await t.test('a core killed with connections in the cache: every later request is served', async () => {
        await Promise.all([1, 2, 3, 4].map(() => request(portA, '/slow?ms=300')));
        assert.equal(connections().length, 4, 'four connections in the cache');
        const [core] = passengerProcesses(nginx).cores;
        process.kill(core, 'SIGKILL');
        await waitForGone([core]);
        // Each either finds its cached connection closed (the request never reached the dead
        // core: sent again on a fresh one) or connects anew; the new core accepts them.
        const responses = await Promise.all([
            ...[1, 2, 3].map(() => request(portA, '/pid', { timeoutMs: 30000 })),
            ...[1, 2, 3].map(() => request(portA, '/echo', { method: 'POST', body: 'after', timeoutMs: 30000 })),
        ]);
        assert.deepEqual(
            responses.map((response) => response.status),
            [200, 200, 200, 200, 200, 200],
            responses.map((response) => response.text).join('\n'),
        );
        assert.ok(!passengerProcesses(nginx).cores.includes(core));
    });

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
