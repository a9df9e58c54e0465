// (a) A random app process is SIGKILLed under steady keep-alive load: what may be lost is the
// requests in flight on that process, and nothing else.
//
// "In flight on that process" is read from the core's admin API, exactly: each process takes at
// most 4 requests at once (--force-max-concurrent-requests-per-process 4) and the load keeps
// every slot full, so once the victim is SIGSTOPped it answers nothing more and the core sends
// it nothing more: the set of requests the API lists "in app" on it is final. Then it gets
// SIGKILL. (Stopping it first only freezes that set so it can be counted; the SIGKILL is what
// the core has to cope with.)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appPids, waitForReadyProcesses } from '../integration/lib/pool.mjs';
import { waitFor, waitForGone } from '../integration/lib/proc.mjs';
import { logTail, requestIdsOn, startChaosServer } from './lib/chaos.mjs';
import { describe, Load } from './lib/load.mjs';

const slots = 4;

test('(a) SIGKILLed app processes: only the requests in flight on them fail, each with a 502', { timeout: 120000 }, async (t) => {
    const server = await startChaosServer(t, ['--min-instances', '3', '--max-pool-size', '3', '--force-max-concurrent-requests-per-process', String(slots)]);
    await waitForReadyProcesses(server, 3, { timeoutMs: 30000 });
    const load = new Load(server.port, { clients: 24, path: (id) => `/work?id=${id}&ms=30` }).start();
    t.after(() => load.stop());
    await load.moreSuccesses(100);

    const kills = [];
    for (let round = 1; round <= 3; round++) {
        const pids = appPids(server);
        const victim = pids[Math.floor(Math.random() * pids.length)];
        process.kill(victim, 'SIGSTOP');
        // A response written just before the stop may still be read by the core: the set is
        // final once two snapshots a moment apart agree on `slots` requests.
        const seen = new Set();
        let previous = '';
        await waitFor(
            async () => {
                const ids = (await requestIdsOn(server, victim)).sort();
                ids.forEach((id) => seen.add(id));
                const same = ids.length === slots && ids.join() === previous;
                previous = ids.join();
                return same;
            },
            { timeoutMs: 15000, intervalMs: 50, what: () => `round ${round}: ${slots} requests held by the stopped process ${victim} (last: ${previous})${logTail(server)}` },
        );
        process.kill(victim, 'SIGKILL');
        kills.push({ victim, inFlight: seen });
        await waitForGone([victim]);
        await waitForReadyProcesses(server, 3, { timeoutMs: 30000 });
        await load.moreSuccesses(100, { timeoutMs: 30000 });
    }
    await load.stop();
    t.diagnostic(load.summary());

    const failures = load.failures();
    const mayFail = new Set(kills.flatMap((kill) => [...kill.inFlight]));
    const unexplained = failures.filter((result) => !mayFail.has(result.id));
    assert.deepEqual(describe(unexplained), '', `failures that were not in flight on a killed process${logTail(server)}`);
    const notExplicit = failures.filter((result) => !(result.outcome === 'http-error' && result.status === 502));
    assert.deepEqual(describe(notExplicit), '', 'every lost request got a 502');
    assert.ok(failures.length <= kills.length * slots, `at most ${slots} per kill: ${describe(failures)}`);
    // The core logged each death: a line of its own naming the process and signal 9.
    const coreLines = server.logText().split('\n').filter((line) => !/^App \d+ std(out|err):/.test(line));
    for (const { victim } of kills) {
        const named = coreLines.filter((line) => new RegExp(`\\b${victim}\\b`).test(line));
        assert.ok(named.some((line) => /signal\s*9\b|SIGKILL/i.test(line)), `a log line says process ${victim} died of SIGKILL:\n${named.join('\n')}`);
    }
});
