// Root and the app user's files: with `sudo passenger start --user NAME` the app folder is NAME's,
// and NAME may plant symlinks or forged files where root writes (log, pid file, its temporary
// names) or reads (Passengerfile.json, the pid file for `passenger stop`). Root must never follow
// such a link nor signal a pid NAME chose; it refuses with one line naming the file and why.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { copyFixture, freePort, makeTempDir, onCleanup, runPassenger, startServer } from './lib/server.mjs';
import { isAlive, waitFor } from './lib/proc.mjs';

const asRoot = { skip: process.getuid() === 0 ? false : 'needs root: the app folder belongs to nobody' };
const nonEmptyLines = (text) => text.split('\n').filter((line) => line.trim() !== '');

const nobody = Number(spawnSync('id', ['-u', 'nobody']).stdout.toString());
const nobodyGroup = Number(spawnSync('id', ['-g', 'nobody']).stdout.toString());

// The echo app in a folder owned by nobody, with the log/ and tmp/pids/ folders Passenger uses.
async function appOwnedByNobody(t) {
    const appDir = await copyFixture(t, 'echo');
    fs.mkdirSync(path.join(appDir, 'log'));
    fs.mkdirSync(path.join(appDir, 'tmp', 'pids'), { recursive: true });
    spawnSync('chown', ['-R', `${nobody}:${nobodyGroup}`, appDir]);
    fs.chmodSync(appDir, 0o755);
    return appDir;
}

// A folder only root can enter, where the victims of a planted link live.
async function rootOnlyDir(t) {
    const dir = await makeTempDir(t, 'passenger-it-victim-');
    fs.chmodSync(dir, 0o700);
    return dir;
}

// A file of root's, in that folder, that must keep its contents.
async function preciousFile(t) {
    const file = path.join(await rootOnlyDir(t), 'precious.txt');
    fs.writeFileSync(file, 'precious\n');
    return file;
}

// Plants a symlink as nobody would (owned by nobody).
function plantLink(target, linkPath) {
    fs.symlinkSync(target, linkPath);
    fs.lchownSync(linkPath, nobody, nobodyGroup);
}

// A root process the test owns, to see whether `passenger stop` signals it.
function rootSleeper(t) {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    onCleanup(t, () => child.kill('SIGKILL'));
    return child.pid;
}

// The command exited 1 with one line on stderr naming `named` (a path or a pid) and matching `why`.
function assertRefused(result, named, why) {
    assert.equal(result.code, 1, `exit code; output:\n${result.stdout}${result.stderr}`);
    const lines = nonEmptyLines(result.stderr);
    assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
    assert.ok(lines[0].includes(named), `the line names ${named}: ${lines[0]}`);
    assert.match(lines[0], why);
}

// `passenger start` that should refuse at once; if it starts anyway (the bug), it is killed after
// a bounded time and the test's assertions on exit code and files fail.
function startExpectingRefusal(appDir, port, extra = []) {
    return runPassenger(['start', '--port', String(port), '--user', 'nobody', ...extra], { cwd: appDir, timeoutMs: 20000 });
}

test('a symlink at log/passenger.PORT.log: start refuses, naming the file; the target is not created', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const victim = path.join(await rootOnlyDir(t), 'victim.txt');
    const port = await freePort();
    const logFile = path.join(appDir, 'log', `passenger.${port}.log`);
    plantLink(victim, logFile);

    const result = await startExpectingRefusal(appDir, port);
    assert.equal(fs.existsSync(victim), false, 'root created the file the link points to');
    assertRefused(result, logFile, /symbolic link/);
});

test('a symlink at log/passenger.PORT.log to an existing file: nothing is appended to it', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const victim = await preciousFile(t);
    const port = await freePort();
    plantLink(victim, path.join(appDir, 'log', `passenger.${port}.log`));

    const result = await startExpectingRefusal(appDir, port);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(result.code, 1, `exit code; output:\n${result.stdout}${result.stderr}`);
});

test('the log folder is a symlink to a root-only folder: start refuses; nothing is created there', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const victimDir = await rootOnlyDir(t);
    fs.rmdirSync(path.join(appDir, 'log'));
    plantLink(victimDir, path.join(appDir, 'log'));
    const port = await freePort();

    const result = await startExpectingRefusal(appDir, port);
    assert.deepEqual(fs.readdirSync(victimDir), [], 'root wrote into the folder the link points to');
    assertRefused(result, path.join(appDir, 'log'), /symbolic link/);
});

test('symlinks at the temporary pid file names: the target keeps its contents, the pid file is a plain file', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const victim = await preciousFile(t);
    const port = await freePort();
    const pidFile = path.join(appDir, 'tmp', 'pids', `passenger.${port}.pid`);
    // The names the next pids would give the temporary file (`<pid file>.tmp<pid>`).
    const last = Number(fs.readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    for (let i = 1; i <= 400; i++) plantLink(victim, `${pidFile}.tmp${((last + i) % pidMax) || 1}`);

    const server = await startServer(t, { appDir, port, args: ['--user', 'nobody'] });
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n', 'root wrote the pid into the file a link points to');
    const info = fs.lstatSync(pidFile);
    assert.ok(info.isFile(), 'the pid file is a regular file, not a link');
    assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), server.pid);
});

test('the pid file is a symlink: start refuses, naming it; the target is untouched', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const victim = await preciousFile(t);
    const port = await freePort();
    const pidFile = path.join(appDir, 'tmp', 'pids', `passenger.${port}.pid`);
    plantLink(victim, pidFile);

    const result = await startExpectingRefusal(appDir, port);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
    assertRefused(result, pidFile, /symbolic link/);
});

test('passenger stop with a pid file that is a symlink: refused, nothing is signalled', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const sleeper = rootSleeper(t);
    const target = path.join(await rootOnlyDir(t), 'some.pid');
    fs.writeFileSync(target, `${sleeper}\n`);
    const port = await freePort();
    const pidFile = path.join(appDir, 'tmp', 'pids', `passenger.${port}.pid`);
    plantLink(target, pidFile);

    const result = await runPassenger(['stop', '--port', String(port)], { cwd: appDir, timeoutMs: 15000 });
    assert.ok(isAlive(sleeper), 'passenger stop signalled the pid behind a symlink');
    assertRefused(result, pidFile, /symbolic link/);
});

test('passenger stop with a forged pid file naming another process: refused, that process lives', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const sleeper = rootSleeper(t);
    const port = await freePort();
    const pidFile = path.join(appDir, 'tmp', 'pids', `passenger.${port}.pid`);
    fs.writeFileSync(pidFile, `${sleeper}\n`);
    fs.chownSync(pidFile, nobody, nobodyGroup);

    const result = await runPassenger(['stop', '--port', String(port)], { cwd: appDir, timeoutMs: 15000 });
    assert.ok(isAlive(sleeper), 'passenger stop signalled a process that is not the server');
    assertRefused(result, `process ${sleeper} `, /not the server/);
});

test('a symlink at Passengerfile.json: start refuses, naming it; the target is not read', { timeout: 60000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const secret = path.join(await rootOnlyDir(t), 'secret');
    fs.writeFileSync(secret, 'root secret, not JSON\n');
    plantLink(secret, path.join(appDir, 'Passengerfile.json'));
    const port = await freePort();

    const result = await startExpectingRefusal(appDir, port);
    assertRefused(result, path.join(appDir, 'Passengerfile.json'), /symbolic link/);
});

test('an app folder owned by the --user: the log file is created as that user, start and stop work', { timeout: 90000, ...asRoot }, async (t) => {
    const appDir = await appOwnedByNobody(t);
    const port = await freePort();
    const server = await startServer(t, { appDir, port, args: ['--user', 'nobody'] });
    const logFile = path.join(appDir, 'log', `passenger.${port}.log`);
    assert.equal(fs.lstatSync(logFile).uid, nobody, 'the log file in the app folder belongs to the app user');
    assert.equal(Number(fs.readFileSync(path.join(appDir, 'tmp', 'pids', `passenger.${port}.pid`), 'utf8')), server.pid);

    const stop = await runPassenger(['stop', '--port', String(port)], { cwd: appDir, timeoutMs: 30000 });
    assert.equal(stop.code, 0, `passenger stop: ${stop.stdout}${stop.stderr}`);
    await waitFor(() => !isAlive(server.pid), { timeoutMs: 10000 });
});

test("the app user's Passengerfile.json naming a pid or log file elsewhere: start refuses, the file is untouched", { timeout: 60000, ...asRoot }, async (t) => {
    const victim = await preciousFile(t);
    for (const key of ['pid_file', 'log_file']) {
        const appDir = await appOwnedByNobody(t);
        const settings = path.join(appDir, 'Passengerfile.json');
        fs.writeFileSync(settings, JSON.stringify({ [key]: victim }));
        fs.chownSync(settings, nobody, nobodyGroup);
        const port = await freePort();

        const result = await startExpectingRefusal(appDir, port);
        assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n', `root wrote the ${key} the app user chose`);
        assert.equal(result.code, 1, `exit code; output:\n${result.stdout}${result.stderr}`);
        assert.deepEqual(nonEmptyLines(result.stderr), [
            `passenger start: Passengerfile.json: '${key}' names a file root writes, and this file belongs to user nobody; give it on the command line instead`,
        ]);
    }
});
