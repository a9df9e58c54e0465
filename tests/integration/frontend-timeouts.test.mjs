// Timeouts: reading a request head (408, defeats slowloris), reading a body (408), an idle
// keep-alive connection, and a client that stops reading a response. Many slow connections do
// not slow anyone else down.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';

import { appRequests, pausedDownload } from './lib/frontend.mjs';
import { requestsInFlight } from './lib/admin.mjs';
import { RawConnection, request } from './lib/http.mjs';
import { sleep, waitFor } from './lib/proc.mjs';
import { copyFixture, startServer } from './lib/server.mjs';

test('timeouts', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'frontend',
        readyPath: '/count',
        args: ['--client-header-timeout', '2', '--client-body-timeout', '2', '--keepalive-timeout', '2', '--send-timeout', '2'],
    });

    await t.test('a head that does not arrive in time gets 408 and the connection is closed', async () => {
        const before = await appRequests(server);
        const connection = await RawConnection.connect(server.port);
        try {
            const started = Date.now();
            connection.write('GET /echo HTTP/1.1\r\nHost: a\r\nX-Slow: ');
            const response = await connection.readResponse({ timeoutMs: 10000 });
            assert.equal(response.status, 408);
            assert.ok(Date.now() - started >= 1500, 'not before the header timeout');
            assert.equal(await connection.waitClosed(5000), true);
        } finally {
            connection.close();
        }
        assert.equal(await appRequests(server), before);
        await server.waitForLog(/Rejected request from 127\.0\.0\.1: 408/);
    });

    await t.test('a connection that sends nothing is closed after the header timeout', async () => {
        const connection = await RawConnection.connect(server.port);
        try {
            assert.equal(await connection.waitClosed(8000), true);
            assert.equal(connection.buffer.length, 0, 'no response to a request that never started');
        } finally {
            connection.close();
        }
    });

    await t.test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
        const connection = await RawConnection.connect(server.port);
        try {
            connection.write('GET /count HTTP/1.1\r\nHost: a\r\n\r\n');
            assert.equal((await connection.readResponse()).status, 200);
            await sleep(1000); // the behaviour under test: idle, but for less than the 2 s keep-alive timeout
            connection.write('GET /count HTTP/1.1\r\nHost: a\r\n\r\n');
            assert.equal((await connection.readResponse()).status, 200, 'kept alive within the timeout');
            const idleSince = Date.now();
            assert.equal(await connection.waitClosed(8000), true);
            assert.ok(Date.now() - idleSince >= 1500, 'not before the keep-alive timeout');
            assert.equal(connection.buffer.length, 0, 'closed silently');
        } finally {
            connection.close();
        }
    });

    await t.test('a body that stops arriving gets 408; the app never sees the request', async () => {
        const before = await appRequests(server);
        const connection = await RawConnection.connect(server.port);
        try {
            connection.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
            const response = await connection.readResponse({ timeoutMs: 10000 });
            assert.equal(response.status, 408);
            assert.equal(await connection.waitClosed(5000), true);
        } finally {
            connection.close();
        }
        assert.equal(await appRequests(server), before);
    });

    await t.test('a client that stops reading is disconnected after the send timeout', async () => {
        const size = 64 << 20;
        const download = await pausedDownload(server, `/download?n=${size}`);
        t.after(() => download.destroy());
        // The app hands over its whole response (the core parks it: the request is "sending
        // response" on the admin API), unless the machine is so busy that the send timeout cut
        // the stalled client off first (the request is gone). A paused client cannot tell.
        let last = null;
        await waitFor(
            async () => {
                last = (await requestsInFlight(server)).find((entry) => entry.uri.startsWith('/download'));
                return !last || last.state === 'sending response';
            },
            { timeoutMs: 30000, what: () => `the app to finish its response (last seen: ${JSON.stringify(last)})` },
        );
        await sleep(4000); // the send timeout (2 s) passes without progress
        const received = await download.resume();
        assert.equal(received.complete, false, 'the response was cut off');
        assert.ok(received.length < size, `got ${received.length} of ${size} bytes`);
        // The app process was free all along.
        assert.equal((await request(server.port, '/slow?ms=0')).status, 200);
    });
});

test('a client that stops reading a static file meets the send timeout too', { timeout: 60000 }, async (t) => {
    // public/ exists before the start: one created later is noticed within a second.
    const appDir = await copyFixture(t, 'frontend');
    const size = 64 << 20;
    fs.mkdirSync(path.join(appDir, 'public'), { recursive: true });
    fs.writeFileSync(path.join(appDir, 'public', 'big.bin'), Buffer.alloc(size, 1));
    const server = await startServer(t, { appDir, readyPath: '/count', args: ['--send-timeout', '2'] });
    const whole = await pausedDownload(server, '/big.bin');
    assert.equal(whole.headers['content-length'], String(size));
    const received = await whole.resume();
    assert.equal(received.complete, true, 'a reading client gets it all');

    const stalled = await pausedDownload(server, '/big.bin');
    t.after(() => stalled.destroy());
    await sleep(4000); // the behaviour under test: the send timeout (2 s) passes without progress
    const cut = await stalled.resume();
    assert.equal(cut.complete, false, 'the stalled download was cut off');
    assert.ok(cut.length < size);
});

test('slowloris: hundreds of connections trickling headers do not slow a normal request down', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count', args: ['--client-header-timeout', '8'] });
    const before = await appRequests(server);
    const COUNT = 300;

    // Each connection sends a request line, then one byte of header every 100 ms, forever.
    const sockets = await Promise.all(
        Array.from(
            { length: COUNT },
            () =>
                new Promise((resolve, reject) => {
                    const socket = net.connect({ port: server.port, host: '127.0.0.1' });
                    socket.received = '';
                    socket.closedAt = null;
                    socket.on('data', (data) => (socket.received += data.toString('latin1')));
                    socket.on('close', () => (socket.closedAt = Date.now()));
                    socket.on('error', () => {});
                    socket.once('connect', () => resolve(socket));
                    socket.once('error', reject);
                }),
        ),
    );
    const started = Date.now();
    const header = 'X-Slowloris-Header: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n';
    let position = 0;
    for (const socket of sockets) socket.write('GET /echo HTTP/1.1\r\nHost: a\r\n');
    const trickle = setInterval(() => {
        const byte = header[position++ % header.length];
        for (const socket of sockets) if (socket.closedAt === null) socket.write(byte);
    }, 100);
    t.after(() => {
        clearInterval(trickle);
        for (const socket of sockets) socket.destroy();
    });

    // Meanwhile, normal requests are answered, each while every slow connection is still open:
    // none had to wait for the attack to be cleared away by the header timeout.
    const latencies = [];
    for (let i = 0; i < 10; i++) {
        const sentAt = Date.now();
        const response = await request(server.port, '/echo?normal=1', { timeoutMs: 15000 });
        assert.equal(response.status, 200);
        latencies.push(Date.now() - sentAt);
        const closed = sockets.filter((socket) => socket.closedAt !== null).length;
        assert.equal(closed, 0, `normal request ${i} was answered while all ${COUNT} slow connections were open (${closed} closed already)`);
    }
    t.diagnostic(`normal requests during the attack: ${latencies.length}, slowest ${Math.max(...latencies)} ms`);

    // Then every slow connection is refused with 408 and closed, around the header timeout.
    await waitFor(() => sockets.every((socket) => socket.closedAt !== null), {
        timeoutMs: 20000,
        what: () => `all ${COUNT} slow connections to be closed (${sockets.filter((s) => s.closedAt === null).length} open)`,
    });
    clearInterval(trickle);
    const without408 = sockets.filter((socket) => !/^HTTP\/1\.1 408 /.test(socket.received));
    assert.equal(without408.length, 0, `${without408.length} of ${COUNT} slow connections closed without a 408, e.g. after ${without408[0]?.closedAt - started} ms with ${JSON.stringify(without408[0]?.received)}`);
    for (const socket of sockets) {
        assert.ok(socket.closedAt - started >= 7000, 'not before the header timeout');
    }
    assert.equal(await appRequests(server), before + latencies.length, 'the app saw only the normal requests');
});
