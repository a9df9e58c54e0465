// Idle keep-alive connections. One that waits more than a moment for its next request is parked
// (its coroutine, reader and writer are freed; its descriptor waits in the parking lot's epoll set):
// it still serves its next request, however that arrives (in pieces, pipelined, a large head and
// body), and shutdown closes it at once.
import assert from 'node:assert/strict';
import test from 'node:test';

import { patternBytes, RawConnection, sha256 } from './lib/http.mjs';
import { sleep } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

test('a parked keep-alive connection serves its next requests', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });
    const connection = await RawConnection.connect(server.port);
    t.after(() => connection.close());

    connection.write('GET /count HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await connection.readResponse()).status, 200);
    await sleep(500); // parked after 50 ms

    // A head in two pieces: the first wakes the parked connection, the second completes it.
    connection.write('GET /first-piece');
    await sleep(200);
    connection.write(' HTTP/1.1\r\nHost: a\r\n\r\n');
    const pieces = await connection.readResponse();
    assert.equal(pieces.status, 200);
    assert.equal(JSON.parse(pieces.text).url, '/first-piece');

    // Parked again, then two pipelined requests at once.
    await sleep(500);
    connection.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(JSON.parse((await connection.readResponse()).text).url, '/one');
    assert.equal(JSON.parse((await connection.readResponse()).text).url, '/two');

    // Parked again, then a large head and a body that arrive in pieces: each read after a wait
    // takes a buffer again.
    await sleep(500);
    const body = patternBytes(300 * 1024, 3);
    const large = [1, 2, 3, 4].map((i) => `X-Large-${i}: ${'x'.repeat(3 * 1024)}\r\n`).join('');
    connection.write(`POST /echo HTTP/1.1\r\nHost: a\r\n${large}X-Last: y`);
    await sleep(200);
    connection.write(`\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let offset = 0; offset < body.length; offset += 100 * 1024) {
        await sleep(100);
        connection.write(body.subarray(offset, offset + 100 * 1024));
    }
    const echoedResponse = await connection.readResponse();
    assert.equal(echoedResponse.status, 200, echoedResponse.text);
    const echoed = JSON.parse(echoedResponse.text);
    assert.equal(echoed.headers['x-large-4'].length, 3 * 1024);
    assert.equal(echoed.headers['x-last'], 'y');
    assert.equal(echoed.bodyLength, body.length);
    assert.equal(echoed.bodySha256, sha256(body));
    // Its address was taken at the accept and kept while it was parked.
    assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(connection.ended, false, 'still open');

    // Parked again, then a head and the end of the client's writing at once (the lot sees both):
    // the head is read and answered (one the core answers itself, 400 for its missing Host: a
    // client that closes while the app works counts as gone).
    await sleep(500);
    connection.write('GET /last HTTP/1.1\r\n\r\n');
    connection.socket.end();
    assert.equal((await connection.readResponse()).status, 400);
});

test('shutdown closes parked connections and does not wait for them', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });
    const connection = await RawConnection.connect(server.port);
    t.after(() => connection.close());
    connection.write('GET /count HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await connection.readResponse()).status, 200);
    await sleep(500); // parked

    const exit = await server.stop({ timeoutMs: 20000 });
    assert.deepEqual(exit, { code: 0, signal: null }, 'exited by itself on SIGTERM');
    assert.equal(await connection.waitClosed(5000), true);
    assert.doesNotMatch(server.logText(), /still in flight/);
});
