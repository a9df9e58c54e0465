// The pool's size and selection (issue 3): --min-instances, --max-pool-size, --pool-idle-time,
// --force-max-concurrent-requests-per-process with the FIFO queue, first-available selection,
// and Node.js scaling by saturation (requests in flight, CPU). Every test counts the distinct
// app processes that served requests or runs below the server, so a balancer that picks a busy
// process, or a pool that does not grow or shrink, fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { appPids, cpuSeconds, hits, sampleProcessCount, waitForReadyProcesses } from './lib/pool.mjs';
import { isAlive, sleep, waitFor } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const fixture = 'pool-app';
const markExists = (server, mark) => fs.existsSync(path.join(server.appDir, mark));

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
        await waitFor(() => markExists(server, mark), { timeoutMs: 5000, what: `request ${i} to reach the app` });
    }
    const served = (await Promise.all(pending)).map((response) => {
        assert.equal(response.status, 200, response.text);
        return response.json().pid;
    });
    assert.equal(new Set(served).size, 3, `three concurrent requests on three processes, got pids ${served.join(', ')} (processes ${pids.join(', ')})`);
    for (const pid of served) assert.ok(pids.includes(pid), `pid ${pid} is one of the boot processes ${pids.join(', ')}`);

    // --pool-idle-time 1 only stops processes beyond --min-instances: nothing to stop here.
    // (A negative check: it needs to wait past the idle time.)
    await sleep(2500);
    assert.deepEqual(appPids(server), pids, 'the --min-instances processes are kept alive while idle');
});

test('--min-instances 8 with the default --max-pool-size starts 6 processes, not more', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '8'] });
    const stopSampling = sampleProcessCount(server);
    const pids = await waitForReadyProcesses(server, 6, { timeoutMs: 20000 });
    // Give a wrongly uncapped pool the time to start a 7th and 8th process.
    await sleep(1500);
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
    // request waits for another one to finish.
    const startedAt = Date.now();
    const responses = await Promise.all([0, 1, 2].map((i) => server.get(`/slow?ms=2500&tag=${i}`, { timeoutMs: 15000 })));
    const elapsed = Date.now() - startedAt;
    const served = responses.map((response) => {
        assert.equal(response.status, 200, response.text);
        return response.json().pid;
    });
    assert.equal(new Set(served).size, 3, `three processes served the burst, got pids ${served.join(', ')}`);
    assert.ok(elapsed < 4900, `no request waited behind another 2.5 s one (burst took ${elapsed} ms)`);
    const finishedAt = Date.now();
    assert.equal(appPids(server).length, 3, 'three processes right after the burst');

    // Not before the idle time...
    await sleep(Math.max(0, finishedAt + 1000 - Date.now()));
    assert.equal(appPids(server).length, 3, `nobody stopped 1 s into a 2 s idle time (running: ${appPids(server).join(', ')})`);
    // ...but soon after it: two stop, one (min-instances) stays.
    const left = await waitFor(() => (appPids(server).length === 1 ? appPids(server) : null), {
        timeoutMs: 7000,
        what: () => `the idle processes to stop (running: ${appPids(server).join(', ')}); log tail:\n${server.logText().slice(-1500)}`,
    });
    const stoppedAfter = Date.now() - finishedAt;
    assert.ok(stoppedAfter >= 1800, `idle processes stopped ${stoppedAfter} ms after going idle (idle time 2 s)`);
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
    const t0 = Date.now();
    const timed = (promise) => promise.then((response) => ({ response, at: Date.now() - t0 }));

    // A takes the running process for 2 s; B makes the pool spawn a second one (3.5 s).
    const a = timed(server.get('/slow?ms=2000&tag=A&mark=tmp/a-started', { timeoutMs: 15000 }));
    await waitFor(() => markExists(server, 'tmp/a-started'), { what: 'A to reach the app' });
    const b = timed(server.get('/slow?ms=3500&tag=B&mark=tmp/b-started', { timeoutMs: 15000 }));
    await waitFor(() => markExists(server, 'tmp/b-started'), { timeoutMs: 8000, what: () => `B to reach a second process; log tail:\n${server.logText().slice(-1500)}` });
    // Both processes are busy now: C, then D, wait in the queue.
    const c = timed(server.get('/slow?ms=300&tag=C', { timeoutMs: 15000 }));
    await sleep(150); // C must be queued before D (no observable queue position to wait for)
    const d = timed(server.get('/slow?ms=300&tag=D', { timeoutMs: 15000 }));

    const [ra, rb, rc, rd] = await Promise.all([a, b, c, d]);
    const max = stopSampling();
    for (const [name, r] of Object.entries({ A: ra, B: rb, C: rc, D: rd })) {
        assert.equal(r.response.status, 200, `${name}: ${r.response.text}`);
    }
    const pidOf = (r) => r.response.json().pid;
    assert.equal(pidOf(ra), first, 'A ran on the boot process');
    assert.notEqual(pidOf(rb), pidOf(ra), 'B ran on a second process while A was busy');
    assert.ok(max <= 2, `never more than 2 processes (saw ${max})`);
    assert.deepEqual([...new Set([pidOf(rc), pidOf(rd)])].every((pid) => pid === pidOf(ra) || pid === pidOf(rb)), true, 'C and D ran on the two processes');

    // C got the first free slot (A's, at ~2 s), not B's (3.5 s); D came after C.
    assert.ok(rc.at >= ra.at - 50, `C finished (${rc.at} ms) after A freed its process (${ra.at} ms)`);
    assert.ok(rc.at < rb.at - 500, `C (${rc.at} ms) was not held behind B (${rb.at} ms)`);
    const order = hits(server)
        .map((hit) => /tag=([A-D])/.exec(hit.url)?.[1])
        .filter(Boolean);
    assert.deepEqual(order, ['A', 'B', 'C', 'D'], 'requests reached the app in arrival order');
    assert.ok(rd.at >= rc.at, `D (${rd.at} ms) finished after C (${rc.at} ms)`);
});

test('first-available: with --min-instances 2, a slow request on one process does not delay fast ones', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '2'] });
    const pids = await waitForReadyProcesses(server, 2);

    const slowStarted = Date.now();
    const slow = server.get('/slow?ms=3000&mark=tmp/slow-started', { timeoutMs: 15000 });
    await waitFor(() => markExists(server, 'tmp/slow-started'), { what: 'the slow request to reach the app' });
    const slowPid = Number(fs.readFileSync(path.join(server.appDir, 'tmp/slow-started'), 'utf8'));
    const otherPid = pids.find((pid) => pid !== slowPid);

    for (let i = 0; i < 5; i++) {
        const startedAt = Date.now();
        const fast = await server.get('/pid', { timeoutMs: 10000 });
        const took = Date.now() - startedAt;
        assert.equal(fast.status, 200);
        assert.equal(fast.json().pid, otherPid, `fast request ${i} went to the idle process ${otherPid}, not the busy ${slowPid}`);
        assert.ok(took < 1000, `fast request ${i} took ${took} ms`);
    }
    assert.ok(Date.now() - slowStarted < 2900, 'the fast requests all finished before the slow one');
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
    const hold = (count, ms) => {
        for (let i = 0; i < count; i++) held.push(server.get(`/slow?ms=${ms}`, { timeoutMs: 20000 }));
    };
    const inFlightOnFirst = () => hits(server).filter((hit) => hit.pid === first && hit.url.startsWith('/slow')).length;

    // 3 in flight: below the threshold, no growth.
    hold(3, 6000);
    await waitFor(() => inFlightOnFirst() === 3, { what: '3 slow requests to reach the app' });
    await sleep(1500);
    assert.deepEqual(appPids(server), [first], `3 requests in flight (< 4) do not grow the app; log tail:\n${server.logText().slice(-800)}`);

    // 6 in flight on the only process: saturated, the pool spawns a second one.
    hold(3, 4500);
    await waitFor(() => inFlightOnFirst() === 6, { what: '6 slow requests to reach the app' });
    const pids = await waitForReadyProcesses(server, 2, { timeoutMs: 4000 });
    const second = pids.find((pid) => pid !== first);
    const fresh = await server.get('/pid');
    assert.equal(fresh.status, 200);
    assert.equal(fresh.json().pid, second, 'a new request goes to the new, idle process');
    for (const response of await Promise.all(held)) assert.equal(response.status, 200);
    const max = stopSampling();
    assert.equal(max, 2, `one more process, not more (saw ${max})`);
});

test('Node scaling by CPU: a process busy burning CPU makes the pool spawn another one', { timeout: 40000 }, async (t) => {
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
    const deadline = startedAt + 9000;
    let burns = 0;
    while (appPids(server).length < 2 && Date.now() < deadline) {
        const response = await server.get('/burn?ms=1500', { timeoutMs: 15000 });
        assert.equal(response.status, 200);
        burns += 1;
    }
    const share = Math.round(((cpuSeconds(first) - cpuAtStart) * 100) / ((Date.now() - startedAt) / 1000));
    const pids = await waitForReadyProcesses(server, 2, { timeoutMs: 3000 }).catch((error) => {
        throw new Error(`no second process after ${burns} CPU-bound requests of 1.5 s (the burning process used ${share} % of a core meanwhile): ${error.message}`);
    });
    assert.ok(pids.includes(first));
    assert.ok(stopSampling() <= 3);
    assert.ok(isAlive(first));
});
