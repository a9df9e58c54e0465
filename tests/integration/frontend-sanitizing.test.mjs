// Sanitizing: what the app receives is cleaned up and normalized by the front end. Headers with
// underscores are dropped (CVE-2015-7519), hop-by-hop headers removed, X-Forwarded-* set from the
// connection, the path normalized, and a chunked body arrives with a Content-Length.
import assert from 'node:assert/strict';
import test from 'node:test';

import { RawConnection } from './lib/http.mjs';
import { startServer } from './lib/server.mjs';

// Sends a raw request to the frontend fixture's /echo route and returns what the app saw.
async function echo(server, text) {
    const connection = await RawConnection.connect(server.port);
    try {
        connection.write(text);
        const response = await connection.readResponse();
        assert.equal(response.status, 200, response.text);
        return JSON.parse(response.text);
    } finally {
        connection.close();
    }
}

const names = (seen) => seen.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());

test('sanitizing: what reaches the app', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });

    await t.test('headers whose names contain underscores are dropped', async () => {
        const seen = await echo(
            server,
            'GET /echo HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 6.6.6.6\r\nRemote_User: admin\r\nX-Normal: kept\r\n\r\n',
        );
        assert.ok(!names(seen).some((name) => name.includes('_')), `no underscore names: ${names(seen)}`);
        assert.equal(seen.headers['x-normal'], 'kept');
        assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    });

    await t.test('X-Forwarded-For, -Proto and -Host come from the connection, never the client', async () => {
        const seen = await echo(
            server,
            'GET /echo HTTP/1.1\r\nHost: good.example\r\nX-Forwarded-For: 6.6.6.6\r\n' +
                'X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nx-forwarded-for: 7.7.7.7\r\n\r\n',
        );
        assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
        assert.equal(seen.headers['x-forwarded-proto'], 'http');
        assert.equal(seen.headers['x-forwarded-host'], 'good.example');
        assert.equal(names(seen).filter((name) => name === 'x-forwarded-for').length, 1);
        assert.equal(names(seen).filter((name) => name === 'x-forwarded-host').length, 1);
        assert.ok(!JSON.stringify(seen.rawHeaders).includes('6.6.6.6'));
        assert.ok(!JSON.stringify(seen.rawHeaders).includes('evil.example'));
    });

    await t.test('hop-by-hop headers are removed', async () => {
        const seen = await echo(
            server,
            'GET /echo HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n' +
                'Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\n' +
                'Upgrade: h2c\r\nX-End-To-End: 1\r\n\r\n',
        );
        for (const name of ['x-hop', 'keep-alive', 'te', 'proxy-connection', 'trailer', 'upgrade']) {
            assert.ok(!names(seen).includes(name), `${name} removed: ${names(seen)}`);
        }
        assert.equal(seen.headers['x-end-to-end'], '1');
    });

    await t.test('the path is normalized; the query is left alone', async () => {
        assert.equal((await echo(server, 'GET /a/b/../../echo?q=/../x HTTP/1.1\r\nHost: a\r\n\r\n')).url, '/echo?q=/../x');
        assert.equal((await echo(server, 'GET /./echo HTTP/1.1\r\nHost: a\r\n\r\n')).url, '/echo');
        assert.equal((await echo(server, 'GET /%65%63ho?%2e%2e HTTP/1.1\r\nHost: a\r\n\r\n')).url, '/echo?%2e%2e');
    });

    await t.test('an absolute-form target becomes a path, and its authority the Host', async () => {
        const seen = await echo(server, 'GET http://other.example:8080/echo?x=1 HTTP/1.1\r\nHost: spoofed\r\n\r\n');
        assert.equal(seen.url, '/echo?x=1');
        assert.equal(seen.headers.host, 'other.example:8080');
        assert.equal(seen.headers['x-forwarded-host'], 'other.example:8080');
    });

    await t.test('a chunked body reaches the app with a Content-Length; trailers do not', async () => {
        const seen = await echo(
            server,
            'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
                '5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Injected: 1\r\nContent-Length: 1\r\n\r\n',
        );
        assert.equal(seen.bodyText, 'hello world');
        assert.equal(seen.headers['content-length'], '11');
        assert.equal(seen.headers['transfer-encoding'], undefined);
        assert.equal(seen.headers['x-injected'], undefined);
    });

    await t.test('an empty chunked body arrives as Content-Length: 0', async () => {
        const seen = await echo(server, 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
        assert.equal(seen.bodyLength, 0);
        assert.equal(seen.headers['content-length'], '0');
    });

    await t.test('trailing whitespace of header values is not part of the value', async () => {
        const seen = await echo(server, 'GET /echo HTTP/1.1\r\nHost: a\r\nX-Spaces: value \t \r\n\r\n');
        assert.deepEqual(seen.rawHeaders.slice(seen.rawHeaders.indexOf('X-Spaces'), seen.rawHeaders.indexOf('X-Spaces') + 2), ['X-Spaces', 'value']);
    });
});
