// HTTP clients for the tests.
//
// - request(): Node's http client on a fresh connection (agent: false), body collected as a
//   Buffer. For ordinary requests where the client may normalize things.
// - RawConnection: a plain TCP socket where the exact bytes matter (paths like /../x that
//   clients would normalize, keep-alive on one socket, HTTP/1.0, HEAD framing). It parses
//   responses itself: Content-Length, chunked, or read-until-close bodies.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

export const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// Deterministic pseudo-random bytes (so both sides of a transfer can be checked by hash).
export function patternBytes(length, seed = 1) {
    const out = Buffer.allocUnsafe(length);
    let x = (seed * 2654435761) >>> 0 || 1;
    for (let i = 0; i < length; i++) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        out[i] = x & 0xff;
    }
    return out;
}

// One request on its own connection. `body` is a Buffer/string (sent with Content-Length) or an
// array of chunks (sent chunked, `chunkDelayMs` apart). Resolves {status, headers, rawHeaders,
// body, text, json(), timings}.
export function request(port, path, options = {}) {
    const {
        method = 'GET',
        headers = {},
        body,
        chunkDelayMs = 0,
        timeoutMs = 15000,
        host = '127.0.0.1',
    } = options;
    return new Promise((resolve, reject) => {
        const startedAt = Date.now();
        // Node's client sends a DELETE/OPTIONS body without any framing unless told its length.
        const framed = body === undefined || Array.isArray(body) || Object.keys(headers).some((name) => /^content-length$/i.test(name))
            ? headers
            : { ...headers, 'Content-Length': Buffer.byteLength(body) };
        const req = http.request({ host, port, path, method, headers: framed, agent: false });
        const timer = setTimeout(() => {
            req.destroy(new Error(`${method} ${path}: no complete response within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('error', (error) => {
            clearTimeout(timer);
            reject(error);
        });
        req.on('response', (res) => {
            const chunks = [];
            const timings = { headers: Date.now() - startedAt, firstChunk: undefined, chunkTimes: [] };
            res.on('data', (chunk) => {
                const now = Date.now() - startedAt;
                if (timings.firstChunk === undefined) timings.firstChunk = now;
                timings.chunkTimes.push([now, chunk.length]);
                chunks.push(chunk);
            });
            res.on('error', (error) => {
                clearTimeout(timer);
                reject(error);
            });
            res.on('end', () => {
                clearTimeout(timer);
                timings.end = Date.now() - startedAt;
                const data = Buffer.concat(chunks);
                resolve({
                    status: res.statusCode,
                    headers: res.headers,
                    rawHeaders: res.rawHeaders,
                    httpVersion: res.httpVersion,
                    body: data,
                    text: data.toString('utf8'),
                    // A failed request's error page in the message, not just "not valid JSON".
                    json: () => {
                        try {
                            return JSON.parse(data.toString('utf8'));
                        } catch (error) {
                            const page = data.toString('utf8').slice(0, 400);
                            throw new Error(`${error.message}: HTTP ${res.statusCode}: ${page}`);
                        }
                    },
                    timings,
                });
            });
        });
        if (Array.isArray(body)) {
            (async () => {
                for (const chunk of body) {
                    req.write(chunk);
                    if (chunkDelayMs > 0) await new Promise((r) => setTimeout(r, chunkDelayMs));
                }
                req.end();
            })();
        } else {
            req.end(body);
        }
    });
}

function parseHead(text) {
    const lines = text.split('\r\n');
    const statusLine = lines.shift();
    const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!match) throw new Error(`malformed status line: ${JSON.stringify(statusLine)}`);
    const headers = {};
    const headerList = [];
    for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`);
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headerList.push([name, value]);
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { version: match[1], status: Number(match[2]), reason: match[3] ?? '', statusLine, headers, headerList };
}

export class RawConnection {
    static connect(port, { host = '127.0.0.1', timeoutMs = 5000 } = {}) {
        return new Promise((resolve, reject) => {
            const socket = net.connect({ port, host });
            const timer = setTimeout(() => {
                socket.destroy();
                reject(new Error(`connect to ${host}:${port} timed out`));
            }, timeoutMs);
            socket.once('error', (error) => {
                clearTimeout(timer);
                reject(error);
            });
            socket.once('connect', () => {
                clearTimeout(timer);
                resolve(new RawConnection(socket));
            });
        });
    }

    constructor(socket) {
        this.socket = socket;
        this.buffer = Buffer.alloc(0);
        this.ended = false; // the peer closed (or reset) its side
        this.error = null;
        this.waiters = [];
        socket.on('data', (chunk) => {
            this.buffer = Buffer.concat([this.buffer, chunk]);
            this.wake();
        });
        socket.on('end', () => {
            this.ended = true;
            this.wake();
        });
        socket.on('close', () => {
            this.ended = true;
            this.wake();
        });
        socket.on('error', (error) => {
            this.error = error;
            this.ended = true;
            this.wake();
        });
    }

    wake() {
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
    }

    write(data) {
        this.socket.write(data);
    }

    close() {
        this.socket.destroy();
    }

    // Waits for more data or the end of the stream; throws at `deadline`.
    async more(deadline, what) {
        if (this.ended) throw new Error(`connection closed while waiting for ${what}`);
        await new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                reject(new Error(`timed out waiting for ${what}; received so far: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`));
            }, Math.max(0, deadline - Date.now()));
            this.waiters.push(() => {
                clearTimeout(timer);
                resolve();
            });
        });
    }

    take(length) {
        const out = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        return out;
    }

    // Reads one response. `method` decides framing for HEAD. Interim 1xx responses are skipped,
    // unless `interim` is set: then a 1xx is returned (without a body) like any response.
    async readResponse({ method = 'GET', timeoutMs = 10000, interim = false } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            let end;
            while ((end = this.buffer.indexOf('\r\n\r\n')) < 0) await this.more(deadline, 'a response head');
            const rawHead = this.take(end + 4).toString('latin1');
            const response = parseHead(rawHead.slice(0, -4));
            response.rawHead = rawHead;
            if (response.status >= 100 && response.status < 200 && response.status !== 101 && !interim) continue;
            response.body = await this.readBody(response, method, deadline);
            response.text = response.body.toString('utf8');
            return response;
        }
    }

    async readBody(response, method, deadline) {
        const { status, headers } = response;
        if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
            return Buffer.alloc(0);
        }
        if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
            response.chunked = true;
            const parts = [];
            for (;;) {
                let lineEnd;
                while ((lineEnd = this.buffer.indexOf('\r\n')) < 0) await this.more(deadline, 'a chunk size');
                const size = parseInt(this.take(lineEnd + 2).toString('latin1'), 16);
                if (Number.isNaN(size)) throw new Error('malformed chunk size line');
                if (size === 0) {
                    // Trailers (if any), then the empty line.
                    for (;;) {
                        while ((lineEnd = this.buffer.indexOf('\r\n')) < 0) await this.more(deadline, 'the chunked trailer');
                        const line = this.take(lineEnd + 2);
                        if (line.length === 2) return Buffer.concat(parts);
                    }
                }
                while (this.buffer.length < size + 2) await this.more(deadline, 'chunk data');
                parts.push(Buffer.from(this.take(size)));
                if (this.take(2).toString('latin1') !== '\r\n') throw new Error('chunk not followed by CRLF');
            }
        }
        if (headers['content-length'] !== undefined) {
            const length = Number(headers['content-length']);
            while (this.buffer.length < length) await this.more(deadline, `${length} body bytes`);
            return Buffer.from(this.take(length));
        }
        // No framing: the body runs until the server closes the connection.
        response.closeDelimited = true;
        if (!(await this.waitClosed(deadline - Date.now()))) {
            throw new Error('timed out waiting for the end of a close-delimited body');
        }
        return Buffer.from(this.take(this.buffer.length));
    }

    // Resolves true when the peer closes the connection within `timeoutMs`, false otherwise.
    async waitClosed(timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        while (!this.ended) {
            try {
                await this.more(deadline, 'the connection to close');
            } catch {
                return this.ended;
            }
        }
        return true;
    }
}

// Sends `text` on a new connection and reads one response (then closes the socket).
export async function rawRequest(port, text, { method, timeoutMs = 10000 } = {}) {
    const connection = await RawConnection.connect(port);
    try {
        connection.write(text);
        return await connection.readResponse({ method: method ?? text.split(' ', 1)[0], timeoutMs });
    } finally {
        connection.close();
    }
}

// Resolves when a TCP connection to the port is refused (nothing listens any more).
export function connectionRefused(port, host = '127.0.0.1') {
    return new Promise((resolve) => {
        const socket = net.connect({ port, host });
        socket.once('connect', () => {
            socket.destroy();
            resolve(false);
        });
        socket.once('error', (error) => resolve(error.code === 'ECONNREFUSED'));
    });
}
