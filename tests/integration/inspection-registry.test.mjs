// The instance registry and who may use the admin socket: entries appear and disappear with the
// server, a core restart keeps the entry, a killed instance's entry is ignored and cleaned up,
// and another (unprivileged) user is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { crash, makeRegistry, parseStatus, registryEntries, runTool, startRegisteredServer } from './lib/inspection.mjs';
import { waitFor, withTimeout } from './lib/proc.mjs';

// An unprivileged user every Debian system has, so the test creates (and leaves) no account.
const OTHER_USER = 'nobody';

test('the entry: properties, a private socket, gone after a clean stop', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry);
    const entries = registryEntries(registry);
    assert.equal(entries.length, 1);
    const [{ dir, properties }] = entries;
    assert.equal(path.basename(dir), `passenger.${properties.name}`);
    assert.equal(properties.watchdog_pid, server.pid);
    assert.equal(properties.port, server.port);
    assert.deepEqual(properties.app_roots, [server.appDir]);
    assert.equal(properties.uid, process.getuid());
    assert.ok(Math.abs(properties.started_at - Date.now() / 1000) < 60);
    const socket = fs.statSync(path.join(dir, 'admin.sock'));
    assert.ok(socket.isSocket());
    assert.equal(socket.mode & 0o777, 0o600);

    server.proc.kill('SIGTERM');
    assert.ok(await withTimeout(server.exited, 20000), 'the server stops');
    assert.equal(fs.existsSync(dir), false, 'the entry is removed on a clean stop');
});

test('a restarted core keeps the instance name and answers on the same socket', { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry);
    const [{ properties: before }] = registryEntries(registry);
    process.kill(before.core_pid, 'SIGKILL');
    const after = await waitFor(() => {
        const [entry] = registryEntries(registry);
        return entry && entry.properties.core_pid !== before.core_pid ? entry.properties : null;
    }, { timeoutMs: 15000, what: 'a new core to register' });
    assert.equal(after.name, before.name);
    assert.equal(registryEntries(registry).length, 1);
    const result = await waitFor(async () => {
        const status = await runTool('passenger-status', [], { registry });
        return status.code === 0 ? status : null;
    }, { timeoutMs: 15000, what: 'passenger-status to answer again' });
    assert.match(parseStatus(result.stdout).instance, new RegExp(`^${before.name} `));
    assert.equal((await server.get('/pid')).status, 200);
});

test("a killed instance's stale entry is ignored and cleaned up", { timeout: 60000 }, async (t) => {
    const registry = await makeRegistry(t);
    const victim = await startRegisteredServer(t, registry);
    const [{ dir: staleDir }] = registryEntries(registry);
    await crash(victim);
    assert.ok(fs.existsSync(staleDir), 'a SIGKILLed instance leaves its entry behind');

    const nothing = await runTool('passenger-status', [], { registry });
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /Passenger is not running/);
    assert.equal(fs.existsSync(staleDir), false, 'the stale entry is removed');

    // A stale entry beside a live one: the live one is used without asking which.
    const live = await startRegisteredServer(t, registry);
    const fake = path.join(registry, 'passenger.stale1');
    fs.mkdirSync(fake);
    const [{ properties }] = registryEntries(registry).filter((e) => e.dir !== fake);
    fs.writeFileSync(path.join(fake, 'properties.json'), JSON.stringify({ ...properties, name: 'stale1', watchdog_pid: 999999999 }));
    const status = await runTool('passenger-status', [], { registry });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.equal(parseStatus(status.stdout).groups[0].appRoot, live.appDir);
    assert.equal(fs.existsSync(fake), false);
});

function otherUserId() {
    return Number(execFileSync('id', ['-u', OTHER_USER]).toString());
}

test('another, unprivileged user is refused by the admin socket', { timeout: 60000 }, async (t) => {
    if (process.getuid() !== 0) {
        t.skip('needs root: creates a user and runs the tools as that user');
        return;
    }
    const otherUid = otherUserId();
    const registry = await makeRegistry(t);
    const server = await startRegisteredServer(t, registry);
    const [{ dir }] = registryEntries(registry);
    const asOther = ['runuser', '-u', OTHER_USER, '--'];

    // The socket file's mode keeps the other user out.
    const denied = await runTool('passenger-status', [], { registry, prefix: asOther });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /permission denied on .*admin\.sock: only root and the user the server runs as may use it/);

    // Past the file mode (opened up here on purpose), the peer credentials keep it out.
    fs.chmodSync(path.join(dir, 'admin.sock'), 0o666);
    const refused = await runTool('passenger-status', [], { registry, prefix: asOther });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused: only root and the instance's user may use this admin API \(403\)/);
    const restart = await runTool('passenger-config', ['restart-app'], { registry, prefix: asOther });
    assert.equal(restart.code, 1);
    assert.match(restart.stderr, /only root and the instance's user may use this admin API/);
    await server.waitForLog(new RegExp(`Admin socket: refused POST /pool/restart_app from uid ${otherUid}`));

    // Root still gets in, and the server serves on.
    const root = await runTool('passenger-status', [], { registry });
    assert.equal(root.code, 0, root.stderr);
    assert.equal((await server.get('/pid')).status, 200);
});
