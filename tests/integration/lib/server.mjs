// Starting and stopping the real `bin/passenger` for a test.
//
// Always the repo's own binary by absolute path, never `passenger` from PATH (Debian's package
// installs a different one system-wide). Every process a test starts is cleaned up by the
// test's own t.after, also when the test fails: servers get SIGTERM, then SIGKILL, and every
// process seen below them (core, app processes) is killed if it is still there.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { request } from './http.mjs';
import { descendantsOf, isAlive, killRecorded, procStat, sleep, waitFor, withTimeout } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
// TEST_BIN_DIR: another build's binaries (the ThreadSanitizer run: `make tsan-test`).
export const binDir = process.env.TEST_BIN_DIR || path.join(repoRoot, 'bin');
export const passengerBin = path.join(binDir, 'passenger');
export const loaderPath = path.join(repoRoot, 'loaders', 'node', 'listen_redirect.js');
export const fixturesDir = path.resolve(here, '..', 'fixtures');

// --- cleanup ------------------------------------------------------------------------------

const cleanupStacks = new WeakMap();

// Runs `fn` when the test `t` ends (pass or fail). Cleanups run last-registered first, so a
// server is stopped before its app folder is removed.
export function onCleanup(t, fn) {
    let stack = cleanupStacks.get(t);
    if (!stack) {
        stack = [];
        cleanupStacks.set(t, stack);
        t.after(async () => {
            while (stack.length > 0) {
                const cleanup = stack.pop();
                try {
                    await cleanup();
                } catch (error) {
                    console.error(`cleanup failed: ${error.stack}`);
                }
            }
        });
    }
    stack.push(fn);
}

// --- folders and ports --------------------------------------------------------------------

export async function makeTempDir(t, prefix = 'passenger-it-') {
    const dir = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), prefix)));
    onCleanup(t, () => fsp.rm(dir, { recursive: true, force: true }));
    return dir;
}

// Copies tests/integration/fixtures/<name> into a fresh temp folder and returns its real path.
export async function copyFixture(t, name) {
    const dir = await makeTempDir(t, `passenger-it-${name}-`);
    await fsp.cp(path.join(fixturesDir, name), dir, { recursive: true });
    return dir;
}

export function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

// The environment the server gets: ours, minus variables that would change what we test.
// TEST_CORE_THREADS=N (the ThreadSanitizer run: `make tsan-test`) gives every server N event
// loops (--core-threads), unless the test sets PASSENGER_CORE_THREADS itself.
export function serverEnv(extra = {}) {
    const env = { ...process.env };
    for (const name of Object.keys(env)) {
        if (name.startsWith('PASSENGER_') || name === 'PORT' || name === 'NODE_ENV' || name === 'NODE_OPTIONS') {
            delete env[name];
        }
    }
    if (process.env.TEST_CORE_THREADS) env.PASSENGER_CORE_THREADS = process.env.TEST_CORE_THREADS;
    return { ...env, ...extra };
}

// --- one-shot commands --------------------------------------------------------------------

// Runs `bin/passenger args...` to completion (bounded). Resolves {code, signal, stdout, stderr,
// timedOut, pipesClosed}. `pipesClosed` is false when the command exited but something it
// started (a daemon) still holds its stdout/stderr open.
export function runPassenger(args, { cwd = os.tmpdir(), env = serverEnv(), timeoutMs = 30000 } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(passengerBin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        let seen = [];
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('error', reject);
        const timer = setTimeout(() => {
            timedOut = true;
            seen = descendantsOf(child.pid);
            child.kill('SIGKILL');
            for (const record of seen) killRecorded(record);
        }, timeoutMs);
        let closed = false;
        child.on('close', () => (closed = true));
        child.on('exit', async (code, signal) => {
            clearTimeout(timer);
            // Give the pipes a moment to deliver the last output and close.
            const deadline = Date.now() + 2000;
            while (!closed && Date.now() < deadline) await sleep(20);
            if (!closed) {
                child.stdout.destroy();
                child.stderr.destroy();
            }
            resolve({ code, signal, stdout, stderr, timedOut, pipesClosed: closed });
        });
    });
}

// --- the banner ---------------------------------------------------------------------------

// Reads the "PID file: / Log file: / Environment: / Accessible via:" lines of the banner.
export function parseBanner(text) {
    const field = (label) => {
        const match = new RegExp(`^\\s*${label}:\\s*(.+?)\\s*$`, 'm').exec(text);
        return match ? match[1] : undefined;
    };
    return {
        pidFile: field('PID file'),
        logFile: field('Log file'),
        environment: field('Environment'),
        accessibleVia: field('Accessible via'),
    };
}

// --- readiness ----------------------------------------------------------------------------

function tcpConnects(port) {
    return new Promise((resolve) => {
        const socket = net.connect({ port, host: '127.0.0.1' });
        const done = (ok) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
    });
}

// Polls until the port accepts a TCP connection and answers an HTTP request with any response.
// `gaveUp()` returns a reason to stop early (e.g. the server exited).
export async function waitForHttp(port, { path: urlPath = '/', timeoutMs = 20000, gaveUp = () => null } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no connection yet';
    while (Date.now() < deadline) {
        const reason = gaveUp();
        if (reason) throw new Error(reason);
        if (await tcpConnects(port)) {
            try {
                const remaining = Math.max(500, deadline - Date.now());
                return await request(port, urlPath, { timeoutMs: Math.min(remaining, 15000) });
            } catch (error) {
                lastError = error.message;
            }
        }
        await sleep(100);
    }
    throw new Error(`server on port ${port} gave no HTTP response within ${timeoutMs} ms (${lastError})`);
}

// --- a server in the foreground -----------------------------------------------------------

class Server {
    constructor({ proc, port, appDir, cwd, args }) {
        this.proc = proc;
        this.pid = proc.pid;
        this.port = port;
        this.url = `http://127.0.0.1:${port}`;
        this.appDir = appDir;
        this.cwd = cwd;
        this.args = args;
        this.chunks = { stdout: '', stderr: '', all: '' };
        this.exitInfo = null;
        this.seen = new Map(); // pid -> procStat record of every process seen below the server
        proc.stdout.on('data', (chunk) => this.append('stdout', chunk));
        proc.stderr.on('data', (chunk) => this.append('stderr', chunk));
        this.exited = new Promise((resolve) => {
            proc.on('exit', (code, signal) => {
                this.exitInfo = { code, signal };
                resolve(this.exitInfo);
            });
            // A binary that could not be started never emits 'exit'.
            proc.on('error', (error) => {
                this.exitInfo = this.exitInfo ?? { code: null, signal: null, error: error.message };
                resolve(this.exitInfo);
            });
        });
    }

    append(stream, chunk) {
        const text = chunk.toString('utf8');
        this.chunks[stream] += text;
        this.chunks.all += text;
    }

    stdout() {
        return this.chunks.stdout;
    }

    stderr() {
        return this.chunks.stderr;
    }

    // Everything the server printed, stdout and stderr interleaved in arrival order.
    output() {
        return this.chunks.all;
    }

    banner() {
        return parseBanner(this.chunks.stdout);
    }

    // Where the log should be: --log-file, else Passenger's default for this app folder.
    defaultLogFile() {
        const index = this.args.indexOf('--log-file');
        if (index >= 0) return path.resolve(this.cwd, this.args[index + 1]);
        const logDir = path.join(this.appDir, 'log');
        const dir = fs.existsSync(logDir) ? logDir : this.appDir;
        return path.join(dir, `passenger.${this.port}.log`);
    }

    get logFile() {
        return this.banner().logFile ?? this.defaultLogFile();
    }

    get pidFile() {
        const index = this.args.indexOf('--pid-file');
        if (index >= 0) return path.resolve(this.cwd, this.args[index + 1]);
        const pidsDir = path.join(this.appDir, 'tmp', 'pids');
        const dir = fs.existsSync(pidsDir) ? pidsDir : this.appDir;
        return this.banner().pidFile ?? path.join(dir, `passenger.${this.port}.pid`);
    }

    logText() {
        try {
            return fs.readFileSync(this.logFile, 'utf8');
        } catch {
            return '';
        }
    }

    // Remembers every process currently below the server, so cleanup can kill stragglers.
    track() {
        for (const record of descendantsOf(this.pid)) this.seen.set(record.pid, record);
        return [...this.seen.values()];
    }

    async waitForOutput(pattern, { stream = 'all', timeoutMs = 10000 } = {}) {
        return waitFor(() => pattern.exec(this.chunks[stream]), {
            timeoutMs,
            what: () => `${pattern} in the server's ${stream} output; got:\n${this.chunks[stream].slice(-2000)}`,
        });
    }

    async waitForLog(pattern, { timeoutMs = 10000 } = {}) {
        return waitFor(() => pattern.exec(this.logText()), {
            timeoutMs,
            what: () => `${pattern} in ${this.logFile}; got:\n${this.logText().slice(-2000)}`,
        });
    }

    get(urlPath, options) {
        return request(this.port, urlPath, options);
    }

    // Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after `timeoutMs`.
    // Then kills any process ever seen below the server that is still running.
    async stop({ signal = 'SIGTERM', timeoutMs = 15000 } = {}) {
        if (!this.exitInfo) this.track();
        if (!this.exitInfo) {
            this.proc.kill(signal);
            const timedOut = Symbol('timeout');
            const result = await withTimeout(this.exited, timeoutMs, timedOut);
            if (result === timedOut) {
                this.proc.kill('SIGKILL');
                await withTimeout(this.exited, 5000, null);
            }
        }
        for (const record of this.seen.values()) killRecorded(record);
        return this.exitInfo;
    }
}

// Starts `bin/passenger start --port P [args]` in the foreground with cwd = the app folder and
// waits until it answers HTTP. Options:
//   fixture      name of a folder in fixtures/ to copy into a fresh temp dir, or
//   appDir       an existing app folder
//   args         extra arguments after `start`
//   appDirArg    pass the app folder as an argument (cwd is then `cwd` or a temp dir)
//   env          extra environment variables for the server
//   readyPath    the path requested to check readiness ('/')
//   waitReady    false to return right after spawning
//   fileLimit    the open-file limit (soft and hard) the server starts with
export async function startServer(t, options = {}) {
    const { fixture, args = [], env = {}, appDirArg = false, readyPath = '/', waitReady = true, readyTimeoutMs = 20000 } = options;
    const appDir = options.appDir ?? (await copyFixture(t, fixture));
    const cwd = options.cwd ?? (appDirArg ? os.tmpdir() : appDir);
    const fixedPort = options.port;

    for (let attempt = 1; ; attempt++) {
        const port = fixedPort ?? (await freePort());
        const fullArgs = ['start', ...(appDirArg ? [appDir] : []), '--port', String(port), ...args];
        // `fileLimit`: the server starts with that open-file limit, soft and hard (sh's ulimit).
        const [command, commandArgs] = options.fileLimit
            ? ['/bin/sh', ['-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, passengerBin, ...fullArgs]]
            : [passengerBin, fullArgs];
        const proc = spawn(command, commandArgs, { cwd, env: serverEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
        const server = new Server({ proc, port, appDir, cwd, args });
        proc.on('error', (error) => server.append('stderr', `spawn error: ${error.message}\n`));
        onCleanup(t, () => server.stop());
        if (!waitReady) return server;

        try {
            await waitForHttp(port, {
                path: readyPath,
                timeoutMs: readyTimeoutMs,
                gaveUp: () => server.exitInfo && `server exited (${JSON.stringify(server.exitInfo)}) before answering HTTP`,
            });
            server.track();
            return server;
        } catch (error) {
            await server.stop();
            // Another test may have grabbed the port between freePort() and the bind: retry.
            const raced = /in use|EADDRINUSE/i.test(server.output());
            if (raced && fixedPort === undefined && attempt < 3) continue;
            error.message += `\n--- passenger ${fullArgs.join(' ')} (cwd ${cwd}) output ---\n${server.output()}`;
            throw error;
        }
    }
}

// --- a daemonized server ------------------------------------------------------------------

// Runs `bin/passenger start -d --port P [args]`, which should return after the banner, then
// waits until the daemon answers HTTP. Cleanup kills the daemon (via its pid file) and every
// process below it if a test left it running.
export async function startDaemon(t, options = {}) {
    const { fixture, args = [], env = {}, appDirArg = false, readyPath = '/' } = options;
    const appDir = options.appDir ?? (await copyFixture(t, fixture));
    const cwd = options.cwd ?? (appDirArg ? os.tmpdir() : appDir);
    const port = options.port ?? (await freePort());
    const fullArgs = ['start', ...(appDirArg ? [appDir] : []), '--daemonize', '--port', String(port), ...args];

    const daemon = { port, url: `http://127.0.0.1:${port}`, appDir, cwd, seen: new Map() };
    const pidFromFile = () => {
        try {
            const pid = Number(fs.readFileSync(daemon.pidFile, 'utf8').trim());
            return Number.isInteger(pid) && pid > 0 ? pid : null;
        } catch {
            return null;
        }
    };
    daemon.track = () => {
        const pid = pidFromFile();
        if (pid === null) return;
        const own = procStat(pid);
        if (own) daemon.seen.set(pid, own);
        for (const record of descendantsOf(pid)) daemon.seen.set(record.pid, record);
    };
    daemon.logText = () => {
        try {
            return fs.readFileSync(daemon.logFile, 'utf8');
        } catch {
            return '';
        }
    };
    onCleanup(t, async () => {
        daemon.track();
        const alive = [...daemon.seen.values()].filter((record) => isAlive(record.pid));
        for (const record of alive) killRecorded(record, 'SIGTERM');
        await waitFor(() => alive.every((record) => !isAlive(record.pid)), { timeoutMs: 5000 }).catch(() => {});
        for (const record of alive) killRecorded(record, 'SIGKILL');
    });

    daemon.start = await runPassenger(fullArgs, { cwd, env: serverEnv(env) });
    const banner = parseBanner(daemon.start.stdout);
    const logIndex = args.indexOf('--log-file');
    const pidIndex = args.indexOf('--pid-file');
    const inDir = (sub, name) => {
        const dir = path.join(appDir, sub);
        return path.join(fs.existsSync(dir) ? dir : appDir, name);
    };
    daemon.pidFile = banner.pidFile ?? (pidIndex >= 0 ? path.resolve(cwd, args[pidIndex + 1]) : inDir('tmp/pids', `passenger.${port}.pid`));
    daemon.logFile = banner.logFile ?? (logIndex >= 0 ? path.resolve(cwd, args[logIndex + 1]) : inDir('log', `passenger.${port}.log`));
    daemon.pid = pidFromFile;
    daemon.track();
    if (daemon.start.code !== 0) {
        throw new Error(`passenger ${fullArgs.join(' ')} exited with ${daemon.start.code}:\n${daemon.start.stdout}${daemon.start.stderr}`);
    }
    await waitForHttp(port, { path: readyPath });
    daemon.track();
    return daemon;
}
