// Ruby Rack apps (config.ru), run by Debian's ruby through loaders/ruby/rack_loader.rb: bodies
// both ways, streaming, keep-alive, the Rack env, body.close, errors at load time and at request
// time, the environment.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { checkBigBodies, checkKeepAlive, checkStreaming, firstResponse, isServerError, writeFiles } from './lib/polyglot.mjs';
import { cmdline } from './lib/proc.mjs';
import { makeTempDir, repoRoot, startServer } from './lib/server.mjs';

test('rack: bodies of several MiB both ways, streaming, keep-alive', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'rack-app' });
    await checkBigBodies(server, 'rack');
    await checkStreaming(server, 'rack');
    await checkKeepAlive(server, 'rack');
    const { pid } = (await server.get('/stdout?text=hi')).json();
    assert.deepEqual(cmdline(pid).slice(1), [path.join(repoRoot, 'loaders/ruby/rack_loader.rb'), path.join(server.appDir, 'config.ru')]);
});

test('rack: the Rack env and the process environment', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'rack-app',
        args: ['-e', 'staging', '--envvar', 'POLYGLOT_VAR=a b=c'],
        env: { POLYGLOT_SERVER_VAR: 'from the server' },
    });
    const response = await server.get('/env?x=1&y=%20', {
        method: 'POST',
        body: 'name=value',
        headers: { Host: 'rack.example:8080', 'Content-Type': 'application/x-www-form-urlencoded', 'X-Custom': 'custom' },
    });
    assert.equal(response.status, 200, response.text);
    const seen = response.json();
    assert.equal(seen.cwd, server.appDir, 'the app runs in its folder');
    for (const name of ['RACK_ENV', 'RAILS_ENV', 'NODE_ENV', 'PASSENGER_APP_ENV']) assert.equal(seen.env[name], 'staging', name);
    assert.equal(seen.env.POLYGLOT_VAR, 'a b=c', '--envvar reaches the app');
    assert.equal(seen.env.POLYGLOT_SERVER_VAR, 'from the server', "the server's environment reaches the app");
    assert.match(seen.env.PORT, /^\d+$/, 'PORT is set');

    const rack = seen.rack;
    assert.equal(rack.REQUEST_METHOD, 'POST');
    assert.equal(rack.SCRIPT_NAME, '');
    assert.equal(rack.PATH_INFO, '/env');
    assert.equal(rack.QUERY_STRING, 'x=1&y=%20');
    assert.equal(rack.REQUEST_URI, '/env?x=1&y=%20');
    assert.equal(rack.SERVER_NAME, 'rack.example');
    assert.equal(rack.SERVER_PORT, '8080');
    assert.equal(rack.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(rack.REMOTE_ADDR, '127.0.0.1');
    assert.equal(rack.CONTENT_TYPE, 'application/x-www-form-urlencoded');
    assert.equal(rack.CONTENT_LENGTH, '10');
    assert.equal(rack.HTTP_X_CUSTOM, 'custom');
    assert.equal(rack.HTTP_HOST, 'rack.example:8080');
    assert.equal(rack.HTTP_CONTENT_TYPE, undefined, 'no HTTP_CONTENT_TYPE');
    assert.equal(rack.HTTP_CONTENT_LENGTH, undefined, 'no HTTP_CONTENT_LENGTH');
    assert.equal(seen.url_scheme, 'http');
    assert.deepEqual([seen.multithread, seen.multiprocess, seen.run_once], [false, true, false]);
    assert.equal(seen.errors_is_stderr, true, 'rack.errors is stderr');
    assert.equal(seen.input_rewindable, true, 'rack.input can be read again after rewind');
    assert.equal(seen.input_length, 10);
    assert.equal(seen.input_binary, true, 'rack.input reads binary strings');

    const bare = (await server.get('/env')).json();
    assert.equal(bare.rack.CONTENT_LENGTH, undefined, 'no CONTENT_LENGTH without a body');
    assert.equal(bare.input_length, 0, 'rack.input is empty but present');
});

test('rack: headers with several values, status codes, HEAD', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'rack-app' });
    const response = await server.get('/headers');
    assert.equal(response.status, 201);
    assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2'], 'a "\\n"-joined Rack header becomes two headers');
    assert.equal(response.headers['x-multi'], 'value');
    assert.equal(response.text, 'headers\n');
    const missing = await server.get('/nope');
    assert.equal(missing.status, 404);
    const head = await server.get('/headers', { method: 'HEAD' });
    assert.equal(head.status, 201);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '8', 'HEAD keeps the length the body would have had');
});

test('rack: body.close is called after the body is sent, for HEAD, and when the body fails', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'rack-app' });
    const served = await server.get('/close?name=get1');
    assert.equal(served.text, 'closed body\n');
    await server.waitForLog(/App \d+ stdout: BODY-CLOSED-get1/);

    const head = await server.get('/close?name=head1', { method: 'HEAD' });
    assert.equal(head.status, 200);
    await server.waitForLog(/App \d+ stdout: BODY-CLOSED-head1/);

    // The body raises after its first part: the client sees a response cut short (the head is
    // out already), the log the error, and the body is closed all the same.
    await server.get('/close-fail?name=fail1').catch(() => null);
    await server.waitForLog(/App \d+ stdout: BODY-CLOSED-fail1/);
    await server.waitForLog(/App \d+ stderr: .*BODY-FAILED-fail1/);
    const after = await server.get('/close?name=after1');
    assert.equal(after.status, 200, 'the process serves the next request');
});

test('rack: an exception in the app is a 500, logged with its backtrace; the process goes on', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'rack-app' });
    const pid = (await server.get('/stdout?text=before')).json().pid;
    const response = await server.get('/error');
    assert.equal(response.status, 500);
    await server.waitForLog(/App \d+ stderr: .*RACK-APP-ERROR-77 \(RuntimeError\)/);
    await server.waitForLog(/App \d+ stderr: \s+\S*config\.ru:\d+/);
    const next = await server.get('/stdout?text=POLYGLOT-AFTER-ERROR');
    assert.equal(next.json().pid, pid, 'the same process answers');
    await server.waitForLog(new RegExp(`App ${pid} stdout: POLYGLOT-AFTER-ERROR`));
    await server.waitForLog(new RegExp(`App ${pid} stderr: stderr: POLYGLOT-AFTER-ERROR`));
});

const MISSING_GEM_APP = `# requires a library that does not exist
require 'polyglot_missing_gem_42'
run ->(env) { [200, {}, ['never']] }
`;
const SYNTAX_ERROR_APP = `# a syntax error on line 3
run lambda { |env|
  [200, {}, ['unterminated' }
`;

test('rack: a missing library at load time: development page shows the message and backtrace, log too', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'config.ru': MISSING_GEM_APP });
    const server = await startServer(t, { appDir });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status), `5xx expected, got ${response.status}`);
    assert.match(response.text, /cannot load such file -- polyglot_missing_gem_42/);
    assert.match(response.text, /LoadError/);
    assert.match(response.text, /config\.ru:2/, 'the backtrace names the line');
    assert.match(response.text, /exit(ed)?\b[^\n]{0,40}\b1\b/i, 'exit status 1');
    await server.waitForLog(/App \d+ stderr: .*cannot load such file -- polyglot_missing_gem_42/);
    assert.equal(server.exitInfo, null, 'the server is still running');
});

test('rack: a syntax error at load time: development page shows it; production page is generic', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'config.ru': SYNTAX_ERROR_APP });
    const server = await startServer(t, { appDir });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status));
    assert.match(response.text, /SyntaxError/);
    assert.match(response.text, /config\.ru:3/);
    await server.waitForLog(/App \d+ stderr: .*SyntaxError/);
    await server.stop();

    const production = await startServer(t, { appDir, args: ['-e', 'production'] });
    const generic = await firstResponse(production);
    assert.ok(isServerError(generic.status));
    assert.doesNotMatch(generic.text, /SyntaxError|config\.ru/, `no details in production:\n${generic.text.slice(0, 1000)}`);
    await production.waitForLog(/App \d+ stderr: .*SyntaxError/);
});

test('rack: -R/--rackup names another rackup file; --ruby names the interpreter', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, {
        'other.ru': `run ->(env) { [200, {'Content-Type' => 'text/plain'}, ["other.ru #{ENV['RUBY_WRAPPER']}\\n"]] }\n`,
        'bin/ruby-wrapper': '#!/bin/sh\nRUBY_WRAPPER=wrapped exec ruby "$@"\n',
    });
    fs.chmodSync(`${appDir}/bin/ruby-wrapper`, 0o755);
    const server = await startServer(t, { appDir, args: ['-R', 'other.ru', '--ruby', `${appDir}/bin/ruby-wrapper`] });
    const response = await server.get('/');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.text, 'other.ru wrapped\n');
});
