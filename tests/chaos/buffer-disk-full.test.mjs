// (d) The buffer folder fills up under load: nothing may be lost silently. --data-buffer-dir is a
// small tmpfs (mounted by the test, as root; unmounted in cleanup); slow readers download big
// responses (which the core spills to that folder, past --response-buffer-size) while uploads
// send big bodies (spilled past --client-body-buffer-size). Every request must end either
// complete with the right length and SHA-256, or with an explicit 5xx; a 200 that is cut short
// or wrong is a silent loss. Afterwards the folder is empty again and the server serves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';

import { waitForReadyProcesses } from '../integration/lib/pool.mjs';
import { waitFor, withTimeout } from '../integration/lib/proc.mjs';
import { makeTempDir, onCleanup } from '../integration/lib/server.mjs';
import { logTail, startChaosServer } from './lib/chaos.mjs';
import { bodyFor, describe, Load, sha256 } from './lib/load.mjs';

const mib = 1024 * 1024;
const tmpfsMb = 8;

// Mounts a `sizeMb` tmpfs on a fresh folder; unmounted (lazily, so a file still open cannot keep
// it) when the test ends. Returns null when this user may not mount.
async function mountTmpfs(t, sizeMb) {
    const dir = await makeTempDir(t, 'passenger-chaos-buffers-');
    try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
        return { skip: `cannot mount a tmpfs (${error.message.split('\n')[0]})` };
    }
    onCleanup(t, () => execFileSync('umount', ['-l', dir], { stdio: 'pipe' }));
    return { dir };
}

const freeBytes = (dir) => {
    const stats = fs.statfsSync(dir);
    return stats.bavail * stats.bsize;
};
const usedBytes = (dir) => {
    const stats = fs.statfsSync(dir);
    return (stats.blocks - stats.bfree) * stats.bsize;
};

// A complete answer for an upload: the app saw the whole body.
function checkUpload(result, id, size) {
    if (result.outcome !== 'ok') return result;
    const answer = JSON.parse(result.body.toString('utf8'));
    const expected = sha256(bodyFor(id, size));
    return answer.length === size && answer.sha256 === expected ? result : { ...result, outcome: 'wrong', detail: `the app got ${answer.length} bytes` };
}

test('(d) a full buffer folder: every response is complete and right, or an explicit 5xx', { timeout: 120000 }, async (t) => {
    const mounted = await mountTmpfs(t, tmpfsMb);
    if (mounted.skip) return t.skip(mounted.skip);
    const buffers = mounted.dir;
    const server = await startChaosServer(t, [
        '--min-instances', '2',
        '--data-buffer-dir', buffers,
        '--response-buffer-size', '64k',
        '--client-body-buffer-size', '16k',
    ]);
    await waitForReadyProcesses(server, 2, { timeoutMs: 30000 });

    // Slow readers: each takes the response head, then reads nothing until the folder is full
    // (or, should it never fill, until that wait gives up), so the core must park the bodies.
    const downloadSize = 12 * mib;
    const full = waitFor(() => freeBytes(buffers) < mib, { timeoutMs: 30000, what: 'the buffer folder to fill up' }).then(() => true, () => false);
    const downloads = new Load(server.port, {
        clients: 6,
        path: (id) => `/work?id=${id}&size=${downloadSize}`,
        readGate: () => withTimeout(full, 35000),
        timeoutMs: 90000,
    }).start();
    const uploadSize = 4 * mib;
    const uploads = new Load(server.port, {
        clients: 3,
        method: 'POST',
        path: (id) => `/upload?id=${id}`,
        body: (id) => bodyFor(id, uploadSize),
        timeoutMs: 90000,
    }).start();
    t.after(() => Promise.all([downloads.stop(), uploads.stop()]));

    const filled = await full;
    // Two rounds of requests per client: the second starts while the folder is still full.
    await waitFor(() => downloads.results.length >= 12 && uploads.results.length >= 6, {
        timeoutMs: 90000,
        what: () => `two rounds of downloads and uploads (${downloads.summary()}; ${uploads.summary()})`,
    });
    await Promise.all([downloads.stop(), uploads.stop()]);
    t.diagnostic(`downloads: ${downloads.summary()}; uploads: ${uploads.summary()}; folder filled: ${filled}`);
    assert.ok(filled, `the test must fill the ${tmpfsMb} MB buffer folder to mean anything`);

    const checked = [...downloads.results, ...uploads.results.map((result) => checkUpload(result, result.id, uploadSize))];
    assert.ok(checked.some((result) => result.outcome === 'ok'), 'some requests got through');

    // Nothing stays behind: the temp files are gone (their space freed), and the server serves.
    await waitFor(() => usedBytes(buffers) < 256 * 1024, { timeoutMs: 15000, what: () => `the buffer folder to be empty again (${usedBytes(buffers)} bytes used: ${fs.readdirSync(buffers).join(', ')})` });
    const after = await server.get('/work?id=after&size=1000');
    assert.equal(after.status, 200);
    assert.equal(sha256(after.body), sha256(bodyFor('after', 1000)));

    // Last, as it is what fails today: a 200 cut short (the core could not park the rest of a
    // slow reader's response in the full folder and dropped it) is a silent loss.
    const silent = checked.filter((result) => result.outcome !== 'ok' && !(result.outcome === 'http-error' && result.status >= 500));
    assert.equal(describe(silent), '', `responses cut short or wrong instead of complete or an explicit 5xx${logTail(server)}`);
});
