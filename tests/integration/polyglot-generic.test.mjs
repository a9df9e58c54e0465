// Any program that listens on 127.0.0.1:$PORT, started with --app-start-command through
// /bin/sh -c: bodies both ways, streaming, the environment, commands that fail or never listen.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkBigBodies, checkKeepAlive, checkStreaming, firstResponse, isServerError, writeFiles } from './lib/polyglot.mjs';
import { isAlive, waitForGone } from './lib/proc.mjs';
import { makeTempDir, startServer } from './lib/server.mjs';

test('generic: bodies of several MiB both ways, streaming, keep-alive', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'generic-app', args: ['--app-start-command', 'node server.js'] });
    await checkBigBodies(server, 'generic');
    await checkStreaming(server, 'generic');
    await checkKeepAlive(server, 'generic');
});

test('generic: PORT is where it listens; environment, --envvar, cwd; run by /bin/sh -c', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'generic-app',
        args: ['--app-start-command', 'POLYGLOT_VAR="$POLYGLOT_VAR from sh" exec node server.js --flag', '-e', 'production', '--envvar', 'POLYGLOT_VAR=a b=c'],
        env: { POLYGLOT_SERVER_VAR: 'from the server' },
    });
    const response = await server.get('/env', { headers: { Host: 'generic.example' } });
    assert.equal(response.status, 200, response.text);
    const seen = response.json();
    assert.equal(seen.name, 'generic');
    assert.equal(seen.cwd, server.appDir, 'the command runs in the app folder');
    assert.deepEqual(seen.argv, ['--flag'], 'the shell passed the arguments');
    assert.equal(seen.env.POLYGLOT_VAR, 'a b=c from sh', 'the shell saw --envvar and expanded the command');
    assert.equal(seen.env.POLYGLOT_SERVER_VAR, 'from the server');
    for (const name of ['RACK_ENV', 'RAILS_ENV', 'NODE_ENV', 'PASSENGER_APP_ENV']) assert.equal(seen.env[name], 'production', name);
    assert.match(seen.env.PORT, /^\d+$/);
    assert.notEqual(Number(seen.env.PORT), server.port, "PORT is the app's own port, not the server's");
    assert.equal(seen.env.PASSENGER_APP_SOCKET, undefined, 'no Unix socket for a generic app');
    assert.equal(seen.host, 'generic.example', 'the original Host reaches the app');
    await server.waitForLog(new RegExp(`App \\d+ stdout: generic fixture listening on 127\\.0\\.0\\.1:${seen.env.PORT}`));
});

test('generic: --app-start-command wins over an app.js in the folder', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, {
        'app.js': "require('http').createServer((q, s) => s.end('node app.js\\n')).listen(3000);\n",
        'server.py': [
            'import http.server, os',
            'class Handler(http.server.BaseHTTPRequestHandler):',
            '    def do_GET(self):',
            "        body = b'python on PORT\\n'",
            '        self.send_response(200)',
            "        self.send_header('Content-Length', str(len(body)))",
            '        self.end_headers()',
            '        self.wfile.write(body)',
            "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), Handler).serve_forever()",
            '',
        ].join('\n'),
    });
    const server = await startServer(t, { appDir, args: ['--app-start-command', 'python3 server.py'] });
    const response = await server.get('/');
    assert.equal(response.status, 200);
    assert.equal(response.text, 'python on PORT\n');
});

test('generic: a command that exits at once: page shows its output and status; production is generic', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    const command = 'echo GENERIC-FAIL-31; echo GENERIC-ERR-32 >&2; exit 3';
    const server = await startServer(t, { appDir, args: ['--app-start-command', command] });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status), `5xx expected, got ${response.status}`);
    assert.match(response.text, /GENERIC-FAIL-31/);
    assert.match(response.text, /GENERIC-ERR-32/);
    assert.match(response.text, /exit(ed)?\b[^\n]{0,40}\b3\b/i);
    await server.waitForLog(/App \d+ stdout: GENERIC-FAIL-31/);
    await server.stop();

    const production = await startServer(t, { appDir, args: ['--app-start-command', command, '-e', 'production'] });
    const generic = await firstResponse(production);
    assert.ok(isServerError(generic.status));
    assert.doesNotMatch(generic.text, /GENERIC-FAIL-31|GENERIC-ERR-32/);
    await production.waitForLog(/App \d+ stdout: GENERIC-FAIL-31/);
});

test('generic: a command that never listens on PORT is killed after --start-timeout', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    const server = await startServer(t, {
        appDir,
        args: ['--app-start-command', 'echo "GENERIC-SLEEPER $$"; exec sleep 60', '--start-timeout', '2'],
    });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status));
    assert.match(response.text, /did not start listening within 2 seconds/);
    const match = await server.waitForLog(/App \d+ stdout: GENERIC-SLEEPER (\d+)/);
    const pid = Number(match[1]);
    await waitForGone([pid], { timeoutMs: 15000 });
    assert.equal(isAlive(pid), false, 'the process was killed');
});
