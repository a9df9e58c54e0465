// The Apache module under the prefork and worker MPMs (the other tests use event): a process per
// connection and threads without the event MPM's async listener must both get requests to the
// app, static files from Apache, and a WebSocket through the module's own tunnel.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { apacheConfig, makeApacheDir, startApache } from './lib/apache.mjs';
import { readableApp } from './lib/channel.mjs';
import { request } from './lib/http.mjs';
import { openWebSocket } from './lib/realtime.mjs';
import { freePort } from './lib/server.mjs';

for (const mpm of ['prefork', 'worker']) {
    test(`Apache with the ${mpm} MPM`, { skip: process.getuid() !== 0 && 'needs root', timeout: 60000 }, async (t) => {
        const app = await readableApp(t, 'realtime');
        await fsp.writeFile(path.join(app, 'public', 'hello.txt'), 'static hello\n');
        await fsp.chmod(path.join(app, 'public', 'hello.txt'), 0o644);
        const port = await freePort();
        const dir = await makeApacheDir(t);
        const config = apacheConfig(dir, { mpm, vhosts: [{ port, body: `    DocumentRoot ${app}/public` }] });
        const apache = await startApache(t, dir, config, { waitPort: port });

        const pids = await Promise.all([1, 2, 3, 4].map(async () => {
            const response = await request(port, '/pid');
            assert.equal(response.status, 200, response.text);
            return response.json().pid;
        }));
        assert.ok(pids.every((pid) => Number.isInteger(pid)), `the app answered: ${pids}`);

        const file = await request(port, '/hello.txt');
        assert.equal(file.status, 200);
        assert.equal(file.text, 'static hello\n', 'Apache served the file under DocumentRoot');

        const socket = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
        try {
            socket.send(`through ${mpm}`);
            assert.equal((await socket.next()).data.toString(), `through ${mpm}`);
        } finally {
            socket.close();
            await socket.closed;
        }
        assert.match(apache.log(), new RegExp(`mpm_${mpm}:notice`), `Apache ran the ${mpm} MPM`);
    });
}
