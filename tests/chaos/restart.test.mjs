// (b) tmp/restart.txt is touched under steady keep-alive load, with and without
// --rolling-restarts: nothing may be lost. Each mode restarts twice; every request sent gets a
// complete, right answer, and the requests sent after the old processes are gone are served by
// new ones.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { appPids, touch, waitForReadyProcesses } from '../integration/lib/pool.mjs';
import { waitForGone } from '../integration/lib/proc.mjs';
import { logTail, startChaosServer } from './lib/chaos.mjs';
import { describe, Load } from './lib/load.mjs';

for (const mode of ['plain', 'rolling']) {
    const extra = mode === 'rolling' ? ['--rolling-restarts'] : [];
    test(`(b) ${mode} restarts under load lose nothing`, { timeout: 120000 }, async (t) => {
        const server = await startChaosServer(t, ['--min-instances', '2', '--max-pool-size', '2', ...extra]);
        const restartFile = path.join(server.appDir, 'tmp', 'restart.txt');
        touch(restartFile, new Date(Date.now() - 3600 * 1000));
        await waitForReadyProcesses(server, 2, { timeoutMs: 30000 });
        const load = new Load(server.port, { clients: 16, path: (id) => `/work?id=${id}&ms=20` }).start();
        t.after(() => load.stop());
        await load.moreSuccesses(100);

        for (let round = 1; round <= 2; round++) {
            const old = appPids(server);
            touch(restartFile, new Date(Date.now() + round * 1000)); // a new mtime, whatever the fs granularity
            await waitForGone(old, { timeoutMs: 30000, what: `round ${round}: the old processes ${old.join(', ')} to be replaced${logTail(server)}` });
            const replacedAt = Date.now();
            await load.moreSuccesses(100, { timeoutMs: 30000 });
            const after = load.ok().filter((result) => result.startedAt >= replacedAt);
            assert.ok(after.every((result) => !old.includes(result.pid)), `round ${round}: requests sent after the restart were served by new processes`);
        }
        await load.stop();
        t.diagnostic(load.summary());
        assert.equal(describe(load.failures()), '', `nothing lost across ${mode} restarts${logTail(server)}`);
        await waitForReadyProcesses(server, 2, { timeoutMs: 30000 });
    });
}
