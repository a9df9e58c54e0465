// App processes that are wrappers (`/bin/sh -c` for generic apps, `meteor run`): the app is the
// wrapper's child, in its process group. passenger-status, the metrics and --memory-limit count
// the whole group, not the wrapper alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { makeRegistry, parseMetrics, parseStatus, runTool } from './lib/inspection.mjs';
import { cmdline, waitFor, waitForGone } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

// `; exit $?` keeps the shell from replacing itself with node: a real wrapper.
const WRAPPED = ['--app-start-command', 'node server.js; exit $?'];
const MIB = 1024 * 1024;

async function wrappedApp(t, args = []) {
    const registry = await makeRegistry(t);
    const server = await startServer(t, { fixture: 'generic-app', readyPath: '/env', args: ['--instance-registry-dir', registry, ...WRAPPED, ...args] });
    const app = (await server.get('/env')).json().pid;
    return { registry, server, app };
}

async function statusJson(registry) {
    const result = await runTool('passenger-status', ['--show=json'], { registry });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
}

test('passenger-status and the metrics count the memory of the app behind a /bin/sh -c wrapper', { timeout: 60000 }, async (t) => {
    const { registry, server, app } = await wrappedApp(t);
    const [process] = (await statusJson(registry)).groups[0].processes;
    assert.notEqual(process.pid, app, 'the pool started the shell; the app is its child');
    assert.match(cmdline(process.pid)[0], /sh$/, `process ${process.pid} is the shell: ${cmdline(process.pid).join(' ')}`);

    const alloc = await server.get('/alloc?mb=64');
    assert.equal(alloc.json().pid, app);
    const counted = await waitFor(
        async () => {
            const [now] = (await statusJson(registry)).groups[0].processes;
            return now.private_memory_kb >= 64 * 1024 && now;
        },
        { timeoutMs: 15000, intervalMs: 250, what: 'the 64 MiB the app holds in the process private memory' },
    );
    assert.equal(counted.pid, process.pid);

    const text = await runTool('passenger-status', [], { registry });
    assert.ok(parseStatus(text.stdout).groups[0].processes[0].memory >= 64, text.stdout);
    const metrics = parseMetrics((await runTool('passenger-status', ['--show=metrics'], { registry })).stdout);
    const memory = metrics.find((sample) => sample.name === 'passenger_process_private_memory_bytes' && sample.labels.pid === String(process.pid));
    assert.ok(memory && memory.value >= 64 * MIB, `passenger_process_private_memory_bytes: ${JSON.stringify(memory)}`);
    assert.equal(metrics.filter((sample) => sample.name === 'passenger_top_level_queue_length').length, 0, 'no constant-0 top-level queue metric');
});

test('--memory-limit replaces a wrapped app whose child grew past it', { timeout: 60000 }, async (t) => {
    const { registry, server, app } = await wrappedApp(t, ['--memory-limit', '150']);
    const [process] = (await statusJson(registry)).groups[0].processes;
    assert.equal((await server.get('/alloc?mb=200')).json().pid, app);
    await waitForGone([process.pid, app], { timeoutMs: 15000, what: `the wrapper ${process.pid} and its app ${app} to be replaced for --memory-limit 150\n${server.logText().slice(-1500)}` });
    assert.match(server.logText(), new RegExp(`App process ${process.pid} uses \\d+ MB of private memory, more than --memory-limit 150 MB`));
    const next = await waitFor(async () => {
        const response = await server.get('/env', { timeoutMs: 10000 });
        return response.status === 200 && response.json();
    }, { timeoutMs: 20000, what: 'a new app process to answer' });
    assert.notEqual(next.pid, app);
});
