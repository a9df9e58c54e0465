// The watchdog adopts what a killed core leaves behind: a generic app runs as `sh -c CMD`, and
// only the shell dies with the core (PR_SET_PDEATHSIG); the program behind it must not survive.
import assert from 'node:assert/strict';
import test from 'node:test';

import { corePid } from './lib/pool.mjs';
import { cmdline, descendantsOf, isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const serverProcesses = (server) =>
    descendantsOf(server.pid).filter((record) => cmdline(record.pid).join(' ').includes('server.js'));

test('a killed core leaves no generic app process behind, and the new core serves again', { timeout: 60000 }, async (t) => {
    // No `exec`: the shell stays the parent of node, as in most start commands people write.
    const server = await startServer(t, { fixture: 'generic-app', readyPath: '/env', args: ['--app-start-command', 'node server.js; true'] });
    assert.equal((await server.get('/env')).status, 200);
    const before = serverProcesses(server).map((record) => record.pid);
    assert.ok(before.length >= 1, 'the generic app runs below the server');
    const core = corePid(server);
    assert.ok(core, 'found the core');

    process.kill(core, 'SIGKILL');
    await waitForGone(before, { timeoutMs: 10000, what: 'the old app processes' });
    await waitFor(async () => (await server.get('/env').catch(() => ({ status: 0 }))).status === 200, {
        timeoutMs: 20000,
        what: 'the restarted core serving again',
    });
    const after = serverProcesses(server).map((record) => record.pid);
    assert.ok(after.every((pid) => !before.includes(pid)), 'only new app processes run');
    assert.ok(before.every((pid) => !isAlive(pid)));
    await server.waitForLog(/left behind by core process/);
});
