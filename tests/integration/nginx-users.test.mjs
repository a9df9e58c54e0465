// Automatic user switching behind Debian's nginx (run as root): each app runs as the owner of its
// startup file, started by the root spawn helper while the core runs as nginx's worker user.
// One nginx serves every subtest: two users' apps (Node, Rack), a root-owned app, a passenger_user
// override, an unknown passenger_user, and a symlinked app root that a deploy switches.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { request } from './lib/http.mjs';
import { cmdline, descendantsOf, isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { makePrefix, nginxConfig, runNginx, spawnSocketDirs, startNginx } from './lib/nginx.mjs';
import { runTool } from './lib/inspection.mjs';
import { freePort, makeTempDir } from './lib/server.mjs';
import { makeUser, placeApp, run, uidOf } from './lib/users.mjs';

const isRoot = process.getuid() === 0;

async function env(port) {
    const response = await request(port, '/env');
    assert.equal(response.status, 200, response.text);
    return response.json();
}

test('apps run as their owners, started by a root helper; the core is not root', { skip: !isRoot && 'needs root', timeout: 120000 }, async (t) => {
    const alice = makeUser(t, 'ptest_alice');
    const bob = makeUser(t, 'ptest_bob');
    const base = await makeTempDir(t, 'passenger-users-');
    await fsp.chmod(base, 0o755);

    const apps = {
        alice: { dir: path.join(base, 'alice-node'), fixture: 'echo', owner: alice },
        bob: { dir: path.join(base, 'bob-rack'), fixture: 'rack-app', owner: bob },
        root: { dir: path.join(base, 'root-node'), fixture: 'echo', owner: null },
        override: {
            dir: path.join(base, 'override'),
            fixture: 'echo',
            owner: alice,
            lines: 'passenger_user ptest_bob;\n        passenger_group ptest_alice;',
        },
        unknown: { dir: path.join(base, 'unknown'), fixture: 'echo', owner: alice, lines: 'passenger_user ptest_nosuchuser;' },
    };
    for (const app of Object.values(apps)) await placeApp(app.fixture, app.dir, app.owner);
    // The deploy layout: /base/deploy/current -> releases/1, all alice's.
    const deploy = path.join(base, 'deploy');
    await fsp.mkdir(path.join(deploy, 'releases'), { recursive: true });
    for (const release of ['1', '2']) await placeApp('echo', path.join(deploy, 'releases', release), null);
    await fsp.symlink('releases/1', path.join(deploy, 'current'));
    assert.equal(run('chown', ['-R', '-h', `${alice.name}:${alice.name}`, deploy]).status, 0);
    apps.deploy = { dir: path.join(deploy, 'current') };

    const servers = [];
    for (const app of Object.values(apps)) {
        app.port = await freePort();
        servers.push({
            port: app.port,
            body: `        root ${app.dir}/public;\n        passenger_enabled on;\n        ${app.lines ?? ''}`,
        });
    }
    const prefix = await makePrefix(t);
    const startedAt = Date.now() - 1000; // before this nginx's spawn helper made its folder
    const socketDirsOf = (helper) => spawnSocketDirs(helper, startedAt);
    // Passenger's defaults, spelled out: the http-only directives travel with every app.
    const http = '    passenger_user_switching on;\n    passenger_default_user nobody;\n    passenger_default_group nogroup;';
    const nginx = await startNginx(t, prefix, nginxConfig(prefix, { servers, http }), { waitPort: apps.alice.port });

    await t.test('each app runs as the owner of its startup file, with its HOME', async () => {
        const node = await env(apps.alice.port);
        assert.equal(node.uid, alice.uid);
        assert.equal(node.gid, alice.gid);
        assert.equal(node.home, '/home/ptest_alice');
        const rack = await env(apps.bob.port);
        assert.equal(rack.uid, bob.uid);
        assert.equal(rack.home, '/home/ptest_bob');
        assert.equal(uidOf(rack.pid), bob.uid);
        // The core cannot read another user's smaps_rollup: the helper samples private memory.
        await waitFor(
            async () => {
                const status = await runTool('passenger-status', ['--show=json'], { registry: path.join(prefix, 'registry') });
                const group = JSON.parse(status.stdout).groups.find((g) => g.app_root === apps.alice.dir);
                return group?.processes.find((p) => p.pid === node.pid)?.private_memory_kb > 0;
            },
            { timeoutMs: 10000, what: "alice's app's private memory in passenger-status" },
        );
    });

    await t.test('a root-owned app runs as nobody; passenger_user overrides the owner', async () => {
        const nobody = Number(run('id', ['-u', 'nobody']).stdout);
        assert.equal((await env(apps.root.port)).uid, nobody);
        const override = await env(apps.override.port);
        assert.equal(override.uid, bob.uid);
        assert.equal(override.gid, alice.gid, 'passenger_group');
        assert.equal(override.home, '/home/ptest_bob');
    });

    await t.test('an unknown passenger_user is an error page and a log line, not a crash', async () => {
        const response = await request(apps.unknown.port, '/env');
        assert.ok(response.status >= 500, `${response.status} ${response.text}`);
        await waitFor(() => nginx.log().includes('passenger_user ptest_nosuchuser: no such user'), {
            what: () => `the log line\n${nginx.log()}`,
        });
        assert.equal((await env(apps.alice.port)).uid, alice.uid, 'the core still serves');
    });

    await t.test('the core runs as the worker user; only the spawn helper is root', async () => {
        const below = descendantsOf(nginx.pid).map((stat) => stat.pid);
        const named = (word) => below.filter((pid) => cmdline(pid).includes(word));
        const [core] = named('core');
        const [helper] = named('spawn-helper');
        assert.ok(core && helper, `core and helper below nginx: ${below.map((pid) => cmdline(pid).join(" ")).join("\n")}\n${nginx.log()}`);
        assert.notEqual(uidOf(core), 0);
        assert.equal(uidOf(helper), 0);
        // The app's socket folder: the app's user's, the core's group may enter, nobody else.
        const socketDirs = socketDirsOf(helper);
        assert.equal(socketDirs.length, 1, socketDirs.join(' '));
        const folders = fs.readdirSync(path.join('/tmp', socketDirs[0])).map((name) => fs.statSync(path.join('/tmp', socketDirs[0], name)));
        assert.ok(folders.some((info) => info.uid === alice.uid && (info.mode & 0o777) === 0o750));
    });

    await t.test('a symlinked app root is resolved anew: switch the link, touch restart.txt', async () => {
        const before = await env(apps.deploy.port);
        assert.equal(before.cwd, path.join(deploy, 'releases', '1'));
        assert.equal(before.uid, alice.uid, 'the link and the releases are alice\'s');
        assert.equal(run('ln', ['-sfn', 'releases/2', path.join(deploy, 'current')]).status, 0);
        await fsp.writeFile(path.join(deploy, 'current', 'tmp', 'restart.txt'), '');
        const after = await waitFor(
            async () => {
                const now = await env(apps.deploy.port);
                return now.cwd === path.join(deploy, 'releases', '2') ? now : null;
            },
            { timeoutMs: 30000, what: 'the new release to serve' },
        );
        assert.equal(after.uid, alice.uid);
        // The old process was stopped (SIGTERM through the helper: the core may not signal it).
        await waitForGone([before.pid], { timeoutMs: 15000 });
    });

    await t.test('an app as root needs a directive naming root when nginx started, not a reload', async () => {
        const port = await freePort();
        const dir = path.join(base, 'as-root');
        await placeApp('echo', dir, alice);
        const body = `        root ${dir}/public;\n        passenger_enabled on;\n        passenger_user root;`;
        await fsp.writeFile(path.join(prefix, 'nginx.conf'), nginxConfig(prefix, { servers: [...servers, { port, body }], http }));
        assert.equal(runNginx(prefix, ['-s', 'reload']).status, 0);
        const response = await waitFor(
            async () => {
                const answer = await request(port, '/env', { timeoutMs: 5000 });
                return answer.status >= 500 ? answer : null;
            },
            { timeoutMs: 20000, what: () => `the root app's error page\n${nginx.log()}` },
        );
        assert.doesNotMatch(response.text, /"uid":0/);
        assert.match(nginx.log(), /the app would run as root:root, but no passenger_user, passenger_group or default named root/);
    });

    await t.test('nginx -s quit leaves no app process and no socket folder behind', async () => {
        const appPids = [];
        for (const app of [apps.alice, apps.bob, apps.root, apps.override, apps.deploy]) appPids.push((await env(app.port)).pid);
        const below = descendantsOf(nginx.pid).map((stat) => stat.pid);
        const [helper] = below.filter((pid) => cmdline(pid).includes('spawn-helper'));
        assert.equal(runNginx(prefix, ['-s', 'quit']).status, 0);
        await waitForGone([nginx.pid, ...below, ...appPids], { timeoutMs: 30000 });
        for (const pid of appPids) assert.ok(!isAlive(pid), `app ${pid} outlived nginx`);
        assert.deepEqual(socketDirsOf(helper), []);
    });
});

test('passenger_user root, named when nginx starts, runs the app as root', { skip: !isRoot && 'needs root', timeout: 60000 }, async (t) => {
    const alice = makeUser(t, 'ptest_alice');
    const dir = path.join(await makeTempDir(t, 'passenger-users-root-'), 'app');
    await fsp.chmod(path.dirname(dir), 0o755);
    await placeApp('echo', dir, alice);
    const prefix = await makePrefix(t);
    const port = await freePort();
    const body = `        root ${dir}/public;\n        passenger_enabled on;\n        passenger_user root;`;
    await startNginx(t, prefix, nginxConfig(prefix, { servers: [{ port, body }] }), { waitPort: port });
    const app = await env(port);
    assert.equal(app.uid, 0);
    assert.equal(app.home, '/root');
});
