// Starting and stopping: graceful shutdown on SIGTERM/SIGINT with a request in flight, no app
// process outliving a SIGKILLed server, and daemon mode with `passenger stop`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { connectionRefused, request } from './lib/http.mjs';
import { cmdline, isAlive, waitFor, waitForGone, withTimeout } from './lib/proc.mjs';
import { makeTempDir, parseBanner, runPassenger, startDaemon, startServer } from './lib/server.mjs';

for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal}: a request in flight completes, then the server and its apps exit and the pid file goes`, { timeout: 60000 }, async (t) => {
        const server = await startServer(t, { fixture: 'echo' });
        const { appDir, port } = server;
        const { pid: appPid } = (await server.get('/pid')).json();
        const processes = server.track().map((record) => record.pid);
        assert.ok(processes.includes(appPid), `the app (${appPid}) runs below the server (${processes.join(', ')})`);
        const pidFile = server.banner().pidFile;
        assert.ok(pidFile && fs.existsSync(pidFile), `pid file ${pidFile} exists while running`);

        const mark = path.join('tmp', 'slow-started');
        const slow = server.get(`/slow?ms=1500&mark=${mark}`, { timeoutMs: 30000 });
        await waitFor(() => fs.existsSync(path.join(appDir, mark)), { what: 'the slow request to reach the app' });
        server.proc.kill(signal);

        const response = await slow;
        assert.equal(response.status, 200, `the request in flight completed: ${response.text}`);
        assert.deepEqual(response.json(), { pid: appPid, sleptMs: 1500 });

        const exit = await withTimeout(server.exited, 20000);
        assert.ok(exit, 'the server exits after the request in flight');
        await waitForGone([appPid, ...processes], { timeoutMs: 15000 });
        assert.equal(fs.existsSync(pidFile), false, 'the pid file is removed');
        assert.equal(await connectionRefused(port), true, 'nothing listens on the port');
        assert.equal(exit.code, 0, `a graceful stop exits 0, got ${JSON.stringify(exit)}`);
    });
}

test('SIGTERM with no request in flight stops promptly', { timeout: 30000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const { pid: appPid } = (await server.get('/pid')).json();
    server.proc.kill('SIGTERM');
    const exit = await withTimeout(server.exited, 15000);
    assert.ok(exit, 'exited (a bound for a busy machine, not a threshold)');
    await waitForGone([appPid]);
});

test('SIGKILL to the server: its app processes are gone within a few seconds', { timeout: 30000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const { pid: appPid } = (await server.get('/pid')).json();
    const processes = server.track().map((record) => record.pid);
    assert.ok(processes.includes(appPid));
    server.proc.kill('SIGKILL');
    await server.exited;
    await waitForGone([appPid, ...processes], { timeoutMs: 15000 });
    await waitFor(() => connectionRefused(server.port), { timeoutMs: 15000, what: 'the port to close' });
});

test('an app that ignores SIGTERM is killed after a timeout, and the server exits', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'stubborn' });
    const { pid: appPid } = (await server.get('/')).json();
    server.track();
    server.proc.kill('SIGTERM');
    const exit = await withTimeout(server.exited, 30000);
    assert.ok(exit, 'the server exits within 30 s');
    assert.equal(isAlive(appPid), false, 'the app was killed before the server exited');
    await server.waitForLog(new RegExp(`stubborn fixture ${appPid}: ignoring SIGTERM`), { timeoutMs: 1000 });
});

test('shutdown sends each app process one SIGTERM, so an app that takes its time to stop is not told twice', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'sigterm-counter' });
    const { pid: first } = (await server.get('/')).json();
    server.track();
    server.proc.kill('SIGTERM');
    const exit = await withTimeout(server.exited, 30000);
    assert.ok(exit, 'the server exits within 30 s');
    assert.equal(exit.code, 0, `a graceful stop exits 0, got ${JSON.stringify(exit)}`);
    const log = server.logText();
    const sigterms = log.split('\n').filter((line) => /sigterm-counter \d+: SIGTERM number/.test(line));
    assert.ok(sigterms.some((line) => line.includes(`sigterm-counter ${first}:`)), `the app ${first} got SIGTERM:\n${log.slice(-2000)}`);
    assert.ok(sigterms.every((line) => line.endsWith('SIGTERM number 1')), `no app process got a second SIGTERM:\n${sigterms.slice(0, 10).join('\n')}`);
    assert.match(log, new RegExp(`sigterm-counter ${first}: graceful shutdown done after 1 SIGTERM`));
});

test('a request that never finishes does not keep the server from stopping', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const { appDir } = server;
    const { pid: appPid } = (await server.get('/pid')).json();
    server.track();
    const mark = path.join('tmp', 'endless-started');
    const endless = server.get(`/slow?ms=600000&mark=${mark}`, { timeoutMs: 50000 }).then(
        (response) => ({ status: response.status }),
        (error) => ({ error: error.message }),
    );
    await waitFor(() => fs.existsSync(path.join(appDir, mark)), { what: 'the request to reach the app' });
    server.proc.kill('SIGTERM');
    const exit = await withTimeout(server.exited, 30000);
    assert.ok(exit, 'the server exits within 30 s although a request never finishes');
    await waitForGone([appPid], { timeoutMs: 15000 });
    const outcome = await endless;
    assert.ok(outcome.error || outcome.status >= 500, `the client is not left hanging: ${JSON.stringify(outcome)}`);
});

test('when the core process dies, the watchdog restarts it and its apps are gone', { timeout: 60000 }, async (t) => {
    // What a killed instance left: a socket folder of a core that is gone, and one whose core runs.
    const stale = `/tmp/passenger-core.${spawnSync('true').pid}.lifecycle-test`;
    const live = `/tmp/passenger-core.${process.pid}.lifecycle-test`;
    for (const folder of [stale, live]) fs.mkdirSync(folder);
    t.after(() => fs.rmSync(live, { recursive: true, force: true }));
    const server = await startServer(t, { fixture: 'echo' });
    assert.ok(!fs.existsSync(stale), 'the watchdog removes the socket folder of a core that is gone');
    assert.ok(fs.existsSync(live), 'and keeps the folder of a core that runs');
    const { pid: appPid } = (await server.get('/pid')).json();
    const below = server.track();
    const core = below.find((record) => record.ppid === server.pid && cmdline(record.pid).join(' ').includes('core'));
    assert.ok(core, `a core process runs below the server: ${below.map((r) => `${r.pid}:${cmdline(r.pid).join(' ')}`).join('; ')}`);

    const socketDirs = (pid) => fs.readdirSync('/tmp').filter((name) => name.startsWith(`passenger-core.${pid}.`));
    assert.equal(socketDirs(core.pid).length, 1, 'the core keeps its app sockets in a folder named after it');

    process.kill(core.pid, 'SIGKILL');
    await waitForGone([core.pid, appPid], { timeoutMs: 15000 });
    const next = await waitFor(
        async () => {
            const response = await server.get('/pid', { timeoutMs: 15000 });
            return response.status === 200 && response.json();
        },
        { timeoutMs: 20000, intervalMs: 200, what: 'the server to serve again after the core died' },
    );
    assert.notEqual(next.pid, appPid, 'a new app process');
    assert.equal(server.exitInfo, null, 'the watchdog kept running');
    assert.deepEqual(socketDirs(core.pid), [], "the dead core's socket folder is removed");
    server.track();
});

test('concurrent first requests while the app is still starting are all served', { timeout: 60000 }, async (t) => {
    // Ready as soon as a static file is served, so the app may not have started yet.
    const server = await startServer(t, { fixture: 'echo', readyPath: '/hello.txt' });
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => server.get(`/echo?first=${i}`, { timeoutMs: 30000 })));
    responses.forEach((response, i) => {
        assert.equal(response.status, 200, `request ${i}: ${response.text.slice(0, 300)}`);
        assert.equal(response.json().url, `/echo?first=${i}`);
    });
});

// Checks a daemon that `passenger stop` just stopped: everything is gone at once (stop waits),
// the pid file is removed and the port is closed.
async function assertStopped(daemon, { daemonPid, appPid }) {
    assert.equal(isAlive(daemonPid), false, `server ${daemonPid} is gone when stop returns`);
    assert.equal(isAlive(appPid), false, `app ${appPid} is gone when stop returns`);
    assert.equal(fs.existsSync(daemon.pidFile), false, 'the pid file is removed');
    assert.equal(await connectionRefused(daemon.port), true, 'nothing listens on the port');
}

test('start --daemonize returns after the banner, serves, logs; stop --port stops it', { timeout: 60000 }, async (t) => {
    const daemon = await startDaemon(t, { fixture: 'echo' });
    const { appDir, port } = daemon;
    const banner = parseBanner(daemon.start.stdout);
    assert.equal(banner.pidFile, path.join(appDir, `passenger.${port}.pid`), daemon.start.stdout);
    assert.equal(banner.logFile, path.join(appDir, `passenger.${port}.log`));

    const daemonPid = daemon.pid();
    assert.ok(daemonPid && isAlive(daemonPid), `the pid file names a live process (${daemonPid})`);
    const { pid: appPid } = (await request(port, '/pid')).json();
    daemon.track();

    // The log is written in daemon mode too, app output included.
    await waitFor(() => daemon.logText().includes(`App ${appPid} stdout: echo fixture starting, pid ${appPid}`), {
        what: () => `the app's output in ${daemon.logFile}:\n${daemon.logText()}`,
    });

    const stop = await runPassenger(['stop', '--port', String(port)], { cwd: appDir });
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    await assertStopped(daemon, { daemonPid, appPid });
    assert.equal(daemon.start.pipesClosed, true, 'the daemon does not hold the terminal (stdout/stderr of `start -d`) open');
});

test('stop APP_DIR --port P works from another directory', { timeout: 60000 }, async (t) => {
    const daemon = await startDaemon(t, { fixture: 'echo' });
    const daemonPid = daemon.pid();
    const { pid: appPid } = (await request(daemon.port, '/pid')).json();
    daemon.track();
    const elsewhere = await makeTempDir(t, 'passenger-it-cwd-');
    const stop = await runPassenger(['stop', daemon.appDir, '--port', String(daemon.port)], { cwd: elsewhere });
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    await assertStopped(daemon, { daemonPid, appPid });
});

test('start -d --pid-file F, then stop --pid-file F', { timeout: 60000 }, async (t) => {
    const elsewhere = await makeTempDir(t, 'passenger-it-pid-');
    const pidFile = path.join(elsewhere, 'server.pid');
    const daemon = await startDaemon(t, { fixture: 'echo', args: ['--pid-file', pidFile] });
    assert.equal(daemon.pidFile, pidFile);
    const daemonPid = daemon.pid();
    assert.ok(daemonPid && isAlive(daemonPid), 'the custom pid file names a live process');
    const { pid: appPid } = (await request(daemon.port, '/pid')).json();
    daemon.track();
    const stop = await runPassenger(['stop', '--pid-file', pidFile], { cwd: elsewhere });
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    await assertStopped(daemon, { daemonPid, appPid });
});
