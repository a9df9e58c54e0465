// Apps that fail: at startup (throw while loading, exit at once) and while running. The client
// gets an error page (details only in development), the log says why, the server stays up and
// tries again later.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { request } from './lib/http.mjs';
import { isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const FIXED_APP = `'use strict';
require('http').createServer((req, res) => res.end('fixed app ' + process.pid + '\\n')).listen(3000);
`;

const isServerError = (status) => status >= 500 && status <= 599;

test('an app that throws at load: development error page with its output, log says why, fixing it works', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'crash' });
    const response = await server.get('/');
    assert.ok(isServerError(response.status), `5xx expected, got ${response.status}`);
    assert.ok(response.text.includes('CRASH-MARKER-42'), `the page shows the thrown error:\n${response.text.slice(0, 2000)}`);
    assert.ok(response.text.includes('CRASH-OUTPUT-91'), `the page shows the app's stdout:\n${response.text.slice(0, 2000)}`);

    await server.waitForLog(/CRASH-MARKER-42/);
    assert.equal(server.exitInfo, null, 'the server is still running');
    const again = await server.get('/another');
    assert.ok(isServerError(again.status), 'a later request is answered too (still failing)');

    fs.writeFileSync(path.join(server.appDir, 'app.js'), FIXED_APP);
    const fixed = await waitFor(
        async () => {
            const attempt = await server.get('/');
            return attempt.status === 200 && attempt;
        },
        { timeoutMs: 30000, intervalMs: 250, what: 'a request to succeed after fixing app.js' },
    );
    assert.match(fixed.text, /^fixed app \d+\n$/);
});

test('an app that throws at load in production: generic error page, details only in the log', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'crash', args: ['--environment', 'production'] });
    const response = await server.get('/');
    assert.ok(isServerError(response.status), `5xx expected, got ${response.status}`);
    assert.ok(!response.text.includes('CRASH-MARKER-42'), `no error details in production:\n${response.text.slice(0, 2000)}`);
    assert.ok(!response.text.includes('CRASH-OUTPUT-91'), 'no app output in production');
    assert.ok(!response.text.includes(server.appDir), 'no server paths in production');
    await server.waitForLog(/CRASH-MARKER-42/);
    assert.equal(server.exitInfo, null, 'the server is still running');
});

test('an app that exits at once: error page shows its output and exit status', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'exit-at-once' });
    const response = await server.get('/');
    assert.ok(isServerError(response.status), `5xx expected, got ${response.status}`);
    assert.ok(response.text.includes('EXIT-OUTPUT-55'), `the page shows the app's output:\n${response.text.slice(0, 2000)}`);
    assert.match(response.text, /exit(ed)?\b[^\n]{0,40}\b3\b/i, 'the page shows exit status 3');
    await server.waitForLog(/EXIT-OUTPUT-55/);
    assert.equal(server.exitInfo, null, 'the server is still running');
});

test('an app process that dies while running is replaced on the next request', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    let current = (await server.get('/pid')).json().pid;
    // A few rounds: the window between the death and the server noticing it is small.
    for (let round = 1; round <= 3; round++) {
        const crash = await request(server.port, '/exit', { timeoutMs: 15000 });
        assert.ok(isServerError(crash.status), `round ${round}: the request that killed the app gets a 5xx, got ${crash.status}`);
        await waitForGone([current], { timeoutMs: 15000 });

        const next = await server.get('/pid');
        assert.equal(next.status, 200, `round ${round}: the next request is served: ${next.text}\n--- log ---\n${server.logText().slice(-1500)}`);
        const replacement = next.json().pid;
        assert.notEqual(replacement, current, `round ${round}: by a new process`);
        assert.ok(isAlive(replacement));
        await server.waitForLog(new RegExp(`App ${current} stdout: exiting on request`));
        current = replacement;
    }
});
