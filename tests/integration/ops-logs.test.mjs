// Logs for machines (issue 16): --log-format json (every line an object; app output with the
// app's pid and stream), --access-log in JSON and combined format with the request's times,
// --log-file - (standard output), and reopening after logrotate (passenger-config reopen-logs,
// SIGUSR1).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { makeRegistry, runTool } from './lib/inspection.mjs';
import { waitFor } from './lib/proc.mjs';
import { startServer } from './lib/server.mjs';

const jsonLines = (text) => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));

test('JSON logs, access logs and reopening', async (t) => {
    const registry = await makeRegistry(t);
    const server = await startServer(t, {
        fixture: 'echo',
        args: ['--instance-registry-dir', registry, '--log-file', 'ops.log', '--log-format', 'json',
            '--access-log', 'access.log', '--access-log-format', 'json'],
        readyPath: '/pid',
    });
    const logFile = path.join(server.appDir, 'ops.log');
    const accessLog = path.join(server.appDir, 'access.log');
    const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

    await t.test('the log: one JSON object per line, app output with its pid and stream', async () => {
        const { pid } = (await server.get('/write?text=hello%20json%0A&stream=stderr')).json();
        await waitFor(() => read(logFile).includes('hello json'), { what: 'the app output in the log' });
        const lines = jsonLines(read(logFile));
        for (const line of lines) {
            assert.deepEqual(Object.keys(line).filter((k) => k !== 'stream').sort(), ['component', 'level', 'message', 'pid', 'time'], JSON.stringify(line));
            assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        }
        assert.ok(lines.some((l) => l.component === 'watchdog' && l.level === 'notice'));
        assert.ok(lines.some((l) => l.component === 'core'));
        const output = lines.find((l) => l.message === 'hello json');
        assert.deepEqual({ ...output, time: undefined }, { time: undefined, level: 'info', pid, component: 'app', stream: 'stderr', message: 'hello json' });
    });

    await t.test('the access log: one JSON object per request with its times', async () => {
        const response = await server.get('/echo?x=1', { method: 'POST', body: 'abc', headers: { 'User-Agent': 'ops-test', Referer: 'http://ref.example/' } });
        assert.equal(response.status, 200);
        await server.get('/status?code=404');
        await waitFor(() => read(accessLog).includes('/status?code=404'), { what: 'the requests in the access log' });
        const entries = jsonLines(read(accessLog));
        const echo = entries.find((e) => e.uri === '/echo?x=1');
        assert.equal(echo.method, 'POST');
        assert.equal(echo.status, 200);
        assert.equal(echo.client, '127.0.0.1');
        assert.equal(echo.protocol, 'HTTP/1.1');
        assert.equal(echo.bytes_in, 3);
        assert.ok(echo.bytes_out > response.text.length);
        assert.equal(echo.user_agent, 'ops-test');
        assert.equal(echo.referer, 'http://ref.example/');
        assert.ok(echo.queue_seconds >= 0 && echo.app_seconds > 0 && echo.total_seconds >= echo.app_seconds);
        assert.equal(typeof echo.pid, 'number');
        assert.equal(entries.find((e) => e.uri === '/status?code=404').status, 404);
    });

    await t.test('reopen-logs and SIGUSR1 after logrotate moved the files', async () => {
        fs.renameSync(logFile, `${logFile}.1`);
        fs.renameSync(accessLog, `${accessLog}.1`);
        const result = await runTool('passenger-config', ['reopen-logs'], { registry });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /Reopening the logs of instance/);
        await waitFor(() => read(logFile).includes('Reopened the log files'), { what: 'a new log file' });
        await server.get('/pid?after=reopen');
        await waitFor(() => read(accessLog).includes('/pid?after=reopen'), { what: 'a new access log' });
        assert.doesNotMatch(read(`${accessLog}.1`), /after=reopen/);
        fs.renameSync(accessLog, `${accessLog}.2`);
        process.kill(server.pid, 'SIGUSR1');
        await waitFor(() => fs.existsSync(accessLog), { what: 'the access log reopened on SIGUSR1' });
        await server.get('/pid?after=usr1');
        await waitFor(() => read(accessLog).includes('/pid?after=usr1'), { what: 'a request after SIGUSR1' });
    });

    await t.test('--log-file - with JSON: standard output is JSON lines only', async () => {
        const onStdout = await startServer(t, {
            fixture: 'echo',
            args: ['--log-file', '-', '--log-format', 'json', '--access-log', '-', '--access-log-format', 'json'],
            readyPath: '/pid',
        });
        await onStdout.get('/status?code=201', { headers: { 'User-Agent': 'ua' } });
        await onStdout.waitForOutput(/"uri":"\/status\?code=201"/, { stream: 'stdout' });
        const lines = jsonLines(onStdout.stdout()); // throws on a line that is not JSON (a banner)
        assert.ok(lines.some((l) => l.component === 'core' && /Starting the application/.test(l.message)));
        assert.ok(lines.some((l) => l.component === 'app' && l.stream === 'stdout'));
        assert.equal(lines.find((l) => l.uri === '/status?code=201').user_agent, 'ua');
        assert.equal(fs.existsSync(path.join(onStdout.appDir, `passenger.${onStdout.port}.log`)), false);
        await onStdout.stop();
        assert.doesNotThrow(() => jsonLines(onStdout.stdout()));
    });
});
