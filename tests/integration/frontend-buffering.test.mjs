// Buffering: a request reaches the app only once its whole body has arrived (memory, then a temp
// file), and the app's response is read as fast as the app writes it (memory, then a temp file),
// so neither a slow uploader nor a slow downloader holds an app process. Streams still arrive as
// written.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import test from 'node:test';

import { appRequests, corePid, pausedDownload, rssKb, sampleRss } from './lib/frontend.mjs';
import { RawConnection, request, sha256 } from './lib/http.mjs';
import { sleep, waitFor } from './lib/proc.mjs';
import { makeTempDir, startServer } from './lib/server.mjs';

// One app process taking one request at a time: a request that holds it shows at once.
const ONE_AT_A_TIME = ['--min-instances', '1', '--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1'];

// Descriptors of the core that point into `dir` (temp files are unlinked: "dir/#123 (deleted)").
function openFilesIn(pid, dir) {
    const links = [];
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        try {
            const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
            if (target.startsWith(`${dir}/`)) links.push(target);
        } catch {
            // closed meanwhile
        }
    }
    return links;
}

test('request buffering', { timeout: 60000 }, async (t) => {
    const bufferDir = await makeTempDir(t, 'passenger-it-buffers-');
    const server = await startServer(t, {
        fixture: 'frontend',
        readyPath: '/count',
        args: [...ONE_AT_A_TIME, '--data-buffer-dir', bufferDir, '--client-body-buffer-size', '16k'],
    });
    const core = corePid(server);

    await t.test('a slow upload reaches the app only when complete, and holds no app process meanwhile', async () => {
        const body = crypto.randomBytes(200000);
        const before = await appRequests(server);
        const connection = await RawConnection.connect(server.port);
        try {
            connection.write(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
            connection.write(body.subarray(0, 150000));
            // Past the 16k memory part, the body waits in a temp file under --data-buffer-dir.
            await waitFor(() => openFilesIn(core, bufferDir).length > 0, { what: 'a temp file in the data buffer dir' });
            assert.equal(await appRequests(server), before, 'the app has not seen the request yet');
            // The one app process is free for others meanwhile.
            const other = await request(server.port, '/slow?ms=0', { timeoutMs: 15000 });
            assert.equal(other.status, 200);
            await sleep(300); // the behaviour under test: the rest of the slow upload comes later
            const restSentAt = Date.now();
            connection.write(body.subarray(150000));
            const response = await connection.readResponse();
            const seen = JSON.parse(response.text);
            assert.equal(seen.bodyLength, body.length);
            assert.equal(seen.bodySha256, sha256(body));
            assert.ok(seen.arrivedAt >= restSentAt - 50, 'the app got the request after the last body byte was sent');
            assert.equal(seen.headers['content-length'], String(body.length));
        } finally {
            connection.close();
        }
        await waitFor(() => openFilesIn(core, bufferDir).length === 0, { what: 'the temp file to be closed' });
    });

    await t.test('a chunked upload arriving in pieces reaches the app whole, with a Content-Length', async () => {
        const pieces = Array.from({ length: 20 }, (_, i) => crypto.randomBytes(10000 + i));
        const response = await request(server.port, '/echo', { method: 'PUT', body: pieces, chunkDelayMs: 10 });
        const seen = response.json();
        const whole = Buffer.concat(pieces);
        assert.equal(seen.bodyLength, whole.length);
        assert.equal(seen.bodySha256, sha256(whole));
        assert.equal(seen.headers['content-length'], String(whole.length));
        assert.equal(seen.headers['transfer-encoding'], undefined);
    });

    await t.test('Expect: 100-continue gets its 100 from the server, then the body is buffered', async () => {
        const connection = await RawConnection.connect(server.port);
        try {
            connection.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
            const interim = await connection.readResponse({ interim: true });
            assert.equal(interim.status, 100);
            connection.write('hello');
            const response = await connection.readResponse();
            assert.equal(JSON.parse(response.text).bodyText, 'hello');
        } finally {
            connection.close();
        }
    });
});

test('response buffering', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count', args: ONE_AT_A_TIME });

    await t.test('a client that does not read holds no app process: the app finishes, others are served', async () => {
        const size = 64 << 20;
        const download = await pausedDownload(server, `/download?n=${size}`);
        t.after(() => download.destroy());
        const record = await waitFor(
            async () => {
                const last = (await request(server.port, '/last-download')).json();
                return last && last.finished && last;
            },
            { timeoutMs: 20000, what: 'the app to finish writing 64 MiB to a client that reads nothing' },
        );
        const other = await request(server.port, '/slow?ms=0', { timeoutMs: 15000 });
        assert.equal(other.status, 200, 'another request is served by the one app process');
        const received = await download.resume();
        assert.equal(received.complete, true);
        assert.equal(received.length, size);
        assert.equal(received.sha256, record.sha256);
    });

    await t.test('server-sent events arrive as they are written', async () => {
        // The app writes each event only once the client has the one before (it acknowledges
        // by creating a file): held back by the proxy, the stream would never end.
        const response = await new Promise((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port: server.port, path: '/events?count=4&ack=sse-ack-', agent: false }, (res) => {
                let text = '';
                let chunks = 0;
                res.setEncoding('utf8');
                res.on('data', (chunk) => {
                    text += chunk;
                    chunks += 1;
                    const received = text.split('\n\n').length - 1;
                    for (let i = 0; i < received; i++) fs.writeFileSync(path.join(server.appDir, `sse-ack-${i}`), '');
                });
                res.on('end', () => resolve({ headers: res.headers, text, chunks }));
            });
            req.on('error', reject);
            req.setTimeout(15000, () => req.destroy(new Error('the events stalled: an event was held back')));
        });
        const events = response.text.trim().split('\n\n');
        assert.equal(events.length, 4);
        assert.equal(response.headers['content-type'], 'text/event-stream');
        assert.ok(response.chunks >= 4, `events came in ${response.chunks} pieces`);
    });

    await t.test('a long-polling response arrives when the app answers, and others are served meanwhile', async () => {
        const started = Date.now();
        const [slow, count] = await Promise.all([request(server.port, '/slow?ms=1500'), request(server.port, '/count')]);
        assert.equal(slow.status, 200);
        assert.ok(Date.now() - started >= 1400);
        assert.equal(count.status, 200);
    });
});

test('1 GiB each way passes intact while the core stays small', { timeout: 240000 }, async (t) => {
    const server = await startServer(t, { fixture: 'frontend', readyPath: '/count' });
    const core = corePid(server);
    const GIB = 1 << 30;
    const baseline = rssKb(core);

    await t.test('a 1 GiB upload', async () => {
        const sampler = sampleRss(core);
        const block = crypto.randomBytes(1 << 20);
        const hash = crypto.createHash('sha256');
        const seen = await new Promise((resolve, reject) => {
            const req = http.request({ port: server.port, host: '127.0.0.1', path: '/echo', method: 'POST', agent: false, headers: { 'Content-Length': GIB } });
            req.on('error', reject);
            req.on('response', (res) => {
                const chunks = [];
                res.on('data', (chunk) => chunks.push(chunk));
                res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
            });
            let sent = 0;
            const pump = () => {
                while (sent < GIB) {
                    block.writeUInt32BE(sent >>> 20, 0);
                    hash.update(block);
                    sent += block.length;
                    if (!req.write(Buffer.from(block))) return req.once('drain', pump);
                }
                req.end();
            };
            pump();
        });
        const peak = sampler.stop();
        t.diagnostic(`core RSS: ${baseline} KiB before, ${peak} KiB at most during the upload`);
        assert.equal(seen.bodyLength, GIB);
        assert.equal(seen.bodySha256, hash.digest('hex'));
        assert.ok(peak < baseline + 64 * 1024, `core RSS stayed bounded (${baseline} -> ${peak} KiB)`);
    });

    await t.test('a 1 GiB download', async () => {
        const sampler = sampleRss(core);
        const received = await new Promise((resolve, reject) => {
            const req = http.get({ port: server.port, host: '127.0.0.1', path: `/download?n=${GIB}`, agent: false }, (res) => {
                const hash = crypto.createHash('sha256');
                let length = 0;
                res.on('data', (chunk) => {
                    hash.update(chunk);
                    length += chunk.length;
                });
                res.on('end', () => resolve({ length, sha: hash.digest('hex') }));
                res.on('error', reject);
            });
            req.on('error', reject);
        });
        const peak = sampler.stop();
        t.diagnostic(`core RSS: ${baseline} KiB before, ${peak} KiB at most during the download`);
        const sent = (await request(server.port, '/last-download')).json();
        assert.equal(received.length, GIB);
        assert.equal(received.sha, sent.sha256);
        assert.ok(peak < baseline + 64 * 1024, `core RSS stayed bounded (${baseline} -> ${peak} KiB)`);
    });
});
