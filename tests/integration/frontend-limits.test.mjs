// Limits with nginx's defaults and options to change them: request target (414), header line,
// header count and whole head (431), body size (413). Each refused request never reaches the
// app; each accepted one just below a limit does.
import assert from 'node:assert/strict';
import test from 'node:test';

import { appRequests, expectRefused } from './lib/frontend.mjs';
import { RawConnection, request } from './lib/http.mjs';
import { makeRegistry, runTool } from './lib/inspection.mjs';
import { startServer } from './lib/server.mjs';

const head = (target, headers = '') => `GET ${target} HTTP/1.1\r\nHost: a\r\n${headers}Connection: close\r\n\r\n`;

async function expectServed(server, text, what) {
    const before = await appRequests(server);
    const connection = await RawConnection.connect(server.port);
    try {
        connection.write(text);
        const response = await connection.readResponse();
        assert.equal(response.status, 200, `${what}: ${response.statusLine}`);
    } finally {
        connection.close();
    }
    assert.equal(await appRequests(server), before + 1, `${what}: the app saw it`);
}

test('default limits are nginx-like', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });

    await t.test('a request target up to 8k is served, a longer one gets 414', async () => {
        await expectServed(server, head(`/${'a'.repeat(8000)}`), '8000-byte target');
        await expectRefused(server, head(`/${'a'.repeat(8200)}`), 414, '8201-byte target');
    });

    await t.test('a header line up to 8k is served, a longer one gets 431', async () => {
        await expectServed(server, head('/', `X-Big: ${'v'.repeat(8000)}\r\n`), '8k header');
        await expectRefused(server, head('/', `X-Big: ${'v'.repeat(8200)}\r\n`), 431, 'longer header');
    });

    await t.test('a head over 32k in all gets 431', async () => {
        const lines = Array.from({ length: 5 }, (_, i) => `X-Part-${i}: ${'v'.repeat(7000)}\r\n`).join('');
        await expectRefused(server, head('/', lines), 431, '35k of headers');
    });

    await t.test('more than 100 header fields get 431', async () => {
        const fields = (n) => Array.from({ length: n }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
        await expectServed(server, head('/', fields(90)), '92 fields');
        await expectRefused(server, head('/', fields(100)), 431, '102 fields');
    });

    await t.test('bodies are unlimited by default', async () => {
        const body = Buffer.alloc(3 << 20, 7);
        const response = await request(server.port, '/echo', { method: 'POST', body });
        assert.equal(response.json().bodyLength, body.length);
    });
});

test('limits follow their options', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'frontend',
        readyPath: '/count',
        args: [
            '--client-max-uri-size', '512',
            '--client-max-header-line-size', '200',
            '--client-max-header-count', '5',
            '--client-max-header-size', '1k',
            '--client-max-body-size', '1000',
        ],
    });

    await t.test('--client-max-uri-size', async () => {
        await expectServed(server, head(`/${'u'.repeat(500)}`), '501-byte target');
        await expectRefused(server, head(`/${'u'.repeat(600)}`), 414, '601-byte target');
    });

    await t.test('--client-max-header-line-size', async () => {
        await expectServed(server, head('/', `X-Line: ${'l'.repeat(150)}\r\n`), '156-byte field');
        await expectRefused(server, head('/', `X-Line: ${'l'.repeat(250)}\r\n`), 431, '256-byte field');
    });

    await t.test('--client-max-header-count', async () => {
        await expectServed(server, head('/', 'A: 1\r\nB: 2\r\n'), '4 fields');
        await expectRefused(server, head('/', 'A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n'), 431, '6 fields');
    });

    await t.test('--client-max-header-size', async () => {
        const fields = (n) => Array.from({ length: n }, (_, i) => `X-${i}: ${'h'.repeat(190)}\r\n`).join('');
        await expectServed(server, head('/', fields(2)), 'two big fields');
        const response = await expectRefused(server, head(`/${'p'.repeat(400)}`, fields(3)), 431, '1036-byte head');
        assert.match(response.text, /431/);
    });

    await t.test('--client-max-body-size: a Content-Length over it gets 413 before any body byte', async () => {
        await expectServed(
            server,
            `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n${'b'.repeat(1000)}`,
            'a body at the limit',
        );
        // With Expect: 100-continue the client never has to send the body.
        const response = await expectRefused(
            server,
            'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n',
            413,
            'a body over the limit, announced',
        );
        assert.doesNotMatch(response.rawHead, /100 Continue/);
    });

    await t.test('--client-max-body-size: a large body sent at once still gets its 413', async () => {
        // The server reads and drops what keeps arriving after the 413, so the client does not
        // get a reset instead of the response.
        await expectRefused(
            server,
            `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${1 << 20}\r\n\r\n${'x'.repeat(1 << 20)}`,
            413,
            'a 1 MiB body sent whole',
        );
    });

    await t.test('--client-max-body-size: a chunked body that grows over it gets 413', async () => {
        const chunk = `190\r\n${'c'.repeat(400)}\r\n`;
        await expectRefused(
            server,
            `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(3)}0\r\n\r\n`,
            413,
            '1200 bytes chunked',
        );
        await expectServed(
            server,
            `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.repeat(2)}0\r\n\r\n`,
            '800 bytes chunked',
        );
    });
});

test('--max-connections: past it, a new connection waits in the backlog until one closes', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startServer(t, {
        fixture: 'frontend',
        readyPath: '/count',
        args: ['--max-connections', '3', '--instance-registry-dir', registry],
    });
    const get = (connection, target) => {
        connection.write(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
        return connection.readResponse();
    };
    const open = [];
    t.after(() => open.forEach((connection) => connection.close()));
    for (let i = 0; i < 3; i++) {
        open.push(await RawConnection.connect(server.port));
        assert.equal((await get(open[i], `/count?held=${i}`)).status, 200);
    }
    await server.waitForLog(/Reached --max-connections \(3\)/);

    const waiting = await RawConnection.connect(server.port); // the kernel's backlog takes it
    open.push(waiting);
    waiting.write('GET /count?waiting HTTP/1.1\r\nHost: a\r\n\r\n');
    // The connections it has are served, and the admin socket answers.
    assert.equal((await get(open[0], '/count?again')).status, 200);
    const status = await runTool('passenger-status', ['--show=json'], { registry });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(waiting.buffer.length, 0, 'nothing answers a connection past the limit');

    open.shift().close();
    assert.equal((await waiting.readResponse()).status, 200, 'answered once another connection closed');
    // At the limit again now (2 held and this one), without a second log line.
    assert.equal(server.logText().match(/Reached --max-connections/g).length, 1, 'logged once');
});
