// (c) The core is SIGKILLed under steady keep-alive load: the watchdog starts a new one on the
// same listening socket, so what may be lost is the requests in flight at that moment (the
// client had sent them and had no complete answer), and nothing else; no answer is ever wrong.
//
// A kept-alive connection the dead core held is closed; a request the client sends on it after
// the kill, before it noticed, fails before any response byte. HTTP clients retry such an
// idempotent request on a new connection (RFC 9112, 9.3.1), and so does this load, but only for
// requests sent after the kill: a request in flight at the kill is never retried, so it counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appPids, corePid, waitForReadyProcesses } from '../integration/lib/pool.mjs';
import { waitFor, waitForGone } from '../integration/lib/proc.mjs';
import { logTail, startChaosServer } from './lib/chaos.mjs';
import { describe, Load } from './lib/load.mjs';

test('(c) a SIGKILLed core: only the requests in flight at the kill fail, never with a wrong answer', { timeout: 120000 }, async (t) => {
    const server = await startChaosServer(t, ['--min-instances', '2']);
    await waitForReadyProcesses(server, 2, { timeoutMs: 30000 });
    let sentAfterKill = null;
    const load = new Load(server.port, { clients: 16, path: (id) => `/work?id=${id}&ms=20`, retryStaleFrom: () => sentAfterKill }).start();
    t.after(() => load.stop());

    const kills = [];
    for (let round = 1; round <= 2; round++) {
        await load.moreSuccesses(100, { timeoutMs: 30000 });
        const core = corePid(server);
        const apps = appPids(server);
        assert.ok(core, 'the core runs');
        // Both in this one synchronous step: no request can start or end in between.
        const inFlight = load.inFlightIds();
        sentAfterKill = load.mark();
        process.kill(core, 'SIGKILL');
        kills.push({ core, inFlight });

        const next = await waitFor(() => corePid(server) !== core && corePid(server), { timeoutMs: 30000, what: `round ${round}: a new core${logTail(server)}` });
        // The dead core's app processes do not outlive it; the new core starts its own.
        await waitForGone(apps, { timeoutMs: 15000, what: `round ${round}: the app processes ${apps.join(', ')} of the killed core to exit` });
        await load.moreSuccesses(100, { timeoutMs: 30000 });
        assert.ok(appPids(server).every((pid) => !apps.includes(pid)));
        t.diagnostic(`round ${round}: core ${core} -> ${next}, ${inFlight.size} requests in flight at the kill`);
    }
    await load.stop();
    t.diagnostic(load.summary());

    const failures = load.failures();
    const mayFail = new Set(kills.flatMap((kill) => [...kill.inFlight]));
    const unexplained = failures.filter((result) => !mayFail.has(result.id));
    assert.equal(describe(unexplained), '', `failures of requests that were not in flight at a kill${logTail(server)}`);
    const wrong = failures.filter((result) => result.outcome === 'wrong' || result.outcome === 'timeout');
    assert.equal(describe(wrong), '', 'no wrong answer, no hang');
    assert.equal(server.exitInfo, null, 'the watchdog keeps running');
});
