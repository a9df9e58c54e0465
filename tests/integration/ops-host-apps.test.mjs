// Several apps in one Standalone instance (issue 16): `--app HOST=DIR` routes by Host (case and
// port ignored), every other host gets APP_DIR's app; static files come from each app's public/;
// the apps are groups of one pool under one --max-pool-size, listed by the admin API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { adminGet } from './lib/admin.mjs';
import { rawRequest } from './lib/http.mjs';
import { copyFixture, startServer } from './lib/server.mjs';

test('apps by Host', async (t) => {
    const [mainDir, otherDir] = await Promise.all([copyFixture(t, 'echo'), copyFixture(t, 'echo')]);
    for (const [dir, name] of [[mainDir, 'main'], [otherDir, 'other']]) {
        fs.mkdirSync(path.join(dir, 'public'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'public', 'which.txt'), `${name}\n`);
    }
    const server = await startServer(t, {
        appDir: mainDir,
        args: ['--app', `Other.Example=${otherDir}`, '--max-pool-size', '2', '--health-check-path', '/health'],
        readyPath: '/env',
    });
    const cwdFor = async (host) => (await server.get('/env', { headers: { Host: host } })).json().cwd;

    assert.equal(await cwdFor('other.example'), otherDir);
    assert.equal(await cwdFor(`OTHER.example:${server.port}`), otherDir);
    assert.equal(await cwdFor('unknown.example'), mainDir);
    assert.equal(await cwdFor(`127.0.0.1:${server.port}`), mainDir);
    // HTTP/1.0 without a Host: the main app (its static file; Node's server refuses such a
    // request itself).
    const bare = await rawRequest(server.port, 'GET /which.txt HTTP/1.0\r\n\r\n');
    assert.equal(bare.text, 'main\n');
    assert.equal((await server.get('/which.txt', { headers: { Host: 'other.example' } })).text, 'other\n');
    assert.equal((await server.get('/which.txt')).text, 'main\n');

    const pool = await adminGet(server, '/pool');
    assert.equal(pool.max_pool_size, 2);
    assert.deepEqual(pool.groups.map((g) => g.app_root).sort(), [mainDir, otherDir].sort());
    assert.ok(pool.groups.every((g) => g.processes.length === 1));
    assert.deepEqual((await adminGet(server, '/instance')).app_roots, [mainDir, otherDir]);
    assert.equal((await server.get('/health')).status, 200);
});
