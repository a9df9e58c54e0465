// The harness's own process checks (lib/proc.mjs), where getting them wrong made other tests
// flake: a process whose main thread has exited while another thread still runs is alive.
// (A SIGKILLed multi-threaded core shows Z in /proc/PID/stat before its event loop threads
// are gone, and they still hold its sockets: nginx-keepalive's POST then met a connection that
// accepted the write and was reset after, not one it could not write to.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

import { isAlive, procStat, waitFor, waitForGone } from './lib/proc.mjs';

// The main thread leaves (pthread_exit); a second thread lives until its stdin closes.
const leaderExitsFirst = `
import ctypes, sys, threading
threading.Thread(target=sys.stdin.read).start()
print("ready", flush=True)
ctypes.CDLL(None).pthread_exit(None)
`;

test('a process whose main thread exited while another runs is alive until that one ends', { timeout: 20000 }, async () => {
    const child = spawn('python3', ['-c', leaderExitsFirst], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
        await once(child.stdout, 'data');
        await waitFor(() => procStat(child.pid)?.state === 'Z', { what: 'the main thread to exit' });
        assert.ok(isAlive(child.pid), 'its second thread still runs');
        child.stdin.end();
        await waitForGone([child.pid]);
    } finally {
        child.kill('SIGKILL');
    }
});
