// The nginx module in Debian's real nginx: directives, static files left to nginx, the app
// through the core, settings no client can forge, `nginx -t`, reload, WebSockets, a killed core.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { rawRequest, request } from './lib/http.mjs';
import {
    aboutValue,
    errorLog,
    makeAppReadable,
    makePrefix,
    nginxConfig,
    passengerProcesses,
    processesOfPrefix,
    runNginx,
    spawnSocketDirs,
    startNginx,
} from './lib/nginx.mjs';
import { cmdline, isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { copyRealtimeFixture, openWebSocket } from './lib/realtime.mjs';
import { copyFixture, freePort } from './lib/server.mjs';

async function echoApp(t) {
    const appDir = await copyFixture(t, 'echo');
    await makeAppReadable(appDir);
    return appDir;
}

async function startEchoBehindNginx(t, extraServerLines = '') {
    const appDir = await echoApp(t);
    const prefix = await makePrefix(t);
    const port = await freePort();
    const config = nginxConfig(prefix, {
        servers: [{ port, body: `        root ${appDir}/public;\n        passenger_enabled on;\n${extraServerLines}` }],
    });
    const nginx = await startNginx(t, prefix, config, { waitPort: port });
    return { appDir, prefix, port, nginx };
}

test('passenger-config about prints the module and passenger_root', () => {
    const module = aboutValue('nginx-module');
    assert.ok(path.isAbsolute(module) && fs.existsSync(module), module);
    const root = aboutValue('root');
    assert.ok(fs.existsSync(path.join(root, 'bin', 'passenger')), root);
});

test('an app in a server block serves; files under root are nginx\'s and never reach the app', { timeout: 90000 }, async (t) => {
    const { appDir, port, nginx } = await startEchoBehindNginx(t);
    const first = await request(port, '/pid');
    assert.equal(first.status, 200, first.text);
    const { pid, requests } = first.json();
    assert.ok(isAlive(pid));

    const file = await request(port, '/hello.txt');
    assert.equal(file.status, 200);
    assert.equal(file.text, fs.readFileSync(path.join(appDir, 'public', 'hello.txt'), 'utf8'));
    assert.match(file.headers.server, /^nginx/);
    const after = (await request(port, '/pid')).json();
    assert.equal(after.pid, pid);
    assert.equal(after.requests, requests + 1, 'the static file request reached the app');

    // The app runs as nginx's worker user, in production, in its folder.
    const env = (await request(port, '/env')).json();
    assert.equal(env.cwd, appDir);
    assert.equal(env.env.NODE_ENV, 'production');
    const { cores } = passengerProcesses(nginx);
    assert.equal(cores.length, 1, `one core below nginx: ${nginx.log()}`);
});

test('passenger_env_var values arrive in process.env', { timeout: 90000 }, async (t) => {
    const { port } = await startEchoBehindNginx(
        t,
        '        passenger_env_var ECHO_VAR "hello world";\n        passenger_env_var ECHO_EQ a=b;\n        passenger_app_env staging;',
    );
    const env = (await request(port, '/env')).json().env;
    assert.equal(env.ECHO_VAR, 'hello world');
    assert.equal(env.ECHO_EQ, 'a=b');
    assert.equal(env.NODE_ENV, 'staging');
});

test("the tutorial's Meteor bundle config serves (app type node, startup file main.js)", { timeout: 90000 }, async (t) => {
    const appDir = await echoApp(t);
    await fsp.rename(path.join(appDir, 'app.js'), path.join(appDir, 'main.js'));
    const prefix = await makePrefix(t);
    const port = await freePort();
    const body = `        root ${appDir}/public;
        passenger_enabled on;
        passenger_sticky_sessions on;
        passenger_env_var ECHO_VAR mongodb://localhost:27017/meteor;
        passenger_env_var ROOT_URL;
        passenger_app_type node;
        passenger_startup_file main.js;`;
    await startNginx(t, prefix, nginxConfig(prefix, { servers: [{ port, body }] }), { waitPort: port });
    const response = await request(port, '/env');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json().env.ECHO_VAR, 'mongodb://localhost:27017/meteor');
    assert.ok(response.json().argv.some((word) => word.endsWith('main.js')), response.text);
    assert.match(response.headers['set-cookie']?.join(';') ?? '', /_passenger_route=/);
});

test('client headers that look like settings change nothing', { timeout: 90000 }, async (t) => {
    const { appDir, port } = await startEchoBehindNginx(t);
    const normal = (await request(port, '/pid')).json();
    const forged = await request(port, '/echo', {
        headers: {
            app_root: '/etc',
            'passenger-app-root': '/etc',
            passenger_app_root: '/etc',
            'X-Forwarded-For': '6.6.6.6',
            envvar: 'ECHO_VAR=forged',
        },
    });
    assert.equal(forged.status, 200, forged.text);
    const seen = forged.json().headers;
    assert.equal(seen.app_root, undefined, 'underscore headers are dropped');
    assert.equal(seen.passenger_app_root, undefined);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'X-Forwarded-For is nginx\'s client address');
    const env = (await request(port, '/env', { headers: { envvar: 'ECHO_VAR=forged' } })).json();
    assert.equal(env.cwd, appDir);
    assert.equal(env.pid, normal.pid);
    assert.equal(env.env.ECHO_VAR, undefined);

    // Bytes shaped like a settings block before the request line are the client's request line
    // to nginx, which refuses them; nothing reaches the core as settings.
    const preamble = Buffer.concat([Buffer.from([0, 0, 0, 14]), Buffer.from('app_root\0/etc\0')]);
    const reply = await rawRequest(port, Buffer.concat([preamble, Buffer.from('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n')]), {
        method: 'GET',
    });
    assert.equal(reply.status, 400);
    assert.equal((await request(port, '/pid')).json().pid, normal.pid);
});

test('nginx -t rejects a bad value naming the directive and file:line, and starts nothing', { timeout: 60000 }, async (t) => {
    const appDir = await echoApp(t);
    const prefix = await makePrefix(t);
    const port = await freePort();
    const cases = [
        ['passenger_min_instances lots;', /"passenger_min_instances" directive must be a whole number >= 0/],
        ['passenger_app_type cobol;', /"passenger_app_type" directive must be node, rack, wsgi, meteor or generic/],
        ['passenger_start_timeout 0;', /"passenger_start_timeout" directive must be a whole number >= 1/],
        ['passenger_log_level 9;', /"passenger_log_level" directive must be a log level \(0-4\)/, 'http'],
        ['passenger_sticky_sessions maybe;', /invalid value "maybe" in "passenger_sticky_sessions" directive/],
        ['passenger_frobnicate on;', /unknown directive "passenger_frobnicate"/],
        ['passenger_max_pool_size 4;', /"passenger_max_pool_size" directive is not allowed here/],
        ['passenger_pre_start https://example.org/;', /"passenger_pre_start" directive must be an http:\/\/ URL/, 'http'],
        ['passenger_pre_start http://127.0.0.1/;', /"passenger_pre_start" directive is not allowed here/],
        ['passenger_base_uri sub;', /"passenger_base_uri" directive must be a path below \/ such as \/app/],
        ['passenger_friendly_error_pages sometimes;', /invalid value "sometimes" in "passenger_friendly_error_pages" directive/],
        ['passenger_default_user nobody;', /"passenger_default_user" directive is not allowed here/],
        ['passenger_user_switching maybe;', /invalid value "maybe" in "passenger_user_switching" directive/, 'http'],
    ];
    for (const [line, message, where = 'server'] of cases) {
        const config = nginxConfig(prefix, {
            http: where === 'http' ? `    ${line}` : '',
            servers: [
                { port, body: `        root ${appDir}/public;\n        passenger_enabled on;\n        ${where === 'server' ? line : ''}` },
            ],
        });
        await fsp.writeFile(path.join(prefix, 'nginx.conf'), config);
        const lineNumber = config.split('\n').findIndex((text) => text.includes(line)) + 1;
        const result = runNginx(prefix, ['-t']);
        assert.equal(result.status, 1, line);
        assert.match(result.stderr, message, line);
        assert.ok(result.stderr.includes(`${prefix}/nginx.conf:${lineNumber}`), `${line}: ${result.stderr}`);
    }
    // A good configuration tests fine and starts no watchdog either.
    await fsp.writeFile(
        path.join(prefix, 'nginx.conf'),
        nginxConfig(prefix, { servers: [{ port, body: `        root ${appDir}/public;\n        passenger_enabled on;` }] }),
    );
    const good = runNginx(prefix, ['-t']);
    assert.equal(good.status, 0, good.stderr);
    assert.deepEqual(processesOfPrefix(prefix), []);
    assert.deepEqual(fs.readdirSync(path.join(prefix, 'registry')), []);
});

test('nginx -s reload keeps the app processes; nginx -s quit stops everything', { timeout: 90000 }, async (t) => {
    const { prefix, port, nginx } = await startEchoBehindNginx(t);
    const before = (await request(port, '/pid')).json().pid;
    const { watchdogs } = passengerProcesses(nginx);
    assert.equal(watchdogs.length, 1);
    const oldWorkers = nginx.log().match(/start worker process \d+/g).length;
    const reload = runNginx(prefix, ['-s', 'reload']);
    assert.equal(reload.status, 0, reload.stderr);
    await waitFor(() => nginx.log().match(/start worker process \d+/g).length > oldWorkers, { what: 'new workers' });
    const after = await request(port, '/pid');
    assert.equal(after.status, 200, after.text);
    assert.equal(after.json().pid, before, 'the app kept its process');
    assert.deepEqual(passengerProcesses(nginx).watchdogs, watchdogs, 'the watchdog kept running');

    const everything = passengerProcesses(nginx).all;
    const quit = runNginx(prefix, ['-s', 'quit']);
    assert.equal(quit.status, 0, quit.stderr);
    await nginx.exited;
    await waitForGone([before, ...watchdogs, ...everything], { timeoutMs: 20000 });
    assert.match(errorLog(prefix), /nginx is stopping; stopping/);
});

test('nginx -s stop kills the core and the apps at once', { timeout: 90000 }, async (t) => {
    const { prefix, port, nginx } = await startEchoBehindNginx(t);
    const app = (await request(port, '/pid')).json().pid;
    const everything = passengerProcesses(nginx).all;
    assert.equal(runNginx(prefix, ['-s', 'stop']).status, 0);
    await nginx.exited;
    await waitForGone([app, ...everything], { timeoutMs: 10000 });
    assert.match(errorLog(prefix), /nginx is stopping; stopping at once/);
});

test('WebSocket echo through nginx', { timeout: 90000 }, async (t) => {
    const appDir = await copyRealtimeFixture(t);
    await fsp.mkdir(path.join(appDir, 'public'), { recursive: true });
    await makeAppReadable(appDir);
    const prefix = await makePrefix(t);
    const port = await freePort();
    const body = `        root ${appDir}/public;\n        passenger_enabled on;`;
    await startNginx(t, prefix, nginxConfig(prefix, { servers: [{ port, body }] }), { waitPort: port });
    const socket = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
    // Closed here, not in t.after: nginx's cleanup runs first there and waited 15 s for the tunnel.
    try {
        for (const text of ['one', 'two', 'x'.repeat(100000)]) {
            socket.send(text);
            const message = await socket.next();
            assert.equal(message.data.toString(), text);
        }
        socket.send(Buffer.from([0, 1, 2, 255]));
        assert.deepEqual([...(await socket.next()).data], [0, 1, 2, 255]);
    } finally {
        socket.terminate();
    }
});

test('a SIGKILLed core comes back and serves without a reload', { timeout: 90000 }, async (t) => {
    const startedAt = Date.now() - 1000; // before this nginx's spawn helper made its folder
    const { port, nginx } = await startEchoBehindNginx(t);
    const app = (await request(port, '/pid')).json().pid;
    const [core] = passengerProcesses(nginx).cores;
    // As root, a spawn helper starts the apps: killed with the core, its socket folder goes too.
    const helper = passengerProcesses(nginx).all.find((pid) => cmdline(pid).includes('spawn-helper'));
    process.kill(core, 'SIGKILL');
    await waitForGone([core, app, ...(helper ? [helper] : [])]);
    const served = await waitFor(
        async () => {
            const response = await request(port, '/pid');
            return response.status === 200 && response.json();
        },
        { timeoutMs: 20000, what: 'the app through a new core' },
    );
    assert.notEqual(served.pid, app);
    const [newCore] = passengerProcesses(nginx).cores;
    assert.ok(newCore && newCore !== core);
    assert.match(nginx.log(), /Core process \d+ was killed by signal 9 \(Killed\); restarting/);
    if (helper) {
        const left = () => spawnSocketDirs(helper, startedAt);
        await waitFor(() => left().length === 0, { timeoutMs: 5000, what: () => `no folder of helper ${helper}: ${left()}` });
    }
});

test('two apps in two server blocks share one pool: passenger_max_pool_size 1 makes the idle one give way', { timeout: 120000 }, async (t) => {
    const [first, second] = [await echoApp(t), await echoApp(t)];
    const prefix = await makePrefix(t);
    const [portA, portB] = [await freePort(), await freePort()];
    const servers = [
        { port: portA, body: `        root ${first}/public;\n        passenger_enabled on;` },
        { port: portB, body: `        root ${second}/public;\n        passenger_enabled on;` },
    ];
    const config = nginxConfig(prefix, { servers, http: '    passenger_max_pool_size 1;' });
    const nginx = await startNginx(t, prefix, config, { waitPort: portA });

    const a = await request(portA, '/env');
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json().cwd, first);
    const pidA = a.json().pid;
    // The pool is full with the first app's process: the second app's first request drains it.
    const b = await request(portB, '/env');
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json().cwd, second);
    await waitForGone([pidA], { timeoutMs: 20000, what: `the first app's process to make room\n${nginx.log()}` });
    // And back: the first app is served again by a new process.
    const again = await request(portA, '/pid');
    assert.equal(again.status, 200, again.text);
    assert.notEqual(again.json().pid, pidA);
});
