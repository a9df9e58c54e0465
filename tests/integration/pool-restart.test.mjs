// Restarting an app (issue 3): tmp/restart.txt noticed without any request (inotify), tmp/always_restart.txt, requests in flight and queued ones across a restart,
// --rolling-restarts under load, --resist-deployment-errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { poolGroup, waitForQueued } from './lib/admin.mjs';
import { appPids, clientLoops, hits, markExists, release, sampleProcessCount, touch, waitForReadyProcesses } from './lib/pool.mjs';
import { isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { copyFixture, startServer } from './lib/server.mjs';

const fixture = 'pool-app';
const logTail = (server) => `\n--- log tail ---\n${server.logText().slice(-2000)}`;
const anHourAgo = () => new Date(Date.now() - 3600 * 1000);

// A copy of the fixture whose tmp/restart.txt already exists with an old mtime.
async function appWithRestartFile(t) {
    const appDir = await copyFixture(t, fixture);
    touch(path.join(appDir, 'tmp', 'restart.txt'), anHourAgo());
    return appDir;
}

test('touching tmp/restart.txt restarts every process without any request', { timeout: 40000 }, async (t) => {
    const appDir = await appWithRestartFile(t);
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--min-instances', '2'] });
    const old = await waitForReadyProcesses(server, 2);
    const hitsBefore = hits(server).length;

    for (let round = 1; round <= 2; round++) {
        const previous = appPids(server);
        touch(path.join(appDir, 'tmp', 'restart.txt'));
        // Only the process tree is watched: no request is sent. (Without inotify the restart
        // would wait for a request forever; the bound is for a busy machine, not a threshold.)
        await waitFor(() => appPids(server).some((pid) => !previous.includes(pid)), {
            timeoutMs: 15000,
            intervalMs: 20,
            what: () => `round ${round}: a new app process after the touch (running: ${appPids(server).join(', ')}, before: ${previous.join(', ')})${logTail(server)}`,
        });
        await waitForGone(previous, { timeoutMs: 20000, what: `round ${round}: the old processes ${previous.join(', ')} to stop${logTail(server)}` });
        const now = await waitForReadyProcesses(server, 2, { timeoutMs: 20000 });
        assert.ok(now.every((pid) => !previous.includes(pid) && !old.includes(pid)), `round ${round}: all new processes (${now.join(', ')})`);
    }
    assert.equal(hits(server).length, hitsBefore, 'no request reached the app during the restarts');
    const response = await server.get('/pid');
    assert.equal(response.status, 200);
    assert.ok(!old.includes(response.json().pid));
});

test('tmp/ deleted and created again, or replaced by a new folder (as deploy tools do): touching tmp/restart.txt still restarts', { timeout: 60000 }, async (t) => {
    const appDir = await appWithRestartFile(t);
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--min-instances', '1'] });
    await waitForReadyProcesses(server, 1);
    const tmpDir = path.join(appDir, 'tmp');
    const deploys = [
        ['deleted and created again', () => fs.rmSync(tmpDir, { recursive: true })],
        ['deleted and created again, a second time', () => fs.rmSync(tmpDir, { recursive: true })],
        ['moved away and replaced', () => fs.renameSync(tmpDir, path.join(appDir, `tmp.old.${Date.now()}`))],
    ];
    for (const [how, removeTmp] of deploys) {
        const previous = appPids(server);
        removeTmp();
        fs.mkdirSync(tmpDir);
        // A deploy touches restart.txt well after it created tmp/ (a touch right away would be
        // seen by the look at the files that the folder's creation causes, watched or not).
        await sleep(500);
        touch(path.join(tmpDir, 'restart.txt'));
        // No request is sent: the folder watch alone must notice.
        await waitFor(() => appPids(server).some((pid) => !previous.includes(pid)), {
            timeoutMs: 10000,
            intervalMs: 50,
            what: () => `tmp/ ${how}: a new app process after the touch (running: ${appPids(server).join(', ')}, before: ${previous.join(', ')})${logTail(server)}`,
        });
        await waitForGone(previous, { timeoutMs: 5000, what: `tmp/ ${how}: the old process to stop${logTail(server)}` });
        const [now] = await waitForReadyProcesses(server, 1);
        const response = await server.get('/pid');
        assert.equal(response.status, 200);
        assert.equal(response.json().pid, now, `tmp/ ${how}: the new process answers`);
    }
});

test('tmp/always_restart.txt: every request is served by a new process', { timeout: 40000 }, async (t) => {
    const server = await startServer(t, { fixture, readyPath: '/pid' });
    const [first] = await waitForReadyProcesses(server, 1);
    touch(path.join(server.appDir, 'tmp', 'always_restart.txt'));
    const stopSampling = sampleProcessCount(server);
    const served = [];
    for (let i = 0; i < 4; i++) {
        const response = await server.get(`/pid?i=${i}`, { timeoutMs: 15000 });
        assert.equal(response.status, 200, `request ${i}: ${response.text.slice(0, 300)}${logTail(server)}`);
        served.push(response.json().pid);
    }
    assert.equal(new Set([first, ...served]).size, 5, `five different processes for the boot check and 4 requests: ${[first, ...served].join(', ')}`);
    // The replaced ones do not pile up.
    await waitForGone([first, ...served.slice(0, 3)], { timeoutMs: 20000 });
    assert.ok(stopSampling() <= 6);
});

test('restart without --rolling-restarts: the request in flight finishes on the old process, queued requests are not lost', { timeout: 40000 }, async (t) => {
    const appDir = await appWithRestartFile(t);
    const server = await startServer(t, {
        appDir,
        readyPath: '/pid',
        args: ['--min-instances', '1', '--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '1'],
    });
    const [old] = await waitForReadyProcesses(server, 1);

    const slow = server.get('/slow?until=tmp/go&mark=tmp/slow', { timeoutMs: 30000 });
    await waitFor(() => markExists(server, 'tmp/slow'), { what: 'the slow request to reach the app' });
    const queued = [1, 2, 3].map((i) => server.get(`/pid?queued=${i}`, { timeoutMs: 30000 }));
    await waitForQueued(server, '/pid?queued=', 3);
    const restartsBefore = (await poolGroup(server)).restarts_total;
    touch(path.join(appDir, 'tmp', 'restart.txt'));
    // The request in flight ends only once the core has begun the restart.
    await waitFor(async () => (await poolGroup(server)).restarts_total > restartsBefore, { what: `the restart to begin${logTail(server)}` });
    release(server, 'tmp/go');

    const slowResponse = await slow;
    assert.equal(slowResponse.status, 200, `the request in flight completes: ${slowResponse.text.slice(0, 300)}${logTail(server)}`);
    assert.equal(slowResponse.json().pid, old);
    for (const response of await Promise.all(queued)) {
        assert.equal(response.status, 200, `a queued request is served: ${response.text.slice(0, 300)}${logTail(server)}`);
        assert.notEqual(response.json().pid, old, 'queued requests are served by the new version');
    }
    await waitForGone([old], { timeoutMs: 20000 });
    const after = await server.get('/pid');
    assert.equal(after.status, 200);
    assert.notEqual(after.json().pid, old);
});

test('--rolling-restarts: a restart under steady load gives zero non-2xx responses, and the processes are replaced', { timeout: 40000 }, async (t) => {
    const appDir = await appWithRestartFile(t);
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--min-instances', '2', '--rolling-restarts'] });
    const old = await waitForReadyProcesses(server, 2);

    // The load runs from before the touch until 20 requests were sent after the old processes
    // were gone (phases by observed state, not by the clock).
    let phase = 'before';
    let sentAfter = 0;
    const load = clientLoops(server.port, () => (phase === 'after' && (sentAfter += 1), `/slow?ms=20&phase=${phase}`), {
        clients: 3,
        shouldStop: () => sentAfter >= 20,
        timeoutMs: 20000,
    });
    await waitFor(() => hits(server).length >= 20, { what: '20 requests before the touch' });
    phase = 'during';
    touch(path.join(appDir, 'tmp', 'restart.txt'));
    await waitForGone(old, { timeoutMs: 20000, what: `the old processes ${old.join(', ')} to be replaced${logTail(server)}` });
    phase = 'after';
    const results = await load;

    const bad = results.filter((result) => result.status < 200 || result.status > 299);
    assert.deepEqual(bad, [], `zero non-2xx responses or errors across a rolling restart${logTail(server)}`);
    const pidsIn = (name) => results.filter((result) => result.url.endsWith(`phase=${name}`)).map((result) => result.pid);
    assert.ok(pidsIn('before').every((pid) => old.includes(pid)), 'before the touch, the old processes served');
    assert.ok(pidsIn('during').length > 0, 'requests were sent during the restart');
    const after = pidsIn('after');
    assert.ok(
        after.length >= 20 && after.every((pid) => !old.includes(pid)),
        `requests sent after the old processes were gone were served by new ones, got ${after.join(', ')} (old: ${old.join(', ')})${logTail(server)}`,
    );
    const now = await waitForReadyProcesses(server, 2, { timeoutMs: 10000 });
    assert.ok(now.every((pid) => !old.includes(pid)));
});

test('--resist-deployment-errors: when the new version cannot start, the old process keeps serving and the error is logged', { timeout: 40000 }, async (t) => {
    const appDir = await appWithRestartFile(t);
    const server = await startServer(t, { appDir, readyPath: '/pid', args: ['--min-instances', '1', '--resist-deployment-errors'] });
    const [old] = await waitForReadyProcesses(server, 1);

    fs.writeFileSync(path.join(appDir, 'broken'), 'yes\n');
    const logOffset = server.logText().length;
    touch(path.join(appDir, 'tmp', 'restart.txt'));
    await server.waitForLog(/POOL-APP-BROKEN pid=\d+/, { timeoutMs: 20000 });
    // The failure is reported by the server itself, not only in the app's own output.
    await waitFor(
        () =>
            server
                .logText()
                .slice(logOffset)
                .split('\n')
                .some((line) => !/^App \d+ std(out|err):/.test(line) && /could not|fail|error/i.test(line)),
        { timeoutMs: 20000, what: () => `a server log line about the failed deployment${logTail(server)}` },
    );
    for (let i = 0; i < 5; i++) {
        const response = await server.get(`/pid?i=${i}`, { timeoutMs: 10000 });
        assert.equal(response.status, 200, `request ${i} after the failed deployment: ${response.text.slice(0, 300)}${logTail(server)}`);
        assert.equal(response.json().pid, old, 'served by the old process');
    }
    assert.ok(isAlive(old));

    // Deploying a fixed version then replaces it.
    fs.rmSync(path.join(appDir, 'broken'));
    touch(path.join(appDir, 'tmp', 'restart.txt'), new Date(Date.now() + 2000));
    await waitForGone([old], { timeoutMs: 20000, what: `the old process to be replaced by the fixed version${logTail(server)}` });
    const fixed = await server.get('/pid');
    assert.equal(fixed.status, 200);
    assert.notEqual(fixed.json().pid, old);
});
