// --sticky-sessions: the route cookie names a process by an opaque id; requests carrying it go to
// that process, waiting for it while it is busy (within the queue limit); a cookie naming a
// process that is gone is replaced.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { poolGroup, waitForQueued, waitForRequests } from './lib/admin.mjs';
import { request } from './lib/http.mjs';
import { settledYet, waitForReadyProcesses } from './lib/pool.mjs';
import { waitFor } from './lib/proc.mjs';
import { copyRealtimeFixture } from './lib/realtime.mjs';
import { startServer } from './lib/server.mjs';

// Two processes that take one request at a time, so "busy" is observable.
async function startSticky(t, extraArgs = []) {
    const appDir = await copyRealtimeFixture(t);
    const args = ['--min-instances', '2', '--max-pool-size', '2', '--force-max-concurrent-requests-per-process', '1', '--sticky-sessions', ...extraArgs];
    const server = await startServer(t, { appDir, readyPath: '/pid', args });
    const pids = await waitForReadyProcesses(server, 2, { timeoutMs: 30000 });
    return { server, pids };
}

// Holds a process busy: a long poll the app never answers (/stream?quiet=1), in the app once
// the admin API says so; `abandon()` closes it, which frees the process.
async function holdProcess(server, headers) {
    const path = `/stream?quiet=1&hold=${Math.random().toString(16).slice(2)}`;
    const req = http.get({ host: '127.0.0.1', port: server.port, path, headers, agent: false });
    req.on('error', () => {}); // abandoned on purpose
    await waitForRequests(server, path, 1, { state: 'in app' });
    return { abandon: () => req.destroy() };
}

const routeOf = (response, name = '_passenger_route') => {
    const line = [].concat(response.headers['set-cookie'] ?? []).find((text) => text.startsWith(`${name}=`));
    return line ? line.slice(name.length + 1).split(';')[0] : null;
};

test('the route cookie pins a browser to its process, which it waits for while busy', { timeout: 60000 }, async (t) => {
    const { server, pids } = await startSticky(t);
    const first = await request(server.port, '/pid');
    const route = routeOf(first);
    assert.match(route ?? '', /^[0-9a-f]{16}$/, `Set-Cookie: ${first.headers['set-cookie']}`);
    const pinned = first.json().pid;
    const cookie = { Cookie: `other=1; _passenger_route=${route}` };

    for (let i = 0; i < 10; i++) {
        const again = await request(server.port, '/pid', { headers: cookie });
        assert.equal(again.json().pid, pinned);
        assert.equal(again.headers['set-cookie'], undefined, 'a valid cookie is not set again');
    }

    // Keep the pinned process busy: a pinned request waits for it (in the queue), an unpinned
    // one is served by the other process meanwhile.
    const busy = await holdProcess(server, cookie);
    const waited = request(server.port, '/pid?pinned=1', { headers: cookie, timeoutMs: 30000 });
    const other = await request(server.port, '/pid?unpinned=1');
    assert.notEqual(other.json().pid, pinned);
    assert.ok(pids.includes(other.json().pid));
    await waitForQueued(server, '/pid?pinned=1', 1);
    assert.equal((await settledYet(waited)).settled, false, 'the pinned request waits while its process is busy');
    busy.abandon();
    assert.equal((await waited).json().pid, pinned, 'the pinned request went to its process once it was free');

    // Eight kept-alive connections at once, spread over the core's event loops (one per CPU:
    // 2 here and in CI; TEST_CORE_THREADS in the TSan run), half of the requests pinned: sessions
    // are taken and given back on every loop, and through the queue when both processes are
    // busy (issue 17). None is lost, pinned ones stay on their process, both processes serve,
    // and the pool ends with no session held and nothing queued.
    const settled = async () => {
        const group = await poolGroup(server);
        return group.queue_length === 0 && group.processes.every((process) => process.sessions === 0) && group;
    };
    const processedBefore = (await waitFor(settled, { what: 'no session held' })).processes.reduce((sum, process) => sum + process.processed, 0);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    t.after(() => agent.destroy());
    const getPid = (path, headers) =>
        new Promise((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port: server.port, path, headers, agent }, (response) => {
                let body = '';
                response.on('data', (chunk) => (body += chunk));
                response.on('end', () => resolve({ status: response.statusCode, body }));
            });
            req.on('error', reject);
            req.setTimeout(20000, () => req.destroy(new Error(`${path}: no answer within 20 s`)));
        });
    const count = 200;
    const answers = await Promise.all(Array.from({ length: count }, (_, i) => getPid(`/pid?many=${i}`, i % 2 ? cookie : {})));
    const served = new Set();
    answers.forEach((answer, i) => {
        assert.equal(answer.status, 200, `request ${i}: ${answer.body.slice(0, 300)}`);
        const { pid } = JSON.parse(answer.body);
        if (i % 2) assert.equal(pid, pinned, `pinned request ${i} went to another process`);
        assert.ok(pids.includes(pid), `request ${i} went to ${pid}, not one of ${pids}`);
        served.add(pid);
    });
    assert.equal(served.size, 2, 'both processes served');
    const after = await waitFor(settled, { what: 'every session given back and the queue empty' });
    assert.equal(after.processes.reduce((sum, process) => sum + process.processed, 0) - processedBefore, count, 'each request ended its session once');
});

test('a cookie naming no live process is replaced', { timeout: 60000 }, async (t) => {
    const { server } = await startSticky(t);
    const stale = await request(server.port, '/pid', { headers: { Cookie: '_passenger_route=0123456789abcdef' } });
    assert.equal(stale.status, 200);
    const route = routeOf(stale);
    assert.match(route ?? '', /^[0-9a-f]{16}$/);
    assert.notEqual(route, '0123456789abcdef');

    // The pinned process dies: the next request goes to another one, with a new cookie.
    const pinned = stale.json().pid;
    process.kill(pinned, 'SIGKILL');
    const after = await waitFor(
        async () => {
            const response = await request(server.port, '/pid', { headers: { Cookie: `_passenger_route=${route}` } });
            return response.status === 200 && response;
        },
        { timeoutMs: 15000, what: 'a request after the pinned process died' },
    );
    assert.notEqual(after.json().pid, pinned);
    const replaced = routeOf(after);
    assert.match(replaced ?? '', /^[0-9a-f]{16}$/);
    assert.notEqual(replaced, route);
});

test('pinned requests queue within --max-request-queue-size', { timeout: 60000 }, async (t) => {
    const { server } = await startSticky(t, ['--max-request-queue-size', '1']);
    const first = await request(server.port, '/pid');
    const cookie = { Cookie: `_passenger_route=${routeOf(first)}` };
    const busy = await holdProcess(server, cookie);
    const queued = request(server.port, '/pid?q=1', { headers: cookie, timeoutMs: 30000 });
    await waitForQueued(server, '/pid?q=1', 1);
    const rejected = await request(server.port, '/pid?q=2', { headers: cookie });
    assert.equal(rejected.status, 503, 'the queue is full');
    busy.abandon();
    assert.equal((await queued).json().pid, first.json().pid);
});

test('cookie name and attributes are configurable', { timeout: 60000 }, async (t) => {
    const { server } = await startSticky(t, ['--sticky-sessions-cookie-name', 'route', '--sticky-sessions-cookie-attributes', 'SameSite=Strict; Path=/; HttpOnly']);
    const response = await request(server.port, '/pid');
    const lines = [].concat(response.headers['set-cookie'] ?? []);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^route=[0-9a-f]{16}; SameSite=Strict; Path=\/; HttpOnly$/);
});
