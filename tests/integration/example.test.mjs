// The plain example (examples/hello) works under the server; `make start` runs examples/leaderboard
// (realtime-leaderboard.test.mjs).
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { makeTempDir, repoRoot, startServer } from './lib/server.mjs';

test('examples/hello: the page, a JSON route and a static file', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t, 'passenger-it-hello-');
    await fsp.cp(path.join(repoRoot, 'examples', 'hello'), appDir, { recursive: true });
    const server = await startServer(t, { appDir });

    const page = await server.get('/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.text, /Hello from Passenger/);
    const env = (await server.get('/env')).json();
    assert.ok(page.text.includes(`<strong>${env.pid}</strong>`), 'the page shows the app pid');
    assert.equal(env.nodeEnv, 'development');

    const robots = await server.get('/robots.txt');
    assert.equal(robots.status, 200);
    assert.equal(robots.text, await fsp.readFile(path.join(appDir, 'public', 'robots.txt'), 'utf8'));
    assert.match((await server.get('/style.css')).headers['content-type'], /^text\/css/);
    assert.equal((await server.get('/no-such-page')).status, 404);
});
