// TLS in Standalone (--ssl & co): HTTPS through the same front end, pool and proxy as plain HTTP,
// with curl, `openssl s_client`, Node's https and ws clients against the real binary. The
// certificates are made here with `openssl req` (EC P-256: fast), never committed. Three servers
// cover the three listener layouts; each is shared by the subtests of its test.
import assert from 'node:assert/strict';
import { execFile as execFileCallback, spawn } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';

import { patternBytes, request, sha256 } from './lib/http.mjs';
import { makeRegistry, runTool } from './lib/inspection.mjs';
import { descendantsOf, waitFor, withTimeout } from './lib/proc.mjs';
import { copyRealtimeFixture, openWebSocket } from './lib/realtime.mjs';
import { copyFixture, freePort, makeTempDir, runPassenger, serverEnv, startServer } from './lib/server.mjs';

const execFile = promisify(execFileCallback);

// A self-signed certificate for localhost and 127.0.0.1 with the given serial (hex).
async function makeCertificate(dir, name, serial) {
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    await execFile('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-set_serial', `0x${serial}`,
    ]);
    return { cert, key, ca: fs.readFileSync(cert) };
}

// One HTTPS request with Node's client, verifying the certificate against `ca`. Resolves
// {status, headers, body (Buffer), serial (of the certificate the server showed), alpn}.
function httpsRequest(port, urlPath, { ca, method = 'GET', body, headers = {}, timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: urlPath, method, ca, servername: 'localhost', agent: false, headers }, (res) => {
            const serial = res.socket.getPeerCertificate().serialNumber;
            const alpn = res.socket.alpnProtocol;
            const chunks = [];
            res.on('data', (chunk) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), serial, alpn }));
            res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
    });
}

// The serial of the certificate a fresh TLS connection gets.
function peerSerial(port, ca) {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
            resolve(socket.getPeerCertificate().serialNumber);
            socket.end();
        });
        socket.on('error', reject);
    });
}

// Where each open descriptor of process `pid` leads ("socket:[123]", "/path", "/memfd:name").
function descriptorTargets(pid) {
    const dir = `/proc/${pid}/fd`;
    return fs.readdirSync(dir).map((fd) => {
        try {
            return fs.readlinkSync(path.join(dir, fd));
        } catch {
            return '';
        }
    });
}

// A client's WebSocket frame (RFC 6455 5.2): FIN, `opcode`, masked `payload`.
function maskedFrame(opcode, payload) {
    const mask = Buffer.from([1, 2, 3, 4]);
    const length = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : payload.length < 65536 ? Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]) : Buffer.concat([Buffer.from([0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(payload.length)); return b; })()]);
    return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask, payload.map((byte, i) => byte ^ mask[i % 4])]);
}

// The server's (unmasked) frames on `stream`: next() resolves {opcode, payload}.
function webSocketFrames(stream) {
    let pending = Buffer.alloc(0);
    const frames = [];
    let wake = () => {};
    stream.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
            if (pending.length < 2) break;
            let length = pending[1] & 0x7f;
            let offset = 2;
            if (length === 126) [length, offset] = [pending.length >= 4 ? pending.readUInt16BE(2) : Infinity, 4];
            else if (length === 127) [length, offset] = [pending.length >= 10 ? Number(pending.readBigUInt64BE(2)) : Infinity, 10];
            if (pending.length < offset + length) break;
            frames.push({ opcode: pending[0] & 0x0f, payload: pending.subarray(offset, offset + length) });
            pending = pending.subarray(offset + length);
        }
        wake();
    });
    return {
        next: () =>
            new Promise((resolve) => {
                const check = () => (frames.length > 0 ? resolve(frames.shift()) : (wake = check));
                check();
            }),
    };
}

// Sends `text` on a plain TCP connection and reads until the server closes it.
function plainExchange(port, text, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(text));
        let received = '';
        socket.on('data', (chunk) => (received += chunk));
        socket.on('end', () => resolve(received));
        socket.on('error', reject);
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close within ${timeoutMs} ms; got ${received}`)));
    });
}

test('--ssl with --ssl-port: HTTPS there, plain HTTP on --port', { timeout: 150000 }, async (t) => {
    const dir = await makeTempDir(t, 'passenger-it-tls-');
    const first = await makeCertificate(dir, 'site', '1001');
    const sslPort = await freePort();
    const appDir = await copyFixture(t, 'echo');
    const registry = await makeRegistry(t);
    const server = await startServer(t, {
        appDir,
        readyPath: '/pid',
        args: ['--ssl', '--ssl-certificate', first.cert, '--ssl-certificate-key', first.key, '--ssl-port', String(sslPort), '--sticky-sessions',
            '--instance-registry-dir', registry],
    });

    await t.test('HTTPS round trip with bodies both ways; the app sees X-Forwarded-Proto https', { timeout: 30000 }, async () => {
        const upload = patternBytes(300 * 1024, 3);
        const echoed = await httpsRequest(sslPort, '/echo?x=1', { ca: first.ca, method: 'POST', body: upload });
        assert.equal(echoed.status, 200);
        const seen = JSON.parse(echoed.body);
        assert.equal(seen.bodyLength, upload.length);
        assert.equal(seen.bodySha256, sha256(upload));
        assert.equal(seen.headers['x-forwarded-proto'], 'https');
        assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
        assert.equal(echoed.alpn, false, 'no ALPN asked, none given');

        const download = await httpsRequest(sslPort, '/bytes?n=2000000&seed=5', { ca: first.ca });
        assert.equal(download.body.length, 2000000);
        assert.equal(sha256(download.body), download.headers['x-body-sha256']);
    });

    await t.test('no app process holds the key, its file or the credentials channel', { timeout: 20000 }, async () => {
        const appPid = JSON.parse((await httpsRequest(sslPort, '/pid', { ca: first.ca })).body).pid;
        const core = descendantsOf(server.pid).find((record) => record.ppid === server.pid);
        assert.ok(core, 'the core runs below the watchdog');
        for (const pid of [appPid, core.pid]) {
            const targets = descriptorTargets(pid);
            assert.ok(!targets.some((target) => target.includes('passenger-tls')), `no credentials memfd in ${pid}: ${targets}`);
            assert.ok(!targets.includes(first.key) && !targets.includes(first.cert), `no key or certificate file in ${pid}`);
        }
        // The core's end of the channel and its HTTPS socket are its own: the app has no socket
        // but its own listening one and its connections from the core.
        const appSockets = descriptorTargets(appPid).filter((target) => target.startsWith('socket:'));
        const coreSockets = new Set(descriptorTargets(core.pid).filter((target) => target.startsWith('socket:')));
        for (const socket of appSockets) assert.ok(!coreSockets.has(socket), `the app shares no socket with the core (${socket})`);
    });

    await t.test('plain HTTP on --port still works and says X-Forwarded-Proto http', { timeout: 20000 }, async () => {
        const response = await request(server.port, '/echo');
        assert.equal(response.status, 200);
        assert.equal(JSON.parse(response.body).headers['x-forwarded-proto'], 'http');
    });

    await t.test('a burst of new HTTPS connections behind silent ones: every one served (each loop starts one per turn)', { timeout: 30000 }, async () => {
        // Connections that send no ClientHello have started and wait for their first byte; the
        // burst queues behind them on each loop and must still start, one per loop turn.
        const silent = await Promise.all(
            Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
                const socket = net.connect({ host: '127.0.0.1', port: sslPort }, () => resolve(socket));
                socket.on('error', reject);
            })),
        );
        try {
            const burst = await Promise.all(
                Array.from({ length: 40 }, (_, i) => httpsRequest(sslPort, `/echo?burst=${i}`, { ca: first.ca, headers: { connection: 'close' } })),
            );
            assert.deepEqual(burst.map((response) => response.status), Array(40).fill(200));
            assert.deepEqual(burst.map((response) => JSON.parse(response.body).url), Array.from({ length: 40 }, (_, i) => `/echo?burst=${i}`));
            for (const socket of silent) assert.ok(!socket.destroyed, 'a silent connection waits for its first byte');
        } finally {
            for (const socket of silent) socket.destroy();
        }
    });

    await t.test('the sticky-session cookie is Secure on HTTPS only', { timeout: 20000 }, async () => {
        const overTls = await httpsRequest(sslPort, '/pid', { ca: first.ca });
        const secureCookie = [].concat(overTls.headers['set-cookie']).find((line) => line.startsWith('_passenger_route='));
        assert.match(secureCookie, /; Secure$/);
        const plain = await request(server.port, '/pid');
        const plainCookie = [].concat(plain.headers['set-cookie']).find((line) => line.startsWith('_passenger_route='));
        assert.ok(plainCookie, 'a cookie over plain HTTP too');
        assert.doesNotMatch(plainCookie, /Secure/);
    });

    await t.test('curl: a static file and a POST over HTTPS, keep-alive on one connection', { timeout: 20000 }, async () => {
        const { stdout } = await execFile('curl', [
            '-sS', '--cacert', first.cert, '--resolve', `localhost:${sslPort}:127.0.0.1`,
            `https://localhost:${sslPort}/hello.txt`,
            '--next', '--cacert', first.cert, '--resolve', `localhost:${sslPort}:127.0.0.1`,
            '--data-binary', 'posted body', '-w', '\n%{num_connects}', `https://localhost:${sslPort}/echo`,
        ]);
        const [staticBody, echoLine, connects] = stdout.split('\n');
        assert.equal(staticBody, 'echo fixture static file');
        assert.equal(JSON.parse(echoLine).bodyText, 'posted body');
        assert.equal(connects, '0', 'the second request reused the connection');
    });

    await t.test('openssl s_client: TLS 1.3 and 1.2 handshake, ALPN h2 or http/1.1, TLS 1.1 refused', { timeout: 20000 }, async () => {
        // s_client ends at the end of its input, right after the handshake.
        const sClient = (args) =>
            new Promise((resolve) => {
                const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${sslPort}`, '-CAfile', first.cert, '-verify_return_error', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
                let text = '';
                child.stdout.on('data', (chunk) => (text += chunk));
                child.stderr.on('data', (chunk) => (text += chunk));
                const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
                child.on('close', (code) => {
                    clearTimeout(timer);
                    resolve({ ok: code === 0, text });
                });
                child.stdin.end();
            });
        const modern = await sClient(['-alpn', 'h2,http/1.1']);
        assert.ok(modern.ok, modern.text);
        assert.match(modern.text, /New, TLSv1\.3/);
        assert.match(modern.text, /ALPN protocol: h2/);
        const http11 = await sClient(['-alpn', 'http/1.1']);
        assert.match(http11.text, /ALPN protocol: http\/1\.1/);
        const tls12 = await sClient(['-tls1_2', '-brief']);
        assert.ok(tls12.ok, tls12.text);
        assert.match(tls12.text, /Protocol version: TLSv1\.2/);
        const tls11 = await sClient(['-tls1_1', '-brief']);
        assert.equal(tls11.ok, false, `TLS 1.1 must fail:\n${tls11.text}`);
    });

    await t.test('plain HTTP sent to the HTTPS port gets a clear-text 400; the server keeps serving', { timeout: 20000 }, async () => {
        const answer = await plainExchange(sslPort, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
        assert.match(answer, /^HTTP\/1\.1 400 /);
        assert.match(answer, /The plain HTTP request was sent to HTTPS port/);
        assert.equal((await httpsRequest(sslPort, '/pid', { ca: first.ca })).status, 200);
    });

    await t.test('passenger-status and the metrics tell plain HTTP, HTTPS and h2 apart', { timeout: 40000 }, async () => {
        const session = http2.connect(`https://localhost:${sslPort}`, { ca: first.ca, lookup: (host, options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
        session.on('error', () => {});
        try {
            // One slow request of each kind in flight at once.
            const h2Done = new Promise((resolve, reject) => {
                const stream = session.request({ ':path': '/slow?ms=4000&via=h2' });
                stream.on('response', (headers) => resolve(headers[':status']));
                stream.on('error', reject);
                stream.resume();
                stream.end();
            });
            const plainDone = request(server.port, '/slow?ms=4000&via=http');
            const httpsDone = httpsRequest(sslPort, '/slow?ms=4000&via=https', { ca: first.ca });
            const listed = await waitFor(
                async () => {
                    const result = await runTool('passenger-status', ['--show=requests'], { registry });
                    const slow = JSON.parse(result.stdout).requests.filter((r) => r.uri.startsWith('/slow'));
                    return slow.length === 3 ? slow : null;
                },
                { timeoutMs: 15000, what: 'three slow requests listed' },
            );
            const kinds = Object.fromEntries(listed.map((r) => [new URL(r.uri, 'http://x').searchParams.get('via'), `${r.scheme} ${r.protocol}`]));
            assert.deepEqual(kinds, { http: 'http http/1.1', https: 'https http/1.1', h2: 'https h2' });

            const summary = await runTool('passenger-status', [], { registry });
            assert.equal(summary.code, 0, summary.stderr);
            assert.match(summary.stdout, /^Client connections : http [1-9]\d*, https [1-9]\d*, h2 [1-9]\d*$/m);
            const requests = summary.stdout.match(/^Requests received {2}: http (\d+), https (\d+), h2 (\d+)$/m);
            assert.ok(requests, summary.stdout);
            assert.ok(requests.slice(1).every((count) => Number(count) >= 1), requests[0]);

            const metrics = (await runTool('passenger-status', ['--show=metrics'], { registry })).stdout;
            const sample = (name, scheme, protocol) => Number(metrics.match(new RegExp(`^${name}\\{scheme="${scheme}",protocol="${protocol}"\\} (\\d+)$`, 'm'))?.[1]);
            assert.equal(sample('passenger_client_requests_total', 'https', 'h2'), Number(requests[3]));
            assert.equal(sample('passenger_client_requests_total', 'https', 'http/1.1'), Number(requests[2]));
            assert.equal(sample('passenger_client_requests_total', 'http', 'http/1.1'), Number(requests[1]));
            assert.ok(sample('passenger_client_connections', 'https', 'h2') >= 1, metrics);

            assert.equal(await withTimeout(h2Done, 15000, 'timeout'), 200);
            assert.equal((await plainDone).status, 200);
            assert.equal((await httpsDone).status, 200);
        } finally {
            session.destroy();
        }
    });

    await t.test('SIGHUP reloads the certificate: a download in progress completes, new connections get the new one', { timeout: 60000 }, async () => {
        // A download that stays in progress: the client reads nothing until the reload is done.
        const size = 24 * 1024 * 1024;
        let downloadSocket;
        const download = new Promise((resolve, reject) => {
            const req = https.request({ host: '127.0.0.1', port: sslPort, path: `/bytes?n=${size}&seed=9`, ca: first.ca, servername: 'localhost', agent: false }, (res) => {
                res.pause();
                resolve(res);
            });
            req.on('socket', (socket) => (downloadSocket = socket));
            req.on('error', reject);
            req.end();
        });
        const response = await withTimeout(download, 15000, null);
        assert.ok(response, 'the download started');
        assert.equal(downloadSocket.getPeerCertificate().serialNumber, '1001');

        // A broken pair is refused and the current one stays.
        fs.writeFileSync(first.key, 'not a key\n');
        process.kill(server.pid, 'SIGHUP');
        await server.waitForLog(/cannot reload the TLS certificate and key: --ssl-certificate-key .*: not a PEM private key/);
        assert.equal(await peerSerial(sslPort, first.ca), '1001');

        const second = await makeCertificate(dir, 'site', '2002');
        process.kill(server.pid, 'SIGHUP');
        await server.waitForLog(/Reloaded the TLS certificate and key: new connections get the certificate with serial 2002/);
        assert.equal(await peerSerial(sslPort, second.ca), '2002');
        assert.equal((await httpsRequest(sslPort, '/pid', { ca: second.ca })).status, 200);

        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        const ended = new Promise((resolve, reject) => {
            response.on('end', resolve);
            response.on('error', reject);
        });
        response.resume();
        await withTimeout(ended, 30000, 'timeout');
        const body = Buffer.concat(chunks);
        assert.equal(body.length, size);
        assert.equal(sha256(body), response.headers['x-body-sha256']);
        assert.match(server.output() + server.logText(), /Watchdog/, 'the same server throughout');
        assert.equal(server.exitInfo, null);

        // A core that crashes is restarted with the pair last loaded, not the one of the start.
        const core = descendantsOf(server.pid).find((record) => record.ppid === server.pid);
        process.kill(core.pid, 'SIGKILL');
        await server.waitForLog(new RegExp(`Core process ${core.pid} was killed by signal 9.*restarting`));
        const restarted = await waitFor(
            async () => {
                const next = descendantsOf(server.pid).find((record) => record.ppid === server.pid && record.pid !== core.pid);
                if (!next) return null;
                return peerSerial(sslPort, second.ca).catch(() => null);
            },
            { timeoutMs: 15000, what: 'a new core serving HTTPS' },
        );
        assert.equal(restarted, '2002');
    });

    await t.test('passenger-config reload-ssl: a broken pair is refused with the reason, a good one served', { timeout: 60000 }, async () => {
        const keyText = fs.readFileSync(first.key);
        const servedCa = fs.readFileSync(first.cert); // the SIGHUP test's second pair
        fs.writeFileSync(first.key, 'not a key\n');
        const refused = await runTool('passenger-config', ['reload-ssl'], { registry });
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, /^passenger-config reload-ssl: instance \S+: --ssl-certificate-key .*site\.key: not a PEM private key\b.*; the current certificate and key are kept\n$/);
        assert.equal(await peerSerial(sslPort, servedCa), '2002', 'the pair in use stays');

        fs.writeFileSync(first.key, keyText);
        const third = await makeCertificate(dir, 'site', '4004');
        const reloaded = await runTool('passenger-config', ['reload-ssl'], { registry });
        assert.equal(reloaded.code, 0, reloaded.stderr);
        assert.match(reloaded.stdout, /^Reloaded the TLS certificate and key of instance \S+: serving the certificate with serial 4004\n$/);
        assert.equal(await peerSerial(sslPort, third.ca), '4004', 'the tool returned once new handshakes get the new pair');
        assert.equal((await httpsRequest(sslPort, '/pid', { ca: third.ca })).status, 200);

        const unknown = await runTool('passenger-config', ['reload-ssl', '--instance', 'nosuch'], { registry });
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no running instance is named 'nosuch'/);
    });
});

test('--ssl alone: --port serves HTTPS only', { timeout: 90000 }, async (t) => {
    const dir = await makeTempDir(t, 'passenger-it-tls-');
    const site = await makeCertificate(dir, 'site', '3003');
    const appDir = await copyRealtimeFixture(t);
    // The readiness check speaks plain HTTP: the 400 it gets says the server is up.
    const server = await startServer(t, {
        appDir,
        readyPath: '/pid',
        args: ['--ssl', '--ssl-certificate', site.cert, '--ssl-certificate-key', site.key, '--client-header-timeout', '2',
            '--access-log', 'access.log', '--access-log-format', 'json'],
    });

    await t.test('the banner shows the https URL; plain HTTP on the port gets 400', { timeout: 20000 }, async () => {
        // The core answers (the readiness check's 400) a moment before the watchdog prints the
        // banner on hearing that the core is ready.
        await waitFor(() => server.banner().accessibleVia, { what: 'the banner' });
        assert.equal(server.banner().accessibleVia, `https://0.0.0.0:${server.port}/`);
        const answer = await plainExchange(server.port, 'GET /pid HTTP/1.1\r\nHost: localhost\r\n\r\n');
        assert.match(answer, /^HTTP\/1\.1 400 /);
    });

    await t.test('a TLS handshake that stalls is closed after --client-header-timeout', { timeout: 20000 }, async () => {
        // The first bytes of a TLS record header, then nothing.
        const outcome = await new Promise((resolve) => {
            const socket = net.connect({ host: '127.0.0.1', port: server.port }, () => socket.write(Buffer.from([0x16, 0x03, 0x01])));
            let received = 0;
            socket.on('data', (chunk) => (received += chunk.length));
            socket.on('close', () => resolve({ closed: true, received }));
            socket.on('error', () => {});
            setTimeout(() => {
                socket.destroy();
                resolve({ closed: false, received });
            }, 15000);
        });
        assert.deepEqual(outcome, { closed: true, received: 0 });
    });

    await t.test('WebSocket over wss: echo both ways, a large binary frame; logged when the detached tunnel ends', { timeout: 30000 }, async (sub) => {
        const socket = await openWebSocket(`wss://localhost:${server.port}/ws`, { ca: site.ca, lookup: (host, options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
        sub.after(() => socket.terminate());
        socket.send('hello');
        assert.equal((await socket.next()).data.toString(), 'hello');
        const large = patternBytes(3 * 1024 * 1024, 4);
        socket.send(large, { binary: true });
        const reply = await socket.next(20000);
        assert.equal(sha256(reply.data), sha256(large));
        socket.close();
        assert.equal((await withTimeout(socket.closed, 10000, { code: 'timeout' })).code, 1005);
        // The tunnel owns the TLS stream once the request's coroutines are gone (proxy/tunnel):
        // its entry comes when it ends, with every byte it sent to the client.
        const accessLog = path.join(server.appDir, 'access.log');
        const entry = await waitFor(() => (fs.existsSync(accessLog) ? fs.readFileSync(accessLog, 'utf8') : '')
            .split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.uri === '/ws'),
        { what: 'the access log entry of the wss tunnel' });
        assert.equal(entry.status, 101);
        assert.ok(entry.bytes_out > large.length, `bytes_out ${entry.bytes_out}`);
    });

    await t.test('WebSocket over h2 (RFC 8441): extended CONNECT is the app\'s HTTP/1.1 upgrade', { timeout: 30000 }, async () => {
        const session = http2.connect(`https://localhost:${server.port}`, { ca: site.ca, lookup: (host, options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
        session.on('error', () => {});
        try {
            await withTimeout(new Promise((resolve) => session.once('remoteSettings', resolve)), 10000);
            assert.equal(session.remoteSettings.enableConnectProtocol, true);
            const open = (urlPath) => {
                const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': urlPath, ':scheme': 'https', ':authority': `localhost:${server.port}`, 'sec-websocket-version': '13' });
                const response = new Promise((resolve, reject) => {
                    stream.once('response', resolve);
                    stream.once('error', reject);
                });
                return { stream, response };
            };
            const { stream, response } = open('/ws');
            const headers = await withTimeout(response, 10000, {});
            assert.equal(headers[':status'], 200);
            assert.equal(headers['sec-websocket-accept'], undefined, 'no HTTP/1.1 handshake field');
            const frames = webSocketFrames(stream);
            stream.write(maskedFrame(0x1, Buffer.from('hello')));
            const echoed = await withTimeout(frames.next(), 10000, null);
            assert.deepEqual(echoed && { opcode: echoed.opcode, text: echoed.payload.toString() }, { opcode: 0x1, text: 'hello' });
            const large = patternBytes(300 * 1024, 6);
            stream.write(maskedFrame(0x2, large));
            const reply = await withTimeout(frames.next(), 20000, null);
            assert.equal(reply && sha256(reply.payload), sha256(large));
            // The client ends its side; the app sees the end and closes; the stream ends.
            const ended = new Promise((resolve) => stream.once('close', resolve));
            stream.end();
            assert.notEqual(await withTimeout(ended, 10000, 'timeout'), 'timeout');

            const refused = open('/ws-refused');
            assert.equal((await withTimeout(refused.response, 10000, {}))[':status'], 403);
            refused.stream.resume();
        } finally {
            session.destroy();
        }
    });
});

test('--ssl-redirect: plain HTTP gets 308 to the HTTPS URL', { timeout: 60000 }, async (t) => {
    const dir = await makeTempDir(t, 'passenger-it-tls-');
    const site = await makeCertificate(dir, 'site', '4004');
    const sslPort = await freePort();
    const appDir = await copyFixture(t, 'echo');
    const server = await startServer(t, {
        appDir,
        readyPath: '/pid',
        args: ['--ssl', '--ssl-certificate', site.cert, '--ssl-certificate-key', site.key, '--ssl-port', String(sslPort), '--ssl-redirect'],
    });

    await t.test('308 with the Host, the HTTPS port and the target; HTTPS serves the app', { timeout: 20000 }, async () => {
        const response = await request(server.port, '/echo?a=1', { method: 'POST', body: 'x', headers: { Host: 'example.test:8080' } });
        assert.equal(response.status, 308);
        assert.equal(response.headers.location, `https://example.test:${sslPort}/echo?a=1`);
        const served = await httpsRequest(sslPort, '/echo?a=1', { ca: site.ca });
        assert.equal(served.status, 200);
        assert.equal(JSON.parse(served.body).headers['x-forwarded-proto'], 'https');
    });
});

test('--ssl --user nobody: the watchdog reads a root-only key; the core and the app run as nobody', { timeout: 60000 }, async (t) => {
    if (process.getuid() !== 0) {
        t.skip('needs root: switching users');
        return;
    }
    const dir = await makeTempDir(t, 'passenger-it-tls-'); // root's alone (0700)
    const site = await makeCertificate(dir, 'site', '7007');
    fs.chmodSync(site.key, 0o600);
    const appDir = await copyFixture(t, 'echo');
    fs.chmodSync(appDir, 0o755); // the user must read the app
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--ssl', '--ssl-certificate', site.cert, '--ssl-certificate-key', site.key, '--user', 'nobody'] });
    const response = await httpsRequest(server.port, '/env', { ca: site.ca });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body).env.USER, 'nobody');
    assert.equal(response.serial, '7007');
    const uidOf = (pid) => Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    for (const { pid } of descendantsOf(server.pid)) assert.notEqual(uidOf(pid), 0, `process ${pid} is not root`);
});

test('bad TLS options: one line naming the option (and file), exit 1, before binding', { timeout: 120000 }, async (t) => {
    const dir = await makeTempDir(t, 'passenger-it-tls-');
    const good = await makeCertificate(dir, 'good', '5005');
    const other = await makeCertificate(dir, 'other', '6006');
    fs.writeFileSync(path.join(dir, 'garbage.pem'), 'this is not PEM\n');
    const appDir = await copyFixture(t, 'echo');

    const cases = [
        ['a missing certificate', () => ['--ssl', '--ssl-certificate', path.join(dir, 'missing.crt'), '--ssl-certificate-key', good.key], () => new RegExp(`^passenger start: --ssl-certificate ${path.join(dir, 'missing.crt')}: No such file or directory$`)],
        ['a certificate that is not PEM', () => ['--ssl', '--ssl-certificate', path.join(dir, 'garbage.pem'), '--ssl-certificate-key', good.key], () => new RegExp(`^passenger start: --ssl-certificate ${path.join(dir, 'garbage.pem')}: not a PEM certificate`)],
        ['a key that is not PEM', () => ['--ssl', '--ssl-certificate', good.cert, '--ssl-certificate-key', path.join(dir, 'garbage.pem')], () => new RegExp(`^passenger start: --ssl-certificate-key ${path.join(dir, 'garbage.pem')}: not a PEM private key`)],
        ['a key of another certificate', () => ['--ssl', '--ssl-certificate', good.cert, '--ssl-certificate-key', other.key], () => new RegExp(`^passenger start: --ssl-certificate-key ${other.key}: does not match the certificate in ${good.cert}$`)],
        ['--ssl without a key', () => ['--ssl', '--ssl-certificate', good.cert], () => /^passenger start: --ssl: needs --ssl-certificate-key$/],
        ['--ssl-redirect without --ssl-port', () => ['--ssl', '--ssl-certificate', good.cert, '--ssl-certificate-key', good.key, '--ssl-redirect'], () => /^passenger start: --ssl-redirect: needs --ssl-port/],
        ['--ssl-protocols TLSv1.1', () => ['--ssl', '--ssl-certificate', good.cert, '--ssl-certificate-key', good.key, '--ssl-protocols', 'TLSv1.1'], () => /^passenger start: --ssl-protocols: TLSv1\.1 is not supported/],
    ];
    for (const [what, args, expected] of cases) {
        await t.test(what, { timeout: 20000 }, async () => {
            const port = await freePort();
            const result = await runPassenger(['start', '--port', String(port), ...args()], { cwd: appDir, timeoutMs: 15000 });
            assert.equal(result.code, 1, result.stdout + result.stderr);
            const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
            assert.equal(lines.length, 1, result.stderr);
            assert.match(lines[0], expected());
            assert.doesNotMatch(result.stdout, /PID file:/);
        });
    }

    await t.test('PASSENGER_SSL_* variables set the same options (a missing key file named)', { timeout: 20000 }, async () => {
        const port = await freePort();
        const missingKey = path.join(dir, 'missing.key');
        const result = await runPassenger(['start', '--port', String(port)], {
            cwd: appDir,
            timeoutMs: 15000,
            env: serverEnv({ PASSENGER_SSL: 'true', PASSENGER_SSL_CERTIFICATE: good.cert, PASSENGER_SSL_CERTIFICATE_KEY: missingKey }),
        });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stderr.trim(), `passenger start: --ssl-certificate-key ${missingKey}: No such file or directory`);
    });
});
