// Strict parsing: every malformed or ambiguous request head is refused with 400 (or 501/505) and
// the connection closed; the app never sees it, and the server keeps serving.
import assert from 'node:assert/strict';
import test from 'node:test';

import { appRequests, expectRefused } from './lib/frontend.mjs';
import { request } from './lib/http.mjs';
import { startServer } from './lib/server.mjs';

const CASES = [
    ['invalid method', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['lowercase method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['garbage request line', 'THIS IS NOT HTTP\r\n\r\n', 400],
    ['invalid version', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 400],
    ['HTTP/2.0 on an HTTP/1 connection', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['HTTP/0.9 request line', 'GET /\r\n\r\n', 400],
    ['lowercase protocol name', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
    ['invalid header name character', 'GET / HTTP/1.1\r\nHost: a\r\nX(Y: 1\r\n\r\n', 400],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['space inside a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n', 400],
    ['empty header name', 'GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n', 400],
    ['obs-fold with a tab', 'GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n\tb\r\n\r\n', 400],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\n\n', 400],
    ['bare LF inside the head', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 400],
    ['bare CR in a header value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 400],
    ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n', 400],
    ['NUL in the target', 'GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['control character in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n', 400],
    ['tab in the target', 'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['fragment in the target', 'GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['target without a leading slash', 'GET abc HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['absolute form with another scheme', 'GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['path above the root', 'GET /a/../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['invalid Host', 'GET / HTTP/1.1\r\nHost: a/b@c\r\n\r\n', 400],
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501],
    ['conflicting Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde', 400],
    ['duplicate identical Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', 400],
    ['Content-Length list', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', 400],
    ['negative Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc', 400],
    ['Content-Length with Transfer-Encoding', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['Transfer-Encoding with Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n', 400],
    ['unknown transfer coding', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc', 400],
    ['unknown transfer coding before chunked', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 400],
    ['chunked twice', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    // Field lines of one name are one list (RFC 9110 5.3): these two say "gzip, chunked".
    ['unknown transfer coding on a line before chunked', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 400],
    // A WebSocket handshake is a GET without a body (RFC 6455 4.1); a body would stream to the
    // app unbuffered and untimed. The chunked one is refused before its body is complete.
    ['upgrade with a Content-Length body', 'GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello', 400],
    ['upgrade with a chunked body still arriving', 'GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n', 400],
    ['Transfer-Encoding in HTTP/1.0', 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['invalid chunk size', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n', 400],
    ['chunk without its CRLF', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n', 400],
    ['bare LF in chunk framing', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n', 400],
];

test('strict parsing: malformed requests are refused and never reach the app', { timeout: 110000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });

    for (const [name, text, status] of CASES) {
        await t.test(name, async () => {
            await expectRefused(server, text, status, name);
        });
    }

    await t.test('every rejection is logged with the client address', async () => {
        await server.waitForLog(/Rejected request from 127\.0\.0\.1: 400 \(/);
        await server.waitForLog(/Rejected request from 127\.0\.0\.1: 505 \(/);
    });

    await t.test('the server keeps serving, and a valid request still reaches the app', async () => {
        const before = await appRequests(server);
        const response = await request(server.port, '/echo?after=1', { method: 'POST', body: 'fine' });
        assert.equal(response.status, 200);
        assert.equal(response.json().bodyText, 'fine');
        assert.equal(await appRequests(server), before + 1);
    });
});
