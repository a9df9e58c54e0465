// HTTP/2 on the --ssl port (ALPN h2, HTTP/1.1 for clients that do not offer it) with Node's
// http2 client: each stream is one request through the same front end, pool and proxy. One
// server for every subtest.
import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { requestsInFlight, waitForRequests } from './lib/admin.mjs';
import { connectRaw, errorCode, Flag, frame, FrameType, indexed, literalIndexed, requestBlock } from './lib/h2raw.mjs';
import { patternBytes, sha256 } from './lib/http.mjs';
import { descendantsOf } from './lib/proc.mjs';
import { copyFixture, makeTempDir, startServer } from './lib/server.mjs';

const execFile = promisify(execFileCallback);

function connect(port, ca) {
    return new Promise((resolve, reject) => {
        const session = http2.connect(`https://localhost:${port}`, { ca, lookup: (host, options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
        session.once('connect', () => resolve(session));
        session.once('error', reject);
    });
}

// One stream; resolves {status, headers, body}.
function h2request(session, urlPath, { method = 'GET', body, headers = {}, timeoutMs = 15000 } = {}) {
    return new Promise((resolve, reject) => {
        const stream = session.request({ ':method': method, ':path': urlPath, ...headers });
        const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
        let responseHeaders;
        const chunks = [];
        stream.on('response', (received) => (responseHeaders = received));
        stream.on('data', (chunk) => chunks.push(chunk));
        stream.on('end', () => {
            clearTimeout(timer);
            resolve({ status: responseHeaders?.[':status'], headers: responseHeaders, body: Buffer.concat(chunks) });
        });
        stream.on('error', (error) => {
            clearTimeout(timer);
            reject(error);
        });
        stream.end(body);
    });
}

test('HTTP/2 on the TLS port', { timeout: 120000 }, async (t) => {
    const dir = await makeTempDir(t, 'passenger-it-h2-');
    const cert = path.join(dir, 'site.crt');
    const key = path.join(dir, 'site.key');
    await execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const ca = fs.readFileSync(cert);
    const appDir = await copyFixture(t, 'echo');
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--ssl', '--ssl-certificate', cert, '--ssl-certificate-key', key, '--sticky-sessions', '--send-timeout', '5'] });
    const session = await connect(server.port, ca);
    t.after(() => session.destroy());

    await t.test('ALPN h2; round trips with bodies both ways; what the app sees', async () => {
        assert.equal(session.alpnProtocol, 'h2');
        const upload = patternBytes(500 * 1024, 8);
        const echoed = await h2request(session, '/echo?q=1', { method: 'POST', body: upload, headers: { cookie: 'a=1', 'x-custom': 'v' } });
        assert.equal(echoed.status, 200);
        const seen = JSON.parse(echoed.body);
        assert.equal(seen.method, 'POST');
        assert.equal(seen.url, '/echo?q=1');
        assert.equal(seen.bodyLength, upload.length);
        assert.equal(seen.bodySha256, sha256(upload));
        assert.equal(seen.headers.host, `localhost:${server.port}`);
        assert.equal(seen.headers['x-forwarded-proto'], 'https');
        assert.equal(seen.headers['x-custom'], 'v');
        assert.equal(seen.headers.cookie, 'a=1');
        assert.match([].concat(echoed.headers['set-cookie']).join('\n'), /_passenger_route=.*; Secure/);

        const download = await h2request(session, '/bytes?n=3000000&seed=2');
        assert.equal(download.body.length, 3000000);
        assert.equal(sha256(download.body), download.headers['x-body-sha256']);
        const head = await h2request(session, '/bytes?n=10', { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
    });

    await t.test('static files, errors and the sanitizer per stream', async () => {
        const file = await h2request(session, '/hello.txt');
        assert.equal(file.status, 200);
        assert.equal(file.body.toString(), 'echo fixture static file\n');
        const traversal = await h2request(session, '/../../etc/passwd');
        assert.equal(traversal.status, 400);
        const longTarget = await h2request(session, `/echo?${'a'.repeat(9000)}`);
        assert.equal(longTarget.status, 414);
        assert.equal((await h2request(session, '/pid')).status, 200, 'the connection carries on after rejected streams');
    });

    await t.test('at most 100 concurrent streams; 150 at once all complete', async () => {
        assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
        const results = await Promise.all(Array.from({ length: 150 }, (_, i) => h2request(session, `/echo?i=${i}`)));
        results.forEach((result, i) => {
            assert.equal(result.status, 200);
            assert.equal(JSON.parse(result.body).url, `/echo?i=${i}`);
        });
    });

    await t.test('a stream reset mid-response, a response cut short: the other streams complete', async () => {
        // A streaming response that would take a minute, reset once its first piece arrived
        // (so pieces are passed on as the app writes them), while others run on the connection.
        const streaming = session.request({ ':path': '/stream?ms=60000' });
        const firstPiece = new Promise((resolve, reject) => {
            streaming.once('data', (chunk) => resolve(chunk.toString()));
            streaming.once('error', reject);
        });
        const others = Promise.all([
            h2request(session, '/bytes?n=1000000&seed=5'),
            h2request(session, '/echo?during=reset', { method: 'POST', body: patternBytes(300 * 1024, 6) }),
            h2request(session, '/slow?ms=200'),
        ]);
        assert.equal(await firstPiece, 'first\n');
        const closed = new Promise((resolve) => streaming.once('close', resolve));
        streaming.close(http2.constants.NGHTTP2_CANCEL);
        await closed;
        const [download, upload, slow] = await others;
        assert.equal(sha256(download.body), download.headers['x-body-sha256']);
        assert.equal(JSON.parse(upload.body).bodySha256, sha256(patternBytes(300 * 1024, 6)));
        assert.equal(slow.status, 200);
        // A response the app cut short is reset, never passed off as complete.
        for (const target of ['/truncate', '/truncate?chunked=1']) {
            await assert.rejects(h2request(session, target), /NGHTTP2_INTERNAL_ERROR|stream error/i, target);
        }
    });

    await t.test('a large request body to a busy app; the connection window survives resets', async () => {
        // A 3 MB upload needs the client's window given back ~50 times over; a body reset half
        // way gives back what nobody read, or the connection's shared window would shrink.
        const abandoned = session.request({ ':method': 'POST', ':path': '/echo?abandoned=1' });
        abandoned.on('error', () => {});
        abandoned.write(patternBytes(200 * 1024, 9));
        abandoned.close(http2.constants.NGHTTP2_CANCEL);
        const upload = patternBytes(3 * 1024 * 1024, 7);
        const [echoed, ...slow] = await Promise.all([
            h2request(session, '/echo?large=1', { method: 'POST', body: upload, timeoutMs: 60000 }),
            ...Array.from({ length: 3 }, () => h2request(session, '/slow?ms=300')),
        ]);
        assert.equal(echoed.status, 200);
        assert.equal(JSON.parse(echoed.body).bodyLength, upload.length);
        assert.equal(JSON.parse(echoed.body).bodySha256, sha256(upload));
        slow.forEach((result) => assert.equal(result.status, 200));
    });

    await t.test('a rapid-reset flood (CVE-2023-44487) leaves the server serving others', async () => {
        const coreBefore = descendantsOf(server.pid).find((record) => record.ppid === server.pid).pid;
        const flooder = await connect(server.port, ca);
        flooder.on('error', () => {});
        let sent = 0;
        for (; sent < 3000 && !flooder.destroyed && !flooder.closed; sent++) {
            try {
                const stream = flooder.request({ ':path': '/slow?ms=2000' });
                stream.on('error', () => {});
                stream.close(http2.constants.NGHTTP2_CANCEL);
            } catch {
                break;
            }
            if (sent % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
        }
        // Others are served meanwhile and afterwards, by the same core.
        assert.equal((await h2request(session, '/pid')).status, 200);
        flooder.destroy();
        const fresh = await connect(server.port, ca);
        assert.equal((await h2request(fresh, '/echo')).status, 200);
        fresh.destroy();
        assert.equal(descendantsOf(server.pid).find((record) => record.ppid === server.pid).pid, coreBefore);
    });

    await t.test("a CONTINUATION flood (CVE-2024-27316 style; nghttp2's CVE-2024-28182) gets GOAWAY; others are served", async () => {
        const raw = await connectRaw(server.port, { ca });
        // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block, each
        // adding a small field (accept-encoding from the static table).
        await raw.write(frame(FrameType.HEADERS, Flag.END_STREAM, 1, requestBlock('/echo?flood=1')));
        let sent = 0;
        for (; sent < 10000 && !raw.socket.destroyed; sent++) {
            if (!(await raw.write(frame(FrameType.CONTINUATION, 0, 1, indexed(16))))) break;
            if (raw.frames.some((f) => f.type === FrameType.GOAWAY)) break;
        }
        const goaway = await raw.waitFor((f) => f.type === FrameType.GOAWAY);
        assert.ok(goaway, `GOAWAY after ${sent} CONTINUATION frames`);
        assert.notEqual(errorCode(goaway), 0, 'an error code, not NO_ERROR');
        assert.ok(sent < 10000, 'the server stopped reading before the flood ended');
        assert.ok(!raw.frames.some((f) => f.type === FrameType.HEADERS), 'no response to the flooding stream');
        raw.close();
        assert.equal((await h2request(session, '/pid')).status, 200);
    });

    await t.test('an HPACK bomb (one big field referenced 16000 times) is reset, not buffered', async () => {
        const raw = await connectRaw(server.port, { ca });
        // A 4000-byte field enters the dynamic table; the CONTINUATION frame then names it by
        // index 16000 times (64 MB of header fields from 16 KB on the wire).
        const block = Buffer.concat([requestBlock('/echo?bomb=1'), literalIndexed('x-bomb', 'b'.repeat(4000))]);
        await raw.write(frame(FrameType.HEADERS, Flag.END_STREAM, 1, block));
        await raw.write(frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, Buffer.alloc(16000, indexed(62))));
        const answer = await raw.waitFor((f) => f.streamId === 1 && (f.type === FrameType.RST_STREAM || f.type === FrameType.HEADERS) || f.type === FrameType.GOAWAY);
        assert.ok(answer, 'an answer to the stream');
        assert.notEqual(answer.type, FrameType.HEADERS, 'the stream was refused before its fields were gathered');
        raw.close();
        assert.equal((await h2request(session, '/pid')).status, 200);
    });

    await t.test('a zero-window stall (SETTINGS_INITIAL_WINDOW_SIZE 0, large responses on many streams): the app is freed, others are served, the streams are dropped after --send-timeout with a log line', async () => {
        const staller = http2.connect(`https://localhost:${server.port}`, { ca, settings: { initialWindowSize: 0 }, lookup: (host, options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
        staller.on('error', () => {});
        t.after(() => staller.destroy());
        await new Promise((resolve, reject) => (staller.once('remoteSettings', resolve), staller.once('error', reject)));
        const streams = 20;
        const stalled = Array.from({ length: streams }, (_, i) => {
            const stream = staller.request({ ':path': `/bytes?n=1000000&stall=${i}` });
            stream.on('error', () => {});
            const status = new Promise((resolve) => stream.once('response', (headers) => resolve(headers[':status'])));
            const closed = new Promise((resolve) => stream.once('close', () => resolve(stream.rstCode)));
            return { status, closed };
        });
        // Heads need no window; the bodies wait in the server's response buffers (a file past
        // --response-buffer-size), not in the app: every request is past the app.
        assert.deepEqual(await Promise.all(stalled.map((s) => s.status)), Array(streams).fill(200));
        await waitForRequests(server, '/bytes?n=1000000&stall=', streams, { state: 'sending response' });
        // Others are served meanwhile, on another connection and on a fresh one.
        const download = await h2request(session, '/bytes?n=1000000&seed=3');
        assert.equal(sha256(download.body), download.headers['x-body-sha256']);
        const fresh = await connect(server.port, ca);
        assert.equal((await h2request(fresh, '/pid')).status, 200);
        fresh.destroy();
        // After --send-timeout without progress each stalled stream is reset, and logged.
        const codes = await Promise.all(stalled.map((s) => s.closed));
        assert.deepEqual(codes, Array(streams).fill(http2.constants.NGHTTP2_INTERNAL_ERROR));
        await server.waitForLog(/Dropped the response to GET \/bytes\?n=1000000&stall=\d+ for 127\.0\.0\.1: the client took nothing more of it for --send-timeout \(5 s\)/);
        assert.equal((await requestsInFlight(server)).filter((r) => r.uri.includes('stall=')).length, 0, 'nothing held after the drop');
    });

    await t.test('a client without h2 gets HTTP/1.1 on the same port', async () => {
        const { stdout } = await execFile('curl', ['-sS', '--http1.1', '--cacert', cert, '--resolve', `localhost:${server.port}:127.0.0.1`, '-w', '\n%{http_version}', `https://localhost:${server.port}/hello.txt`]);
        assert.equal(stdout, 'echo fixture static file\n\n1.1');
        const { stdout: h2 } = await execFile('curl', ['-sS', '--http2', '--cacert', cert, '--resolve', `localhost:${server.port}:127.0.0.1`, '-w', '\n%{http_version}', `https://localhost:${server.port}/hello.txt`]);
        assert.equal(h2, 'echo fixture static file\n\n2');
    });
});
