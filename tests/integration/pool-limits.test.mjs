// The pool's limits (issue 3): --max-requests, --start-timeout, --max-request-queue-size,
// --max-request-queue-time, --max-request-time, --memory-limit, and queue hygiene (a queued
// request whose client went away never reaches the app).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { requestsInFlight, waitForQueued } from './lib/admin.mjs';
import { RawConnection } from './lib/http.mjs';
import { hits, linesMatching, markExists, markPid, release, sampleProcessCount, settledYet, waitForReadyProcesses } from './lib/pool.mjs';
import { isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const fixture = 'pool-app';
const logTail = (server) => `\n--- log tail ---\n${server.logText().slice(-2000)}`;
// Log lines of the core (not the app's own output) that name `pid`.
const coreLinesAbout = (server, pid) =>
    linesMatching(server.logText(), new RegExp(`\\b${pid}\\b`)).filter((line) => !/^App \d+ std(out|err):/.test(line));

test('--max-requests 3: each process serves at most 3 requests, then a new one takes over; no request fails', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '1', '--max-requests', '3'] });
    const stopSampling = sampleProcessCount(server);
    const served = [];
    for (let i = 0; i < 10; i++) {
        const response = await server.get(`/pid?i=${i}`);
        assert.equal(response.status, 200, `request ${i}: ${response.text}${logTail(server)}`);
        served.push(response.json().pid);
    }
    const perPid = new Map();
    for (const hit of hits(server)) perPid.set(hit.pid, (perPid.get(hit.pid) ?? 0) + 1);
    for (const [pid, count] of perPid) assert.ok(count <= 3, `process ${pid} handled ${count} sequential requests (limit 3)`);
    assert.ok(new Set(served).size >= 4, `10 sequential requests need at least 4 processes, got ${[...new Set(served)].join(', ')}`);

    // Concurrent requests across replacements: none fails.
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => server.get(`/slow?ms=100&i=${i}`)));
    for (const response of burst) assert.equal(response.status, 200, response.text);

    // Replaced processes go away (the pool does not pile them up).
    const retired = [...perPid.keys()].filter((pid) => perPid.get(pid) === 3);
    await waitForGone(retired, { timeoutMs: 20000 });
    assert.ok(stopSampling() <= 6, 'never more than --max-pool-size processes');
});

test('--start-timeout 1: a spawn that takes longer is killed, the error page and the log say so', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        // The app would listen only after 10 minutes: any answer within the test's bounds comes
        // from the start timeout, however slow the machine is.
        args: ['--start-timeout', '1', '--envvar', 'POOL_APP_BOOT_DELAY_MS=600000'],
    });
    const response = await server.get('/pid', { timeoutMs: 15000 });
    assert.ok(response.status >= 500 && response.status <= 599, `5xx expected, got ${response.status}: ${response.text.slice(0, 500)}`);
    await server.waitForLog(/--start-timeout/, { timeoutMs: 20000 });
    // Every process the core gave up on was killed (none got to listen). The core's own line
    // names it: on a busy machine Node may not even have printed its first line within 1 s.
    const started = [...server.logText().matchAll(/process (\d+) did not start listening/g)].map((match) => Number(match[1]));
    assert.ok(started.length >= 1, `the core names the process it gave up on${logTail(server)}`);
    await waitForGone(started);
    assert.doesNotMatch(server.logText(), /pool-app ready/, 'no process got to listen');
    assert.equal(server.exitInfo, null, 'the server keeps running');
});

test('--max-request-queue-size 2: past two queued requests, 503 at once; the queued ones are served', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1', '--max-request-queue-size', '2'],
    });
    await waitForReadyProcesses(server, 1);
    const busy = server.get('/slow?until=tmp/go&mark=tmp/busy', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/busy'), { what: 'the slow request to reach the app' });
    const queued = [server.get('/pid?q=1', { timeoutMs: 30000 }), server.get('/pid?q=2', { timeoutMs: 30000 })];
    await waitForQueued(server, '/pid?q=', 2);

    const rejected = await server.get('/pid?q=3', { timeoutMs: 15000 });
    assert.equal(rejected.status, 503, `the third queued request gets 503, got ${rejected.status}: ${rejected.text.slice(0, 300)}`);
    // "At once": the 503 came while the only process was still held, not when a slot freed up.
    assert.equal((await settledYet(busy)).settled, false, 'the 503 came while the process was still busy');
    release(server, 'tmp/go');

    assert.equal((await busy).status, 200);
    for (const response of await Promise.all(queued)) assert.equal(response.status, 200, response.text);
    assert.ok(!hits(server).some((hit) => hit.url.includes('q=3')), 'the rejected request never reached the app');
});

test('--max-request-queue-size 0: no limit, many queued requests are all served', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1', '--max-request-queue-size', '0'],
    });
    await waitForReadyProcesses(server, 1);
    const busy = server.get('/slow?until=tmp/go&mark=tmp/busy', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/busy'), { what: 'the slow request to reach the app' });
    const pending = Array.from({ length: 120 }, (_, i) => server.get(`/pid?i=${i}`, { timeoutMs: 30000 }));
    // More than the default limit (100) wait at once; none got a 503.
    await waitForQueued(server, '/pid?i=', 120, { timeoutMs: 20000 });
    release(server, 'tmp/go');
    const responses = await Promise.all(pending);
    assert.equal((await busy).status, 200);
    assert.deepEqual(responses.map((response) => response.status), Array(120).fill(200));
});

test('--max-request-queue-time 1: a request queued longer than 1 s gets 504 and never reaches the app', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1', '--max-request-queue-time', '1'],
    });
    await waitForReadyProcesses(server, 1);
    const busy = server.get('/slow?until=tmp/go&mark=tmp/busy', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/busy'), { what: 'the slow request to reach the app' });

    const startedAt = Date.now();
    const queued = await server.get('/pid?queued=1', { timeoutMs: 15000 });
    const took = Date.now() - startedAt;
    assert.equal(queued.status, 504, `504 expected, got ${queued.status}: ${queued.text.slice(0, 300)}`);
    // The queue time is what is tested: not before 1 s (a lower bound a busy machine cannot
    // break), and while the process is still held (so no slot ever freed up for it).
    assert.ok(took >= 950, `504 not before 1 s in the queue (took ${took} ms)`);
    assert.equal((await settledYet(busy)).settled, false, 'the 504 came while the process was still busy');
    release(server, 'tmp/go');

    assert.equal((await busy).status, 200, 'the running request is not affected');
    const after = await server.get('/pid?after=1');
    assert.equal(after.status, 200);
    assert.ok(!hits(server).some((hit) => hit.url.includes('queued=1')), 'the timed-out request never reached the app');
});

test('--max-request-time 1: a request running longer gets 504 and its process is replaced', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '1', '--max-request-time', '1'] });
    const [first] = await waitForReadyProcesses(server, 1);

    // The app would never answer (nothing creates tmp/never): only --max-request-time ends it.
    const startedAt = Date.now();
    const slow = await server.get('/slow?until=tmp/never&mark=tmp/slow', { timeoutMs: 15000 });
    const took = Date.now() - startedAt;
    assert.equal(slow.status, 504, `504 expected, got ${slow.status}: ${slow.text.slice(0, 300)}`);
    assert.ok(took >= 950, `not aborted before 1 s (took ${took} ms)`);
    assert.equal(markPid(server, 'tmp/slow'), first);

    await waitForGone([first], { timeoutMs: 20000, what: `the process ${first} that ran too long to be stopped${logTail(server)}` });
    const after = await server.get('/pid');
    assert.equal(after.status, 200);
    assert.notEqual(after.json().pid, first, 'a new process serves');
    const lines = coreLinesAbout(server, first);
    assert.ok(
        lines.some((line) => /max-request-time|request time|took longer|too long|timed? ?out/i.test(line)),
        `the log says process ${first} was replaced for running too long:\n${lines.join('\n')}${logTail(server)}`,
    );
});

test('--max-request-time 1: the other requests on the process it kills get 504 too', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '1', '--max-pool-size', '1', '--max-request-time', '1'] });
    const [only] = await waitForReadyProcesses(server, 1);
    // Two requests the app never answers, on the one process (Node takes both at once); the
    // first reaches --max-request-time half a second before the second (by the core's clock),
    // and the core kills the process for it.
    const first = server.get('/slow?until=tmp/never&mark=tmp/first', { timeoutMs: 15000 });
    await waitFor(() => markExists(server, 'tmp/first'), { what: 'the first request to reach the app' });
    await waitFor(async () => (await requestsInFlight(server)).some((request) => request.uri.includes('tmp/first') && request.age_seconds >= 0.5), {
        what: 'the first request to be in the app for half a second',
    });
    const second = server.get('/slow?until=tmp/never&mark=tmp/second', { timeoutMs: 15000 });
    await waitFor(() => markExists(server, 'tmp/second'), { what: 'the second request to reach the app' });
    assert.equal(markPid(server, 'tmp/second'), only);
    assert.equal((await first).status, 504);
    const response = await second;
    assert.equal(response.status, 504, `the second request: ${response.status} ${response.text.slice(0, 300)}${logTail(server)}`);
});

test('queue hygiene: a queued request whose client disconnects never reaches the app', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1'],
    });
    await waitForReadyProcesses(server, 1);
    const busy = server.get('/slow?until=tmp/go&mark=tmp/busy', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/busy'), { what: 'the slow request to reach the app' });

    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /marker HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await waitForQueued(server, '/marker', 1);
    connection.close();
    // The core notices the close while the request waits (it leaves the admin API's list);
    // only then does the process become free.
    await waitFor(async () => !(await requestsInFlight(server)).some((request) => request.uri === '/marker'), {
        what: 'the core to drop the queued /marker whose client went away',
    });
    release(server, 'tmp/go');

    assert.equal((await busy).status, 200);
    // Queued after /marker: with one slot and FIFO, /marker would reach the app first.
    const after = await server.get('/pid?after=1', { timeoutMs: 10000 });
    assert.equal(after.status, 200);
    const urls = hits(server).map((hit) => hit.url);
    assert.ok(urls.includes('/pid?after=1'));
    assert.equal(urls.filter((url) => url === '/marker').length, 0, `/marker must not reach the app; the app saw: ${urls.join(', ')}`);
});

test('--memory-limit 100: a process past 100 MB finishes its request, then is replaced; the log says so', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '1', '--memory-limit', '100'] });
    const [first] = await waitForReadyProcesses(server, 1);

    // Allocates 200 MB, then keeps answering for 2.5 s: the limit is noticed meanwhile, but the
    // request in flight must complete.
    const alloc = await server.get('/alloc?mb=200&ms=2500', { timeoutMs: 15000 });
    assert.equal(alloc.status, 200, `the request in flight completes: ${alloc.text.slice(0, 300)}${logTail(server)}`);
    assert.equal(alloc.json().pid, first);
    assert.ok(alloc.json().rssMb > 150, `the fixture really holds the memory (rss ${alloc.json().rssMb} MB)`);

    await waitForGone([first], { timeoutMs: 20000, what: `process ${first} (over the memory limit) to be stopped${logTail(server)}` });
    const after = await server.get('/pid');
    assert.equal(after.status, 200);
    assert.notEqual(after.json().pid, first, 'a new process serves');
    const lines = coreLinesAbout(server, first);
    assert.ok(lines.some((line) => /memory/i.test(line)), `the log names process ${first} and its memory:\n${lines.join('\n')}${logTail(server)}`);
    assert.ok(isAlive(after.json().pid));
});
