// nginx's configuration cycles reach the core (src/integrations/README.md, channel version 2):
// a reload stops the apps no longer configured, restarts those whose settings changed, keeps the
// others' processes and applies the new http{} settings; a reload nginx refuses changes nothing;
// passenger_pre_start starts apps before any client asks. One nginx for all of it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { request } from './lib/http.mjs';
import { parseStatus, runTool } from './lib/inspection.mjs';
import { makeAppReadable, makePrefix, nginxConfig, passengerProcesses, runNginx, startNginx } from './lib/nginx.mjs';
import { cmdline, descendantsOf, isAlive, waitFor, waitForGone } from './lib/proc.mjs';
import { copyFixture, freePort } from './lib/server.mjs';

async function echoApp(t) {
    const appDir = await copyFixture(t, 'echo');
    await makeAppReadable(appDir);
    return appDir;
}

// The app processes nginx's core runs in `appDir` (found through /proc, no request made).
function appProcessesIn(nginx, appDir) {
    return descendantsOf(nginx.pid)
        .map((stat) => stat.pid)
        .filter((pid) => (cmdline(pid) ?? [])[0]?.endsWith('node') && readCwd(pid) === appDir);
}

function readCwd(pid) {
    try {
        return fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
        return null;
    }
}

function server(port, appDir, extra = '') {
    return { port, body: `        root ${appDir}/public;\n        passenger_enabled on;\n${extra}` };
}

// Returns how many configurations the core had applied before.
async function reloadWith(prefix, nginx, config, { refused = false } = {}) {
    await fsp.writeFile(path.join(prefix, 'nginx.conf'), config);
    const cycles = (nginx.log().match(/nginx configuration: /g) ?? []).length;
    if (refused) {
        // `nginx -s reload` would refuse the file itself; the master must see it.
        process.kill(nginx.pid, 'SIGHUP');
    } else {
        const reload = runNginx(prefix, ['-s', 'reload']);
        assert.equal(reload.status, 0, reload.stderr);
    }
    return cycles;
}

test('reload: removed apps stop, changed ones restart, others keep their processes; pre-start', { timeout: 120000 }, async (t) => {
    const [kept, removed, changed, added] = [await echoApp(t), await echoApp(t), await echoApp(t), await echoApp(t)];
    const prefix = await makePrefix(t);
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    const configOf = (servers, http) => nginxConfig(prefix, { servers, http });
    const first = configOf(
        [server(ports[0], kept), server(ports[1], removed), server(ports[2], changed, '        passenger_env_var ECHO_VAR one;')],
        `    passenger_max_pool_size 5;\n    passenger_pre_start http://127.0.0.1:${ports[0]}/pid;`,
    );
    const nginx = await startNginx(t, prefix, first);

    await t.test('passenger_pre_start: the app runs before any client request', async () => {
        await waitFor(() => appProcessesIn(nginx, kept).length === 1, {
            timeoutMs: 30000,
            what: () => `a pre-started process in ${kept}\n${nginx.log()}`,
        });
        assert.equal(appProcessesIn(nginx, removed).length, 0, 'apps without pre-start wait for a request');
        await waitFor(() => /Pre-started http:\/\/127\.0\.0\.1:\d+\/pid: HTTP\/1\.1 200/.test(nginx.log()), {
            what: 'the pre-start request to be answered',
        });
    });

    const pidOf = async (port) => {
        const response = await request(port, '/env');
        assert.equal(response.status, 200, response.text);
        return response.json();
    };
    const keptPid = (await pidOf(ports[0])).pid;
    const removedPid = (await pidOf(ports[1])).pid;
    const changedBefore = await pidOf(ports[2]);
    assert.equal(changedBefore.env.ECHO_VAR, 'one');

    await t.test('a reload nginx refuses changes nothing', async () => {
        const cycles = await reloadWith(prefix, nginx, configOf([server(ports[0], kept)], '    passenger_max_pool_size 0;'), {
            refused: true,
        });
        await waitFor(() => /passenger_max_pool_size.*must be a whole number >= 1/.test(nginx.log()), { what: 'the refused reload in the log' });
        assert.equal((nginx.log().match(/nginx configuration: /g) ?? []).length, cycles, 'no configuration reached the core');
        for (const pid of [keptPid, removedPid, changedBefore.pid]) assert.ok(isAlive(pid), `process ${pid} kept`);
        assert.equal((await pidOf(ports[1])).pid, removedPid);
    });

    await t.test('reload: removed, changed, kept, added with pre-start, new pool size', async () => {
        const second = configOf(
            [server(ports[0], kept), server(ports[2], changed, '        passenger_env_var ECHO_VAR two;'), server(ports[3], added)],
            `    passenger_max_pool_size 4;\n    passenger_pre_start http://127.0.0.1:${ports[3]}/pid;`,
        );
        const cycles = await reloadWith(prefix, nginx, second);
        await waitFor(() => (nginx.log().match(/nginx configuration: /g) ?? []).length > cycles, { what: 'the new configuration in the core' });
        await waitForGone([removedPid, changedBefore.pid], {
            timeoutMs: 20000,
            what: () => `the removed and the changed app's processes to stop\n${nginx.log()}`,
        });
        // Pre-started, before any client asks the new app.
        await waitFor(() => appProcessesIn(nginx, added).length === 1, { timeoutMs: 30000, what: () => `a process in ${added}` });
        assert.equal(appProcessesIn(nginx, removed).length, 0);
        const changedAfter = await pidOf(ports[2]);
        assert.equal(changedAfter.env.ECHO_VAR, 'two');
        assert.notEqual(changedAfter.pid, changedBefore.pid);
        assert.equal((await pidOf(ports[0])).pid, keptPid, 'the unchanged app kept its process');
        const status = await runTool('passenger-status', [], { registry: path.join(prefix, 'registry') });
        assert.equal(status.code, 0, status.stderr);
        assert.equal(parseStatus(status.stdout).maxPoolSize, 4, status.stdout);
        assert.match(nginx.log(), /The application in .* is no longer configured; stopping it/);
    });

    await t.test('a core restarted after a crash gets the latest configuration from the watchdog', async () => {
        const [core] = passengerProcesses(nginx).cores;
        const [oldAdded] = appProcessesIn(nginx, added);
        const cycles = (nginx.log().match(/nginx configuration: /g) ?? []).length;
        process.kill(core, 'SIGKILL');
        await waitFor(() => (nginx.log().match(/nginx configuration: 3 app\(s\), --max-pool-size 4/g) ?? []).length > 1 &&
            (nginx.log().match(/nginx configuration: /g) ?? []).length > cycles, {
            timeoutMs: 20000,
            what: () => `the new core to apply the configuration\n${nginx.log()}`,
        });
        // The pre-start URL of the latest configuration starts its app again, without a request.
        await waitFor(() => appProcessesIn(nginx, added).some((pid) => pid !== oldAdded), {
            timeoutMs: 30000,
            what: () => `a new process in ${added}`,
        });
        const status = await waitFor(async () => {
            const result = await runTool('passenger-status', [], { registry: path.join(prefix, 'registry') });
            return result.code === 0 && result;
        }, { what: 'passenger-status of the new core' });
        assert.equal(parseStatus(status.stdout).maxPoolSize, 4, status.stdout);
    });
});
