// Process inspection through /proc (Linux): is a pid alive, what are its descendants, and
// polling with a deadline. Zombies count as gone: a dead app reparented to a PID 1 that does
// not reap stays in /proc as state Z, but it no longer runs. A process is a zombie only when
// all its threads are: its main thread shows Z as soon as it exits, while its other threads
// (the core's event loops) may still run and hold its descriptors open.
import fs from 'node:fs';

// Returns {pid, state, ppid, startTime} for a live pid, or null.
export function procStat(pid) {
    let text;
    try {
        text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
        return null;
    }
    // "pid (comm) state ppid ... starttime(22nd field)"; comm may contain spaces and parens.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0], ppid: Number(fields[1]), startTime: fields[19] };
}

const runs = (stat) => stat !== null && stat.state !== 'Z' && stat.state !== 'X';

export function isAlive(pid) {
    const stat = procStat(pid);
    if (stat === null) return false;
    if (runs(stat)) return true;
    let threads;
    try {
        threads = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
        return false;
    }
    return threads.some((tid) => runs(procStat(`${pid}/task/${tid}`)));
}

export function cmdline(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
        return [];
    }
}

function allStats() {
    const stats = [];
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = procStat(Number(entry));
        if (stat) stats.push(stat);
    }
    return stats;
}

// Every live process below `pid` (children, grandchildren, ...), as procStat records.
export function descendantsOf(pid) {
    const stats = allStats();
    const result = [];
    const frontier = [pid];
    while (frontier.length > 0) {
        const parent = frontier.pop();
        for (const stat of stats) {
            if (stat.ppid === parent && stat.state !== 'Z') {
                result.push(stat);
                frontier.push(stat.pid);
            }
        }
    }
    return result;
}

// Sends `signal` to a process recorded earlier, unless its pid now belongs to someone else.
export function killRecorded(record, signal = 'SIGKILL') {
    const now = procStat(record.pid);
    if (now === null || now.startTime !== record.startTime) return;
    try {
        process.kill(record.pid, signal);
    } catch {
        // already gone
    }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves to what `promise` resolves to, or to `fallback` after `ms`. The timer is cleared
// either way, so a finished race leaves nothing that keeps the test process alive.
export function withTimeout(promise, ms, fallback = null) {
    let timer;
    const expired = new Promise((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

// Polls `check` (sync or async) until it returns a truthy value, and returns that value.
// Throws after `timeoutMs` with `what` (a string, or a function called at that moment) and the
// last error, so a failure says what it waited for.
export async function waitFor(check, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    for (;;) {
        try {
            const value = await check();
            if (value) return value;
        } catch (error) {
            lastError = error;
        }
        if (Date.now() >= deadline) {
            const detail = lastError ? ` (last error: ${lastError.message})` : '';
            const subject = typeof what === 'function' ? what() : what;
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${subject}${detail}`);
        }
        await sleep(intervalMs);
    }
}

export async function waitForGone(pids, { timeoutMs = 10000, what } = {}) {
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
        timeoutMs,
        what: what ?? (() => `processes ${pids.join(', ')} to exit (still alive: ${pids.filter(isAlive).join(', ')})`),
    });
}
