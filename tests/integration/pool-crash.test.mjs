// App processes that die (issue 3): removed at once, requests in flight on them get 502, queued
// requests go elsewhere, the log says which process died and how; failing starts back off; dead
// processes are reaped promptly and their last output reaches the log; a load test that SIGKILLs
// random app processes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { waitForQueued } from './lib/admin.mjs';
import { appPids, clientLoops, corePid, hits, linesMatching, markExists, markPid, release, waitForReadyProcesses, zombieChildren } from './lib/pool.mjs';
import { isAlive, procStat, waitFor, waitForGone } from './lib/proc.mjs';
import { RawConnection } from './lib/http.mjs';
import { copyFixture, startServer } from './lib/server.mjs';

const fixture = 'pool-app';
const logTail = (server) => `\n--- log tail ---\n${server.logText().slice(-2000)}`;
const coreLines = (server) => server.logText().split('\n').filter((line) => !/^App \d+ std(out|err):/.test(line));
// Waits for a core log line naming `pid` that matches `how`.
const waitForDeathLine = (server, pid, how, timeoutMs = 10000) =>
    waitFor(() => coreLines(server).find((line) => new RegExp(`\\b${pid}\\b`).test(line) && how.test(line)), {
        timeoutMs,
        what: () => `a log line saying how process ${pid} died (${how})${logTail(server)}`,
    });

test('a process that exits in the middle of a request: 502 for it, queued requests go to a fresh process, the log gives the exit code', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--min-instances', '1', '--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1'],
    });
    const [first] = await waitForReadyProcesses(server, 1);
    const dying = server.get('/exit?code=7&until=tmp/go&mark=tmp/exiting', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/exiting'), { what: 'the fatal request to reach the app' });
    assert.equal(markPid(server, 'tmp/exiting'), first);
    // Queued behind the fatal request (one request per process, one process).
    const queued = [1, 2, 3].map((i) => server.get(`/pid?queued=${i}`, { timeoutMs: 30000 }));
    await waitForQueued(server, '/pid?queued=', 3);
    release(server, 'tmp/go');

    const crashed = await dying;
    assert.equal(crashed.status, 502, `the request in flight on the dead process gets 502, got ${crashed.status}: ${crashed.text.slice(0, 300)}`);
    await waitForDeathLine(server, first, /exit(ed)?\b.*\b7\b|code\D{0,5}7\b|status\D{0,5}7\b/i);
    for (const response of await Promise.all(queued)) {
        assert.equal(response.status, 200, `a queued request is served: ${response.text.slice(0, 300)}${logTail(server)}`);
        assert.notEqual(response.json().pid, first, 'by a fresh process');
    }
    assert.equal(isAlive(first), false);
});

test('SIGKILL: the killed process\'s request gets 502, the other process\'s request is unaffected, the log says signal 9, the pool refills', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '2'] });
    const pids = await waitForReadyProcesses(server, 2);

    const a = server.get('/slow?until=tmp/go&mark=tmp/a', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/a'), { what: 'request A to reach the app' });
    const b = server.get('/slow?until=tmp/go&mark=tmp/b', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/b'), { what: 'request B to reach the app' });
    const victim = markPid(server, 'tmp/a');
    const survivor = markPid(server, 'tmp/b');
    assert.notEqual(victim, survivor, 'A and B run on different processes');
    assert.deepEqual([victim, survivor].sort((x, y) => x - y), pids);

    process.kill(victim, 'SIGKILL');
    await waitForDeathLine(server, victim, /signal\s*9\b|SIGKILL/i);
    // Removed at once: no request after the death is sent to it.
    for (let i = 0; i < 5; i++) {
        const response = await server.get('/pid', { timeoutMs: 10000 });
        assert.equal(response.status, 200, `request ${i} after the kill: ${response.text.slice(0, 300)}`);
        assert.notEqual(response.json().pid, victim);
    }
    release(server, 'tmp/go');
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.status, 502, `the request in flight on the killed process gets 502, got ${ra.status}`);
    assert.equal(rb.status, 200, 'the request on the other process completes');
    assert.equal(rb.json().pid, survivor);

    // Back to --min-instances 2 with a new process.
    const now = await waitForReadyProcesses(server, 2, { timeoutMs: 15000 });
    assert.ok(now.includes(survivor) && !now.includes(victim), `processes now: ${now.join(', ')}`);
});

test('an app that cannot start: error page at once, spawn attempts back off (no busy loop), fixing it works', { timeout: 40000 }, async (t) => {
    const appDir = await copyFixture(t, fixture);
    fs.writeFileSync(path.join(appDir, 'broken'), 'yes\n');
    const broken = await startServer(t, { appDir, readyPath: '/pid' });

    const countAttempts = () => new Set([...broken.logText().matchAll(/POOL-APP-BROKEN pid=(\d+)/g)].map((match) => match[1])).size;
    const before = countAttempts();
    // A client that keeps asking for 3 s (the window is what is measured: attempts per time).
    const windowStart = Date.now();
    let requests = 0;
    while (Date.now() - windowStart < 3000) {
        const response = await broken.get(`/pid?attempt=${requests}`, { timeoutMs: 15000 });
        requests += 1;
        assert.ok(response.status >= 500 && response.status <= 599, `error page expected, got ${response.status}`);
        if (requests === 1) {
            assert.match(response.text, /POOL-APP-BROKEN/, `the development error page shows the app's error:\n${response.text.slice(0, 1500)}`);
        }
    }
    const attempts = countAttempts() - before;
    assert.ok(before >= 1, `the app was tried at least once before${'\n'}${broken.logText().slice(-1500)}`);
    assert.ok(attempts <= 10, `${attempts} spawn attempts in 3 s for ${requests} requests: no busy loop`);
    // "At once": during the backoff the error page does not wait for a spawn attempt of its own.
    assert.ok(requests > attempts, `${requests} error pages for ${attempts} spawn attempts`);
    assert.equal(broken.exitInfo, null, 'the server keeps running');

    fs.rmSync(path.join(appDir, 'broken'));
    const fixed = await waitFor(
        async () => {
            const response = await broken.get('/pid', { timeoutMs: 10000 });
            return response.status === 200 && response;
        },
        { timeoutMs: 15000, intervalMs: 250, what: () => `a request to succeed after the fix${'\n'}${broken.logText().slice(-1500)}` },
    );
    assert.ok(isAlive(fixed.json().pid));
});

test('dead processes are reaped promptly (no zombies) and all their output reaches the log', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '3'] });
    const pids = await waitForReadyProcesses(server, 3);
    const core = corePid(server);
    assert.ok(core, 'the core runs below the server');

    // One process prints 300 lines and exits right away (the request in flight fails).
    const exiting = await server.get('/exit?code=0&lines=300&ms=0&mark=tmp/exiting', { timeoutMs: 15000 });
    assert.ok(exiting.status >= 500, `the request whose process exited fails (${exiting.status})`);
    const talker = markPid(server, 'tmp/exiting');
    // One is SIGKILLed, one SIGTERMed.
    const [killed, terminated] = pids.filter((pid) => pid !== talker);
    process.kill(killed, 'SIGKILL');
    process.kill(terminated, 'SIGTERM');

    for (const pid of [talker, killed, terminated]) {
        // Reaped or not is what counts: an unreaped zombie stays for good, so the bound is loose.
        await waitFor(() => procStat(pid) === null || procStat(pid).ppid !== core, {
            timeoutMs: 10000,
            what: () => `process ${pid} to be reaped by the core ${core} (state ${procStat(pid)?.state})`,
        });
    }
    await server.waitForLog(new RegExp(`pool-app LAST-WORDS pid=${talker} code=0`));
    const burst = linesMatching(server.logText(), new RegExp(`^App ${talker} stdout: pool-app burst \\d+/300 pid=${talker}$`));
    assert.equal(burst.length, 300, `all 300 lines printed before exit reach the log, got ${burst.length}`);

    await waitForReadyProcesses(server, 3, { timeoutMs: 15000 });
    // Sampled after each of a few requests (each a turn of the core's event loop): no child of
    // the core stays a zombie.
    for (let i = 0; i < 5; i++) {
        assert.equal((await server.get('/pid')).status, 200);
        assert.deepEqual(zombieChildren(core), [], 'no zombie children of the core');
    }
});

test('load test: SIGKILL random app processes under load; only requests in flight on them fail, and the server keeps serving', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '3', '--max-pool-size', '3'] });
    await waitForReadyProcesses(server, 3);
    const core = corePid(server);
    const clients = 4;

    let stop = false;
    const loadStartedAt = Date.now();
    let nextId = 0;
    const load = clientLoops(server.port, () => `/slow?ms=30&id=${nextId++}`, { clients, shouldStop: () => stop, timeoutMs: 10000 });
    const killed = [];
    // Between kills: the pool is whole again and 20 more requests reached the app.
    const progressed = async () => {
        await waitForReadyProcesses(server, 3, { timeoutMs: 15000 });
        const reached = hits(server).length;
        await waitFor(() => hits(server).length >= reached + 20, { what: 'load to reach the app' });
    };
    try {
        for (let round = 0; round < 5; round++) {
            await progressed();
            const candidates = appPids(server).filter((pid) => pid !== core && !killed.includes(pid));
            if (candidates.length === 0) continue;
            const victim = candidates[Math.floor(Math.random() * candidates.length)];
            try {
                process.kill(victim, 'SIGKILL');
                killed.push(victim);
            } catch {
                // it exited between the listing and the kill
            }
        }
        await progressed();
    } finally {
        stop = true;
    }
    const results = await load;
    const loadMs = Date.now() - loadStartedAt;

    const failures = results.filter((result) => result.status < 200 || result.status > 299);
    t.diagnostic(`${results.length} requests in ${loadMs} ms, ${killed.length} processes killed, ${failures.length} failed`);
    const connectionErrors = results.filter((result) => result.status === 0);
    assert.ok(killed.length >= 3, `killed ${killed.length} processes`);
    assert.ok(results.length >= 50, `${results.length} requests in ${loadMs} ms`);
    assert.deepEqual(connectionErrors.map((result) => result.error), [], 'every request got an HTTP response');
    assert.ok(
        failures.length <= killed.length * clients,
        `${failures.length} failures for ${killed.length} kills x ${clients} clients: ${JSON.stringify(failures.slice(0, 5))}`,
    );
    for (const failure of failures) assert.equal(failure.status, 502, `a request lost with its process gets 502: ${JSON.stringify(failure)}`);
    // A failed request that reached an app process must have reached one that was killed.
    const servedBy = new Map(hits(server).map((hit) => [hit.url, hit.pid]));
    for (const failure of failures) {
        const pid = servedBy.get(failure.url);
        assert.ok(pid === undefined || killed.includes(pid), `${failure.url} failed (${failure.status}) on process ${pid}, which was not killed (killed: ${killed.join(', ')})`);
    }

    for (const pid of killed) await waitForDeathLine(server, pid, /signal\s*9\b|SIGKILL/i);
    await waitForGone(killed);
    const now = await waitForReadyProcesses(server, 3, { timeoutMs: 15000 });
    assert.ok(now.every((pid) => !killed.includes(pid)));
    const after = await Promise.all(Array.from({ length: 10 }, () => server.get('/pid')));
    assert.deepEqual(after.map((response) => response.status), Array(10).fill(200), 'the server keeps serving');
    assert.equal(corePid(server), core, 'the core was never killed or restarted');
});

// A process that dies before reading a request (its body still unread: the kernel resets the
// connection) never took it: an idempotent one goes to another process (the dead one is taken
// out of rotation at once, on the request's own loop), a POST gets 502 (the app may act on a
// request it then dies answering), and a request that kills every process it reaches gets 502
// after 3 processes with a log line: bounded, no loop.
test('a process that dies before reading a request: PUT goes to another process, POST gets 502, one that kills every process gives up after 3', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '2'] });
    await waitForReadyProcesses(server, 2);
    // More than Node's first read (64 KiB): most of it is still unread when the app dies.
    const body = Buffer.alloc(1024 * 1024, 'x');
    const hitsOf = (url) => hits(server).filter((hit) => hit.url === url);

    fs.writeFileSync(path.join(server.appDir, 'tmp', 'die-put'), '');
    const put = await server.get('/die?once=tmp/die-put', { method: 'PUT', body, timeoutMs: 30000 });
    const [dead, served] = hitsOf('/die?once=tmp/die-put').map((hit) => hit.pid);
    assert.equal(put.status, 200, `the PUT is served by another process: ${put.text.slice(0, 300)}${logTail(server)}`);
    assert.equal(put.json().survived, true);
    assert.ok(dead !== undefined && put.json().pid === served && served !== dead, `died in ${dead}, served by ${put.json().pid}`);
    await waitForDeathLine(server, dead, /signal\s*9\b|SIGKILL/i);

    await waitForReadyProcesses(server, 2, { timeoutMs: 15000 });
    fs.writeFileSync(path.join(server.appDir, 'tmp', 'die-post'), '');
    const post = await server.get('/die?once=tmp/die-post', { method: 'POST', body, timeoutMs: 30000 });
    assert.equal(post.status, 502, `a POST is not sent again: ${post.text.slice(0, 300)}`);
    assert.equal(hitsOf('/die?once=tmp/die-post').length, 1, 'the POST reached one process');

    await waitForReadyProcesses(server, 2, { timeoutMs: 15000 });
    const fatal = await server.get('/die', { method: 'PUT', body, timeoutMs: 30000 });
    assert.equal(fatal.status, 502, `a request that kills every process fails: ${fatal.text.slice(0, 300)}`);
    // At most 3 tries (one may meet a process still dying from the last: refused, no hit).
    const tried = hitsOf('/die').length;
    assert.ok(tried >= 1 && tried <= 3, `it reached the app ${tried} times${logTail(server)}`);
    await server.waitForLog(/Gave up on PUT \/die: 3 app processes could not be reached or reset it unread/);
    await waitForReadyProcesses(server, 2, { timeoutMs: 15000 });
    assert.equal((await server.get('/pid')).status, 200, 'the server keeps serving');
});

// A request that an app process reset unread goes back to the queue when no other process is
// free: it shows as waiting there (it once stayed "in app" on the process that died), and the
// process that takes it then still has its client watched (the watches while queued and while
// in the app share the client socket): a client that leaves ends the request in the app.
test('a request retried after waiting in the queue: listed as queued, and its client leaving still ends it in the app', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, {
        fixture,
        readyPath: '/pid',
        args: ['--min-instances', '2', '--max-pool-size', '2', '--force-max-concurrent-requests-per-process', '1'],
    });
    await waitForReadyProcesses(server, 2);
    const busy = server.get('/slow?until=tmp/go-rq&mark=tmp/busy-rq', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/busy-rq'), { what: 'the busy request to reach the app' });
    // The PUT dies with the first process it reaches and waits in the queue for the other (the
    // dead one's replacement takes long to boot), whose kept-alive connection it takes when the
    // busy request is released.
    fs.writeFileSync(path.join(server.appDir, 'boot-delay-ms'), '30000');
    fs.writeFileSync(path.join(server.appDir, 'tmp', 'die-rq'), '');
    const client = await RawConnection.connect(server.port);
    t.after(() => client.close());
    const body = Buffer.alloc(120 * 1024, 'x');
    const target = '/die?once=tmp/die-rq&until=tmp/never-rq&mark=tmp/retried-rq&closed=tmp/closed-rq';
    client.write(`PUT ${target} HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
    client.write(body);
    // Back in the queue, it says so (not "in app" on the process that died).
    await waitForQueued(server, '/die?once=tmp/die-rq', 1);
    release(server, 'tmp/go-rq');
    assert.equal((await busy).status, 200);
    await waitFor(() => markExists(server, 'tmp/retried-rq'), { timeoutMs: 15000, what: () => `the retried request to reach a process${logTail(server)}` });
    client.close();
    await waitFor(() => markExists(server, 'tmp/closed-rq'), {
        timeoutMs: 10000,
        what: () => `the app to see the request end after its client left${logTail(server)}`,
    });
});

// A kept-alive connection to a process that can no longer be reached (it stopped listening, as
// a process that just died does before the pool reaps it): the request, refused unwritten on
// that connection and on a fresh one, goes to the other process instead of failing.
test('a kept-alive connection to a process that stopped listening: the next request goes to the other process', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid', args: ['--min-instances', '2'] });
    await waitForReadyProcesses(server, 2);
    // One process busy, so the other (the fewest requests in flight) gets the next ones.
    const busy = server.get('/slow?until=tmp/go-ka&mark=tmp/busy-ka', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/busy-ka'), { what: 'the busy request to reach the app' });
    const other = markPid(server, 'tmp/busy-ka');
    // One client connection: its loop keeps the app connection the first answer came on.
    const client = await RawConnection.connect(server.port);
    t.after(() => client.close());
    client.write('GET /unlisten HTTP/1.1\r\nHost: t\r\n\r\n');
    const unlistened = await client.readResponse();
    assert.equal(unlistened.status, 200);
    const gone = JSON.parse(unlistened.body).pid;
    assert.notEqual(gone, other);
    client.write('GET /pid?after=unlisten HTTP/1.1\r\nHost: t\r\n\r\n');
    const next = await client.readResponse();
    assert.equal(next.status, 200, `served elsewhere: ${next.body}${logTail(server)}`);
    assert.equal(JSON.parse(next.body).pid, other);
    await server.waitForLog(new RegExp(`Cannot connect to app process ${gone}\\b`));
    release(server, 'tmp/go-ka');
    assert.equal((await busy).status, 200);
});
