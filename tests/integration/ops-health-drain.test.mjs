// --health-check-path and --drain-timeout (issue 16): the health check is answered by the core
// (the app never sees it, it is not counted), 503 when the app cannot get a process; and two
// instances behind a real HAProxy (examples/deploy/haproxy.cfg) with a client loop running while
// one drains and stops: no request fails, and SockJS sessions that HAProxy's cookie pins to the
// surviving instance keep working throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { adminGet } from './lib/admin.mjs';
import { startHaproxy } from './lib/haproxy.mjs';
import { clientLoops } from './lib/pool.mjs';
import { copyRealtimeFixture, sockjsEchoSession } from './lib/realtime.mjs';
import { isAlive, waitFor } from './lib/proc.mjs';
import { makeTempDir, runPassenger, startServer } from './lib/server.mjs';

const opsArgs = ['--health-check-path', '/health', '--drain-timeout', '3'];

test('health check and drain behind HAProxy', async (t) => {
    const [first, second] = await Promise.all([
        startServer(t, { appDir: await copyRealtimeFixture(t), args: opsArgs, readyPath: '/pid' }),
        startServer(t, { appDir: await copyRealtimeFixture(t), args: opsArgs, readyPath: '/pid' }),
    ]);

    await t.test('the health check is answered by the core, not the app', async () => {
        const pool = await adminGet(first, '/pool');
        const ok = await first.get('/health');
        assert.equal(ok.status, 200);
        assert.equal(ok.text, 'ok\n');
        assert.equal(ok.headers['cache-control'], 'no-store');
        const head = await first.get('/health?probe=1', { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.text, '');
        // Neither the front end nor the app counted them.
        const after = await adminGet(first, '/pool');
        assert.equal(after.requests_total, pool.requests_total);
        assert.equal(after.groups[0].requests_total, pool.groups[0].requests_total);
        // Another path is the app's.
        await first.get('/health/x');
        assert.equal((await adminGet(first, '/pool')).groups[0].requests_total, pool.groups[0].requests_total + 1);
        assert.doesNotMatch(first.logText(), /\/health/);
    });

    await t.test('zero failed requests while one instance drains and stops', async () => {
        const dir = await makeTempDir(t);
        const haproxy = await startHaproxy(t, dir, [first.port, second.port]);
        await waitFor(async () => {
            const stats = await haproxy.stats();
            return stats.passenger1?.status === 'UP' && stats.passenger2?.status === 'UP';
        }, { timeoutMs: 15000, what: 'both instances UP in HAProxy' });

        let stop = false;
        const loop = clientLoops(haproxy.port, '/pid', { clients: 2, shouldStop: () => stop, timeoutMs: 20000 });
        // SockJS (xhr-polling: a new request per message) pinned to the survivor by HAProxy's
        // cookie, one short session after another across the drain.
        const sockjs = (async () => {
            const sessions = [];
            while (!stop) sessions.push(await sockjsEchoSession(haproxy.port, 'xhr-polling', 5, { cookies: { HAPROXY_SERVER: 'passenger2' } }));
            return sessions;
        })();
        const firstPids = new Set();
        await waitFor(async () => {
            const stats = await haproxy.stats();
            return Number(stats.passenger1.stot) >= 5 && Number(stats.passenger2.stot) >= 5;
        }, { timeoutMs: 15000, what: 'requests reaching both instances' });

        // `passenger stop --drain` sends SIGTERM: the health check fails at once, and HAProxy
        // takes the instance out while it still serves.
        const stopping = runPassenger(['stop', '--drain', '--pid-file', first.pidFile], { timeoutMs: 60000 });
        await first.waitForLog(/Draining: the health check fails from now on/);
        const draining = await first.get('/health');
        assert.equal(draining.status, 503);
        assert.equal(draining.text, 'draining\n');
        assert.equal(draining.headers.connection, 'close');
        await waitFor(async () => (await haproxy.stats()).passenger1.status === 'DOWN', {
            timeoutMs: 15000,
            what: 'HAProxy marking the draining instance DOWN',
        });
        const stats = await haproxy.stats();
        assert.match(stats.passenger1.check_status, /L7STS/);
        assert.equal(stats.passenger1.check_code, '503');
        assert.ok(isAlive(first.pid), 'the instance still runs (drains) when HAProxy took it out');

        const stopped = await stopping;
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.ok(!isAlive(first.pid));
        // The loop goes on against the survivor for a few more requests.
        const served = Number((await haproxy.stats()).passenger2.stot);
        await waitFor(async () => Number((await haproxy.stats()).passenger2.stot) >= served + 10, {
            timeoutMs: 15000,
            what: 'requests after the stop',
        });
        stop = true;
        const results = await loop;
        const sessions = await sockjs;
        assert.ok(sessions.length >= 2, `${sessions.length} SockJS sessions`);
        const survivor = await second.get('/pid');
        assert.equal(survivor.status, 200, `${survivor.text}\n--- the survivor's log ---\n${second.logText().slice(-4000)}`);
        const secondPid = survivor.json().pid;
        for (const session of sessions) {
            assert.deepEqual(session.failures, []);
            assert.ok(session.replies.every((reply) => reply.pid === secondPid), 'every reply from the pinned instance');
        }
        const failed = results.filter((r) => r.status !== 200);
        assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed`);
        for (const r of results) firstPids.add(r.pid);
        assert.ok(firstPids.size >= 2, 'both instances answered');
        assert.match(first.logText(), /Shutdown complete/);
    });

    await t.test('503 while the app cannot get a process', async () => {
        const broken = await startServer(t, { fixture: 'exit-at-once', args: opsArgs, readyPath: '/health' });
        await waitFor(async () => (await broken.get('/health')).status === 503, {
            timeoutMs: 15000,
            what: 'the health check failing for an app that cannot start',
        });
        assert.equal((await broken.get('/health')).text, 'unavailable\n');
    });
});
