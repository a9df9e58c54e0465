// (e) An app process stops reading its socket under steady keep-alive load (its event loop
// blocks for good in a read, as an app stuck in a blocking call does): what may be lost is only
// that process's requests, each answered 504 after --max-request-time; the process is replaced
// and the others keep serving.
//
// Which requests that process holds is read from the core's admin API: with 4 slots per process
// and every slot kept busy by the load, the stuck process fills its 4 slots and is then sent
// nothing more, so the set the API lists "in app" on it is final.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { request } from '../integration/lib/http.mjs';
import { appPids, waitForReadyProcesses } from '../integration/lib/pool.mjs';
import { waitFor, waitForGone } from '../integration/lib/proc.mjs';
import { logTail, requestIdsOn, startChaosServer } from './lib/chaos.mjs';
import { describe, Load } from './lib/load.mjs';

const slots = 4;
const maxRequestTime = 5;

test('(e) an app that stops reading: only its requests fail, each with 504, none before --max-request-time', { timeout: 120000 }, async (t) => {
    const server = await startChaosServer(t, [
        '--min-instances', '3',
        '--max-pool-size', '3',
        '--force-max-concurrent-requests-per-process', String(slots),
        '--max-request-time', String(maxRequestTime),
    ]);
    execFileSync('mkfifo', [path.join(server.appDir, 'tmp', 'never')]);
    await waitForReadyProcesses(server, 3, { timeoutMs: 30000 });
    const load = new Load(server.port, { clients: 24, path: (id) => `/work?id=${id}&ms=30` }).start();
    t.after(() => load.stop());
    await load.moreSuccesses(100);

    const before = appPids(server);
    const sentAt = Date.now();
    const trigger = request(server.port, '/stop-reading?id=trigger', { timeoutMs: 60000 }).then((response) => ({ response, endedAt: Date.now() }));
    const stuck = Number((await server.waitForLog(/chaos-app (\d+) stops reading/))[1]);
    const seen = new Set();
    await waitFor(
        async () => {
            const ids = await requestIdsOn(server, stuck);
            ids.forEach((id) => seen.add(id));
            return ids.length === slots;
        },
        { timeoutMs: 15000, intervalMs: 50, what: () => `${slots} requests held by the stuck process ${stuck}${logTail(server)}` },
    );
    const stopped = await trigger;
    await waitForGone([stuck], { timeoutMs: 15000, what: `the stuck process ${stuck} to be killed${logTail(server)}` });
    await waitForReadyProcesses(server, 3, { timeoutMs: 30000 });
    await load.moreSuccesses(100, { timeoutMs: 30000 });
    await load.stop();
    t.diagnostic(`${load.summary()}; held by the stuck process ${stuck}: ${[...seen].join(', ')}`);

    // The trigger is one of the stuck process's requests, counted with the load's.
    const failures = [
        ...load.failures(),
        { id: 'trigger', outcome: stopped.response.status === 200 ? 'ok' : 'http-error', status: stopped.response.status, startedAt: sentAt, endedAt: stopped.endedAt, detail: '' },
    ];
    const elsewhere = failures.filter((result) => !seen.has(result.id));
    assert.equal(describe(elsewhere), '', `failures of requests that were not on the stuck process${logTail(server)}`);
    const notExplicit = failures.filter((result) => !(result.outcome === 'http-error' && result.status >= 500));
    assert.equal(describe(notExplicit), '', `every request held by the stuck process gets an error page${logTail(server)}`);
    // Every one of them gets 504: the first to reach --max-request-time for its own time, the
    // others because the process was killed for it under them; none before the first one's time.
    const not504 = failures.filter((result) => result.status !== 504);
    assert.equal(describe(not504), '', `requests held by the stuck process that did not get 504${logTail(server)}`);
    const firstDue = Math.min(...failures.map((result) => result.startedAt)) + maxRequestTime * 1000 - 50;
    for (const result of failures) {
        assert.ok(result.endedAt >= firstDue, `${result.id}: 504 before the first stuck request reached --max-request-time`);
    }
    assert.ok(before.includes(stuck));
    assert.match(server.logText(), new RegExp(`App process ${stuck} exceeded --max-request-time`));
});
