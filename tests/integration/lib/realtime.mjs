// Helpers for the realtime tests (realtime-*.test.mjs): the realtime fixture with its npm
// dependencies, a cookie jar for sockjs-client under Node, SockJS echo sessions, WebSocket
// clients (ws) and Debian's Chromium through playwright-core.
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

import { withTimeout } from './proc.mjs';
import { copyFixture } from './server.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
export const nodeModules = path.resolve(here, '..', 'node_modules');
export const chromiumPath = '/usr/bin/chromium';

// Links tests/integration/node_modules into an app folder, so a fixture can require('sockjs').
export function linkNodeModules(appDir, target = nodeModules) {
    fs.symlinkSync(target, path.join(appDir, 'node_modules'), 'dir');
}

export async function copyRealtimeFixture(t) {
    const appDir = await copyFixture(t, 'realtime');
    linkNodeModules(appDir);
    return appDir;
}

// --- cookies for sockjs-client --------------------------------------------------------------

// What a browser does with Set-Cookie, minus expiry and paths: enough for a sticky session.
export class CookieJar {
    constructor() {
        this.cookies = new Map();
        this.received = []; // every Set-Cookie header line, in order
    }

    store(setCookie) {
        for (const line of [].concat(setCookie ?? [])) {
            this.received.push(line);
            const pair = line.split(';')[0];
            const equals = pair.indexOf('=');
            if (equals > 0) this.cookies.set(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim());
        }
    }

    header() {
        return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }
}

// sockjs-client under Node makes its HTTP requests with http.request and keeps no cookies. The
// jar registered for a port gives them one, as a browser would (its WebSocket transport gets the
// Cookie header through transportOptions instead).
const jarsByPort = new Map();
let httpPatched = false;
function useCookieJar(port, jar) {
    if (!httpPatched) {
        httpPatched = true;
        const original = http.request;
        http.request = function (options, callback) {
            const jar = options && typeof options === 'object' && !(options instanceof URL) ? jarsByPort.get(String(options.port)) : undefined;
            if (!jar || options.agent === false) return original.apply(this, arguments);
            const cookie = jar.header();
            const headers = { ...(options.headers ?? {}), ...(cookie ? { Cookie: cookie } : {}) };
            return original.call(this, { ...options, headers }, (res) => {
                jar.store(res.headers['set-cookie']);
                if (callback) callback(res);
            });
        };
    }
    jarsByPort.set(String(port), jar);
    return () => {
        if (jarsByPort.get(String(port)) === jar) jarsByPort.delete(String(port));
    };
}

// --- SockJS echo sessions -----------------------------------------------------------------

// Opens a SockJS session to the fixture's /echo on one transport and makes `count` round trips,
// one at a time. Never throws for what the server does: resolves what happened,
//   {opened, transport, replies: [{pid, data}], failures: [text], closed: {code, reason} | null,
//    cookies: CookieJar}
// `useCookies` false: no cookie jar (a client that ignores cookies); `cookies`: what the jar
// holds at first ({name: value}, e.g. a load balancer's stickiness cookie).
export async function sockjsEchoSession(port, transport, count, { useCookies = true, replyTimeoutMs = 5000, openTimeoutMs = 10000, cookies = {} } = {}) {
    const SockJS = require('sockjs-client');
    const jar = new CookieJar();
    for (const [name, value] of Object.entries(cookies)) jar.cookies.set(name, value);
    const release = useCookies ? useCookieJar(port, jar) : () => {};
    const result = { opened: false, transport: null, replies: [], failures: [], closed: null, cookies: jar };
    let sock;
    try {
        const websocketOptions = {
            get headers() {
                const cookie = useCookies ? jar.header() : '';
                return cookie ? { Cookie: cookie } : {};
            },
        };
        sock = new SockJS(`http://127.0.0.1:${port}/echo`, null, {
            transports: [transport],
            transportOptions: { websocket: websocketOptions },
            timeout: openTimeoutMs,
        });
        const inbox = [];
        let wake = null;
        const notify = () => {
            if (wake) wake();
        };
        sock.onmessage = (event) => {
            inbox.push(event.data);
            notify();
        };
        sock.onclose = (event) => {
            result.closed = { code: event.code, reason: event.reason };
            notify();
        };
        const waitForEvent = (ms) =>
            withTimeout(
                new Promise((resolve) => {
                    wake = resolve;
                }),
                ms,
                'timeout',
            ).finally(() => (wake = null));

        const opened = await withTimeout(
            new Promise((resolve) => {
                sock.onopen = () => resolve(true);
                const onclose = sock.onclose;
                sock.onclose = (event) => {
                    onclose(event);
                    resolve(false);
                };
            }),
            openTimeoutMs + 2000,
            false,
        );
        result.opened = opened;
        result.transport = sock.transport;
        if (!opened) {
            result.failures.push(`not opened (${JSON.stringify(result.closed)})`);
            return result;
        }
        for (let i = 0; i < count; i++) {
            const data = `message ${i} over ${transport}`;
            try {
                sock.send(data);
            } catch (error) {
                result.failures.push(`send ${i}: ${error.message}`);
                break;
            }
            const deadline = Date.now() + replyTimeoutMs;
            while (inbox.length === 0 && !result.closed && Date.now() < deadline) await waitForEvent(deadline - Date.now());
            if (inbox.length === 0) {
                result.failures.push(result.closed ? `closed before reply ${i}: ${JSON.stringify(result.closed)}` : `no reply to message ${i} within ${replyTimeoutMs} ms`);
                break;
            }
            const reply = JSON.parse(inbox.shift());
            if (reply.data !== data) result.failures.push(`reply ${i} was for ${JSON.stringify(reply.data)}`);
            result.replies.push(reply);
        }
        return result;
    } finally {
        if (sock && sock.readyState <= 1) sock.close();
        release();
    }
}

// --- WebSockets with ws ---------------------------------------------------------------------

// Opens a WebSocket; resolves the open socket with `messages` (a queue) and next(ms), or rejects
// with the handshake's failure (error.status set for a non-101 answer).
export function openWebSocket(url, options = {}) {
    return new Promise((resolve, reject) => {
        const socket = new WebSocket(url, { handshakeTimeout: 10000, maxPayload: 64 * 1024 * 1024, ...options });
        const queue = [];
        const waiters = [];
        socket.on('message', (data, isBinary) => {
            const message = { data, isBinary };
            const waiter = waiters.shift();
            if (waiter) waiter(message);
            else queue.push(message);
        });
        socket.next = (ms = 10000) =>
            new Promise((resolveNext, rejectNext) => {
                if (queue.length > 0) return resolveNext(queue.shift());
                const timer = setTimeout(() => rejectNext(new Error(`no WebSocket message within ${ms} ms`)), ms);
                waiters.push((message) => {
                    clearTimeout(timer);
                    resolveNext(message);
                });
            });
        socket.closed = new Promise((resolveClosed) => socket.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() })));
        socket.once('open', () => resolve(socket));
        socket.once('unexpected-response', (req, res) => {
            const error = new Error(`WebSocket handshake answered ${res.statusCode}`);
            error.status = res.statusCode;
            error.headers = res.headers;
            res.resume();
            req.destroy();
            reject(error);
        });
        socket.once('error', reject);
    });
}
