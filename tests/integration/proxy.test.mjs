// The request path through the server to a Node.js app: keep-alive, HTTP/1.0, methods, big
// bodies both ways, chunked bodies both ways, streaming, HEAD, and the headers the app sees.
// One server serves every subtest; each subtest is independent of the others.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import { RawConnection, patternBytes, rawRequest, request, sha256 } from './lib/http.mjs';
import { waitFor } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const MiB = 1024 * 1024;

test('proxying to a Node.js app', { timeout: 110000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const { port } = server;
    const sub = (name, fn) => t.test(name, { timeout: 30000 }, fn);

    await sub('an app with a hard-coded listen(3000) answers through the server', async () => {
        const response = await server.get('/pid');
        assert.equal(response.status, 200);
        assert.ok(Number.isInteger(response.json().pid));
    });

    await sub('HTTP/1.1 keep-alive: several requests on one connection', async () => {
        const connection = await RawConnection.connect(port);
        try {
            for (let i = 0; i < 5; i++) {
                connection.write(`GET /echo?i=${i} HTTP/1.1\r\nHost: keepalive.test\r\n\r\n`);
                const response = await connection.readResponse();
                assert.equal(response.status, 200, response.rawHead);
                assert.equal(response.version, '1.1');
                assert.doesNotMatch(response.headers.connection ?? '', /close/i, 'the server keeps the connection');
                assert.equal(JSON.parse(response.text).url, `/echo?i=${i}`);
            }
            assert.equal(connection.ended, false, 'the connection is still open');
        } finally {
            connection.close();
        }
    });

    await sub('pipelined requests are answered in order', async () => {
        const connection = await RawConnection.connect(port);
        try {
            connection.write(
                'GET /echo?n=1 HTTP/1.1\r\nHost: a\r\n\r\n' +
                    'GET /echo?n=2 HTTP/1.1\r\nHost: a\r\n\r\n' +
                    'GET /echo?n=3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
            );
            for (const n of [1, 2, 3]) {
                const response = await connection.readResponse();
                assert.equal(JSON.parse(response.text).url, `/echo?n=${n}`);
            }
            assert.equal(await connection.waitClosed(5000), true, 'closed after Connection: close');
        } finally {
            connection.close();
        }
    });

    await sub('a request pipelined while the app works on the one before is answered after it', async () => {
        // The second request arrives while the core waits for the app's response: the receive
        // that watches the client takes it, and it must be served next, not lost or reordered.
        const mark = path.join('tmp', `pipelined-${process.pid}`);
        const connection = await RawConnection.connect(port);
        try {
            connection.write(`GET /slow?ms=300&mark=${mark} HTTP/1.1\r\nHost: a\r\n\r\n`);
            await waitFor(() => fs.existsSync(path.join(server.appDir, mark)), { what: 'the first request in the app' });
            connection.write('GET /echo?n=2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
            const first = await connection.readResponse();
            assert.equal(first.status, 200);
            assert.equal(JSON.parse(first.text).sleptMs, 300);
            const second = await connection.readResponse();
            assert.equal(JSON.parse(second.text).url, '/echo?n=2');
            assert.equal(await connection.waitClosed(5000), true, 'closed after Connection: close');
        } finally {
            connection.close();
        }
    });

    await sub('HTTP/1.0 request: answered, then the connection is closed', async () => {
        const connection = await RawConnection.connect(port);
        try {
            connection.write('GET /echo HTTP/1.0\r\nHost: old.test\r\n\r\n');
            const response = await connection.readResponse();
            assert.equal(response.status, 200);
            assert.match(response.statusLine, /^HTTP\/1\.[01] 200/);
            assert.equal(JSON.parse(response.text).method, 'GET');
            assert.equal(await connection.waitClosed(5000), true, 'HTTP/1.0 without keep-alive closes');
        } finally {
            connection.close();
        }
    });

    await sub('HTTP/1.0 client gets a streamed response without chunked encoding', async () => {
        const response = await rawRequest(port, 'GET /stream?ms=200 HTTP/1.0\r\nHost: old.test\r\n\r\n');
        assert.equal(response.status, 200);
        assert.equal(response.chunked, undefined, `no Transfer-Encoding for HTTP/1.0:\n${response.rawHead}`);
        assert.equal(response.text, 'first\nsecond\n');
    });

    await sub('an HTTP/1.0 request without Host reaches the app with an empty Host', async () => {
        const response = await rawRequest(port, 'GET /echo HTTP/1.0\r\n\r\n');
        assert.equal(response.status, 200, response.text);
        assert.equal(JSON.parse(response.text).headers.host, '');
    });

    await sub('methods GET POST PUT PATCH DELETE OPTIONS and less common ones reach the app', async () => {
        for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PURGE', 'PROPFIND']) {
            const body = ['GET', 'OPTIONS'].includes(method) ? undefined : `body of ${method}`;
            const response = await request(port, `/echo?m=${method}`, { method, body });
            assert.equal(response.status, 200, `${method}: ${response.text}`);
            const seen = response.json();
            assert.equal(seen.method, method);
            if (body) assert.equal(seen.bodyText, body, `${method} body`);
        }
    });

    await sub('the app sees the original Host, X-Forwarded-For and X-Forwarded-Proto', async () => {
        const response = await rawRequest(port, 'GET /echo HTTP/1.1\r\nHost: example.test:8123\r\nConnection: close\r\n\r\n');
        const { headers } = JSON.parse(response.text);
        assert.equal(headers.host, 'example.test:8123');
        assert.equal(headers['x-forwarded-for'], '127.0.0.1');
        assert.equal(headers['x-forwarded-proto'], 'http');
    });

    await sub('request headers, the query string and response headers pass through', async () => {
        const response = await request(port, '/echo?a=1&b=%20x', { headers: { 'X-Test-Header': 'some value', Accept: 'application/json' } });
        const seen = response.json();
        assert.equal(seen.url, '/echo?a=1&b=%20x');
        assert.equal(seen.headers['x-test-header'], 'some value');
        assert.equal(seen.headers.accept, 'application/json');

        const cookies = await request(port, '/cookies');
        assert.deepEqual(cookies.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
        assert.equal(cookies.headers['x-custom-header'], 'custom value');
    });

    await sub("the app's status codes reach the client", async () => {
        for (const code of [201, 301, 404, 418, 500, 503]) {
            const response = await request(port, `/status?code=${code}`);
            assert.equal(response.status, code);
            assert.equal(response.headers['x-fixture'], 'echo', `response ${code} comes from the app`);
            assert.equal(response.text, `status ${code}\n`);
        }
    });

    await sub('a request body of 8 MiB arrives intact (sha256)', async () => {
        const body = patternBytes(8 * MiB, 11);
        const response = await request(port, '/echo', { method: 'POST', body, timeoutMs: 25000 });
        assert.equal(response.status, 200);
        const seen = response.json();
        assert.equal(seen.bodyLength, body.length);
        assert.equal(seen.bodySha256, sha256(body));
        assert.equal(seen.headers['content-length'], String(body.length));
    });

    await sub('a response body of 8 MiB arrives intact (sha256)', async () => {
        const response = await request(port, `/bytes?n=${8 * MiB}&seed=5`, { timeoutMs: 25000 });
        assert.equal(response.status, 200);
        assert.equal(response.body.length, 8 * MiB);
        assert.equal(sha256(response.body), response.headers['x-body-sha256']);
        assert.equal(sha256(response.body), sha256(patternBytes(8 * MiB, 5)));
    });

    await sub('a 32 MiB response to a client that reads late arrives intact', async () => {
        const size = 32 * MiB;
        const { body, headers } = await new Promise((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port, path: `/bytes?n=${size}&seed=21`, agent: false }, (res) => {
                res.pause(); // the behaviour under test: a client that reads late, so the server's buffers fill up first
                setTimeout(() => {
                    const chunks = [];
                    res.on('data', (chunk) => chunks.push(chunk));
                    res.on('end', () => resolve({ body: Buffer.concat(chunks), headers: res.headers }));
                    res.on('error', reject);
                    res.resume();
                }, 1500);
            });
            req.setTimeout(25000, () => req.destroy(new Error('timed out')));
            req.on('error', reject);
        });
        assert.equal(body.length, size);
        assert.equal(sha256(body), headers['x-body-sha256']);
    });

    await sub('a chunked request body (no Content-Length) reaches the app whole', async () => {
        const chunks = [patternBytes(1000, 1), patternBytes(300000, 2), patternBytes(3 * MiB, 3), Buffer.from('tail')];
        const response = await request(port, '/echo', { method: 'POST', body: chunks, chunkDelayMs: 20, timeoutMs: 25000 });
        const seen = response.json();
        const whole = Buffer.concat(chunks);
        assert.equal(seen.bodyLength, whole.length);
        assert.equal(seen.bodySha256, sha256(whole));
    });

    await sub('a raw chunked request with a chunk extension and a trailer', async () => {
        const response = await rawRequest(
            port,
            'POST /echo HTTP/1.1\r\nHost: chunked.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
                '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n',
        );
        assert.equal(response.status, 200, response.text);
        assert.equal(JSON.parse(response.text).bodyText, 'hello world');
    });

    await sub('Expect: 100-continue gets an interim 100 before the body is sent', async () => {
        const connection = await RawConnection.connect(port);
        try {
            connection.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
            const interim = await connection.readResponse({ interim: true, timeoutMs: 10000 });
            assert.equal(interim.status, 100, interim.statusLine);
            connection.write('hello there');
            const response = await connection.readResponse();
            assert.equal(response.status, 200);
            assert.equal(JSON.parse(response.text).bodyText, 'hello there');
        } finally {
            connection.close();
        }
    });

    await sub('a streaming response: the first chunk arrives long before the end', async () => {
        const response = await request(port, '/stream?ms=1500');
        assert.equal(response.text, 'first\nsecond\n');
        const { firstChunk, end } = response.timings;
        assert.ok(end >= 1400, `the app finishes after ~1.5 s (took ${end} ms)`);
        assert.ok(end - firstChunk >= 1000, `"first" arrived ${end - firstChunk} ms before the end (timings ${JSON.stringify(response.timings)})`);
    });

    await sub('a chunked response reaches an HTTP/1.1 client with correct framing', async () => {
        const connection = await RawConnection.connect(port);
        try {
            connection.write('GET /stream?ms=100 HTTP/1.1\r\nHost: a\r\n\r\n');
            const response = await connection.readResponse();
            assert.equal(response.text, 'first\nsecond\n');
            // The connection is still usable afterwards: framing ended exactly where it should.
            connection.write('GET /echo?after=stream HTTP/1.1\r\nHost: a\r\n\r\n');
            const next = await connection.readResponse();
            assert.equal(JSON.parse(next.text).url, '/echo?after=stream');
        } finally {
            connection.close();
        }
    });

    await sub('HEAD: headers without a body, and the connection stays in sync', async () => {
        const connection = await RawConnection.connect(port);
        try {
            connection.write('HEAD /bytes?n=5000 HTTP/1.1\r\nHost: a\r\n\r\n');
            const head = await connection.readResponse({ method: 'HEAD' });
            assert.equal(head.status, 200);
            if (head.headers['content-length'] !== undefined) assert.equal(head.headers['content-length'], '5000');
            // If the server sent a body after HEAD's headers, this next response would be garbage.
            connection.write('GET /echo?after=head HTTP/1.1\r\nHost: a\r\n\r\n');
            const next = await connection.readResponse();
            assert.match(next.statusLine, /^HTTP\/1\.1 200/);
            assert.equal(JSON.parse(next.text).url, '/echo?after=head');
        } finally {
            connection.close();
        }
    });

    await sub('HEAD reaches the app as HEAD', async () => {
        // The app answers /echo with JSON; a HEAD must not be turned into a GET with a body.
        const response = await request(port, '/echo', { method: 'HEAD' });
        assert.equal(response.status, 200);
        assert.equal(response.body.length, 0);
    });

    await sub('malformed requests get a 4xx and the connection is closed; the app never sees them', async () => {
        const cases = [
            ['garbage request line', 'THIS IS NOT HTTP\r\n\r\n'],
            ['Content-Length and Transfer-Encoding together (smuggling)', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
            ['two different Content-Lengths', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde'],
            ['HTTP/1.1 without Host', 'GET /echo HTTP/1.1\r\n\r\n'],
        ];
        const appRequests = async () => (await request(port, '/pid')).json().requests;
        for (const [name, text] of cases) {
            const before = await appRequests();
            const connection = await RawConnection.connect(port);
            try {
                connection.write(text);
                const response = await connection.readResponse();
                assert.ok(response.status >= 400 && response.status < 500, `${name}: 4xx expected, got ${response.statusLine}`);
                assert.equal(await connection.waitClosed(5000), true, `${name}: the connection is closed`);
            } finally {
                connection.close();
            }
            assert.equal(await appRequests(), before + 1, `${name}: the server answered it, the app never saw it`);
        }
    });

    // Each request is sent on the kept-alive connection /pid left; the app closes it unanswered.
    await sub('a kept-alive connection that fails: a GET is sent again, a POST is not (it must not run twice)', async () => {
        const dropped = async () => (await request(port, '/dropped')).json();
        assert.equal((await request(port, '/pid')).status, 200);
        const get = await request(port, '/drop-if-reused');
        assert.equal(get.status, 200, 'the GET is answered on a new connection');
        assert.equal((await dropped()).GET, 2, 'the app got the GET twice');

        assert.equal((await request(port, '/pid')).status, 200);
        const post = await request(port, '/drop-if-reused', { method: 'POST', body: 'pay once' });
        assert.equal(post.status, 502, 'the POST is not sent again');
        assert.equal((await dropped()).POST, 1, 'the app got the POST once');
        await server.waitForLog(/closed the connection without answering POST \/drop-if-reused \(not sent again/);
    });

    await sub('concurrent requests are all answered correctly', async () => {
        const responses = await Promise.all(
            Array.from({ length: 20 }, (_, i) => request(port, `/echo?concurrent=${i}`, { method: 'POST', body: `body ${i}` })),
        );
        responses.forEach((response, i) => {
            const seen = response.json();
            assert.equal(seen.url, `/echo?concurrent=${i}`);
            assert.equal(seen.bodyText, `body ${i}`);
        });
    });
});
