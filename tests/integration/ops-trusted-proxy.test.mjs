// --trusted-proxy (issue 16): from a trusted peer (IPv4 and IPv6) the client's X-Forwarded-For,
// -Proto and -Host reach the app (our hop appended), and passenger-status shows the real client;
// from any other peer (127.0.0.2 here: loopback, not in the trusted block) they are replaced.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { waitForRequests } from './lib/admin.mjs';
import { makeRegistry, runTool, startRegisteredServer } from './lib/inspection.mjs';
import { release } from './lib/pool.mjs';

// GET `path` from `localAddress` to `host`; resolves {status, json}.
function getFrom(port, urlPath, { host = '127.0.0.1', localAddress, headers = {} }) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host, port, path: urlPath, localAddress, headers, agent: false, timeout: 15000 }, (res) => {
            let text = '';
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode, json: () => JSON.parse(text) }));
        });
        req.on('timeout', () => req.destroy(new Error(`${urlPath}: no answer`)));
        req.on('error', reject);
    });
}

const spoof = { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'shop.example' };

test('trusted proxies', async (t) => {
    const registry = await makeRegistry(t);
    // Listening on :: takes IPv4 peers too (as ::ffff:127.0.0.1, trusted as 127.0.0.1).
    const server = await startRegisteredServer(t, registry, {
        fixture: 'pool-app',
        args: ['--address', '::', '--trusted-proxy', '127.0.0.1', '--trusted-proxy', '::1/128'],
        readyPath: '/pid',
    });

    await t.test('a trusted IPv4 peer: the forwarded headers are kept, our hop appended', async () => {
        const { headers } = (await getFrom(server.port, '/headers', { localAddress: '127.0.0.1', headers: spoof })).json();
        assert.equal(headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
        assert.equal(headers['x-forwarded-proto'], 'https');
        assert.equal(headers['x-forwarded-host'], 'shop.example');
    });

    await t.test('a trusted IPv6 peer', async () => {
        const { headers } = (await getFrom(server.port, '/headers', { host: '::1', headers: spoof })).json();
        assert.equal(headers['x-forwarded-for'], '203.0.113.9, ::1');
        assert.equal(headers['x-forwarded-proto'], 'https');
    });

    await t.test('any other peer: replaced as without the option', async () => {
        const { headers } = (await getFrom(server.port, '/headers', { localAddress: '127.0.0.2', headers: spoof })).json();
        assert.equal(headers['x-forwarded-for'], '127.0.0.2');
        assert.equal(headers['x-forwarded-proto'], 'http');
        assert.equal(headers['x-forwarded-host'], `127.0.0.1:${server.port}`);
    });

    await t.test('passenger-status --show=requests shows the real client', async () => {
        const held = [
            getFrom(server.port, '/slow?until=tmp/go&who=proxied', { localAddress: '127.0.0.1', headers: { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' } }),
            getFrom(server.port, '/slow?until=tmp/go&who=direct', { localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '198.51.100.1' } }),
        ];
        await waitForRequests(server, '/slow', 2, { state: 'in app' });
        const result = await runTool('passenger-status', ['--show=requests'], { registry });
        assert.equal(result.code, 0, result.stderr);
        const clients = Object.fromEntries(JSON.parse(result.stdout).requests.map((r) => [r.uri.split('who=')[1], r.client]));
        // The rightmost address a trusted hop added is the client; what precedes it is the
        // client's own claim.
        assert.deepEqual(clients, { proxied: '203.0.113.9', direct: '127.0.0.2' });
        release(server, 'tmp/go');
        for (const response of await Promise.all(held)) assert.equal(response.status, 200);
    });
});
