// Helpers for the tests of the modules' kept-alive channel to the core (nginx-keepalive,
// apache-keepalive): counting the core's ends of the channel's connections, app folders the
// servers' users can read, and requests whose response the app cuts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { patternBytes, rawRequest, request, sha256 } from './http.mjs';
import { makeAppReadable } from './nginx.mjs';
import { waitFor, waitForGone } from './proc.mjs';
import { copyRealtimeFixture, openWebSocket } from './realtime.mjs';
import { copyFixture } from './server.mjs';

// The core's ends of the module's connections: connected sockets bound to the core's socket
// path (the listener itself is not connected). Returns their inodes, sorted.
export function coreConnections(socketPath) {
    return fs
        .readFileSync('/proc/net/unix', 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields[7] === socketPath && fields[5] === '03')
        .map((fields) => Number(fields[6]))
        .sort((a, b) => a - b);
}

// A copy of a fixture with an empty public/, readable by the server's unprivileged user.
export async function readableApp(t, fixture) {
    const dir = fixture === 'realtime' ? await copyRealtimeFixture(t) : await copyFixture(t, fixture);
    await fsp.mkdir(path.join(dir, 'public'), { recursive: true });
    await makeAppReadable(dir);
    return dir;
}

// A request whose response the app cuts: rejects (node's client notices), ends short, or is a
// 502 (nothing of it had reached the client).
export async function cutShort(port, urlPath) {
    try {
        const response = await request(port, urlPath);
        return response.status === 502 || (response.body.length < 1000 && !response.text.includes('never'));
    } catch {
        return true;
    }
}

// A WebSocket (the realtime fixture's /ws on `port`) takes the one cached connection, which
// never returns to the cache; kept-alive requests go on after it.
export async function webSocketAfterKeptAlive(port, connections) {
    assert.equal((await request(port, '/pid')).status, 200);
    assert.equal(connections().length, 1);
    const socket = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
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
    assert.equal((await request(port, '/pid')).status, 200);
    await waitFor(() => connections().length === 1 && !connections().includes(tunnel[0]), {
        what: () => `the tunnel's connection ${tunnel} to close and not come back: ${connections()}`,
    });
}

// Four connections in the cache, then the core (pid from `cores()`) is SIGKILLed: each later
// request finds its cached connection closed (sent again on a fresh one) or connects anew, and
// the new core accepts them all, GETs and POSTs.
export async function servedAfterCoreKilled(port, connections, cores) {
    await Promise.all([1, 2, 3, 4].map(() => request(port, '/slow?ms=300')));
    assert.equal(connections().length, 4, 'four connections in the cache');
    const [core] = cores();
    process.kill(core, 'SIGKILL');
    await waitForGone([core]);
    const responses = await Promise.all([
        ...[1, 2, 3].map(() => request(port, '/pid', { timeoutMs: 30000 })),
        ...[1, 2, 3].map(() => request(port, '/echo', { method: 'POST', body: 'after', timeoutMs: 30000 })),
    ]);
    assert.deepEqual(
        responses.map((response) => response.status),
        [200, 200, 200, 200, 200, 200],
        responses.map((response) => response.text).join('\n'),
    );
    for (const response of responses.slice(3)) assert.equal(response.json().bodyText, 'after');
    assert.ok(!cores().includes(core));
}

// Requests of two apps (`first` on `portA`, `second` on `portB`), one after another, share the
// one cached connection, each routed to its app by its own preamble.
export async function twoAppsShareOneConnection({ portA, portB, first, second, connections }) {
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
}

// Every response framing the core writes on `port`'s channel: request bodies, a streamed
// (chunked) response, HEAD, 204, 304 and an HTTP/1.0 client. `between()` runs after the bodies
// (a module's own cases). Returns the streamed response for the caller's framing checks.
export async function everyFraming(port, between = async () => {}) {
    for (const body of [undefined, 'hello', patternBytes(300000, 7)]) {
        const response = await request(port, '/echo', { method: 'POST', body });
        assert.equal(response.status, 200, response.text);
        assert.equal(response.json().bodyLength, body ? body.length : 0);
        if (body) assert.equal(response.json().bodySha256, sha256(body));
    }
    await between();
    const streamed = await request(port, '/stream?ms=100');
    assert.equal(streamed.status, 200);
    assert.equal(streamed.text, 'first\nsecond\n');
    const head = await request(port, '/pid', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const code of [204, 304]) {
        const response = await request(port, `/status?code=${code}`);
        assert.equal(response.status, code);
        assert.equal(response.body.length, 0);
    }
    // An HTTP/1.0 client's request goes on the kept-alive channel too.
    const old = await rawRequest(port, 'GET /pid HTTP/1.0\r\nHost: a\r\n\r\n');
    assert.equal(old.status, 200, String(old.body));
    assert.equal((await request(port, '/pid')).status, 200);
    return streamed;
}
