// SockJS (what Meteor speaks) across several processes, with a real sockjs-client: with
// --sticky-sessions every request of a session reaches one process, on every transport; without,
// long polling breaks as the tutorial warns.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';

import { waitForReadyProcesses } from './lib/pool.mjs';
import { copyRealtimeFixture, sockjsEchoSession } from './lib/realtime.mjs';
import { startServer } from './lib/server.mjs';
import { request } from './lib/http.mjs';

const ROUND_TRIPS = 50;

async function startThreeProcesses(t, extraArgs = []) {
    const appDir = await copyRealtimeFixture(t);
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--min-instances', '3', ...extraArgs] });
    const pids = await waitForReadyProcesses(server, 3, { timeoutMs: 30000 });
    return { server, pids };
}

for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling']) {
    test(`sticky sessions: ${ROUND_TRIPS} SockJS echoes over ${transport} all reach one process`, { timeout: 90000 }, async (t) => {
        const { server, pids } = await startThreeProcesses(t, ['--sticky-sessions']);
        const session = await sockjsEchoSession(server.port, transport, ROUND_TRIPS);
        assert.deepEqual(session.failures, [], `session failures; log tail:\n${server.logText().slice(-1500)}`);
        assert.equal(session.transport, transport);
        assert.equal(session.replies.length, ROUND_TRIPS);
        const repliedBy = new Set(session.replies.map((reply) => reply.pid));
        assert.equal(repliedBy.size, 1, `replies came from ${[...repliedBy]}`);
        assert.ok(pids.includes([...repliedBy][0]), 'an app process of this server answered');

        // The route cookie names the process by an opaque id, never its PID, and works over
        // plain HTTP (no Secure attribute by default).
        const route = session.cookies.cookies.get('_passenger_route');
        assert.match(route ?? '', /^[0-9a-f]{16}$/);
        for (const pid of pids) assert.ok(!route.includes(String(pid)));
        assert.match(session.cookies.received[0], /^_passenger_route=[0-9a-f]{16}; SameSite=Lax; Path=\/$/);
    });
}

test(`without sticky sessions, SockJS long polling across 3 processes breaks`, { timeout: 90000 }, async (t) => {
    const { server } = await startThreeProcesses(t);
    const session = await sockjsEchoSession(server.port, 'xhr-polling', ROUND_TRIPS, { replyTimeoutMs: 3000 });
    // The session lives in one process; its polls and sends land on others, which do not know it.
    // What happens: the session's poll is held by one process, so its first send goes to another
    // (the least busy), which answers 404 for the unknown session, and sockjs-client gives up.
    // (Were a poll to land elsewhere instead, that process would open a new, empty session and
    // the echo would never come back.)
    assert.ok(session.replies.length < ROUND_TRIPS, `all ${ROUND_TRIPS} echoes came back: ${JSON.stringify(session.replies.slice(0, 3))}`);
    assert.match(session.failures.join('; '), /http status 404|no reply|Server lost session/);
    assert.ok(new Set(session.replies.map((reply) => reply.pid)).size <= 1);
    assert.equal(session.cookies.received.length, 0, 'no route cookie without --sticky-sessions');
    t.diagnostic(`without sticky sessions: ${session.replies.length} echo(es), then: ${session.failures.join('; ')}`);
});

test('a client that leaves a long poll frees its process at once', { timeout: 60000 }, async (t) => {
    const appDir = await copyRealtimeFixture(t);
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--min-instances', '1', '--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1'] });
    // A request the app holds without answering (a long poll with no news), which the client
    // gives up once the app has it.
    const req = http.get({ host: '127.0.0.1', port: server.port, path: '/stream?quiet=1', agent: false });
    req.on('error', () => {});
    await server.waitForLog(/stream waiting: \/stream\?quiet=1/, { timeoutMs: 10000 });
    req.destroy();
    await server.waitForLog(/stream abandoned by its client: \/stream\?quiet=1/);
    // The long poll would never end on its own and the only process takes one request at a
    // time: an answer means the process was freed when its client left.
    const next = await request(server.port, '/pid', { timeoutMs: 15000 });
    assert.equal(next.status, 200);

    // A client that closes its side right behind its request (both arrive together, before the
    // core waits for the app) is noticed as well.
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end('GET /stream?quiet=2 HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await server.waitForLog(/stream abandoned by its client: \/stream\?quiet=2/);
    const after = await request(server.port, '/pid', { timeoutMs: 15000 });
    assert.equal(after.status, 200);
});
