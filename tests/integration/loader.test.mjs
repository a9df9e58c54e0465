// The Node.js loader on its own (no server): `node --require loaders/node/listen_redirect.js app`
// with PASSENGER_APP_SOCKET set must make the app's first listen() serve on that socket, however
// the app calls listen().
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import { fixturesDir, loaderPath, makeTempDir, onCleanup, serverEnv } from './lib/server.mjs';
import { waitFor } from './lib/proc.mjs';

const variantsDir = path.join(fixturesDir, 'loader-variants');

// Starts a loader variant and collects the JSON lines it prints.
function runVariant(t, name, { socketPath, env = {} } = {}) {
    const childEnv = serverEnv({ ...env, ...(socketPath ? { PASSENGER_APP_SOCKET: socketPath } : {}) });
    const child = spawn(process.execPath, ['--require', loaderPath, path.join(variantsDir, `${name}.js`)], {
        cwd: variantsDir,
        env: childEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = { child, stdout: '', stderr: '', exited: false };
    child.stdout.on('data', (chunk) => (app.stdout += chunk));
    child.stderr.on('data', (chunk) => (app.stderr += chunk));
    child.on('exit', () => (app.exited = true));
    onCleanup(t, () => {
        if (!app.exited) child.kill('SIGKILL');
    });
    app.events = () =>
        app.stdout
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line));
    app.waitForEvent = (event) =>
        waitFor(() => {
            const found = app.events().find((e) => e.event === event);
            if (!found && app.exited) throw new Error('the app exited');
            return found;
        }, {
            timeoutMs: 10000,
            what: () => `event "${event}" from ${name}; stdout: ${app.stdout} stderr: ${app.stderr}`,
        });
    return app;
}

function get(target, urlPath = '/hello') {
    return new Promise((resolve, reject) => {
        const req = http.get({ ...target, path: urlPath, agent: false, timeout: 5000 }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
    });
}

async function socketIn(t) {
    return path.join(await makeTempDir(t, 'passenger-loader-'), 'app.sock');
}

// [fixture, how it calls listen(), whether it passes a callback, where address() is seen]
const variants = [
    ['port', 'listen(3000)', false, 'listening'],
    ['port-host-callback', "listen(3000, '0.0.0.0', cb)", true, 'listening'],
    ['options-object', 'listen({port, host}, cb)', true, 'listening'],
    ['no-arguments', 'listen()', false, 'listening'],
    ['env-port', 'listen(process.env.PORT, cb)', true, 'listening'],
    ['express-style', 'express-style app.listen(8080, cb)', true, 'callback'],
];

for (const [name, description, hasCallback, addressEvent] of variants) {
    test(`loader redirects ${description} to PASSENGER_APP_SOCKET`, { timeout: 20000 }, async (t) => {
        const socketPath = await socketIn(t);
        const app = runVariant(t, name, { socketPath, env: { PORT: '4567' } });
        const seen = await app.waitForEvent(addressEvent);
        assert.equal(seen.address, socketPath, 'server.address() is the socket path');
        const response = await get({ socketPath });
        assert.equal(response.status, 200);
        assert.equal(response.body, `variant ${name} GET /hello\n`);
        if (hasCallback) await app.waitForEvent('callback');
    });
}

test('loader keeps the callback, its `this`, the listening event and the return value', { timeout: 20000 }, async (t) => {
    const socketPath = await socketIn(t);
    const hostCallback = runVariant(t, 'port-host-callback', { socketPath });
    const callback = await hostCallback.waitForEvent('callback');
    assert.equal(callback.thisIsServer, true);
    assert.equal(callback.address, socketPath);

    const otherSocket = await socketIn(t);
    const plain = runVariant(t, 'port', { socketPath: otherSocket });
    const returned = await plain.waitForEvent('returned');
    assert.equal(returned.same, true, 'listen() returns the server');
    await plain.waitForEvent('listening');
    // Exactly one 'listening' event, not one per layer.
    assert.equal(plain.events().filter((e) => e.event === 'listening').length, 1);
});

test('loader redirects a net.createServer() server', { timeout: 20000 }, async (t) => {
    const socketPath = await socketIn(t);
    const app = runVariant(t, 'net-server', { socketPath });
    await app.waitForEvent('callback');
    const response = await get({ socketPath });
    assert.equal(response.body, 'variant net-server\n');
});

test('loader leaves the second listen() call alone', { timeout: 20000 }, async (t) => {
    const socketPath = await socketIn(t);
    const app = runVariant(t, 'two-servers', { socketPath });
    const second = await app.waitForEvent('second');
    assert.equal(second.address.address, '127.0.0.1');
    assert.ok(second.address.port > 0);
    assert.equal((await get({ host: '127.0.0.1', port: second.address.port })).body, 'second server\n');
    assert.equal((await get({ socketPath })).body, 'variant two-servers GET /hello\n');
});

test('loader removes a stale socket file before listening', { timeout: 20000 }, async (t) => {
    const socketPath = await socketIn(t);
    // A process that dies by SIGKILL leaves its socket file behind.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], {
        stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup(t, () => holder.kill('SIGKILL'));
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.ok(fs.lstatSync(socketPath).isSocket(), 'a stale socket file is left');

    const app = runVariant(t, 'port', { socketPath });
    await app.waitForEvent('listening');
    assert.equal((await get({ socketPath })).status, 200);
});

test('loader does not delete a regular file at the socket path', { timeout: 20000 }, async (t) => {
    const socketPath = await socketIn(t);
    fs.writeFileSync(socketPath, 'precious');
    const app = runVariant(t, 'port', { socketPath });
    const error = await app.waitForEvent('error');
    assert.equal(error.code, 'EADDRINUSE');
    assert.equal(fs.readFileSync(socketPath, 'utf8'), 'precious');
});

test('loader does nothing without PASSENGER_APP_SOCKET', { timeout: 20000 }, async (t) => {
    const app = runVariant(t, 'no-arguments');
    const listening = await app.waitForEvent('listening');
    assert.equal(typeof listening.address, 'object', `address() is a TCP address, got ${JSON.stringify(listening.address)}`);
    assert.ok(listening.address.port > 0);
    const response = await get({ host: '127.0.0.1', port: listening.address.port });
    assert.equal(response.body, 'variant no-arguments GET /hello\n');
});
