// Helpers for the tests of the modules' kept-alive channel to the core (nginx-keepalive,
// apache-keepalive): counting the core's ends of the channel's connections, app folders the
// servers' users can read, and requests whose response the app cuts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { request } from './http.mjs';
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
