// Python WSGI apps (passenger_wsgi.py), run by python3 through loaders/python/wsgi_loader.py:
// bodies both ways, streaming, keep-alive, the WSGI environ (PEP 3333), write(), exc_info,
// close(), errors at load time and at request time, the environment.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { checkBigBodies, checkKeepAlive, checkStreaming, firstResponse, isServerError, writeFiles } from './lib/polyglot.mjs';
import { cmdline } from './lib/proc.mjs';
import { makeTempDir, repoRoot, startServer } from './lib/server.mjs';

test('wsgi: bodies of several MiB both ways, streaming, keep-alive', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'wsgi-app' });
    await checkBigBodies(server, 'wsgi');
    await checkStreaming(server, 'wsgi');
    await checkKeepAlive(server, 'wsgi');
    const { pid } = (await server.get('/stdout?text=hi')).json();
    assert.deepEqual(cmdline(pid).slice(1), [path.join(repoRoot, 'loaders/python/wsgi_loader.py'), path.join(server.appDir, 'passenger_wsgi.py')]);
});

test('wsgi: the WSGI environ and the process environment', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, {
        fixture: 'wsgi-app',
        args: ['--environment', 'staging', '--envvar', 'POLYGLOT_VAR=a b=c'],
        env: { POLYGLOT_SERVER_VAR: 'from the server' },
    });
    const response = await server.get('/env?x=1&y=%20', {
        method: 'POST',
        body: 'line one\nline two\n',
        headers: { Host: 'wsgi.example:8081', 'Content-Type': 'text/plain', 'X-Custom': 'custom' },
    });
    assert.equal(response.status, 200, response.text);
    const seen = response.json();
    assert.equal(seen.cwd, server.appDir, 'the app runs in its folder');
    assert.deepEqual(seen.argv, [path.join(server.appDir, 'passenger_wsgi.py')], 'sys.argv names the app, not the loader');
    for (const name of ['RACK_ENV', 'RAILS_ENV', 'NODE_ENV', 'PASSENGER_APP_ENV']) assert.equal(seen.env[name], 'staging', name);
    assert.equal(seen.env.POLYGLOT_VAR, 'a b=c', '--envvar reaches the app');
    assert.equal(seen.env.POLYGLOT_SERVER_VAR, 'from the server', "the server's environment reaches the app");
    assert.match(seen.env.PORT, /^\d+$/, 'PORT is set');

    const cgi = seen.cgi;
    assert.equal(cgi.REQUEST_METHOD, 'POST');
    assert.equal(cgi.SCRIPT_NAME, '');
    assert.equal(cgi.PATH_INFO, '/env');
    assert.equal(cgi.QUERY_STRING, 'x=1&y=%20');
    assert.equal(cgi.SERVER_NAME, 'wsgi.example');
    assert.equal(cgi.SERVER_PORT, '8081');
    assert.equal(cgi.SERVER_PROTOCOL, 'HTTP/1.1');
    assert.equal(cgi.REMOTE_ADDR, '127.0.0.1');
    assert.equal(cgi.CONTENT_TYPE, 'text/plain');
    assert.equal(cgi.CONTENT_LENGTH, '18');
    assert.equal(cgi.HTTP_X_CUSTOM, 'custom');
    assert.equal(cgi.HTTP_CONTENT_TYPE, undefined);
    assert.deepEqual(seen.wsgi_version, [1, 0]);
    assert.equal(seen.url_scheme, 'http');
    assert.deepEqual([seen.multithread, seen.multiprocess, seen.run_once], [false, true, false]);
    assert.equal(seen.errors_is_stderr, true, 'wsgi.errors is stderr');
    assert.equal(seen.input_length, 18);
    assert.equal(seen.input_lines_match, true, 'wsgi.input reads by lines too');

    const decoded = (await server.get('/en%76')).json();
    assert.equal(decoded.cgi.PATH_INFO, '/env', 'PATH_INFO is percent-decoded (PEP 3333)');
    const bare = (await server.get('/env')).json();
    assert.equal(bare.cgi.CONTENT_LENGTH, undefined, 'no CONTENT_LENGTH without a body');
    assert.equal(bare.input_length, 0, 'wsgi.input is empty but present');
});

test('wsgi: write(), exc_info, headers with several values, HEAD', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'wsgi-app' });
    const written = await server.get('/write');
    assert.equal(written.status, 200);
    assert.equal(written.text, 'written with write()\nand returned\n');

    const replaced = await server.get('/exc-info');
    assert.equal(replaced.status, 503, 'start_response with exc_info replaces a head not yet sent');
    assert.equal(replaced.text, 'replaced by exc_info\n');

    const headers = await server.get('/headers');
    assert.equal(headers.status, 201);
    assert.deepEqual(headers.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(headers.headers['x-multi'], 'value');
    assert.equal(headers.headers['content-length'], '8', 'a list body gets a Content-Length');

    const head = await server.get('/headers', { method: 'HEAD' });
    assert.equal(head.status, 201);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '8', 'HEAD keeps the length the body would have had');
});

test('wsgi: close() is called on the result, for HEAD, and when iterating fails', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'wsgi-app' });
    const served = await server.get('/close?name=get2');
    assert.equal(served.text, 'closed body\n');
    await server.waitForLog(/App \d+ stdout: BODY-CLOSED-get2/);

    const head = await server.get('/close?name=head2', { method: 'HEAD' });
    assert.equal(head.status, 200);
    await server.waitForLog(/App \d+ stdout: BODY-CLOSED-head2/);

    await server.get('/close-fail?name=fail2').catch(() => null);
    await server.waitForLog(/App \d+ stdout: BODY-CLOSED-fail2/);
    await server.waitForLog(/App \d+ stderr: RuntimeError: BODY-FAILED-fail2/);
    const after = await server.get('/close?name=after2');
    assert.equal(after.status, 200, 'the process serves the next request');
});

test('wsgi: an exception in the app is a 500, logged with its traceback; the process goes on', { timeout: 60000 }, async (t) => {
    const server = await startServer(t, { fixture: 'wsgi-app' });
    const pid = (await server.get('/stdout?text=before')).json().pid;
    const response = await server.get('/error');
    assert.equal(response.status, 500);
    await server.waitForLog(/App \d+ stderr: RuntimeError: WSGI-APP-ERROR-77/);
    await server.waitForLog(/App \d+ stderr: \s+File "[^"]*passenger_wsgi\.py", line \d+, in application/);
    const next = await server.get('/stdout?text=POLYGLOT-AFTER-ERROR');
    assert.equal(next.json().pid, pid, 'the same process answers');
    await server.waitForLog(new RegExp(`App ${pid} stdout: POLYGLOT-AFTER-ERROR`));
    await server.waitForLog(new RegExp(`App ${pid} stderr: stderr: POLYGLOT-AFTER-ERROR`));
});

test('wsgi: a missing module at load time: development page shows the traceback, log too', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'passenger_wsgi.py': '# imports a module that does not exist\nimport polyglot_missing_module_42\n' });
    const server = await startServer(t, { appDir });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status), `5xx expected, got ${response.status}`);
    assert.match(response.text, /ModuleNotFoundError: No module named &#39;polyglot_missing_module_42&#39;|ModuleNotFoundError: No module named 'polyglot_missing_module_42'/);
    assert.match(response.text, /passenger_wsgi\.py&quot;, line 2|passenger_wsgi\.py", line 2/, 'the traceback names the line');
    assert.match(response.text, /exit(ed)?\b[^\n]{0,40}\b1\b/i, 'exit status 1');
    await server.waitForLog(/App \d+ stderr: ModuleNotFoundError: No module named 'polyglot_missing_module_42'/);
    assert.equal(server.exitInfo, null, 'the server is still running');
});

test('wsgi: a syntax error at load time: development page shows it; production page is generic', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'passenger_wsgi.py': 'def application(environ, start_response)\n    return []\n' });
    const server = await startServer(t, { appDir });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status));
    assert.match(response.text, /SyntaxError/);
    await server.waitForLog(/App \d+ stderr: SyntaxError/);
    await server.stop();

    const production = await startServer(t, { appDir, args: ['-e', 'production'] });
    const generic = await firstResponse(production);
    assert.ok(isServerError(generic.status));
    assert.doesNotMatch(generic.text, /SyntaxError|passenger_wsgi/, `no details in production:\n${generic.text.slice(0, 1000)}`);
    await production.waitForLog(/App \d+ stderr: SyntaxError/);
});

test('wsgi: a file without `application` is a load error that says so', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, { 'passenger_wsgi.py': 'app = None\n' });
    const server = await startServer(t, { appDir });
    const response = await firstResponse(server);
    assert.ok(isServerError(response.status));
    assert.match(response.text, /does not define a callable `application`/);
});

test('wsgi: --startup-file names another .py file; --python names the interpreter', { timeout: 60000 }, async (t) => {
    const appDir = await makeTempDir(t);
    writeFiles(appDir, {
        'other.py': [
            'import os',
            'def application(environ, start_response):',
            "    start_response('200 OK', [('Content-Type', 'text/plain')])",
            "    return [('other.py %s\\n' % os.environ.get('PYTHON_WRAPPER')).encode()]",
            '',
        ].join('\n'),
        'bin/python-wrapper': '#!/bin/sh\nPYTHON_WRAPPER=wrapped exec python3 "$@"\n',
    });
    fs.chmodSync(path.join(appDir, 'bin/python-wrapper'), 0o755);
    const server = await startServer(t, { appDir, args: ['--startup-file', 'other.py', '--python', path.join(appDir, 'bin/python-wrapper')] });
    const response = await server.get('/');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.text, 'other.py wrapped\n');
});
