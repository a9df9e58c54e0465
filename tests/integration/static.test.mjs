// Static files under public/: served by the server without reaching the app, with the right
// Content-Type, validators (ETag, Last-Modified, 304), byte ranges (206, 416), and nothing
// outside public/ ever reachable (.., encoded .., symlinks leading out).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { RawConnection, patternBytes, rawRequest, request } from './lib/http.mjs';
import { copyFixture, startServer } from './lib/server.mjs';

const SECRET = 'TOP-SECRET-a8d1e';
const APP_SOURCE = 'APP-SOURCE-MARKER-7f3c';
const DATA_SIZE = 100000;

test('static files', { timeout: 110000 }, async (t) => {
    const appDir = await copyFixture(t, 'static');
    const publicDir = path.join(appDir, 'public');
    fs.writeFileSync(path.join(publicDir, 'data.bin'), patternBytes(DATA_SIZE, 9));
    fs.symlinkSync('../secret.txt', path.join(publicDir, 'leak.txt'));
    fs.symlinkSync(path.join(appDir, 'secret.txt'), path.join(publicDir, 'abs-leak.txt'));
    fs.symlinkSync('..', path.join(publicDir, 'up'));

    const server = await startServer(t, { appDir });
    const { port } = server;
    const sub = (name, fn) => t.test(name, { timeout: 30000 }, fn);
    const file = (name) => fs.readFileSync(path.join(publicDir, name));
    const appCount = async () => (await request(port, '/count')).json().count;

    // Runs `fn` and asserts that the app saw no request meanwhile.
    const withoutApp = async (fn) => {
        const before = await appCount();
        await fn();
        const after = await request(port, '/count');
        const { count, paths } = after.json();
        assert.equal(count, before, `the app saw static requests: ${JSON.stringify(paths.slice(before))}`);
    };

    await sub('the fixture app itself answers non-static paths (and counts them)', async () => {
        const before = await appCount();
        const response = await request(port, '/not-a-file');
        assert.equal(response.status, 404);
        assert.match(response.text, /static fixture app/);
        assert.equal(await appCount(), before + 1);
    });

    await sub('GET serves files with the Content-Type of their extension, bypassing the app', async () => {
        const types = {
            'style.css': /^text\/css\b/,
            'robots.txt': /^text\/plain\b/,
            'page.html': /^text\/html\b/,
            'script.js': /^(application|text)\/javascript\b/,
            'data.json': /^application\/json\b/,
            'image.svg': /^image\/svg\+xml\b/,
            'pixel.png': /^image\/png$/,
            'sub/nested.txt': /^text\/plain\b/,
        };
        await withoutApp(async () => {
            for (const [name, type] of Object.entries(types)) {
                const response = await request(port, `/${name}`);
                assert.equal(response.status, 200, `/${name}`);
                assert.match(response.headers['content-type'] ?? '', type, `/${name} Content-Type`);
                assert.deepEqual(response.body, file(name), `/${name} body`);
                assert.equal(response.headers['content-length'], String(file(name).length), `/${name} Content-Length`);
            }
        });
    });

    await sub('a folder or a missing file under public/ goes to the app', async () => {
        const before = await appCount();
        for (const target of ['/sub', '/sub/', '/missing.css']) {
            const response = await request(port, target);
            assert.match(response.text, /static fixture app/, `${target} is answered by the app`);
        }
        assert.equal(await appCount(), before + 3);
    });

    await sub('ETag and Last-Modified (the file mtime) are sent', async () => {
        const response = await request(port, '/style.css');
        assert.ok(response.headers.etag, 'ETag header');
        assert.match(response.headers.etag, /^(W\/)?"[^"]+"$/, 'ETag is a quoted string');
        const mtime = fs.statSync(path.join(publicDir, 'style.css')).mtime;
        mtime.setMilliseconds(0);
        assert.equal(response.headers['last-modified'], mtime.toUTCString());
    });

    await sub('a percent-encoded path and a query string still map to the file', async () => {
        await withoutApp(async () => {
            const spaced = await request(port, '/with%20space/file.txt');
            assert.equal(spaced.status, 200);
            assert.equal(spaced.text, 'file in a folder with a space\n');
            const queried = await request(port, '/style.css?v=12345');
            assert.equal(queried.status, 200);
            assert.deepEqual(queried.body, file('style.css'));
        });
    });

    await sub('HEAD: the headers of GET, no body, connection stays in sync', async () => {
        await withoutApp(async () => {
            const connection = await RawConnection.connect(port);
            try {
                connection.write('HEAD /data.bin HTTP/1.1\r\nHost: a\r\n\r\n');
                const head = await connection.readResponse({ method: 'HEAD' });
                assert.equal(head.status, 200);
                assert.equal(head.headers['content-length'], String(DATA_SIZE));
                assert.ok(head.headers.etag, 'ETag on HEAD');
                connection.write('GET /robots.txt HTTP/1.1\r\nHost: a\r\n\r\n');
                const next = await connection.readResponse();
                assert.match(next.statusLine, /^HTTP\/1\.1 200/, 'no body bytes were sent after HEAD');
                assert.deepEqual(next.body, file('robots.txt'));
            } finally {
                connection.close();
            }
        });
    });

    await sub('conditional requests: If-None-Match and If-Modified-Since give 304', async () => {
        const first = await request(port, '/style.css');
        const { etag } = first.headers;
        const lastModified = first.headers['last-modified'];
        await withoutApp(async () => {
            const byEtag = await request(port, '/style.css', { headers: { 'If-None-Match': etag } });
            assert.equal(byEtag.status, 304);
            assert.equal(byEtag.body.length, 0);
            assert.equal(byEtag.headers.etag, etag, '304 repeats the ETag');

            const byDate = await request(port, '/style.css', { headers: { 'If-Modified-Since': lastModified } });
            assert.equal(byDate.status, 304);

            const otherEtag = await request(port, '/style.css', { headers: { 'If-None-Match': '"not-the-etag"' } });
            assert.equal(otherEtag.status, 200);
            assert.deepEqual(otherEtag.body, file('style.css'));

            const oldDate = await request(port, '/style.css', { headers: { 'If-Modified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' } });
            assert.equal(oldDate.status, 200);

            const inList = await request(port, '/style.css', { headers: { 'If-None-Match': `"other", ${etag}` } });
            assert.equal(inList.status, 304, 'an ETag in a list matches');
        });
    });

    await sub('byte ranges: 206 with the right bytes and Content-Range', async () => {
        const data = file('data.bin');
        const cases = [
            ['bytes=0-9', 0, 9],
            ['bytes=1000-1999', 1000, 1999],
            ['bytes=-10', DATA_SIZE - 10, DATA_SIZE - 1],
            [`bytes=${DATA_SIZE - 5}-`, DATA_SIZE - 5, DATA_SIZE - 1],
            [`bytes=${DATA_SIZE - 5}-${DATA_SIZE + 500}`, DATA_SIZE - 5, DATA_SIZE - 1],
        ];
        await withoutApp(async () => {
            for (const [range, first, last] of cases) {
                const response = await request(port, '/data.bin', { headers: { Range: range } });
                assert.equal(response.status, 206, range);
                assert.equal(response.headers['content-range'], `bytes ${first}-${last}/${DATA_SIZE}`, range);
                assert.equal(response.headers['content-length'], String(last - first + 1), range);
                assert.deepEqual(response.body, data.subarray(first, last + 1), range);
            }
        });
    });

    await sub('If-Range with an old ETag gives the whole file', async () => {
        const response = await request(port, '/data.bin', { headers: { Range: 'bytes=0-9', 'If-Range': '"stale-etag"' } });
        assert.equal(response.status, 200);
        assert.equal(response.body.length, DATA_SIZE);
    });

    await sub('a 20 MiB static file arrives intact', async () => {
        const big = patternBytes(20 * 1024 * 1024, 17);
        fs.writeFileSync(path.join(publicDir, 'big.bin'), big);
        await withoutApp(async () => {
            const response = await request(port, '/big.bin', { timeoutMs: 25000 });
            assert.equal(response.status, 200);
            assert.equal(response.body.length, big.length);
            assert.ok(response.body.equals(big), 'same bytes');
        });
    });

    await sub('static and app requests mixed on one keep-alive connection stay in sync', async () => {
        const connection = await RawConnection.connect(port);
        try {
            const exchange = async (text, method) => {
                connection.write(text);
                return connection.readResponse({ method });
            };
            const css = await exchange('GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n');
            assert.deepEqual(css.body, file('style.css'));
            const app = await exchange('POST /style.css HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
            assert.match(app.text, /static fixture app/, 'POST to a static path goes to the app, body consumed');
            const head = await exchange('HEAD /data.bin HTTP/1.1\r\nHost: a\r\n\r\n', 'HEAD');
            assert.equal(head.status, 200);
            const range = await exchange('GET /data.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=5-9\r\n\r\n');
            assert.equal(range.status, 206);
            assert.deepEqual(range.body, file('data.bin').subarray(5, 10));
            const missing = await exchange('GET /nope.txt HTTP/1.1\r\nHost: a\r\n\r\n');
            assert.equal(missing.status, 404);
            const robots = await exchange('GET /robots.txt HTTP/1.1\r\nHost: a\r\n\r\n');
            assert.deepEqual(robots.body, file('robots.txt'));
        } finally {
            connection.close();
        }
    });

    await sub('an unsatisfiable range gives 416 with the full length', async () => {
        await withoutApp(async () => {
            const response = await request(port, '/data.bin', { headers: { Range: `bytes=${DATA_SIZE}-` } });
            assert.equal(response.status, 416);
            assert.equal(response.headers['content-range'], `bytes */${DATA_SIZE}`);
            assert.ok(response.body.length < DATA_SIZE, 'not the whole file');
        });
    });

    await sub('a changed file is served fresh, with a new ETag', async () => {
        const name = 'changing.txt';
        fs.writeFileSync(path.join(publicDir, name), 'version one\n');
        fs.utimesSync(path.join(publicDir, name), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
        const one = await request(port, `/${name}`);
        assert.equal(one.status, 200, 'a file created after start is served');
        assert.equal(one.text, 'version one\n');
        fs.writeFileSync(path.join(publicDir, name), 'version two, longer\n');
        const two = await request(port, `/${name}`);
        assert.equal(two.text, 'version two, longer\n');
        assert.notEqual(two.headers.etag, one.headers.etag);
        const stale = await request(port, `/${name}`, { headers: { 'If-None-Match': one.headers.etag } });
        assert.equal(stale.status, 200, 'the old ETag no longer matches');
    });

    await sub('.. and encoded .. never reach files outside public/ (raw requests)', async () => {
        const targets = [
            '/../app.js',
            '/../secret.txt',
            '/%2e%2e/app.js',
            '/%2E%2E/secret.txt',
            '/%2e%2e%2fsecret.txt',
            '/..%2fsecret.txt',
            '/..%2Fapp.js',
            '/sub/../../secret.txt',
            '/sub/%2e%2e/%2e%2e/app.js',
            '/sub/..%2f..%2fsecret.txt',
            '/./../secret.txt',
            '//../secret.txt',
            '/.%2e/secret.txt',
            '/%2e./app.js',
            '/..%5csecret.txt',
            '/%252e%252e/secret.txt',
            'http://example.test/../secret.txt',
        ];
        for (const target of targets) {
            let response;
            try {
                response = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
            } catch (error) {
                // A server that drops the connection serves nothing, which is fine here.
                continue;
            }
            assert.ok(!response.text.includes(SECRET), `${target} leaked secret.txt (status ${response.status})`);
            assert.ok(!response.text.includes(APP_SOURCE), `${target} leaked app.js (status ${response.status})`);
        }
        // And the server is still fine.
        assert.equal((await request(port, '/robots.txt')).status, 200);
    });

    await sub('symlinks in public/ that lead outside are never followed out', async () => {
        for (const target of ['/leak.txt', '/abs-leak.txt', '/up/secret.txt', '/up/app.js', '/up/public/../secret.txt']) {
            const response = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
            assert.ok(!response.text.includes(SECRET), `${target} leaked secret.txt (status ${response.status})`);
            assert.ok(!response.text.includes(APP_SOURCE), `${target} leaked app.js (status ${response.status})`);
        }
    });

    await sub('the fixture really has the secret (the traversal checks are not vacuous)', async () => {
        assert.ok(fs.readFileSync(path.join(appDir, 'secret.txt'), 'utf8').includes(SECRET));
        assert.ok(fs.readFileSync(path.join(appDir, 'app.js'), 'utf8').includes(APP_SOURCE));
        assert.ok(fs.readFileSync(path.join(publicDir, 'leak.txt'), 'utf8').includes(SECRET), 'the symlink resolves');
    });
});
