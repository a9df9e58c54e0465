// Meteor app directories (.meteor/) run with `meteor run --port P`. Meteor cannot be installed
// offline, so a fake `meteor` (fixtures/fake-meteor/bin/meteor) is put first on PATH: it
// records the command line, environment and settings it got in .meteor/local/fake-meteor.jsonl
// and serves HTTP on 127.0.0.1:P. Also a Meteor bundle (--app-type node --startup-file main.js).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { fakeMeteorBin, firstResponse, isServerError, writeFiles } from './lib/polyglot.mjs';
import { sha256, patternBytes } from './lib/http.mjs';
import { copyFixture, freePort, makeTempDir, runPassenger, startServer } from './lib/server.mjs';

const withFakeMeteor = (extra = {}) => ({ PATH: `${fakeMeteorBin}:${process.env.PATH}`, ...extra });

function invocations(appDir) {
    const file = path.join(appDir, '.meteor', 'local', 'fake-meteor.jsonl');
    return fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

// Asks the running fake which arguments it got; checks that its record says the same.
async function meteorRun(server) {
    const response = await server.get('/env');
    assert.equal(response.status, 200, response.text);
    const seen = response.json();
    assert.equal(seen.name, 'fake-meteor', 'requests reach the meteor process');
    const record = invocations(server.appDir).find((entry) => entry.pid === seen.pid);
    assert.ok(record, `the fake recorded pid ${seen.pid}`);
    assert.deepEqual(record.args, seen.args);
    return { seen, record };
}

test('meteor: development runs `meteor run --port P`; MONGO_URL and MONGO_OPLOG_URL pass through; requests reach it', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'meteor-app',
        env: withFakeMeteor({ MONGO_URL: 'mongodb://db.invalid:27017/meteor', MONGO_OPLOG_URL: 'mongodb://db.invalid:27017/local' }),
    });
    const { seen, record } = await meteorRun(server);
    assert.equal(record.args.length, 3, `exactly run --port P: ${JSON.stringify(record.args)}`);
    assert.deepEqual(record.args.slice(0, 2), ['run', '--port']);
    const port = Number(record.args[2]);
    assert.ok(Number.isInteger(port) && port > 0 && port !== server.port, `a port of its own: ${record.args[2]}`);
    assert.equal(record.cwd, server.appDir, 'meteor runs in the app folder');
    assert.equal(record.env.MONGO_URL, 'mongodb://db.invalid:27017/meteor');
    assert.equal(record.env.MONGO_OPLOG_URL, 'mongodb://db.invalid:27017/local');
    assert.equal(record.env.NODE_ENV, 'development');
    assert.equal(record.settings, null, 'no --settings without settings');
    assert.equal(seen.env.PORT, String(port), 'PORT is the port meteor was told');

    const upload = patternBytes(3 * 1024 * 1024, 5);
    const echoed = await server.get('/echo', { method: 'POST', body: upload, timeoutMs: 30000 });
    assert.equal(echoed.headers['x-body-sha256'], sha256(upload));
    assert.equal(sha256(echoed.body), sha256(upload));
    await server.waitForLog(new RegExp(`App ${seen.pid} stdout: => Meteor server running on: http://localhost:${port}/`));
});

test('meteor: -e production adds --production', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'meteor-app', args: ['-e', 'production'], env: withFakeMeteor() });
    const { record } = await meteorRun(server);
    assert.deepEqual(record.args, ['run', '--port', record.args[2], '--production']);
    assert.match(record.args[2], /^\d+$/);
});

test('meteor: --meteor-app-settings FILE becomes --settings FILE', { timeout: 60000 }, async (t) => {
    const appDir = await copyFixture(t, 'meteor-app');
    writeFiles(appDir, { 'settings.json': '{"public":{"from":"file"}}\n' });
    const server = await startServer(t, { appDir, args: ['--meteor-app-settings', 'settings.json'], env: withFakeMeteor() });
    const { record } = await meteorRun(server);
    assert.deepEqual(record.args, ['run', '--port', record.args[2], '--settings', path.join(appDir, 'settings.json')]);
    assert.equal(record.settings, '{"public":{"from":"file"}}\n');
});

test('meteor: METEOR_SETTINGS becomes --settings with a file holding it', { timeout: 60000 }, async (t) => {
    const json = '{"public":{"from":"METEOR_SETTINGS"}}';
    const server = await startServer(t, { fixture: 'meteor-app', args: ['-e', 'production'], env: withFakeMeteor({ METEOR_SETTINGS: json }) });
    const { record } = await meteorRun(server);
    assert.equal(record.args.length, 6, JSON.stringify(record.args));
    assert.deepEqual(record.args.slice(0, 2), ['run', '--port']);
    assert.deepEqual(record.args.slice(3, 5), ['--production', '--settings']);
    assert.equal(record.settings, json, 'the settings file holds METEOR_SETTINGS');
    assert.equal(record.env.METEOR_SETTINGS, json, 'METEOR_SETTINGS itself passes through too');
});

test('meteor: a missing --meteor-app-settings file is refused at start', { timeout: 30000 }, async (t) => {
    const appDir = await copyFixture(t, 'meteor-app');
    const result = await runPassenger(['start', '--port', String(await freePort()), '--meteor-app-settings', 'nope.json'], { cwd: appDir, timeoutMs: 15000 });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /--meteor-app-settings: .*nope\.json does not exist/);
});

test('meteor: without a meteor command the error page says it cannot be executed', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'meteor-app', env: { PATH: '/usr/bin:/bin' } });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status));
    assert.match(response.text, /cannot execute meteor: No such file or directory/);
});

test('meteor: a bundle runs as Node.js with --app-type node --startup-file main.js', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, {
        'main.js': "require('http').createServer((q, s) => s.end('bundle main.js on ' + typeof process.env.PASSENGER_APP_SOCKET + '\\n')).listen(process.env.PORT);\n",
        'README': 'a Meteor bundle: no .meteor/ folder, no app.js\n',
    });
    const nothing = await runPassenger(['start', '--port', String(await freePort())], { cwd: appDir, timeoutMs: 15000 });
    assert.equal(nothing.code, 1, 'no app.js: not startable by detection');
    const server = await startServer(t, { appDir, args: ['--app-type', 'node', '--startup-file', 'main.js', '-e', 'production'] });
    const response = await server.get('/');
    assert.equal(response.status, 200);
    assert.equal(response.text, 'bundle main.js on string\n');
});
