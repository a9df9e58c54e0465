// Which kind of app a folder holds: config.ru (Rack), passenger_wsgi.py (WSGI), .meteor/
// (Meteor), app.js (Node.js), first match wins; --app-type, --app-start-command, -R and
// --startup-file decide instead; nothing startable is a clear message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { fakeMeteorBin, firstResponse, isServerError, writeFiles } from './lib/polyglot.mjs';
import { freePort, makeTempDir, runPassenger, startServer } from './lib/server.mjs';

const APPS = {
    'config.ru': "run ->(env) { [200, {'Content-Type' => 'text/plain'}, [\"rack\\n\"]] }\n",
    'passenger_wsgi.py': "def application(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'wsgi\\n']\n",
    '.meteor/release': 'METEOR@2.0-fake\n',
    'app.js': "require('http').createServer((q, s) => s.end('node\\n')).listen(3000);\n",
};

async function startFails(t, appDir, args) {
    const result = await runPassenger(['start', '--port', String(await freePort()), ...args], { cwd: appDir, timeoutMs: 15000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.timedOut, false, output);
    assert.equal(result.code, 1, output);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line:\n${result.stderr}`);
    return result.stderr;
}

async function served(t, appDir, args = []) {
    const server = await startServer(t, { appDir, args, env: { PATH: `${fakeMeteorBin}:${process.env.PATH}` } });
    const response = await server.get('/');
    await server.stop();
    return response.text;
}

test('detection: nothing startable names everything looked for, exit 1', { timeout: 30000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { README: 'not an app\n' });
    const message = await startFails(t, appDir, []);
    for (const looked of ['config.ru', 'passenger_wsgi.py', '.meteor/', 'app.js', '--app-start-command']) {
        assert.ok(message.includes(looked), `mentions ${looked}: ${message}`);
    }
    assert.ok(message.includes(appDir), `names the folder: ${message}`);
});

test('detection: config.ru, then passenger_wsgi.py, then .meteor/, then app.js', { timeout: 90000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, APPS);
    assert.equal(await served(t, appDir), 'rack\n');
    fs.rmSync(path.join(appDir, 'config.ru'));
    assert.equal(await served(t, appDir), 'wsgi\n');
    fs.rmSync(path.join(appDir, 'passenger_wsgi.py'));
    assert.match(await served(t, appDir), /fake-meteor: no such route/);
    fs.rmSync(path.join(appDir, '.meteor'), { recursive: true });
    assert.equal(await served(t, appDir), 'node\n');
});

test('detection: --app-type, --app-start-command, -R and --startup-file decide over the files', { timeout: 90000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, {
        ...APPS,
        'other.ru': "run ->(env) { [200, {}, [\"other rack\\n\"]] }\n",
        'other.py': "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'other wsgi\\n']\n",
        'server.js': "require('http').createServer((q, s) => s.end('server.js\\n')).listen(1234);\n",
        'generic.js': "require('http').createServer((q, s) => s.end('generic\\n')).listen(Number(process.env.PORT), '127.0.0.1');\n",
    });
    assert.equal(await served(t, appDir, ['--app-type', 'node']), 'node\n');
    assert.equal(await served(t, appDir, ['--app-type', 'wsgi']), 'wsgi\n');
    assert.match(await served(t, appDir, ['--app-type', 'meteor']), /fake-meteor/);
    assert.equal(await served(t, appDir, ['--app-start-command', 'node generic.js']), 'generic\n');
    assert.equal(await served(t, appDir, ['--rackup', 'other.ru']), 'other rack\n');
    assert.equal(await served(t, appDir, ['--startup-file', 'other.py']), 'other wsgi\n');
    assert.equal(await served(t, appDir, ['--startup-file', 'server.js']), 'server.js\n');
    assert.equal(await served(t, appDir, ['--app-type', 'rack', '--startup-file', 'other.ru']), 'other rack\n');
});

test('detection: wrong or incomplete choices are one clear line, exit 1', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'app.js': APPS['app.js'] });
    assert.match(await startFails(t, appDir, ['--app-type', 'cobol']), /unsupported app type 'cobol' \(supported: node, rack, wsgi, meteor, generic\)/);
    assert.match(await startFails(t, appDir, ['--app-type', 'generic']), /--app-type generic needs --app-start-command/);
    assert.match(await startFails(t, appDir, ['--app-type', 'meteor']), /not a Meteor app directory.*--app-type node --startup-file main\.js/);
    assert.match(await startFails(t, appDir, ['--app-type', 'rack']), /config\.ru does not exist/);
    assert.match(await startFails(t, appDir, ['--app-type', 'wsgi']), /passenger_wsgi\.py does not exist/);
    assert.match(await startFails(t, appDir, ['-R', 'missing.ru']), /missing\.ru does not exist/);
    assert.match(await startFails(t, appDir, ['--app-start-command', '']), /--app-start-command: must not be empty/);
});

test('detection: an interpreter that does not exist is named on the error page', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'config.ru': APPS['config.ru'] });
    const server = await startServer(t, { appDir, args: ['--ruby', '/nonexistent/ruby'] });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status));
    assert.match(response.text, /cannot execute \/nonexistent\/ruby: No such file or directory/);
    await server.waitForLog(/cannot execute \/nonexistent\/ruby/);
});
