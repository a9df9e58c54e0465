// A full --data-buffer-dir (a 1 MiB tmpfs): a request body that cannot be buffered gets 507 and a
// log line, and the server keeps serving; a response that cannot be buffered reaches a slow client
// whole (the app is read only as fast as the client reads), with a log line. Needs root (mount).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { appRequests, pausedDownload } from './lib/frontend.mjs';
import { patternBytes, request, sha256 } from './lib/http.mjs';
import { waitFor } from './lib/proc.mjs';
import { makeTempDir, onCleanup, startServer } from './lib/server.mjs';

const MIB = 1024 * 1024;

// A fresh 1 MiB tmpfs, unmounted when the test ends; null (the test is skipped) where mounting is
// not permitted.
async function smallTmpfs(t) {
    const dir = await makeTempDir(t, 'passenger-it-full-');
    try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
        t.skip(`cannot mount a tmpfs here (needs root): ${String(error.stderr || error.message).trim()}`);
        return null;
    }
    // Lazy: the server may still hold a buffer file open when this runs.
    onCleanup(t, () => execFileSync('umount', ['-l', dir], { stdio: 'pipe' }));
    return dir;
}

async function startWithFullDisk(t) {
    const bufferDir = await smallTmpfs(t);
    if (bufferDir === null) return null;
    const server = await startServer(t, {
        fixture: 'frontend',
        readyPath: '/count',
        args: ['--data-buffer-dir', bufferDir, '--client-body-buffer-size', '16k', '--response-buffer-size', '16k'],
    });
    return { server, bufferDir };
}

test('a request body that does not fit in the data buffer dir gets 507 and a log line; the server keeps serving', { timeout: 60000 }, async (t) => {
    const started = await startWithFullDisk(t);
    if (started === null) return;
    const { server, bufferDir } = started;
    const before = await appRequests(server);

    const response = await request(server.port, '/echo', { method: 'POST', body: patternBytes(2 * MIB, 3), timeoutMs: 30000 });
    assert.equal(response.status, 507, `a body larger than the free space: ${response.status} ${response.text.slice(0, 300)}`);
    assert.match(response.text, /no room to buffer the request body/);
    await server.waitForLog(new RegExp(`Cannot buffer a request body in ${bufferDir}: No space left on device`));
    assert.equal(await appRequests(server), before, 'the app never saw the request');

    // The space is given back: a body that fits is served.
    const body = patternBytes(MIB / 2, 4);
    const fits = await request(server.port, '/echo', { method: 'POST', body, timeoutMs: 30000 });
    assert.equal(fits.status, 200, `a body that fits: ${fits.text.slice(0, 300)}`);
    assert.equal(fits.json().bodySha256, sha256(body));
});

for (const chunked of [false, true]) {
    const framing = chunked ? 'chunked' : 'Content-Length';
    test(`a ${framing} response that does not fit in the data buffer dir reaches a slow client whole, with a log line`, { timeout: 90000 }, async (t) => {
        const started = await startWithFullDisk(t);
        if (started === null) return;
        const { server, bufferDir } = started;
        const size = 32 * MIB;
        const download = await pausedDownload(server, `/download?n=${size}${chunked ? '&chunked=1' : ''}`);
        onCleanup(t, () => download.destroy());
        assert.equal(download.status, 200);
        // The client reads nothing until the server found the disk full.
        await server.waitForLog(new RegExp(`Cannot buffer a response in ${bufferDir} \\(No space left on device\\)`), { timeoutMs: 30000 });
        const received = await download.resume();
        assert.equal(received.complete, true, `the response was not cut off: ${JSON.stringify(received)}`);
        assert.equal(received.length, size);
        const record = await waitFor(
            async () => {
                const last = (await request(server.port, '/last-download')).json();
                return last && last.finished && last;
            },
            { timeoutMs: 10000, what: 'the app to have finished the download' },
        );
        assert.equal(received.sha256, record.sha256, 'every byte arrived, in order');
        const next = await request(server.port, '/count');
        assert.equal(next.status, 200, 'the server keeps serving');
    });
}
