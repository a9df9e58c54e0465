// passenger-memory-stats: from /proc alone, so it answers while the core is stopped (SIGSTOP),
// when passenger-status cannot.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appPids, makeRegistry, parseMemoryStats, registryEntries, runTool, startRegisteredServer } from './lib/inspection.mjs';
import { procStat, waitFor } from './lib/proc.mjs';

function coreOf(registry) {
    const [entry] = registryEntries(registry);
    return entry.properties;
}

test('passenger-memory-stats: Passenger and app processes with VMSize, private dirty RSS and totals', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry, { args: ['--min-instances', '2'] });
    await waitFor(() => appPids(server).length === 2, { what: 'two app processes' });
    const { watchdog_pid: watchdog, core_pid: core } = coreOf(registry);
    assert.equal(watchdog, server.pid);

    const result = await runTool('passenger-memory-stats', [], { registry });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Version: \S+\nDate {3}: \d{4}-\d\d-\d\d /);
    const { sections } = parseMemoryStats(result.stdout);
    const ours = sections['Passenger processes'];
    const apps = sections['Application processes'];
    assert.ok(ours && apps, result.stdout);

    const watchdogRow = ours.processes.find((p) => p.pid === watchdog);
    const coreRow = ours.processes.find((p) => p.pid === core);
    assert.ok(watchdogRow, `the watchdog ${watchdog} is listed:\n${result.stdout}`);
    assert.ok(coreRow, `the core ${core} is listed:\n${result.stdout}`);
    assert.match(watchdogRow.name, /passenger start/);
    assert.equal(coreRow.name, 'passenger core');
    assert.equal(coreRow.ppid, watchdog);

    // Other tests' servers may be listed too: only this core's children are compared.
    const listedApps = apps.processes.filter((p) => p.ppid === core).map((p) => p.pid).sort((a, b) => a - b);
    assert.deepEqual(listedApps, appPids(server));
    for (const row of [...ours.processes, ...apps.processes]) {
        assert.ok(row.vmSize > 0, `VMSize of ${row.pid}`);
        assert.ok(row.private !== null && row.private >= 0, `private dirty RSS of ${row.pid} (root sees all)`);
    }
    for (const section of [ours, apps]) {
        assert.equal(section.count, section.processes.length);
        const sum = section.processes.reduce((total, p) => total + p.private, 0);
        assert.ok(Math.abs(section.totalMb - sum) < 0.1 * section.processes.length + 0.01, `total ${section.totalMb} vs ${sum}`);
    }
    // This core's apps only: another test's app may be a Rack or Python one, or just forked.
    const ownApps = apps.processes.filter((p) => p.ppid === core);
    assert.ok(ownApps.every((p) => p.private > 1), `a Node.js process has more than 1 MB of its own: ${JSON.stringify(ownApps)}`);
});

test('passenger-memory-stats answers while the core is stopped; passenger-status says it does not answer', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry);
    const { core_pid: core } = coreOf(registry);
    process.kill(core, 'SIGSTOP');
    t.after(() => {
        try {
            process.kill(core, 'SIGCONT');
        } catch {
            // already gone
        }
    });
    await waitFor(() => procStat(core)?.state === 'T', { what: `core ${core} to stop` });

    const memory = await runTool('passenger-memory-stats', [], { registry, timeoutMs: 10000 });
    // runTool kills it after 10 s: exit code 0 means it did not wait for the stopped core.
    assert.equal(memory.code, 0, memory.stderr);
    const { sections } = parseMemoryStats(memory.stdout);
    assert.ok(sections['Passenger processes'].processes.some((p) => p.pid === core), memory.stdout);
    const apps = sections['Application processes'].processes.filter((p) => p.ppid === core);
    assert.deepEqual(apps.map((p) => p.pid).sort((a, b) => a - b), appPids(server));

    const status = await runTool('passenger-status', [], { registry, timeoutMs: 30000 });
    assert.equal(status.code, 1);
    assert.match(status.stderr, /no answer on .*admin\.sock within 10 s \(is the core stopped or hung\? passenger-memory-stats still works\)\n$/);

    process.kill(core, 'SIGCONT');
    const again = await runTool('passenger-status', [], { registry });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await server.get('/pid')).status, 200);
});
