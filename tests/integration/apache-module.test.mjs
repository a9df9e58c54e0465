// The Apache module in Debian's real Apache (event MPM), as root: one Apache serves the subtests.
// The tutorial's VirtualHost for a Meteor bundle (a Node app with main.js standing in for it,
// SetEnv values, sticky sessions) owned by one test user, a Rack app in a second VirtualHost owned
// by another (app root by default: the parent of DocumentRoot), a WebSocket app in a third; each
// runs as its owner. Static files, streaming, a slow upload, `apache2 -k graceful`, a killed core,
// passenger-status and passenger-memory-stats, and stopping Apache. `apache2 -t` on its own.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import { waitForRequests } from './lib/admin.mjs';
import { apacheConfig, configFile, errorLog, makeApacheDir, passengerProcesses, runApache, startApache } from './lib/apache.mjs';
import { patternBytes, request, sha256 } from './lib/http.mjs';
import { parseMemoryStats, parseStatus, runTool } from './lib/inspection.mjs';
import { aboutValue } from './lib/nginx.mjs';
import { settledYet } from './lib/pool.mjs';
import { cmdline, isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { linkNodeModules, openWebSocket } from './lib/realtime.mjs';
import { freePort, makeTempDir } from './lib/server.mjs';
import { makeUser, placeApp, uidOf } from './lib/users.mjs';

const isRoot = process.getuid() === 0;

test('passenger-config about apache2-module prints the built module', () => {
    const module = aboutValue('apache2-module');
    assert.ok(path.isAbsolute(module) && fs.existsSync(module), module);
});

test('apps behind Apache: the tutorial VirtualHost, a Rack app, WebSockets, graceful restarts', { skip: !isRoot && 'needs root', timeout: 120000 }, async (t) => {
    const alice = makeUser(t, 'ptest_ap_alice');
    const bob = makeUser(t, 'ptest_ap_bob');
    const base = await makeTempDir(t, 'passenger-apache-apps-');
    await fsp.chmod(base, 0o755);
    const meteor = path.join(base, 'leaderboard');
    await placeApp('echo', meteor, alice);
    await fsp.rename(path.join(meteor, 'app.js'), path.join(meteor, 'main.js'));
    const rack = path.join(base, 'rack');
    await placeApp('rack-app', rack, bob);
    // A folder whose .htaccess turns the app off: Apache serves there as without the module.
    await fsp.mkdir(path.join(rack, 'public', 'off'));
    await fsp.writeFile(path.join(rack, 'public', 'off', '.htaccess'), 'PassengerEnabled off\n');
    const realtime = path.join(base, 'realtime');
    await placeApp('realtime', realtime, null);
    linkNodeModules(realtime);

    const ports = { meteor: await freePort(), rack: await freePort(), realtime: await freePort() };
    // The tutorial's VirtualHost with its Meteor-bundle lines enabled, plus two processes.
    const tutorial = `    DocumentRoot ${meteor}/public
    PassengerStickySessions On
    SetEnv MONGO_URL mongodb://localhost:27017/meteor
    SetEnv MONGO_OPLOG_URL mongodb://localhost:27017/meteor
    SetEnv ROOT_URL

    PassengerAppType node
    PassengerStartupFile main.js
    PassengerAppRoot ${meteor}
    PassengerMinInstances 2`;
    const vhosts = [
        { port: ports.meteor, body: tutorial },
        { port: ports.rack, body: `    DocumentRoot ${rack}/public\n    <Directory ${rack}/public>\n        AllowOverride All\n    </Directory>` },
        { port: ports.realtime, body: `    DocumentRoot ${realtime}/public` },
    ];
    const dir = await makeApacheDir(t);
    const registry = path.join(dir, 'registry');
    // The Rack app starts with Apache, before any client asks for it.
    const global = `PassengerPreStart http://127.0.0.1:${ports.rack}/`;
    const apache = await startApache(t, dir, apacheConfig(dir, { vhosts, global }), { waitPort: ports.meteor });
    const [watchdog] = passengerProcesses(apache).watchdogs;
    // The admin API of this instance (lib/admin.mjs finds it by the watchdog's pid).
    const instance = { pid: watchdog, cwd: dir, args: ['--instance-registry-dir', registry] };

    await t.test("the tutorial's SetEnv values reach the app, which runs as its owner", async () => {
        const response = await request(ports.meteor, '/env');
        assert.equal(response.status, 200, `${response.text}\n${apache.log()}`);
        const app = response.json();
        assert.equal(app.env.MONGO_URL, 'mongodb://localhost:27017/meteor');
        assert.equal(app.env.MONGO_OPLOG_URL, 'mongodb://localhost:27017/meteor');
        assert.equal(app.env.ROOT_URL, '', 'SetEnv NAME without a value: set, empty');
        assert.equal(app.env.NODE_ENV, 'production');
        assert.ok(app.argv.some((word) => word.endsWith('main.js')), response.text);
        assert.equal(app.cwd, meteor);
        assert.equal(app.uid, alice.uid);
        assert.equal(app.home, '/home/ptest_ap_alice');
        assert.equal(uidOf(app.pid), alice.uid);
    });

    const groupPids = async (appRoot) => {
        const pool = JSON.parse((await runTool('passenger-status', ['--show=json'], { registry })).stdout);
        return (pool.groups.find((g) => g.app_root === appRoot)?.processes ?? []).map((p) => p.pid);
    };

    await t.test('a Rack app in a second VirtualHost: pre-started, app root from DocumentRoot, run as its owner', async () => {
        const [preStarted] = await waitFor(async () => (await groupPids(rack)).length > 0 && groupPids(rack), {
            timeoutMs: 30000,
            what: () => `PassengerPreStart to start the Rack app\n${apache.log().slice(-2000)}`,
        });
        const response = await request(ports.rack, '/env');
        assert.equal(response.status, 200, `${response.text}\n${apache.log()}`);
        assert.equal(response.json().cwd, rack);
        assert.equal(response.json().pid, preStarted);
        assert.equal(response.json().uid, bob.uid);
        assert.equal(uidOf(response.json().pid), bob.uid);
        const [core] = passengerProcesses(apache).cores;
        assert.notEqual(uidOf(core), 0, 'the core is not root');
    });

    await t.test('client headers that look like settings change nothing', async () => {
        const forged = await request(ports.meteor, '/echo', {
            headers: { app_root: '/etc', passenger_app_root: '/etc', 'X-Forwarded-For': '6.6.6.6', envvar: 'MONGO_URL=forged' },
        });
        assert.equal(forged.status, 200, forged.text);
        const seen = forged.json().headers;
        assert.equal(seen.app_root, undefined, 'underscore headers are dropped');
        assert.equal(seen.passenger_app_root, undefined);
        assert.equal(seen['x-forwarded-for'], '127.0.0.1', "X-Forwarded-For is Apache's client address");
        const app = (await request(ports.meteor, '/env', { headers: { envvar: 'MONGO_URL=forged' } })).json();
        assert.equal(app.cwd, meteor);
        assert.equal(app.env.MONGO_URL, 'mongodb://localhost:27017/meteor');
    });

    await t.test('PassengerEnabled off in an .htaccess leaves its folder to Apache', async () => {
        const app = await request(ports.rack, '/off-elsewhere');
        assert.equal(app.text, 'rack fixture: no such route\n');
        const off = await request(ports.rack, '/off/missing');
        assert.equal(off.status, 404);
        assert.match(off.text, /<title>404 Not Found<\/title>/, 'Apache\'s own 404 page');
    });

    await t.test('files under DocumentRoot are Apache\'s and never reach the app', async () => {
        const processed = async () => {
            const pool = JSON.parse((await runTool('passenger-status', ['--show=json'], { registry })).stdout);
            return pool.groups.find((g) => g.app_root === meteor).processes.reduce((sum, p) => sum + p.processed, 0);
        };
        const before = await processed();
        const file = await request(ports.meteor, '/hello.txt');
        assert.equal(file.status, 200);
        assert.equal(file.text, fs.readFileSync(path.join(meteor, 'public', 'hello.txt'), 'utf8'));
        assert.ok(file.headers.etag, 'served by Apache\'s file handler (ETag)');
        assert.equal(await processed(), before, 'no app process counted the file');
        const missing = await request(ports.meteor, '/no-such-file.txt');
        assert.equal(missing.status, 404, 'a path that is no file goes to the app (the echo fixture\'s 404)');
        assert.equal(await processed(), before + 1);
    });

    await t.test('sticky sessions: the route cookie pins a client to one of the two processes', async () => {
        await waitFor(
            async () => {
                const pool = JSON.parse((await runTool('passenger-status', ['--show=json'], { registry })).stdout);
                return pool.groups.find((g) => g.app_root === meteor)?.processes.length === 2;
            },
            { timeoutMs: 30000, what: 'two processes of the tutorial app' },
        );
        const first = await request(ports.meteor, '/pid');
        const cookie = /_passenger_route=([^;]+)/.exec(first.headers['set-cookie']?.join(';') ?? '')?.[1];
        assert.ok(cookie, JSON.stringify(first.headers));
        for (let i = 0; i < 6; i++) {
            const again = await request(ports.meteor, '/pid', { headers: { Cookie: `_passenger_route=${cookie}` } });
            assert.equal(again.json().pid, first.json().pid);
        }
    });

    await t.test('touch tmp/restart.txt restarts the app without waiting for a request', async () => {
        const before = await groupPids(meteor);
        assert.equal(before.length, 2);
        await fsp.writeFile(path.join(meteor, 'tmp', 'restart.txt'), '');
        await waitForGone(before, { timeoutMs: 30000, what: 'the old processes, with no request made' });
        await waitFor(async () => (await groupPids(meteor)).length === 2, { timeoutMs: 30000, what: 'two new processes' });
        assert.ok((await groupPids(meteor)).every((pid) => !before.includes(pid)));
    });

    await t.test('a streamed response reaches the client before it ends', async () => {
        const response = await request(ports.meteor, '/stream?ms=800');
        assert.equal(response.text, 'first\nsecond\n');
        // Causality, not timing: "first" came in a chunk of its own, before "second" existed.
        assert.ok(response.timings.chunkTimes.length >= 2, JSON.stringify(response.timings));
    });

    await t.test('a slow upload to the Rack app holds no process: a second request is answered meanwhile', async () => {
        const rackPid = (await request(ports.rack, '/env')).json().pid;
        const body = patternBytes(300000, 7);
        const req = http.request({ port: ports.rack, host: '127.0.0.1', path: '/echo', method: 'POST', agent: false, headers: { 'Content-Length': body.length } });
        const upload = new Promise((resolve, reject) => {
            req.on('response', (res) => {
                const chunks = [];
                res.on('data', (chunk) => chunks.push(chunk));
                res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            });
            req.on('error', reject);
        });
        t.after(() => req.destroy());
        req.write(body.subarray(0, 100000));
        // The core has the upload (reading its body) before the second request is sent.
        await waitForRequests(instance, '/echo', 1, { state: 'reading request body' });
        const meanwhile = await request(ports.rack, '/env');
        assert.equal(meanwhile.json().pid, rackPid, 'the same (only) Rack process answered');
        assert.equal((await settledYet(upload)).settled, false, 'the upload was still going on');
        req.end(body.subarray(100000));
        const done = await upload;
        assert.equal(done.status, 200);
        assert.equal(done.headers['x-body-length'], String(body.length));
        assert.equal(done.headers['x-body-sha256'], sha256(body));
        // Nothing left in flight; the core drops the record just after writing the last byte.
        await waitForRequests(instance, () => true, 0);
        // A chunked upload reaches the app whole (the module spools it to send a Content-Length).
        const parts = [patternBytes(70000, 1), patternBytes(5, 2), patternBytes(90000, 3)];
        const chunked = await request(ports.rack, '/echo', { method: 'POST', body: parts });
        assert.equal(chunked.status, 200, chunked.text);
        assert.equal(chunked.headers['x-body-sha256'], sha256(Buffer.concat(parts)));
        assert.equal(chunked.headers['x-body-length'], String(70000 + 5 + 90000));
    });

    await t.test('a WebSocket echo through Apache: the module relays both ways after the 101', async () => {
        const socket = await openWebSocket(`ws://127.0.0.1:${ports.realtime}/ws`);
        t.after(() => socket.terminate());
        for (const text of ['one', 'two', 'x'.repeat(100000)]) {
            socket.send(text);
            assert.equal((await socket.next()).data.toString(), text);
        }
        socket.send(Buffer.from([0, 1, 2, 255]));
        assert.deepEqual([...(await socket.next()).data], [0, 1, 2, 255]);
        socket.close();
        await socket.closed;
        // The app's first frame in the same write as its 101 arrives; a refused upgrade is an
        // ordinary answer.
        const hello = await openWebSocket(`ws://127.0.0.1:${ports.realtime}/ws-hello`);
        t.after(() => hello.terminate());
        assert.match((await hello.next()).data.toString(), /^hello \d+$/);
        const refused = await openWebSocket(`ws://127.0.0.1:${ports.realtime}/ws-refused`).then(() => null, (error) => error);
        assert.equal(refused?.status, 403);
    });

    await t.test('a client that leaves a long poll closes its app connection at once', async () => {
        const url = '/stream?quiet=1&id=apache';
        const req = http.get({ port: ports.realtime, host: '127.0.0.1', path: url, agent: false });
        req.on('error', () => {});
        await waitFor(() => apache.log().includes(`stream waiting: ${url}`), { what: 'the long poll in the app' });
        req.destroy();
        await waitFor(() => apache.log().includes(`stream abandoned by its client: ${url}`), {
            what: () => `the app to see its client leave\n${apache.log().slice(-2000)}`,
        });
    });

    await t.test('passenger-status and passenger-memory-stats show the Apache instance and processes', async () => {
        const status = await runTool('passenger-status', [], { registry });
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, /Apache integration mode/);
        const roots = parseStatus(status.stdout).groups.map((group) => group.appRoot);
        for (const root of [meteor, rack, realtime]) assert.ok(roots.includes(root), `${root} in ${status.stdout}`);
        const memory = await runTool('passenger-memory-stats', []);
        const { sections } = parseMemoryStats(memory.stdout);
        assert.ok(sections['Apache processes']?.processes.some((p) => p.pid === apache.pid), memory.stdout);
    });

    await t.test('apache2 -k graceful keeps the apps\' processes and applies a changed VirtualHost', async () => {
        const meteorPids = new Set();
        for (let i = 0; i < 4; i++) meteorPids.add((await request(ports.meteor, '/pid')).json().pid);
        const rackPid = (await request(ports.rack, '/env')).json().pid;
        const generation = (apache.log().match(/resuming normal operations/g) ?? []).length;
        // A changed setting of the Rack app: it restarts; the tutorial app keeps its processes.
        const changed = vhosts.map((vhost) => (vhost.port === ports.rack ? { ...vhost, body: `${vhost.body}\n    SetEnv RACK_EXTRA yes` } : vhost));
        await fsp.writeFile(configFile(dir), apacheConfig(dir, { vhosts: changed, global }));
        const graceful = runApache(dir, ['-k', 'graceful']);
        assert.equal(graceful.status, 0, graceful.stderr);
        await waitFor(() => (apache.log().match(/resuming normal operations/g) ?? []).length > generation, { what: 'the restart' });
        assert.deepEqual(passengerProcesses(apache).watchdogs, [watchdog], 'the same watchdog');
        for (let i = 0; i < 4; i++) assert.ok(meteorPids.has((await request(ports.meteor, '/pid')).json().pid));
        await waitForGone([rackPid], { timeoutMs: 20000, what: 'the changed Rack app\'s old process' });
        assert.notEqual((await request(ports.rack, '/env')).json().pid, rackPid);
    });

    await t.test('a killed core: 502 while it is gone, then served again without restarting Apache', async () => {
        const [core] = passengerProcesses(apache).cores;
        process.kill(core, 'SIGKILL');
        await waitForGone([core]);
        const served = await waitFor(
            async () => {
                const response = await request(ports.meteor, '/pid');
                assert.ok(response.status === 200 || response.status === 502, `${response.status} ${response.text}`);
                return response.status === 200 && response.json();
            },
            { timeoutMs: 20000, what: 'the app through a new core' },
        );
        assert.ok(served.pid);
        assert.match(apache.log(), /Core process \d+ was killed by signal 9 \(Killed\); restarting/);
    });

    await t.test('stopping Apache stops the watchdog, the core and the apps', async () => {
        const everything = passengerProcesses(apache).all.filter((pid) => (cmdline(pid) ?? []).join(' ') !== '');
        const app = (await request(ports.meteor, '/pid')).json().pid;
        process.kill(apache.pid, 'SIGTERM');
        await apache.exited;
        await waitForGone([app, watchdog, ...everything], { timeoutMs: 20000 });
        assert.ok(!isAlive(app));
        assert.match(errorLog(dir), /apache2 is gone; stopping/);
    });
});

test('apache2 -t: bad values and unknown Passenger directives fail naming the directive and file:line; nothing starts', { timeout: 60000 }, async (t) => {
    const dir = await makeApacheDir(t);
    const appDir = path.join(await makeTempDir(t, 'passenger-apache-t-'), 'app');
    await placeApp('echo', appDir, null);
    const port = await freePort();
    const cases = [
        ['PassengerMinInstances lots', /PassengerMinInstances must be a whole number >= 0/],
        ['PassengerAppType cobol', /PassengerAppType must be node, rack, wsgi, meteor or generic/],
        ['PassengerStartTimeout 0', /PassengerStartTimeout must be a whole number >= 1/],
        ['PassengerLogLevel 9', /PassengerLogLevel must be a log level \(0-4\)/, 'global'],
        ['PassengerStickySessions maybe', /PassengerStickySessions must be On or Off/],
        ['PassengerFrobnicate on', /Invalid command 'PassengerFrobnicate'/],
        ['PassengerPreStart https://example.org/', /PassengerPreStart must be an http:\/\/ URL/, 'global'],
        ['PassengerBaseURI sub', /PassengerBaseURI must be a path below \/ such as \/app/],
        ['<Directory /tmp>\n    PassengerMaxPoolSize 4\n    </Directory>', /PassengerMaxPoolSize not allowed in <Directory> context/],
    ];
    for (const [line, message, where = 'vhost'] of cases) {
        const config = apacheConfig(dir, {
            global: where === 'global' ? line : '',
            vhosts: [{ port, body: `    DocumentRoot ${appDir}/public\n    ${where === 'vhost' ? line : ''}` }],
        });
        await fsp.writeFile(configFile(dir), config);
        const directive = line.replace(/^<Directory \/tmp>\n\s*/, '').split('\n')[0];
        const lineNumber = config.split('\n').findIndex((text) => text.includes(directive)) + 1;
        const result = runApache(dir, ['-t']);
        assert.equal(result.status, 1, `${line}: ${result.stderr}`);
        assert.match(result.stderr, message, line);
        assert.ok(result.stderr.includes(`line ${lineNumber} of ${configFile(dir)}`), `${line} (line ${lineNumber}): ${result.stderr}`);
    }
    // A PassengerRoot without bin/passenger is a configuration error too.
    await fsp.writeFile(
        configFile(dir),
        apacheConfig(dir, { global: 'PassengerRoot /nonexistent', vhosts: [{ port, body: `    DocumentRoot ${appDir}/public` }] }),
    );
    const noRoot = runApache(dir, ['-t']);
    assert.equal(noRoot.status, 1, noRoot.stderr);
    assert.match(noRoot.stderr, /PassengerRoot "\/nonexistent": cannot run \/nonexistent\/bin\/passenger/);
    // A good configuration tests fine and starts nothing.
    await fsp.writeFile(configFile(dir), apacheConfig(dir, { vhosts: [{ port, body: `    DocumentRoot ${appDir}/public` }] }));
    const good = runApache(dir, ['-t']);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stderr, /Syntax OK/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'registry')), []);
    assert.doesNotMatch(errorLog(dir), /watchdog/);
});
