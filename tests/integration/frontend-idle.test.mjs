// Idle keep-alive connections. One that waits more than a moment for its next request is parked
// (its coroutine, reader and writer are freed; only the socket and its keep-alive deadline stay):
// it still serves its next request, however that arrives, and shutdown closes it at once.
import assert from 'node:assert/strict';
import test from 'node:test';

import { RawConnection } from './lib/http.mjs';
import { sleep } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

test('a parked keep-alive connection serves its next requests', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });
    const connection = await RawConnection.connect(server.port);
    t.after(() => connection.close());

    connection.write('GET /count HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await connection.readResponse()).status, 200);
    await sleep(500); // parked after 100 ms

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
    assert.equal(connection.ended, false, 'still open');
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
