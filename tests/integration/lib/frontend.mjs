// Helpers for the front end tests (frontend-*.test.mjs): how many requests the app has seen,
// one raw request that must be refused, the core's memory.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import { RawConnection, request } from './http.mjs';
import { cmdline, descendantsOf } from './proc.mjs';

// Requests the `frontend` fixture has seen (its /count route does not count itself).
export async function appRequests(server) {
    return (await request(server.port, '/count')).json().requests;
}

// Sends `text` on a new connection and expects the server to answer `status` and then close the
// connection, without the app seeing anything. Returns the response.
export async function expectRefused(server, text, status, what = JSON.stringify(text.slice(0, 60))) {
    const before = await appRequests(server);
    const connection = await RawConnection.connect(server.port);
    let response;
    try {
        connection.write(text);
        response = await connection.readResponse({ method: 'GET' });
        assert.equal(response.status, status, `${what}: ${response.statusLine}`);
        assert.match(response.headers['content-type'] ?? '', /text\/html/, `${what}: an HTML error page`);
        assert.equal(response.headers.connection, 'close', `${what}: Connection: close`);
        assert.equal(await connection.waitClosed(10000), true, `${what}: the connection is closed`);
    } finally {
        connection.close();
    }
    assert.equal(await appRequests(server), before, `${what}: the app never saw it`);
    return response;
}

// The core: the child of the `passenger start` process whose command line says core.
export function corePid(server) {
    const core = descendantsOf(server.pid).find(
        (record) => record.ppid === server.pid && cmdline(record.pid).join(' ').includes('core'),
    );
    assert.ok(core, 'a core process runs below the server');
    return core.pid;
}

// Resident memory of a process in KiB (VmRSS), or null once it is gone.
export function rssKb(pid) {
    try {
        const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        return match ? Number(match[1]) : null;
    } catch {
        return null;
    }
}

// Samples a process's RSS every `intervalMs` until stop() is called; stop() returns the peak.
export function sampleRss(pid, intervalMs = 50) {
    let peak = rssKb(pid) ?? 0;
    const timer = setInterval(() => {
        peak = Math.max(peak, rssKb(pid) ?? 0);
    }, intervalMs);
    return {
        stop() {
            clearInterval(timer);
            return Math.max(peak, rssKb(pid) ?? 0);
        },
    };
}

// GETs `path` and holds the response unread (the client reads nothing once the head arrived)
// until resume() is called; resume() resolves {status, length, sha256, complete} once the
// response ends or the connection closes. The body is hashed as it streams, never kept.
export function pausedDownload(server, path) {
    return new Promise((resolveHead, rejectHead) => {
        const req = http.get({ port: server.port, host: '127.0.0.1', path, agent: false }, (res) => {
            res.pause();
            const hash = crypto.createHash('sha256');
            let length = 0;
            res.on('data', (chunk) => {
                hash.update(chunk);
                length += chunk.length;
            });
            const done = new Promise((resolve) => {
                res.on('error', () => {});
                res.on('close', () => resolve({ status: res.statusCode, length, sha256: hash.digest('hex'), complete: res.complete }));
            });
            resolveHead({
                status: res.statusCode,
                headers: res.headers,
                resume() {
                    res.resume();
                    return done;
                },
                destroy: () => req.destroy(),
            });
        });
        req.on('error', rejectHead);
    });
}
