// --sticky-sessions: the route cookie names a process by an opaque id; requests carrying it go to
// that process, waiting for it while it is busy (within the queue limit); a cookie naming a
// process that is gone is replaced.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { request } from './lib/http.mjs';
import { waitForReadyProcesses } from './lib/pool.mjs';
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

// A slow request: resolves `started` once the response head arrived (the process is busy with
// it), `done` with the status once it ended.
function slowRequest(port, path, headers) {
    let started;
    const startedPromise = new Promise((resolve) => (started = resolve));
    const done = new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
            started();
            res.resume();
            res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.setTimeout(15000, () => req.destroy(new Error(`${path}: no answer`)));
    });
    return { started: startedPromise, done };
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

    // Keep the pinned process busy for ~1.5 s; a pinned request waits for it, an unpinned one
    // is served by the other process at once.
    const startedAt = Date.now();
    const busy = slowRequest(server.port, '/stream?n=6&ms=250', cookie);
    await busy.started;
    const [waited, other] = await Promise.all([
        request(server.port, '/pid', { headers: cookie }).then((response) => ({ response, at: Date.now() - startedAt })),
        request(server.port, '/pid').then((response) => ({ response, at: Date.now() - startedAt })),
    ]);
    assert.equal(await busy.done, 200);
    assert.equal(waited.response.json().pid, pinned, 'the pinned request went to its process');
    assert.ok(waited.at >= 1000, `the pinned request waited for the busy process (${waited.at} ms)`);
    assert.notEqual(other.response.json().pid, pinned);
    assert.ok(other.at < 1000, `the unpinned request did not wait (${other.at} ms)`);
    assert.ok(pids.includes(other.response.json().pid));
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
    const busy = slowRequest(server.port, '/stream?n=6&ms=250', cookie);
    await busy.started;
    const queued = request(server.port, '/pid', { headers: cookie });
    // Nothing outside shows that a request entered the queue; give it a moment to get there.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rejected = await request(server.port, '/pid', { headers: cookie });
    assert.equal(rejected.status, 503, 'the queue is full');
    assert.equal((await queued).json().pid, first.json().pid);
    assert.equal(await busy.done, 200);
});

test('cookie name and attributes are configurable', { timeout: 60000 }, async (t) => {
    const { server } = await startSticky(t, ['--sticky-sessions-cookie-name', 'route', '--sticky-sessions-cookie-attributes', 'SameSite=Strict; Path=/; HttpOnly']);
    const response = await request(server.port, '/pid');
    const lines = [].concat(response.headers['set-cookie'] ?? []);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^route=[0-9a-f]{16}; SameSite=Strict; Path=\/; HttpOnly$/);
});
