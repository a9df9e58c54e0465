// The command line of `passenger start`: version, help, options and their errors, the banner,
// where the pid and log files go, and options that reach the app.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';

import { copyFixture, freePort, makeTempDir, onCleanup, passengerBin, runPassenger, serverEnv, startServer } from './lib/server.mjs';
import { descendantsOf, isAlive } from './lib/proc.mjs';

const nonEmptyLines = (text) => text.split('\n').filter((line) => line.trim() !== '');

test('passenger --version exits 0 and prints a version', { timeout: 20000 }, async () => {
    const result = await runPassenger(['--version'], { timeoutMs: 10000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\d+\.\d+\.\d+/);
});

test('passenger start --help exits 0 and lists the options', { timeout: 20000 }, async () => {
    const result = await runPassenger(['start', '--help'], { timeoutMs: 10000 });
    assert.equal(result.code, 0, result.stderr);
    for (const option of ['--port', '--address', '--environment', '--daemonize', '--log-file', '--pid-file', '--envvar', '--nodejs', '--startup-file']) {
        assert.ok(result.stdout.includes(option), `help mentions ${option}:\n${result.stdout}`);
    }
});

const badInvocations = [
    [['--port', '70000'], /port/i],
    [['--port', 'abc'], /port/i],
    [['--frobnicate'], /frobnicate/],
    [['--envvar', 'NOEQUALS'], /envvar/i],
    [['--environment'], /environment/i],
];

for (const [args, namesOption] of badInvocations) {
    test(`passenger start ${args.join(' ')}: one line on stderr naming the option, exit 1`, { timeout: 30000 }, async (t) => {
        const appDir = await copyFixture(t, 'echo');
        const result = await runPassenger(['start', ...args], { cwd: appDir, timeoutMs: 15000 });
        assert.equal(result.timedOut, false, `the command did not exit; it printed:\n${result.stdout}${result.stderr}`);
        assert.equal(result.code, 1, `exit code; stderr:\n${result.stderr}`);
        const lines = nonEmptyLines(result.stderr);
        assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${result.stderr}`);
        assert.match(lines[0], namesOption);
        assert.doesNotMatch(result.stdout, /PID file:/, 'no banner for a bad command line');
    });
}

test('passenger start --user with no such user: one line naming the option, exit 1', { timeout: 30000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    const result = await runPassenger(['start', '--user', 'no-such-user-here'], { cwd: appDir, timeoutMs: 15000 });
    assert.equal(result.code, 1, `exit code; stderr:\n${result.stderr}`);
    assert.deepEqual(nonEmptyLines(result.stderr), ["passenger start: --user: no such user 'no-such-user-here'"]);
});

test('passenger start --user as another user than root: one line saying root is needed, exit 1', { timeout: 30000 }, async (t) => {
    if (process.getuid() !== 0) {
        t.skip('needs root to run the command as an unprivileged user');
        return;
    }
    // /tmp itself: a folder the unprivileged user may enter.
    const result = spawnSync('runuser', ['-u', 'nobody', '--', passengerBin, 'start', '/tmp', '--user', 'root'], {
        env: serverEnv(),
        timeout: 15000,
        encoding: 'utf8',
    });
    assert.equal(result.status, 1, `exit code; stderr:\n${result.stderr}`);
    assert.deepEqual(nonEmptyLines(result.stderr), ['passenger start: --user: only root can run the app as another user']);
});

test('--user: the core and the app run as that user, the watchdog stays root', { timeout: 60000 }, async (t) => {
    if (process.getuid() !== 0) {
        t.skip('needs root: switching users');
        return;
    }
    const appDir = await copyFixture(t, 'echo');
    fs.chmodSync(appDir, 0o755); // the temp folder is root's alone; the user must read the app
    const server = await startServer(t, { appDir, args: ['--user', 'nobody'] });
    const nobody = Number(spawnSync('id', ['-u', 'nobody']).stdout.toString());
    const uidOf = (pid) => Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

    const { env } = (await server.get('/env')).json();
    assert.equal(env.USER, 'nobody');
    assert.equal(env.LOGNAME, 'nobody');
    assert.equal(env.HOME, spawnSync('getent', ['passwd', 'nobody']).stdout.toString().split(':')[5]);
    assert.equal(uidOf(server.pid), 0, 'the watchdog keeps root');
    const descendants = descendantsOf(server.pid);
    assert.ok(descendants.length >= 2, 'a core and an app process');
    for (const { pid } of descendants) assert.equal(uidOf(pid), nobody, `process ${pid} runs as nobody`);
});

test('Passengerfile.json in the app folder: its settings apply, the command line wins', { timeout: 60000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    fs.writeFileSync(
        path.join(appDir, 'Passengerfile.json'),
        JSON.stringify({ environment: 'production', envvars: { ECHO_VAR: 'from the file', ECHO_EQ: 'from the file' } }),
    );
    const server = await startServer(t, { appDir, args: ['--envvar', 'ECHO_EQ=from the command line'] });
    assert.equal(server.banner().environment, 'production');
    const { env } = (await server.get('/env')).json();
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.ECHO_VAR, 'from the file');
    assert.equal(env.ECHO_EQ, 'from the command line');
});

test('PASSENGER_* environment variables set options; they win over Passengerfile.json', { timeout: 60000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    fs.writeFileSync(path.join(appDir, 'Passengerfile.json'), JSON.stringify({ environment: 'development' }));
    const server = await startServer(t, { appDir, env: { PASSENGER_ENVIRONMENT: 'production' } });
    assert.equal(server.banner().environment, 'production');
    assert.equal((await server.get('/env')).json().env.NODE_ENV, 'production');
});

test('a Passengerfile.json with an unknown setting: one line naming the file and the setting, exit 1', { timeout: 30000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    fs.writeFileSync(path.join(appDir, 'Passengerfile.json'), '{"port": 4000, "frobnicate": true}');
    const result = await runPassenger(['start'], { cwd: appDir, timeoutMs: 15000 });
    assert.equal(result.code, 1, `exit code; stderr:\n${result.stderr}`);
    assert.deepEqual(nonEmptyLines(result.stderr), ["passenger start: Passengerfile.json: unknown setting 'frobnicate'"]);
});

test('passenger start on a port in use: clear message, exit 1', { timeout: 30000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    onCleanup(t, () => new Promise((resolve) => blocker.close(resolve)));
    const { port } = blocker.address();

    const result = await runPassenger(['start', '--port', String(port)], { cwd: appDir, timeoutMs: 15000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.timedOut, false, `the command did not exit:\n${output}`);
    assert.equal(result.code, 1, output);
    assert.match(output, /in use/i);
    assert.ok(output.includes(String(port)), `the message names port ${port}:\n${output}`);
});

test('passenger start in a folder with nothing startable mentions app.js, exit 1', { timeout: 30000 }, async (t) => {
    const appDir = await makeTempDir(t);
    fs.writeFileSync(path.join(appDir, 'README'), 'not an app\n');
    const result = await runPassenger(['start', '--port', String(await freePort())], { cwd: appDir, timeoutMs: 15000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.timedOut, false, `the command did not exit:\n${output}`);
    assert.equal(result.code, 1, output);
    assert.match(output, /app\.js/);
});

test('passenger start --startup-file that does not exist names it, exit 1', { timeout: 30000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    const result = await runPassenger(['start', '--port', String(await freePort()), '--startup-file', 'missing-start.js'], {
        cwd: appDir,
        timeoutMs: 15000,
    });
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 1, output);
    assert.match(output, /missing-start\.js/);
});

test('banner shows pid file, log file, environment and URL; default files in the app folder', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const { appDir, port } = server;
    const banner = server.banner();
    assert.equal(banner.pidFile, path.join(appDir, `passenger.${port}.pid`), server.stdout());
    assert.equal(banner.logFile, path.join(appDir, `passenger.${port}.log`), server.stdout());
    assert.equal(banner.environment, 'development');
    assert.equal(banner.accessibleVia, `http://0.0.0.0:${port}/`);
    assert.match(server.stdout(), /Ctrl-C/);

    const pid = Number(fs.readFileSync(banner.pidFile, 'utf8').trim());
    assert.ok(Number.isInteger(pid) && isAlive(pid), `pid file holds a live pid, got ${pid}`);
    const ours = [server.pid, ...descendantsOf(server.pid).map((record) => record.pid)];
    assert.ok(ours.includes(pid), `pid ${pid} is the server or one of its processes (${ours.join(', ')})`);
    assert.ok(fs.existsSync(banner.logFile), 'the log file exists');
});

test('pid file goes to tmp/pids/ and log file to log/ when those folders exist', { timeout: 60000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    fs.mkdirSync(path.join(appDir, 'log'));
    fs.mkdirSync(path.join(appDir, 'tmp', 'pids'), { recursive: true });
    const server = await startServer(t, { appDir });
    const { port } = server;
    const banner = server.banner();
    assert.equal(banner.pidFile, path.join(appDir, 'tmp', 'pids', `passenger.${port}.pid`));
    assert.equal(banner.logFile, path.join(appDir, 'log', `passenger.${port}.log`));
    assert.ok(fs.existsSync(banner.pidFile), 'pid file exists');
    assert.ok(fs.existsSync(banner.logFile), 'log file exists');
    assert.ok(!fs.existsSync(path.join(appDir, `passenger.${port}.pid`)), 'no pid file in the app root');
    assert.ok(!fs.existsSync(path.join(appDir, `passenger.${port}.log`)), 'no log file in the app root');
});

test('--log-file and --pid-file override the defaults', { timeout: 60000 }, async (t) => {
    const elsewhere = await makeTempDir(t, 'passenger-it-files-');
    const logFile = path.join(elsewhere, 'custom.log');
    const pidFile = path.join(elsewhere, 'custom.pid');
    const server = await startServer(t, { fixture: 'echo', args: ['--log-file', logFile, '--pid-file', pidFile] });
    const banner = server.banner();
    assert.equal(banner.logFile, logFile);
    assert.equal(banner.pidFile, pidFile);
    assert.ok(fs.existsSync(pidFile), 'custom pid file exists');
    await server.waitForLog(/echo fixture starting/);
    assert.ok(fs.readFileSync(logFile, 'utf8').length > 0, 'custom log file is written');
    assert.ok(!fs.existsSync(path.join(server.appDir, `passenger.${server.port}.pid`)), 'no default pid file');
    assert.ok(!fs.existsSync(path.join(server.appDir, `passenger.${server.port}.log`)), 'no default log file');
});

test('passenger start APP_DIR serves that folder from another working directory', { timeout: 60000 }, async (t) => {
    const cwd = await makeTempDir(t, 'passenger-it-cwd-');
    const server = await startServer(t, { fixture: 'echo', appDirArg: true, cwd });
    const env = (await server.get('/env')).json();
    assert.equal(env.cwd, server.appDir, 'the app runs in its own folder');
    assert.equal(server.banner().pidFile, path.join(server.appDir, `passenger.${server.port}.pid`));
    assert.deepEqual(fs.readdirSync(cwd).filter((name) => name.startsWith('passenger.')), [], 'nothing written to the cwd');
});

test('--environment production: banner, NODE_ENV and PASSENGER_APP_ENV', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo', args: ['--environment', 'production'] });
    assert.equal(server.banner().environment, 'production');
    const { env } = (await server.get('/env')).json();
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.PASSENGER_APP_ENV, 'production');
});

test('defaults reach the app: NODE_ENV development, PORT set; --envvar NAME=VALUE', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'echo',
        args: ['--envvar', 'ECHO_VAR=hello world', '--envvar', 'ECHO_EQ=a=b=c'],
    });
    const { env, argv } = (await server.get('/env')).json();
    assert.equal(env.NODE_ENV, 'development');
    assert.equal(env.PASSENGER_APP_ENV, 'development');
    assert.match(env.PORT ?? '', /^\d+$/, `PORT is a number, got ${env.PORT}`);
    assert.equal(env.ECHO_VAR, 'hello world');
    assert.equal(env.ECHO_EQ, 'a=b=c', 'only the first = separates name and value');
    assert.equal(argv[1], path.join(server.appDir, 'app.js'), 'the app runs its startup file by absolute path');
});

test('--address 127.0.0.1 is shown in the banner and served', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo', args: ['--address', '127.0.0.1'] });
    assert.equal(server.banner().accessibleVia, `http://127.0.0.1:${server.port}/`);
    assert.equal((await server.get('/pid')).status, 200);
});

test('--startup-file runs another file than app.js', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'startup-file', args: ['--startup-file', 'server.js'] });
    const response = await server.get('/');
    assert.equal(response.status, 200);
    assert.match(response.text, /^startup-file fixture \d+\n$/);
});

test('--nodejs PATH runs the app with that Node.js', { timeout: 60000 }, async (t) => {
    const binDir = await makeTempDir(t, 'passenger-it-nodejs-');
    const wrapper = path.join(binDir, 'node-wrapper');
    fs.writeFileSync(wrapper, `#!/bin/sh\nNODEJS_WRAPPER=used exec ${JSON.stringify(process.execPath)} "$@"\n`, { mode: 0o755 });
    const server = await startServer(t, { fixture: 'echo', args: ['--nodejs', wrapper] });
    const { env } = (await server.get('/env')).json();
    assert.equal(env.NODEJS_WRAPPER, 'used');
});

test('an Express-style app (app.listen(8080, host, cb)) is served', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'express-style' });
    const response = await server.get('/some/path?x=1');
    assert.equal(response.status, 200);
    assert.match(response.text, /^express-style fixture \d+ GET \/some\/path\?x=1\n$/);
});

test('passenger stop with no server running: a message about the pid file, non-zero exit', { timeout: 30000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    const port = await freePort();
    const result = await runPassenger(['stop', '--port', String(port)], { cwd: appDir, timeoutMs: 15000 });
    const output = result.stdout + result.stderr;
    assert.notEqual(result.code, 0, output);
    assert.match(output, /pid file|not running/i);
});

test('a stale pid file (its process is gone) does not stop a new start', { timeout: 60000 }, async (t) => {
    const appDir = await copyFixture(t, 'echo');
    const port = await freePort();
    // A pid that certainly belonged to a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    assert.equal(isAlive(deadPid), false);
    fs.writeFileSync(path.join(appDir, `passenger.${port}.pid`), `${deadPid}\n`);

    const server = await startServer(t, { appDir, port });
    assert.equal((await server.get('/pid')).status, 200);
    const pid = Number(fs.readFileSync(path.join(appDir, `passenger.${port}.pid`), 'utf8').trim());
    assert.notEqual(pid, deadPid, 'the pid file now names the running server');
});

test('a second start on the same port fails and leaves the running server and its pid file alone', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const pidFile = server.banner().pidFile;
    const pidBefore = fs.readFileSync(pidFile, 'utf8');

    const second = await runPassenger(['start', '--port', String(server.port)], { cwd: server.appDir, timeoutMs: 15000 });
    assert.equal(second.timedOut, false);
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.equal(fs.existsSync(pidFile), true, 'the running server keeps its pid file');
    assert.equal(fs.readFileSync(pidFile, 'utf8'), pidBefore, 'with its own pid');
    assert.equal((await server.get('/pid')).status, 200, 'the running server still serves');
});
