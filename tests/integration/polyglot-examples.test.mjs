// The polyglot examples (examples/rack, examples/wsgi, examples/generic) run as their READMEs say.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { makeTempDir, repoRoot, startServer } from './lib/server.mjs';

async function startExample(t, name, args = []) {
    const appDir = await makeTempDir(t, `passenger-it-example-${name}-`);
    await fsp.cp(path.join(repoRoot, 'examples', name), appDir, { recursive: true });
    return startServer(t, { appDir, args });
}

for (const [name, title] of [
    ['rack', 'Hello from Rack on Passenger'],
    ['wsgi', 'Hello from WSGI on Passenger'],
]) {
    test(`examples/${name}: the page, the env, an echo, a streamed line and a static file`, { timeout: 60000 }, async (t) => {
        const server = await startExample(t, name);
        const page = await server.get('/');
        assert.equal(page.status, 200, page.text);
        assert.match(page.headers['content-type'], /^text\/html/);
        assert.match(page.text, new RegExp(title));
        const env = (await server.get('/env?a=1')).json();
        assert.equal(env.QUERY_STRING, 'a=1');
        const echo = await server.get('/echo', { method: 'POST', body: 'text=hello' });
        assert.equal(echo.text, 'text=hello');
        const stream = await server.get('/stream', { timeoutMs: 20000 });
        assert.match(stream.text, /^tick 1 of 5 from process \d+\n(tick \d of 5 from process \d+\n){4}$/);
        const robots = await server.get('/robots.txt');
        assert.equal(robots.text, await fsp.readFile(path.join(server.appDir, 'public', 'robots.txt'), 'utf8'));
        assert.equal((await server.get('/no-such-page')).status, 404);
    });
}

test('examples/generic: python3 server.py through --app-start-command', { timeout: 60000 }, async (t) => {
    const server = await startExample(t, 'generic', ['--app-start-command', 'python3 server.py']);
    const page = await server.get('/');
    assert.equal(page.status, 200, page.text);
    const env = (await server.get('/env')).json();
    assert.match(page.text, new RegExp(`^Hello from a generic app \\(process \\d+, PORT=${env.PORT}\\)\\n$`));
    assert.equal(env.PASSENGER_APP_ENV, 'development');
    const echo = await server.get('/echo', { method: 'POST', body: 'hello' });
    assert.equal(echo.text, 'hello');
});
