// Running out of file descriptors. The core raises its open-file limit to the hard limit at start
// and says so; when every descriptor is in use, accepting pauses with one clear log line (no
// busy loop, no crash), a request that cannot open its app connection gets 503 (the process is
// not blamed), and the server serves again as soon as descriptors are free.
import assert from 'node:assert/strict';
import test from 'node:test';

import { RawConnection, request } from './lib/http.mjs';
import { waitFor } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const fileLimit = 64;

test('the core starts with its open-file limit raised to the hard limit, and logs it', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count', fileLimit });
    await server.waitForLog(new RegExp(`Open file limit: ${fileLimit} \\(the hard limit\\)`));
});

test('out of descriptors: a log line, 503, then service as usual', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count', fileLimit });
    const appPid = (await request(server.port, '/count')).json().pid;
    const connections = [];
    t.after(() => connections.forEach((connection) => connection.close()));

    // More connections than the core has descriptors left: the first ones are accepted, the rest
    // wait in the listen backlog.
    for (let i = 0; i < fileLimit + 16; i++) connections.push(await RawConnection.connect(server.port));
    await server.waitForLog(/Cannot accept connections: out of file descriptors: all 64 allowed are open \(raise `ulimit -n`\); retrying every 100 ms/);

    // The first connection was accepted; its request takes the app connection the pool kept.
    // The second one's request needs a new app connection, and there is no descriptor for it.
    connections[0].write('GET /slow?ms=3000 HTTP/1.1\r\nHost: a\r\n\r\n');
    connections[1].write('GET /count HTTP/1.1\r\nHost: a\r\n\r\n');
    const refused = await connections[1].readResponse();
    assert.equal(refused.status, 503, refused.rawHead);
    assert.match(refused.text, /out of connections/);
    await server.waitForLog(/Cannot connect to app process \d+: out of file descriptors/);

    for (const connection of connections) connection.close();
    await server.waitForLog(/Accepting connections again \(after \d+ failed attempts\)/);
    // Logged once when it started, not once per retry.
    assert.equal(server.logText().match(/Cannot accept connections/g).length, 1);

    // Descriptors are free again; the same app process serves (it was not killed as unreachable).
    const response = await waitFor(async () => {
        const answer = await request(server.port, '/count').catch(() => null);
        return answer?.status === 200 && answer;
    }, { timeoutMs: 20000, what: () => 'GET /count to answer 200 again' });
    assert.equal(response.json().pid, appPid);
});
