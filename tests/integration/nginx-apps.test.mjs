// Per-app nginx settings beyond the basics, on one nginx: passenger_base_uri (one app folder at
// several base URIs, each its own app; SCRIPT_NAME for Rack), passenger_friendly_error_pages,
// X-Forwarded-Proto from TLS; and a `make install`ed tree as passenger_root.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';

import { request } from './lib/http.mjs';
import { makeAppReadable, makePrefix, nginxConfig, passengerProcesses, startNginx } from './lib/nginx.mjs';
import { cmdline } from './lib/proc.mjs';
import { copyFixture, freePort, makeTempDir, repoRoot } from './lib/server.mjs';

async function readableFixture(t, name) {
    const appDir = await copyFixture(t, name);
    await makeAppReadable(appDir);
    return appDir;
}

function readCwd(pid) {
    try {
        return fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
        return null;
    }
}

function httpsGet(port, urlPath) {
    return new Promise((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false, agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode, text, json: () => JSON.parse(text) }));
        });
        req.on('error', reject);
        req.setTimeout(30000, () => req.destroy(new Error('no answer over TLS')));
    });
}

test('base URIs, friendly error pages and X-Forwarded-Proto behind one nginx', { timeout: 120000 }, async (t) => {
    const echo = await readableFixture(t, 'echo');
    const rack = await readableFixture(t, 'rack-app');
    const broken = await readableFixture(t, 'exit-at-once');
    const prefix = await makePrefix(t);
    const [port, tlsPort] = [await freePort(), await freePort()];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', path.join(prefix, 'key.pem'), '-out', path.join(prefix, 'cert.pem')], { stdio: 'ignore' });
    const body = `        root ${echo}/public;
        passenger_enabled on;
        location /sub { passenger_base_uri /sub; }
        location /rack { passenger_app_root ${rack}; passenger_base_uri /rack; }
        location /friendly { passenger_app_root ${broken}; passenger_base_uri /friendly; passenger_friendly_error_pages on; }
        location /terse { passenger_app_root ${broken}; passenger_base_uri /terse; }`;
    const tlsBody = `        ssl_certificate ${prefix}/cert.pem;\n        ssl_certificate_key ${prefix}/key.pem;\n        root ${echo}/public;\n        passenger_enabled on;`;
    const config = nginxConfig(prefix, { servers: [{ port, body }, { port: tlsPort, body: tlsBody, ssl: true }] });
    const nginx = await startNginx(t, prefix, config, { waitPort: port });

    await t.test('one app folder at / and at /sub: two apps; Node sees the full path', async () => {
        const root = await request(port, '/pid');
        assert.equal(root.status, 200, root.text);
        const sub = await request(port, '/sub/pid');
        assert.equal(sub.status, 404, 'the app is asked for /sub/pid (the full path), not /pid');
        assert.match(sub.text, /echo fixture: no such route/);
        const echoProcesses = passengerProcesses(nginx).all.filter((pid) => (cmdline(pid) ?? [])[0]?.endsWith('node') && readCwd(pid) === echo);
        assert.equal(echoProcesses.length, 2, 'one process per base URI of the folder');
        assert.ok(echoProcesses.includes(root.json().pid));
    });

    await t.test('Rack at a base URI: SCRIPT_NAME is the base URI, PATH_INFO the rest', async () => {
        const response = await request(port, '/rack/env?q=1');
        assert.equal(response.status, 200, response.text);
        const { rack: env, url_scheme: scheme } = response.json();
        assert.equal(env.SCRIPT_NAME, '/rack');
        assert.equal(env.PATH_INFO, '/env');
        assert.equal(env.REQUEST_URI, '/rack/env?q=1');
        assert.equal(scheme, 'http');
    });

    await t.test('passenger_friendly_error_pages: the output only when on (default off in production)', async () => {
        const friendly = await request(port, '/friendly/');
        assert.equal(friendly.status, 500, friendly.text);
        assert.match(friendly.text, /EXIT-OUTPUT-55/);
        const terse = await request(port, '/terse/');
        assert.equal(terse.status, 500, terse.text);
        assert.doesNotMatch(terse.text, /EXIT-OUTPUT-55/);
        assert.match(terse.text, /something went wrong/);
    });

    await t.test('over TLS the app gets X-Forwarded-Proto: https', async () => {
        const response = await httpsGet(tlsPort, '/echo');
        assert.equal(response.status, 200, response.text);
        assert.equal(response.json().headers['x-forwarded-proto'], 'https');
        const plain = await request(port, '/echo');
        assert.equal(plain.json().headers['x-forwarded-proto'], 'http');
    });
});

test('make install DESTDIR=… PREFIX=/usr/local: nginx with that passenger_root serves an app', { timeout: 120000 }, async (t) => {
    const destdir = await makeTempDir(t, 'passenger-install-');
    await fsp.chmod(destdir, 0o755);
    const install = spawnSync('make', ['-s', 'install', `DESTDIR=${destdir}`, 'PREFIX=/usr/local'], { cwd: repoRoot, encoding: 'utf8', timeout: 100000 });
    assert.equal(install.status, 0, install.stderr);
    const root = path.join(destdir, 'usr', 'local');
    const about = execFileSync(path.join(root, 'bin', 'passenger-config'), ['about', 'root'], { encoding: 'utf8' }).trim();
    assert.equal(about, root);

    const echo = await readableFixture(t, 'echo');
    const prefix = await makePrefix(t);
    const port = await freePort();
    const body = `        root ${echo}/public;\n        passenger_enabled on;`;
    const nginx = await startNginx(t, prefix, nginxConfig(prefix, { servers: [{ port, body }], root }), { waitPort: port });
    const response = await request(port, '/pid');
    assert.equal(response.status, 200, response.text);
    // The app's loader comes from the installed tree, not from this checkout.
    const words = cmdline(response.json().pid).join(' ');
    assert.ok(words.includes(path.join(root, 'lib', 'passenger', 'loaders')), words);
    assert.ok(!words.includes(path.join(repoRoot, 'loaders')), words);
    const [watchdog] = passengerProcesses(nginx).watchdogs;
    assert.equal(cmdline(watchdog)[0], path.join(root, 'bin', 'passenger'), 'the installed watchdog runs');
});
