// Helpers for the pool tests (pool-*.test.mjs): the app processes below a server, the core's
// zombie children, the fixture's hit log, touching restart files, client loops.
import fs from 'node:fs';
import path from 'node:path';

import { request } from './http.mjs';
import { cmdline, descendantsOf, procStat, waitFor } from './proc.mjs';

// Live app processes below `server` (a startServer() result): Node processes running the app's
// startup file. Sorted by pid. Also records them for cleanup.
export function appPids(server, startupFile = 'app.js') {
    const pids = [];
    for (const record of descendantsOf(server.pid)) {
        const argv = cmdline(record.pid);
        if (argv.length === 0 || !/node/.test(path.basename(argv[0]))) continue;
        if (!argv.some((arg) => path.basename(arg) === startupFile)) continue;
        server.seen.set(record.pid, record);
        pids.push(record.pid);
    }
    return pids.sort((a, b) => a - b);
}

// The core: the watchdog's (the server process's) child that is not an app.
export function corePid(server) {
    for (const record of descendantsOf(server.pid)) {
        if (record.ppid !== server.pid) continue;
        if (cmdline(record.pid).join(' ').includes('core')) return record.pid;
    }
    return null;
}

// Children of `pid` that have exited but were not reaped (state Z).
export function zombieChildren(pid) {
    const zombies = [];
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = procStat(Number(entry));
        if (stat && stat.ppid === pid && stat.state === 'Z') zombies.push(stat.pid);
    }
    return zombies;
}

// The fixture's tmp/hits.log: [{pid, url}] in the order requests reached the app.
export function hits(server) {
    let text = '';
    try {
        text = fs.readFileSync(path.join(server.appDir, 'tmp', 'hits.log'), 'utf8');
    } catch {
        return [];
    }
    return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
            const space = line.indexOf(' ');
            return { pid: Number(line.slice(0, space)), url: line.slice(space + 1) };
        });
}

// Sets a file's mtime (and atime) to `date`, creating the file if needed.
export function touch(file, date = new Date()) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, '');
    fs.utimesSync(file, date, date);
}

// Escapes a string for use in a RegExp.
export const reEscape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Lines of `text` matching `pattern`.
export const linesMatching = (text, pattern) => text.split('\n').filter((line) => pattern.test(line));

// Sends requests to `urlPath` (a string, or a function returning a fresh one per request) from
// `clients` loops until `shouldStop()` is true. Each request is a fresh connection. Resolves
// [{url, status, pid, error, at, ms}] in completion order.
export async function clientLoops(port, urlPath, { clients = 1, shouldStop, timeoutMs = 10000 }) {
    const results = [];
    const loop = async () => {
        while (!shouldStop()) {
            const at = Date.now();
            const url = typeof urlPath === 'function' ? urlPath() : urlPath;
            try {
                const response = await request(port, url, { timeoutMs });
                let pid = null;
                try {
                    pid = response.json().pid ?? null;
                } catch {
                    // an error page
                }
                results.push({ url, status: response.status, pid, at, ms: Date.now() - at, text: response.text.slice(0, 300) });
            } catch (error) {
                results.push({ url, status: 0, pid: null, at, ms: Date.now() - at, error: error.message });
            }
        }
    };
    await Promise.all(Array.from({ length: clients }, loop));
    return results;
}

// Pids the core has logged as ready ("App process <pid> is ready", or any core line naming the
// pid and "ready"; the app's own "App <pid> stdout:" lines do not count).
export function readyPids(server) {
    const pids = new Set();
    for (const line of server.logText().split('\n')) {
        if (/^App \d+ std(out|err):/.test(line)) continue;
        const match = /\b(?:process|pid)\s+(\d+)\b[^\n]*\bready\b/i.exec(line);
        if (match) pids.add(Number(match[1]));
    }
    return pids;
}

// Waits until exactly `count` app processes run and the core has logged each of them as ready.
export async function waitForReadyProcesses(server, count, { timeoutMs = 15000 } = {}) {
    return waitFor(
        () => {
            const pids = appPids(server);
            const ready = readyPids(server);
            return pids.length === count && pids.every((pid) => ready.has(pid)) && pids;
        },
        {
            timeoutMs,
            what: () => `${count} ready app processes (running: ${appPids(server).join(', ') || 'none'}; logged ready: ${[...readyPids(server)].join(', ') || 'none'}); log tail:\n${server.logText().slice(-1500)}`,
        },
    );
}

// Samples the number of app processes every `intervalMs` until stop() is called; stop()
// returns the largest number seen.
export function sampleProcessCount(server, intervalMs = 50) {
    let max = appPids(server).length;
    const timer = setInterval(() => {
        max = Math.max(max, appPids(server).length);
    }, intervalMs);
    timer.unref(); // a failed test that never calls stop() must not keep the file running
    return () => {
        clearInterval(timer);
        return Math.max(max, appPids(server).length);
    };
}

// CPU time (user + system, in seconds) a process has used so far, or null if it is gone.
// Assumes USER_HZ = 100 (Linux on x86-64 and arm64).
export function cpuSeconds(pid) {
    let text;
    try {
        text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
        return null;
    }
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

// Creates `name` (relative to the app folder): every `/slow?until=<name>` request answers.
export function release(server, name) {
    const file = path.join(server.appDir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
}

// Whether `mark` (a `/slow?mark=` file, relative to the app folder) exists, and the pid in it.
// The app's writeFileSync creates the file before it writes the pid: an empty file is not there
// yet (markPid read 0 right after markExists under load).
export const markExists = (server, mark) => {
    try {
        return fs.statSync(path.join(server.appDir, mark)).size > 0;
    } catch {
        return false;
    }
};
export const markPid = (server, mark) => Number(fs.readFileSync(path.join(server.appDir, mark), 'utf8'));

// Resolves {settled: true, value} if `promise` has settled by now, else {settled: false}: for
// ordering assertions ("A was answered while B was still held").
export async function settledYet(promise) {
    const pending = Symbol('pending');
    const value = await Promise.race([promise, new Promise((resolve) => setImmediate(() => resolve(pending)))]);
    return value === pending ? { settled: false } : { settled: true, value };
}
