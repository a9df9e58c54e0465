// WebSockets (any Upgrade) through the server with the ws client: the 101 is relayed, bytes flow
// both ways unbuffered (large and fragmented frames too), idle tunnels outlive the request
// timeouts, a tunnel holds its process, and a draining or stopping process closes its tunnels
// unless --no-abort-websockets-on-process-shutdown.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';

import { waitForQueued } from './lib/admin.mjs';
import { patternBytes, RawConnection, request, sha256 } from './lib/http.mjs';
import { appPids, touch } from './lib/pool.mjs';
import { sleep, waitFor, withTimeout } from './lib/proc.mjs';
import { copyRealtimeFixture, openWebSocket } from './lib/realtime.mjs';
import { startServer } from './lib/server.mjs';

async function startRealtime(t, args = []) {
    const appDir = await copyRealtimeFixture(t);
    return startServer(t, { appDir, readyPath: '/pid', args });
}

test('WebSocket echo: text, binary, several MiB, fragmented frames; logged when it closes', { timeout: 60000 }, async (t) => {
    const server = await startRealtime(t, ['--access-log', 'access.log', '--access-log-format', 'json']);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { 'User-Agent': 'tunnel-test' } });
    t.after(() => socket.terminate());

    socket.send('hello');
    let reply = await socket.next();
    assert.equal(reply.isBinary, false);
    assert.equal(reply.data.toString(), 'hello');

    socket.send('pid');
    const pid = Number((await socket.next()).data.toString());
    assert.ok(appPids(server).includes(pid), `the echo came from an app process (${pid})`);

    const small = patternBytes(1000, 7);
    socket.send(small, { binary: true });
    reply = await socket.next();
    assert.equal(reply.isBinary, true);
    assert.ok(Buffer.from(reply.data).equals(small));

    // One 8 MiB frame each way.
    const large = patternBytes(8 * 1024 * 1024, 11);
    socket.send(large, { binary: true });
    reply = await socket.next(30000);
    assert.equal(reply.data.length, large.length);
    assert.equal(sha256(reply.data), sha256(large));

    // One message in 5 frames (a text message of 3 MiB): the app gets it whole.
    const parts = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(600 * 1024 + i));
    parts.forEach((part, i) => socket.send(part, { fin: i === parts.length - 1, binary: false }));
    reply = await socket.next(30000);
    assert.equal(reply.data.toString(), parts.join(''));

    // Many small messages in a row keep their order.
    for (let i = 0; i < 200; i++) socket.send(`n${i}`);
    for (let i = 0; i < 200; i++) assert.equal((await socket.next()).data.toString(), `n${i}`);

    socket.close(1000, 'done');
    const closed = await withTimeout(socket.closed, 5000, 'timeout');
    assert.deepEqual(closed, { code: 1000, reason: 'done' }, 'the closing handshake went through');

    // The tunnel outlives the request's coroutines: its entry comes when it ends, with its head's
    // fields and every byte it sent to the client (the 101 head and every echo).
    const accessLog = path.join(server.appDir, 'access.log');
    const entry = await waitFor(() => (fs.existsSync(accessLog) ? fs.readFileSync(accessLog, 'utf8') : '')
        .split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.uri === '/ws'),
    { what: 'the access log entry of the tunnel' });
    assert.equal(entry.method, 'GET');
    assert.equal(entry.status, 101);
    assert.equal(entry.user_agent, 'tunnel-test');
    const echoed = large.length + parts.join('').length;
    assert.ok(entry.bytes_out > echoed, `bytes_out ${entry.bytes_out}, echoed ${echoed}`);
});

test('an idle tunnel outlives the request timeouts', { timeout: 60000 }, async (t) => {
    const server = await startRealtime(t, ['--client-header-timeout', '1', '--client-body-timeout', '1', '--keepalive-timeout', '1', '--send-timeout', '1', '--max-request-time', '1']);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`);
    t.after(() => socket.terminate());
    socket.send('before');
    assert.equal((await socket.next()).data.toString(), 'before');
    let closedEarly = null;
    socket.closed.then((info) => (closedEarly = info));
    await sleep(3500); // the behaviour under test: idle for longer than every timeout above
    assert.equal(closedEarly, null, 'the tunnel is still open');
    socket.send('after');
    assert.equal((await socket.next()).data.toString(), 'after');
    // A tunnel that waited holds no buffer: a large message after the wait is relayed whole.
    await sleep(300);
    const large = patternBytes(2 * 1024 * 1024, 5);
    socket.send(large, { binary: true });
    const reply = await socket.next(30000);
    assert.equal(sha256(reply.data), sha256(large));
});

test('the 101 and the first frame the app sends with it arrive together', { timeout: 30000 }, async (t) => {
    const server = await startRealtime(t);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws-hello`);
    t.after(() => socket.terminate());
    const hello = (await socket.next()).data.toString();
    assert.match(hello, /^hello \d+$/);
});

test('an upgrade the app refuses gets its answer, and the connection goes on', { timeout: 30000 }, async (t) => {
    const server = await startRealtime(t);
    const refused = await openWebSocket(`ws://127.0.0.1:${server.port}/ws-refused`).then(
        () => null,
        (error) => error,
    );
    assert.equal(refused?.status, 403);

    // On one connection: the refused upgrade's answer, then an ordinary request.
    const connection = await RawConnection.connect(server.port);
    t.after(() => connection.close());
    connection.write('GET /ws-refused HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    const answer = await connection.readResponse();
    assert.equal(answer.status, 403);
    assert.equal(answer.text, 'refused\n');
    connection.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
    const next = await connection.readResponse();
    assert.equal(next.status, 200);
    assert.ok(next.text.includes('pid'));
});

test('bytes a client sends right behind the upgrade request reach the app', { timeout: 30000 }, async (t) => {
    const server = await startRealtime(t);
    // The handshake and a masked text frame ("early") in one write, before any 101 came back.
    const payload = Buffer.from('early');
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
    const socket = net.connect(server.port, '127.0.0.1');
    t.after(() => socket.destroy());
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => (received = Buffer.concat([received, chunk])));
    socket.write(
        Buffer.concat([
            Buffer.from(
                'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
                    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
            ),
            frame,
        ]),
    );
    // The 101, then the echo: an unmasked text frame "early".
    const echo = Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
    await waitFor(() => received.includes(echo), { timeoutMs: 10000, what: () => `the echo frame; got ${JSON.stringify(received.toString('latin1'))}` });
    assert.match(received.toString('latin1'), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(received.toString('latin1'), /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
});

test('a tunnel holds its process: a queued request waits until it closes', { timeout: 60000 }, async (t) => {
    // One process that takes one request at a time: while the tunnel is open, a second request
    // waits in the queue and is answered once the tunnel closes.
    const server = await startRealtime(t, ['--min-instances', '1', '--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1']);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`);
    t.after(() => socket.terminate());
    socket.send('pid');
    await socket.next();
    let answered = false;
    const queued = request(server.port, '/pid').then((response) => {
        answered = true;
        return response;
    });
    await waitForQueued(server, '/pid', 1);
    assert.equal(answered, false, 'the request waits while the tunnel holds the process');
    socket.close(1000);
    const response = await withTimeout(queued, 10000, null);
    assert.equal(response?.status, 200, 'answered once the tunnel closed');
});

test('a restart closes the tunnels of the old processes', { timeout: 60000 }, async (t) => {
    const server = await startRealtime(t);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`);
    t.after(() => socket.terminate());
    socket.send('pid');
    const oldPid = Number((await socket.next()).data.toString());
    touch(path.join(server.appDir, 'tmp', 'restart.txt'));
    const closed = await withTimeout(socket.closed, 15000, 'still open');
    assert.notEqual(closed, 'still open', 'the tunnel was closed by the restart');
    await waitFor(() => !appPids(server).includes(oldPid), { timeoutMs: 15000, what: `old process ${oldPid} gone` });
    // New tunnels reach the new process.
    const again = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`);
    t.after(() => again.terminate());
    again.send('pid');
    assert.notEqual(Number((await again.next()).data.toString()), oldPid);
});

test('--no-abort-websockets-on-process-shutdown keeps a draining process\'s tunnel open', { timeout: 60000 }, async (t) => {
    const server = await startRealtime(t, ['--no-abort-websockets-on-process-shutdown']);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`);
    t.after(() => socket.terminate());
    socket.send('pid');
    const oldPid = Number((await socket.next()).data.toString());
    touch(path.join(server.appDir, 'tmp', 'restart.txt'));
    // A new process takes new requests while the old one keeps serving its tunnel.
    await waitFor(
        async () => {
            const response = await request(server.port, '/pid');
            return response.status === 200 && response.json().pid !== oldPid;
        },
        { timeoutMs: 15000, what: 'a request served by the new process' },
    );
    socket.send('still there?');
    assert.equal((await socket.next()).data.toString(), 'still there?');
    assert.ok(appPids(server).includes(oldPid), 'the old process lives while its tunnel is open');
    socket.close(1000);
    await waitFor(() => !appPids(server).includes(oldPid), { timeoutMs: 15000, what: `old process ${oldPid} stopped after its tunnel closed` });
});

test('server shutdown does not wait for open tunnels', { timeout: 60000 }, async (t) => {
    const server = await startRealtime(t);
    const socket = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`);
    t.after(() => socket.terminate());
    socket.send('x');
    await socket.next();
    // The tunnel would stay open for good: a graceful exit (code 0, before stop() resorts to
    // SIGKILL) means shutdown did not wait for it.
    const exit = await server.stop({ timeoutMs: 15000 });
    assert.equal(exit.code, 0);
    const closed = await withTimeout(socket.closed, 5000, 'still open');
    assert.notEqual(closed, 'still open');
});

test('without an app process that accepts, an upgrade gets an error page, not a hang', { timeout: 30000 }, async (t) => {
    const server = await startRealtime(t);
    fs.writeFileSync(path.join(server.appDir, 'app.js'), 'throw new Error("broken on purpose");\n');
    touch(path.join(server.appDir, 'tmp', 'restart.txt'));
    await waitFor(
        async () => (await request(server.port, '/pid')).status >= 500,
        { timeoutMs: 15000, what: 'the broken version answering with an error' },
    );
    const failed = await openWebSocket(`ws://127.0.0.1:${server.port}/ws`).then(
        () => null,
        (error) => error,
    );
    assert.ok(failed?.status >= 500, `handshake failed with ${failed?.status ?? failed}`);
});
