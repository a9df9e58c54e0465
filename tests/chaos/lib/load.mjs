// Steady load for the chaos tests: many keep-alive clients (one http.Agent with keepAlive, one
// socket per client), each sending one request after another. Every request has an id
// ("c<client>-<n>") in its URL, and every outcome is recorded under that id, so a test can say
// exactly which requests failed and how, and compare that with what was in flight where.
//
// Outcomes:
//   ok            200, X-Id is the request's, the body has the advertised length and SHA-256
//   http-error    a complete 5xx (or 4xx) answer: a failure the client is told about
//   wrong         a 200 whose body or id is not the right one: a silent loss, never allowed
//   aborted       the head came, then the connection ended before the body was complete
//   conn-error    no response at all (reset, refused, closed before the head)
//   timeout       no complete response within the request timeout
import crypto from 'node:crypto';
import http from 'node:http';

import { sleep } from '../../integration/lib/proc.mjs';

// What the chaos fixture sends for `id` (fixtures/chaos-app/app.js, bodyFor).
export function bodyFor(id, size) {
    const block = crypto.createHash('sha256').update(String(id)).digest();
    return Buffer.alloc(size, block);
}

export const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

// A request failed on a reused keep-alive connection before any byte of a response arrived.
const staleSocketError = (error, reused) => reused && /ECONNRESET|EPIPE|socket hang up/.test(error.message);

export class Load {
    // port: the server's; clients: how many loops; path(id): the URL for a request;
    // options.method/body(id): for uploads; options.timeoutMs per request;
    // options.readGate(id): a promise the client awaits (reading nothing) once the head came,
    //   to make it a slow reader; options.retryStaleFrom(): a sequence number (see mark()) from
    //   which on a request that failed on a reused connection before any response byte is
    //   retried once on a fresh one, as HTTP clients do for idempotent requests (RFC 9112,
    //   9.3.1); null: never.
    constructor(port, { clients = 16, path, method = 'GET', body = null, timeoutMs = 30000, readGate = null, retryStaleFrom = () => null } = {}) {
        Object.assign(this, { port, clients, path, method, body, timeoutMs, readGate, retryStaleFrom });
        this.sequence = 0; // requests started so far
        this.agent = new http.Agent({ keepAlive: true, maxSockets: clients });
        this.results = []; // in completion order
        this.inFlight = new Map(); // id -> {id, startedAt}
        this.retried = [];
        this.stopped = false;
        this.loops = null;
    }

    start() {
        this.loops = Promise.all(Array.from({ length: this.clients }, (_, client) => this.loop(client)));
        return this;
    }

    async loop(client) {
        for (let n = 0; !this.stopped; n++) {
            const id = `c${client}-${n}`;
            const startedAt = Date.now();
            const sequence = this.sequence++;
            this.inFlight.set(id, { id, startedAt });
            let result = await this.send(id, true);
            const retryFrom = this.retryStaleFrom();
            if (result.stale && retryFrom !== null && sequence >= retryFrom) {
                this.retried.push(id);
                result = await this.send(id, false);
            }
            this.inFlight.delete(id);
            this.results.push({ ...result, id, client, startedAt, endedAt: Date.now() });
            // A client that gets no answer at all does not spin.
            if (result.outcome === 'conn-error') await sleep(20);
        }
    }

    // One request; resolves {outcome, status, pid, detail, stale}.
    send(id, keepAlive) {
        return new Promise((resolve) => {
            let settled = false;
            const done = (outcome, fields = {}) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                resolve({ outcome, status: null, pid: null, detail: '', stale: false, ...fields });
            };
            const payload = this.body ? this.body(id) : null;
            const headers = payload ? { 'Content-Length': payload.length } : {};
            const req = http.request({
                host: '127.0.0.1',
                port: this.port,
                path: this.path(id),
                method: this.method,
                headers,
                agent: keepAlive ? this.agent : false,
            });
            const timer = setTimeout(() => {
                done('timeout', { detail: `no complete response within ${this.timeoutMs} ms` });
                req.destroy();
            }, this.timeoutMs);
            req.on('error', (error) => done('conn-error', { detail: error.message, stale: staleSocketError(error, req.reusedSocket) }));
            req.on('response', async (res) => {
                const status = res.statusCode;
                const pid = Number(res.headers['x-pid']) || null;
                res.on('error', () => {});
                res.on('close', () => done('aborted', { status, pid, detail: 'connection closed mid-body' }));
                if (this.readGate) {
                    res.pause();
                    await this.readGate(id);
                    res.resume();
                }
                const chunks = [];
                res.on('data', (chunk) => chunks.push(chunk));
                res.on('end', () => {
                    const data = Buffer.concat(chunks);
                    const length = Number(res.headers['content-length']);
                    if (!res.complete || (Number.isFinite(length) && data.length !== length)) {
                        return done('aborted', { status, pid, detail: `${data.length} of ${length} bytes` });
                    }
                    if (status !== 200) return done('http-error', { status, pid, detail: data.toString('utf8').slice(0, 200) });
                    if (res.headers['x-id'] !== id) return done('wrong', { status, pid, detail: `X-Id ${res.headers['x-id']}` });
                    if (sha256(data) !== res.headers['x-sha256']) return done('wrong', { status, pid, detail: `${data.length} bytes, SHA-256 mismatch` });
                    done('ok', { status, pid, body: data.length < 4096 ? data : null });
                });
            });
            if (payload) req.end(payload);
            else req.end();
        });
    }

    // The sequence number the next request will get: everything started from now on.
    mark() {
        return this.sequence;
    }

    // Requests sent but not answered yet (ids).
    inFlightIds() {
        return new Set(this.inFlight.keys());
    }

    ok() {
        return this.results.filter((result) => result.outcome === 'ok');
    }

    failures() {
        return this.results.filter((result) => result.outcome !== 'ok');
    }

    // Resolves once `count` more requests than now have succeeded (or throws after timeoutMs).
    async moreSuccesses(count, { timeoutMs = 20000 } = {}) {
        const target = this.ok().length + count;
        const deadline = Date.now() + timeoutMs;
        while (this.ok().length < target) {
            if (Date.now() > deadline) {
                throw new Error(`${count} more successful requests within ${timeoutMs} ms: got ${this.ok().length - target + count}; last failures: ${JSON.stringify(this.failures().slice(-5))}`);
            }
            await sleep(20);
        }
    }

    async stop() {
        this.stopped = true;
        await this.loops;
        this.agent.destroy();
        return this.results;
    }

    // One line for diagnostics: counts by outcome.
    summary() {
        const counts = {};
        for (const result of this.results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
        return `${this.results.length} requests: ${JSON.stringify(counts)}, retried ${this.retried.length}`;
    }
}

// Formats failures for an assertion message.
export const describe = (results) => results.map((r) => `${r.id}: ${r.outcome} ${r.status ?? ''} ${r.detail}`.trim()).join('\n');
