// A web server (nginx, Apache) run in the foreground by a test: every process below it is
// remembered while it runs, so that when the test ends the server is stopped (`stopSignal`, then
// SIGKILL after 15 s) and nothing it started outlives it, whatever the test did meanwhile.
import { spawn } from 'node:child_process';

import { request } from './http.mjs';
import { descendantsOf, isAlive, killRecorded, waitFor, waitForGone, withTimeout } from './proc.mjs';
import { onCleanup } from './server.mjs';

// Starts `bin args` and waits until `waitPort` answers HTTP (`log()` explains a failure).
// Returns { pid, exited, stderr(), remember() }.
export async function startForeground(t, { name, bin, args, stopSignal, log, waitPort }) {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const seen = new Map();
    const remember = () => {
        for (const stat of descendantsOf(child.pid)) seen.set(stat.pid, stat);
    };
    const watcher = setInterval(remember, 200);
    onCleanup(t, async () => {
        clearInterval(watcher);
        remember();
        if (isAlive(child.pid)) {
            child.kill(stopSignal);
            // withTimeout clears its timer: a pending 15 s timer kept the test file alive that long.
            await withTimeout(exited, 15000);
            if (isAlive(child.pid)) child.kill('SIGKILL');
        }
        for (const record of seen.values()) killRecorded(record);
        await waitForGone([...seen.keys()], { timeoutMs: 15000 }).catch(() => {});
    });
    if (waitPort) {
        await waitFor(
            async () => {
                if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr}${log()}`);
                await request(waitPort, '/', { timeoutMs: 2000 });
                return true;
            },
            { timeoutMs: 20000, what: () => `${name} on port ${waitPort} (${stderr}${log()})` },
        );
    }
    return { pid: child.pid, exited, stderr: () => stderr, remember };
}
