// passenger-config: restart-app (with and without APP_ROOT), list-instances, --version.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appPids, makeRegistry, registryEntries, runTool, startRegisteredServer } from './lib/inspection.mjs';
import { waitFor, waitForGone } from './lib/proc.mjs';

test('passenger-config restart-app replaces every app process', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry, { args: ['--min-instances', '2'] });
    await waitFor(() => appPids(server).length === 2, { what: 'two app processes' });
    const before = appPids(server);
    const [{ properties }] = registryEntries(registry);

    const result = await runTool('passenger-config', ['restart-app'], { registry });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Restarting ${server.appDir} (instance ${properties.name})\n`);
    await waitForGone(before, { timeoutMs: 20000 });
    await waitFor(() => appPids(server).length === 2, { timeoutMs: 20000, what: 'two new app processes' });
    assert.equal((await server.get('/pid')).status, 200);
    await server.waitForLog(/Restarting .* \(asked through the admin socket\)/);

    const json = JSON.parse((await runTool('passenger-status', ['--show=json'], { registry })).stdout);
    assert.ok(json.groups[0].restarts_total >= 1, `restarts counted: ${json.groups[0].restarts_total}`);
});

test('passenger-config restart-app APP_ROOT picks the app by folder, among several instances', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const one = await startRegisteredServer(t, registry);
    const two = await startRegisteredServer(t, registry);
    const untouched = appPids(one);
    const before = appPids(two);

    const ambiguous = await runTool('passenger-config', ['restart-app'], { registry });
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.stderr, /several apps are being served; name one/);
    assert.ok(ambiguous.stderr.includes(one.appDir) && ambiguous.stderr.includes(two.appDir));

    const result = await runTool('passenger-config', ['restart-app', `${two.appDir}/`], { registry });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^Restarting ${two.appDir} \\(instance \\w+\\)\\n$`));
    await waitForGone(before, { timeoutMs: 20000 });
    assert.deepEqual(appPids(one), untouched, 'the other instance keeps its processes');

    const wrong = await runTool('passenger-config', ['restart-app', '/no/such/app'], { registry });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^passenger-config restart-app: no app in \/no\/such\/app is being served/);
});

test('passenger-config list-instances and --version', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry);
    const [{ properties }] = registryEntries(registry);

    const table = await runTool('passenger-config', ['list-instances'], { registry });
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^Name +PID +Port +Started +App root$/);
    assert.match(lines[2], new RegExp(`^${properties.name} +${server.pid} +${server.port} +\\d{4}-\\d\\d-\\d\\d .+ ${server.appDir}$`));

    const json = await runTool('passenger-config', ['list-instances', '--json'], { registry });
    const [listed] = JSON.parse(json.stdout);
    assert.equal(listed.name, properties.name);
    assert.equal(listed.watchdog_pid, server.pid);
    assert.deepEqual(listed.app_roots, [server.appDir]);

    const version = await runTool('passenger-config', ['--version']);
    const passenger = await runTool('passenger', ['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, passenger.stdout);
});
