// passenger-status against a running server with several processes and slow requests in flight:
// the tutorial's layout, --show=requests, --show=json, --show=metrics, picking one of several
// instances, and one line when nothing runs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { appPids, makeRegistry, parseMetrics, parseStatus, registryEntries, runTool, startRegisteredServer } from './lib/inspection.mjs';
import { waitFor } from './lib/proc.mjs';
import { release } from './lib/pool.mjs';
import { onCleanup, repoRoot } from './lib/server.mjs';

// A server with two app processes, three threads and three slow requests in flight (each
// connection handed to the thread with the fewest), shared by the subtests that look at it. The
// requests are held until the test releases them (the pool fixture's `/slow?until=`), so the
// state lasts exactly as long as the subtests need, however slow the machine, and stopping the
// server does not wait out a fixed delay.
async function busyServer(t, registry) {
    const server = await startRegisteredServer(t, registry, { fixture: 'pool-app', args: ['--min-instances', '2', '--core-threads', '3'] });
    await waitFor(() => appPids(server).length === 2, { what: 'two app processes' });
    // appPids also counts a process still starting; the pool lists it once it is ready.
    const slow = [1, 2, 3].map((i) => server.get(`/slow?until=tmp/go&n=${i}`, { timeoutMs: 60000 }));
    // Registered after the server's cleanup, so it runs first: the held requests answer, then
    // the server stops.
    onCleanup(t, async () => {
        release(server, 'tmp/go');
        await Promise.allSettled(slow);
    });
    const status = await waitFor(async () => {
        const result = await runTool('passenger-status', [], { registry });
        if (result.code !== 0) return null;
        const parsed = parseStatus(result.stdout);
        const sessions = parsed.groups[0]?.processes.reduce((sum, p) => sum + p.sessions, 0);
        return parsed.processes === 2 && sessions === 3 ? parsed : null;
    }, { timeoutMs: 10000, what: 'two processes and three requests in flight in passenger-status' });
    return { server, slow, status };
}

test('passenger-status against two processes and three requests in flight', { timeout: 90000 }, async (t) => {
    const registry = await makeRegistry(t);
    const { server, status } = await busyServer(t, registry);

    await t.test('passenger-status: the tutorial layout with several processes and requests in flight', async () => {
        const [entry] = registryEntries(registry);

        assert.equal(status.version, JSON.parse(fs.readFileSync(path.join(entry.dir, 'properties.json'), 'utf8')).version);
        assert.match(status.date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
        assert.equal(status.instance, `${entry.properties.name} (Passenger Standalone, port ${server.port})`);
        assert.equal(status.maxPoolSize, 6);
        assert.equal(status.processes, 2);
        assert.equal(status.topLevelQueue, 0);
        assert.equal(status.coreThreads, 3);
        assert.equal(status.threadConnections.length, 3);
        assert.ok(status.threadConnections.every((n) => n >= 1), `each thread serves a slow request: ${status.threadConnections}`);
        assert.equal(status.groups.length, 1);
        const [group] = status.groups;
        assert.equal(group.appRoot, server.appDir);
        assert.equal(group.queue, 0);
        assert.deepEqual(group.processes.map((p) => p.pid).sort((a, b) => a - b), appPids(server));
        for (const process of group.processes) {
            assert.match(process.uptime, /^\d+s$|^\d+m \d+s$/);
            assert.ok(process.cpu >= 0 && process.cpu <= 200, `CPU ${process.cpu}%`);
            assert.ok(process.memory >= 0, `memory ${process.memory}M`);
        }
    });

    await t.test('passenger-status --show=requests lists the requests in flight as JSON', async () => {
        const result = await runTool('passenger-status', ['--show=requests'], { registry });
        assert.equal(result.code, 0, result.stderr);
        const { requests } = JSON.parse(result.stdout);
        const slow = requests.filter((r) => r.uri.startsWith('/slow'));
        assert.equal(slow.length, 3, result.stdout);
        const pids = appPids(server);
        for (const request of slow) {
            assert.equal(request.method, 'GET');
            assert.equal(request.client, '127.0.0.1');
            assert.equal(request.state, 'in app');
            assert.ok(pids.includes(request.process), `process ${request.process} is one of ${pids}`);
            assert.ok(request.age_seconds >= 0 && request.age_seconds < 30, `age ${request.age_seconds}`);
            assert.equal(request.app_root, server.appDir);
        }
        assert.deepEqual(slow.map((r) => r.uri).sort(), ['/slow?until=tmp/go&n=1', '/slow?until=tmp/go&n=2', '/slow?until=tmp/go&n=3']);
    });

    await t.test('passenger-status --show=json and --show=metrics describe the same pool', async () => {
        const pids = appPids(server);

        const json = await runTool('passenger-status', ['--show=json'], { registry });
        assert.equal(json.code, 0, json.stderr);
        const pool = JSON.parse(json.stdout);
        assert.equal(pool.process_count, 2);
        assert.equal(pool.max_pool_size, 6);
        assert.ok(pool.requests_in_flight >= 3);
        assert.equal(pool.groups[0].app_root, server.appDir);
        assert.deepEqual(pool.groups[0].processes.map((p) => p.pid).sort((a, b) => a - b), pids);
        assert.equal(pool.groups[0].processes.reduce((sum, p) => sum + p.sessions, 0), 3);
        assert.equal(pool.thread_connections.length, 3);
        assert.ok(pool.thread_connections.every((n) => n >= 1), `connections per thread ${pool.thread_connections}`);

        const metrics = await runTool('passenger-status', ['--show=metrics'], { registry });
        assert.equal(metrics.code, 0, metrics.stderr);
        const samples = parseMetrics(metrics.stdout);
        const value = (name, labels = {}) => {
            const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
            assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)} in:\n${metrics.stdout}`);
            return found[0].value;
        };
        const app = { app_root: server.appDir };
        assert.ok(value('passenger_requests_total') >= 4, 'the readiness request and the slow ones');
        assert.ok(value('passenger_requests_in_flight') >= 3);
        assert.equal(value('passenger_processes', app), 2);
        assert.equal(value('passenger_queue_length', app), 0);
        assert.ok(value('passenger_spawns_total', app) >= 0);
        assert.ok(value('passenger_restarts_total', app) >= 0);
        for (const pid of pids) {
            assert.ok(value('passenger_process_cpu_percent', { ...app, pid: String(pid) }) >= 0);
            assert.ok(value('passenger_process_private_memory_bytes', { ...app, pid: String(pid) }) >= 0);
        }
        const sessions = pids.map((pid) => value('passenger_process_sessions', { ...app, pid: String(pid) }));
        assert.equal(sessions.reduce((a, b) => a + b, 0), 3);
        for (const thread of ['0', '1', '2'])
            assert.ok(value('passenger_core_thread_connections', { thread }) >= 1, `thread ${thread} serves a slow request`);
    });
});

test('passenger-status with several instances lists them; a name picks one', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const first = await startRegisteredServer(t, registry);
    const second = await startRegisteredServer(t, registry);
    const entries = registryEntries(registry);
    assert.equal(entries.length, 2);

    const listed = await runTool('passenger-status', [], { registry });
    assert.equal(listed.code, 1);
    assert.match(listed.stdout, /multiple Passenger instances are running/);
    assert.match(listed.stdout, /passenger-status <NAME>/);
    for (const { properties } of entries) {
        assert.match(listed.stdout, new RegExp(`^${properties.name} +${properties.watchdog_pid} +${properties.port} .* ${properties.app_roots[0]}$`, 'm'));
    }

    const wanted = entries.find((e) => e.properties.port === second.port);
    const picked = await runTool('passenger-status', [wanted.properties.name], { registry });
    assert.equal(picked.code, 0, picked.stderr);
    const status = parseStatus(picked.stdout);
    assert.equal(status.groups[0].appRoot, second.appDir);
    assert.match(status.instance, new RegExp(`^${wanted.properties.name} .*port ${second.port}\\)$`));
    assert.notEqual(first.port, second.port);

    const wrong = await runTool('passenger-status', ['nosuchname'], { registry });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, '');
    assert.match(wrong.stderr, /^passenger-status: no running instance is named 'nosuchname' \(running: .+\)\n$/);
});

test('with no server running, each tool says so in one line and exits 1', { timeout: 30000 }, async (t) => {
    const registry = await makeRegistry(t);
    // A copy of the binary: passenger-memory-stats also finds servers by their executable, and
    // other tests' servers run from bin/passenger meanwhile.
    const copy = path.join(registry, 'passenger-memory-stats');
    fs.copyFileSync(fs.realpathSync(path.join(repoRoot, 'bin', 'passenger')), copy);
    fs.chmodSync(copy, 0o755);
    for (const [tool, args] of [
        ['passenger-status', []],
        ['passenger-status', ['--show=requests']],
        [copy, []],
        ['passenger-config', ['list-instances']],
        ['passenger-config', ['restart-app']],
    ]) {
        const result = await runTool(tool, args, { registry });
        assert.equal(result.code, 1, `${tool} ${args}: ${result.stdout}${result.stderr}`);
        assert.equal(result.stdout, '');
        assert.match(result.stderr, /^passenger-[a-z-]+( [a-z-]+)?: Passenger is not running \(no live instance in .+\)\n$/, `${tool} ${args}`);
    }
});

