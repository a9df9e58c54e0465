// The pool's size and selection (issue 3): --min-instances, --max-pool-size, --pool-idle-time,
// --force-max-concurrent-requests-per-process with the FIFO queue, first-available selection,
// and Node.js scaling by saturation (requests in flight, CPU). Every test counts the distinct
// app processes that served requests or runs below the server, so a balancer that picks a busy
// process, or a pool that does not grow or shrink, fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { poolGroup, requestsInFlight, waitForQueued } from './lib/admin.mjs';
import { appPids, cpuSeconds, hits, markExists, markPid, release, sampleProcessCount, settledYet, waitForReadyProcesses } from './lib/pool.mjs';
import { isAlive, waitFor } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const fixture = 'pool-app';

// Waits until the admin API lists exactly `pids` (sorted) and each has been idle for at least
// `seconds` by the core's own clock; resolves the group snapshot.
function waitForIdle(server, pids, seconds, { timeoutMs = 15000 } = {}) {
    let last = null;
    return waitFor(
        async () => {
            last = await poolGroup(server);
            const listed = last.processes.map((process) => process.pid).sort((a, b) => a - b);
            return JSON.stringify(listed) === JSON.stringify(pids) && last.processes.every((process) => process.idle_seconds >= seconds) && last;
        },
        { timeoutMs, what: () => `processes ${pids.join(', ')} idle for ${seconds} s on the admin API (last: ${JSON.stringify(last?.processes)})` },
    );
}

test('default --min-instances: one process at boot, before any request', { timeout: 30000 }, async (t) => {
    const server = await startServer(t, { fixture, waitReady: false });
    const [pid] = await waitForReadyProcesses(server, 1);
    assert.deepEqual(hits(server), [], 'no request was sent');
    const response = await server.get('/pid');
    assert.equal(response.status, 200);
    assert.equal(response.json().pid, pid, 'the boot process serves the first request');
});

test('--min-instances 3: three processes at boot, concurrent requests spread over all three, none stopped when idle', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, waitReady: false, args: ['--min-instances', '3', '--pool-idle-time', '1'] });
    const pids = await waitForReadyProcesses(server, 3);
    assert.deepEqual(hits(server), [], 'the three started at boot, before any request');

    // Three slow requests, each sent once the previous one reached the app: least-busy
    // selection must give each its own process.
    const pending = [];
    for (let i = 0; i < 3; i++) {
        const mark = `tmp/spread-${i}`;
        pending.push(server.get(`/slow?ms=1200&mark=${mark}`, { timeoutMs: 10000 }));
        await waitFor(() => markExists(server, mark), { timeoutMs: 20000, what: `request ${i} to reach the app` });
    }
    const served = (await Promise.all(pending)).map((response) => {
        assert.equal(response.status, 200, response.text);
        return response.json().pid;
    });
    assert.equal(new Set(served).size, 3, `three concurrent requests on three processes, got pids ${served.join(', ')} (processes ${pids.join(', ')})`);
    for (const pid of served) assert.ok(pids.includes(pid), `pid ${pid} is one of the boot processes ${pids.join(', ')}`);

    // --pool-idle-time 1 only stops processes beyond --min-instances: nothing to stop here. The
    // core itself reports all three idle for well past the idle time (and the idle check runs
    // once a second), and none was stopped.
    await waitForIdle(server, pids, 3);
    assert.deepEqual(appPids(server), pids, 'the --min-instances processes are kept alive while idle');
});

test('--min-instances 8 with the default --max-pool-size starts 6 processes, not more', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '8'] });
    const stopSampling = sampleProcessCount(server);
    const pids = await waitForReadyProcesses(server, 6, { timeoutMs: 20000 });
    // The pool has settled: nothing spawning, and the core counts exactly 6 spawns (a wrongly
    // uncapped pool would be spawning a 7th or have counted it).
    const group = await waitFor(async () => {
        const current = await poolGroup(server);
        return current.spawning === 0 && current.processes.length === 6 && current;
    }, { what: 'the pool to settle at 6 processes' });
    assert.equal(group.spawns_total, 6, `six spawns, not more: ${JSON.stringify(group)}`);
    const max = stopSampling();
    assert.equal(max, 6, `at most 6 app processes at any time, saw ${max}`);
    assert.deepEqual(appPids(server), pids, 'the same 6 processes keep running');
    const responses = await Promise.all(Array.from({ length: 6 }, () => server.get('/pid')));
    for (const response of responses) assert.equal(response.status, 200);
});

test('--pool-idle-time 2: processes spawned for a burst stop after being idle 2 s, down to --min-instances', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--min-instances', '1', '--max-pool-size', '3', '--force-max-concurrent-requests-per-process', '1', '--pool-idle-time', '2'],
    });
    await waitForReadyProcesses(server, 1);
    const stopSampling = sampleProcessCount(server);

    // Three concurrent requests with one request per process: the pool grows to 3 and no
    // request waits for another one to finish (all three are in the app at the same time).
    const pending = [0, 1, 2].map((i) => server.get(`/slow?until=tmp/go&tag=${i}&mark=tmp/burst-${i}`, { timeoutMs: 30000 }));
    await waitFor(() => [0, 1, 2].every((i) => markExists(server, `tmp/burst-${i}`)), {
        timeoutMs: 20000,
        what: () => `the three requests in the app at once; log tail:\n${server.logText().slice(-1500)}`,
    });
    release(server, 'tmp/go');
    const served = (await Promise.all(pending)).map((response) => {
        assert.equal(response.status, 200, response.text);
        return response.json().pid;
    });
    assert.equal(new Set(served).size, 3, `three processes served the burst, got pids ${served.join(', ')}`);

    // Two stop, one (min-instances) stays; not before their idle time: while the admin API is
    // polled, each process is last seen with the core's idle clock past ~1 s (a sample can
    // precede the stop by a poll interval and the snapshot's rounding), never younger.
    const lastIdle = new Map();
    const left = await waitFor(
        async () => {
            const group = await poolGroup(server);
            for (const process of group.processes) lastIdle.set(process.pid, process.idle_seconds);
            const running = appPids(server);
            return running.length === 1 && group.processes.length === 1 && running;
        },
        {
            timeoutMs: 15000,
            intervalMs: 20,
            what: () => `the idle processes to stop (running: ${appPids(server).join(', ')}); log tail:\n${server.logText().slice(-1500)}`,
        },
    );
    for (const pid of served.filter((pid) => pid !== left[0])) {
        assert.ok(lastIdle.get(pid) >= 1, `process ${pid} was stopped after being idle ${lastIdle.get(pid)} s (idle time 2 s)`);
    }
    assert.ok(served.includes(left[0]), 'the survivor is one of the burst processes');
    assert.ok(stopSampling() <= 3, 'never more than --max-pool-size processes');
    const after = await server.get('/pid');
    assert.equal(after.status, 200);
    assert.equal(after.json().pid, left[0], 'the survivor serves');
});

test('--force-max-concurrent-requests-per-process 1 --max-pool-size 2: two slow requests on two processes, queued ones served in arrival order', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--min-instances', '1', '--max-pool-size', '2', '--force-max-concurrent-requests-per-process', '1'],
    });
    const [first] = await waitForReadyProcesses(server, 1);
    const stopSampling = sampleProcessCount(server);

    // A takes the running process; B makes the pool spawn a second one. Both stay until released.
    const a = server.get('/slow?until=tmp/release-a&tag=A&mark=tmp/a-started', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/a-started'), { what: 'A to reach the app' });
    const b = server.get('/slow?until=tmp/release-b&tag=B&mark=tmp/b-started', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/b-started'), { timeoutMs: 15000, what: () => `B to reach a second process; log tail:\n${server.logText().slice(-1500)}` });
    // Both processes are busy now: C, then D, wait in the queue (in that order).
    const c = server.get('/slow?ms=0&tag=C', { timeoutMs: 30000 });
    await waitForQueued(server, '/slow?ms=0&tag=C', 1);
    const d = server.get('/slow?ms=0&tag=D', { timeoutMs: 30000 });
    await waitForQueued(server, '/slow?ms=0&tag=', 2);

    // Freeing A's process lets C, then D, through while B still holds the other one.
    release(server, 'tmp/release-a');
    const [ra, rc, rd] = await Promise.all([a, c, d]);
    assert.equal((await settledYet(b)).settled, false, 'C and D were not held behind B');
    release(server, 'tmp/release-b');
    const rb = await b;
    const max = stopSampling();
    for (const [name, response] of Object.entries({ A: ra, B: rb, C: rc, D: rd })) {
        assert.equal(response.status, 200, `${name}: ${response.text}`);
    }
    const pidOf = (response) => response.json().pid;
    assert.equal(pidOf(ra), first, 'A ran on the boot process');
    assert.notEqual(pidOf(rb), pidOf(ra), 'B ran on a second process while A was busy');
    assert.ok(max <= 2, `never more than 2 processes (saw ${max})`);
    assert.equal(pidOf(rc), pidOf(ra), 'C got the slot A freed');
    assert.equal(pidOf(rd), pidOf(ra), 'D got it after C');
    const order = hits(server)
        .map((hit) => /tag=([A-D])/.exec(hit.url)?.[1])
        .filter(Boolean);
    assert.deepEqual(order, ['A', 'B', 'C', 'D'], 'requests reached the app in arrival order');
});

test('first-available: with --min-instances 2, a slow request on one process does not delay fast ones', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '2'] });
    const pids = await waitForReadyProcesses(server, 2);

    const slow = server.get('/slow?until=tmp/go&mark=tmp/slow-started', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/slow-started'), { what: 'the slow request to reach the app' });
    const slowPid = markPid(server, 'tmp/slow-started');
    const otherPid = pids.find((pid) => pid !== slowPid);

    // Every fast request is answered while the slow one is still held.
    for (let i = 0; i < 5; i++) {
        const fast = await server.get('/pid', { timeoutMs: 10000 });
        assert.equal(fast.status, 200);
        assert.equal(fast.json().pid, otherPid, `fast request ${i} went to the idle process ${otherPid}, not the busy ${slowPid}`);
    }
    assert.equal((await settledYet(slow)).settled, false, 'the fast requests all finished before the slow one');
    release(server, 'tmp/go');
    const slowResponse = await slow;
    assert.equal(slowResponse.status, 200);
    assert.equal(slowResponse.json().pid, slowPid);
});

test('Node scaling by requests in flight: --saturation-sessions 4 grows the app by one process, not below the threshold', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--min-instances', '1', '--max-pool-size', '3', '--saturation-sessions', '4'],
    });
    const [first] = await waitForReadyProcesses(server, 1);
    const stopSampling = sampleProcessCount(server);
    const held = [];
    const hold = (count) => {
        for (let i = 0; i < count; i++) held.push(server.get(`/slow?until=tmp/go&n=${held.length}`, { timeoutMs: 30000 }));
    };
    const inFlightOnFirst = () => hits(server).filter((hit) => hit.pid === first && hit.url.startsWith('/slow')).length;

    // 3 in flight: below the threshold, no growth. Saturation is checked on each request and
    // once a second: wait until the core itself has had the 3 in flight for 2 s.
    hold(3);
    await waitFor(() => inFlightOnFirst() === 3, { what: '3 slow requests to reach the app' });
    await waitFor(async () => {
        const slow = (await requestsInFlight(server)).filter((request) => request.uri.startsWith('/slow'));
        return slow.length === 3 && slow.every((request) => request.state === 'in app' && request.age_seconds >= 2);
    }, { what: 'the core to hold the 3 requests for 2 s' });
    const group = await poolGroup(server);
    assert.deepEqual(appPids(server), [first], `3 requests in flight (< 4) do not grow the app; log tail:\n${server.logText().slice(-800)}`);
    assert.equal(group.spawns_total, 1, `no spawn beyond the first: ${JSON.stringify(group)}`);

    // 6 in flight on the only process: saturated, the pool spawns a second one.
    hold(3);
    await waitFor(() => inFlightOnFirst() === 6, { what: '6 slow requests to reach the app' });
    const pids = await waitForReadyProcesses(server, 2, { timeoutMs: 15000 });
    const second = pids.find((pid) => pid !== first);
    const fresh = await server.get('/pid');
    assert.equal(fresh.status, 200);
    assert.equal(fresh.json().pid, second, 'a new request goes to the new, idle process');
    release(server, 'tmp/go');
    for (const response of await Promise.all(held)) assert.equal(response.status, 200);
    const max = stopSampling();
    assert.equal(max, 2, `one more process, not more (saw ${max})`);
});

test('Node scaling by CPU: a process busy burning CPU makes the pool spawn another one', { timeout: 60000 }, async (t) => {
    // --saturation-cpu 50 rather than the default 90: on a 2-core machine shared with other
    // test files a busy event loop does not always get 90 % of a core. One request at a time
    // stays far below --saturation-sessions (32), so only CPU can make the pool grow.
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--min-instances', '1', '--max-pool-size', '3', '--saturation-cpu', '50'],
    });
    const [first] = await waitForReadyProcesses(server, 1);
    const stopSampling = sampleProcessCount(server);

    // One burning request at a time (1.5 s of busy loop each), until a second process appears.
    const cpuAtStart = cpuSeconds(first);
    const startedAt = Date.now();
    const deadline = startedAt + 20000; // a bound, not a threshold: the loop ends as soon as a second process runs
    let burns = 0;
    while (appPids(server).length < 2 && Date.now() < deadline) {
        const response = await server.get('/burn?ms=1500', { timeoutMs: 15000 });
        assert.equal(response.status, 200);
        burns += 1;
    }
    const share = Math.round(((cpuSeconds(first) - cpuAtStart) * 100) / ((Date.now() - startedAt) / 1000));
    const pids = await waitForReadyProcesses(server, 2, { timeoutMs: 20000 }).catch((error) => {
        throw new Error(`no second process after ${burns} CPU-bound requests of 1.5 s (the burning process used ${share} % of a core meanwhile): ${error.message}`);
    });
    assert.ok(pids.includes(first));
    assert.ok(stopSampling() <= 3);
    assert.ok(isAlive(first));
});
