// Init systems and containers (issue 16): the server as PID 1 of a fresh PID namespace reaps an
// orphan it did not spawn and stops cleanly on SIGTERM with exit status 0; READY=1 (and
// STOPPING=1) reach $NOTIFY_SOCKET, a Unix datagram socket the test binds; the example systemd
// unit passes `systemd-analyze verify`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { cmdline, descendantsOf, killRecorded, procStat, waitFor } from './lib/proc.mjs';
import { corePid } from './lib/pool.mjs';
import { copyFixture, freePort, makeTempDir, onCleanup, passengerBin, repoRoot, serverEnv, startServer, waitForHttp } from './lib/server.mjs';

// Runs `command args` until exit; resolves {code, output}.
function run(command, args, options = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
    });
}

// Whether this machine lets the test create a PID namespace (needs root or user namespaces; a
// container may forbid both): null when it does, else why not.
async function pidNamespaceRefusal() {
    const probe = await run('unshare', ['--pid', '--fork', '--mount-proc', 'true']).catch((error) => ({ code: -1, output: String(error) }));
    return probe.code === 0 ? null : `unshare --pid is not permitted here: ${probe.output.trim()}`;
}

// `passenger start appDir --port P args...` as PID 1 of a fresh PID namespace (sharing /tmp with
// this one), serving. Resolves {child, init (its PID 1's stat), port, exited, output()}.
async function startInPidNamespace(t, appDir, args) {
    const port = await freePort();
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', passengerBin, 'start', appDir, '--port', String(port), ...args], {
        env: serverEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const seen = new Map();
    onCleanup(t, async () => {
        for (const record of descendantsOf(child.pid)) seen.set(record.pid, record);
        child.kill('SIGKILL');
        for (const record of seen.values()) killRecorded(record);
    });
    await waitForHttp(port, { gaveUp: () => child.exitCode !== null && `exited: ${output}` });
    const init = descendantsOf(child.pid).find((p) => p.ppid === child.pid);
    assert.ok(init, 'the namespace has a PID 1');
    for (const record of descendantsOf(child.pid)) seen.set(record.pid, record);
    return { child, init, port, exited, output: () => output, seen };
}

test('PID 1 in a fresh PID namespace: reaps an orphan, stops on SIGTERM', async (t) => {
    const refusal = await pidNamespaceRefusal();
    if (refusal) {
        t.skip(refusal);
        return;
    }
    const appDir = await copyFixture(t, 'generic-app');
    // The subshell starts a process and exits at once: the process is orphaned, and the kernel
    // gives it to the namespace's PID 1, the server's watchdog. It exits when the test says so.
    const command = "mkdir -p tmp; (sh -c 'while [ ! -e tmp/orphan-go ]; do sleep 0.05; done' &); exec node server.js";
    const { child, init, port, exited, output, seen } = await startInPidNamespace(t, appDir, ['--app-start-command', command]);
    assert.equal(cmdline(init.pid)[1], 'start');
    const orphan = await waitFor(
        () => descendantsOf(child.pid).find((p) => p.ppid === init.pid && cmdline(p.pid).some((word) => word.includes('orphan-go'))),
        { what: 'the orphan adopted by PID 1' },
    );
    for (const record of descendantsOf(child.pid)) seen.set(record.pid, record);
    fs.writeFileSync(path.join(appDir, 'tmp', 'orphan-go'), '');
    // Reaped: gone from /proc entirely, not left a zombie.
    await waitFor(() => procStat(orphan.pid) === null, { what: `orphan ${orphan.pid} reaped (state: ${procStat(orphan.pid)?.state})` });
    assert.ok((await fetch(`http://127.0.0.1:${port}/`)).status < 500, 'still serving');

    process.kill(init.pid, 'SIGTERM');
    const result = await exited;
    assert.deepEqual(result, { code: 0, signal: null }, output());
    assert.match(output(), /Stopping web server\.\.\.[\s\S]*Shutdown complete[\s\S]* done/);
    assert.deepEqual(descendantsOf(child.pid), []);
});

test("a server in another PID namespace leaves this one's socket folders alone", async (t) => {
    const refusal = await pidNamespaceRefusal();
    if (refusal) {
        t.skip(refusal);
        return;
    }
    // Seen from a fresh PID namespace, this server's core pid does not exist; its folder in the
    // shared /tmp must not look like the leftover of a dead instance to the other's watchdog.
    const here = await startServer(t, { fixture: 'echo', readyPath: '/pid' });
    const core = corePid(here);
    const folders = () => fs.readdirSync('/tmp').filter((name) => name.startsWith(`passenger-core.${core}.`));
    assert.equal(folders().length, 1);
    const sockets = fs.readdirSync(path.join('/tmp', folders()[0]));
    assert.ok(sockets.some((name) => name.endsWith('.sock')), `the app's socket is there: ${sockets}`);

    const there = await startInPidNamespace(t, await copyFixture(t, 'echo'), []);
    assert.equal(folders().length, 1, "this core's socket folder is still there");
    assert.deepEqual(fs.readdirSync(path.join('/tmp', folders()[0])), sockets, 'with its sockets');
    // A new app process can still listen there.
    const first = (await here.get('/pid')).json().pid;
    process.kill(first, 'SIGKILL');
    await waitFor(async () => {
        const response = await here.get('/pid');
        return response.status === 200 && response.json().pid !== first;
    }, { what: () => `a new app process serving${here.logText().slice(-1500)}` });
    process.kill(there.init.pid, 'SIGTERM');
    assert.deepEqual(await there.exited, { code: 0, signal: null }, there.output());
});

test('READY=1 to $NOTIFY_SOCKET once serving, STOPPING=1 on stop', async (t) => {
    const dir = await makeTempDir(t);
    const socketPath = path.join(dir, 'notify.sock');
    const receiver = spawn('python3', ['-u', '-c', [
        'import socket, sys',
        's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
        's.bind(sys.argv[1])',
        'print("bound")',
        'while True: print(s.recv(4096).decode().replace("\\n", " "))',
    ].join('\n'), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(t, () => receiver.kill('SIGKILL'));
    let received = '';
    receiver.stdout.on('data', (chunk) => (received += chunk));
    await waitFor(() => received.includes('bound'), { what: 'the notify socket bound' });

    const server = await startServer(t, { fixture: 'echo', env: { NOTIFY_SOCKET: socketPath }, waitReady: false });
    await waitFor(() => received.includes('READY=1') || server.exitInfo, { timeoutMs: 20000, what: 'READY=1' });
    assert.match(received, /READY=1/);
    // Ready means serving: the first request after it is answered.
    assert.equal((await server.get('/pid')).status, 200);
    await server.stop();
    await waitFor(() => received.includes('STOPPING=1'), { what: 'STOPPING=1' });
    assert.equal(received.match(/READY=1/g).length, 1);
});

test('the example systemd unit passes systemd-analyze verify', async (t) => {
    const dir = await makeTempDir(t);
    const unit = fs.readFileSync(path.join(repoRoot, 'examples', 'deploy', 'passenger-leaderboard.service'), 'utf8');
    // Where this checkout is, instead of the install paths the example names.
    const local = unit.replaceAll('/opt/passenger/bin/passenger', passengerBin).replaceAll('/srv/leaderboard', path.join(repoRoot, 'examples', 'leaderboard'));
    const file = path.join(dir, 'passenger-leaderboard.service');
    fs.writeFileSync(file, local);
    const { code, output } = await run('systemd-analyze', ['verify', file]);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /passenger-leaderboard\.service/);
    assert.match(unit, /^Type=notify$/m);
});
