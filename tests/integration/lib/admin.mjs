// The core's admin API (src/admin/README.md) as a test's window on the pool: what is queued,
// what runs where, how long each process has been idle. Tests wait on this state instead of
// sleeping. The API is HTTP/1.1 + JSON on the instance's admin.sock, found through the instance
// registry; this talks to it with Node's own HTTP client (what passenger-status does with a
// C++ one), so polling it every few ms stays cheap on a busy machine.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { waitFor } from './proc.mjs';

// Where a server started by startServer() registers: --instance-registry-dir, else $TMPDIR or
// /tmp (serverEnv() drops PASSENGER_INSTANCE_REGISTRY_DIR).
function registryDirOf(server) {
    const index = server.args.indexOf('--instance-registry-dir');
    return index >= 0 ? path.resolve(server.cwd, server.args[index + 1]) : os.tmpdir();
}

// The admin socket of `server`'s instance: the registry entry whose watchdog is the server
// process (the core re-binds it after a core restart, under the same entry).
export function adminSocketOf(server) {
    const registry = registryDirOf(server);
    for (const name of fs.readdirSync(registry)) {
        if (!name.startsWith('passenger.')) continue;
        try {
            const properties = JSON.parse(fs.readFileSync(path.join(registry, name, 'properties.json'), 'utf8'));
            if (properties.watchdog_pid === server.pid) return path.join(registry, name, 'admin.sock');
        } catch {
            // an entry being created or removed, or not ours to read
        }
    }
    return null;
}

// GET `urlPath` on the admin API; resolves the parsed JSON. Rejects if the core does not answer
// within `timeoutMs` (e.g. it is being restarted), so waitFor() can simply try again.
export function adminGet(server, urlPath, { timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
        const socketPath = adminSocketOf(server);
        if (!socketPath) return reject(new Error(`no registry entry for the server with pid ${server.pid}`));
        const req = http.get({ socketPath, path: urlPath, agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => {
                if (res.statusCode !== 200) return reject(new Error(`admin ${urlPath}: ${res.statusCode} ${text}`));
                try {
                    resolve(JSON.parse(text));
                } catch (error) {
                    reject(new Error(`admin ${urlPath}: not JSON (${error.message}): ${text.slice(0, 200)}`));
                }
            });
        });
        req.on('error', reject);
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`admin ${urlPath}: no answer within ${timeoutMs} ms`)));
    });
}

// The pool snapshot's only group (the tests serve one app), or null before it exists.
export async function poolGroup(server) {
    const pool = await adminGet(server, '/pool');
    return pool.groups[0] ?? null;
}

// The requests the front end has in flight: [{id, method, uri, state, process, age_seconds}].
export async function requestsInFlight(server) {
    return (await adminGet(server, '/requests')).requests;
}

// Waits until the requests whose URI satisfies `matches` (a string prefix or a predicate) are
// `count` and all in `state` ('waiting for a process' = queued, 'in app'). Resolves them.
export function waitForRequests(server, matches, count, { state = 'waiting for a process', timeoutMs = 10000 } = {}) {
    const test = typeof matches === 'function' ? matches : (uri) => uri.startsWith(matches);
    let last = [];
    return waitFor(
        async () => {
            last = (await requestsInFlight(server)).filter((request) => test(request.uri));
            return last.length === count && last.every((request) => request.state === state) && last;
        },
        {
            timeoutMs,
            intervalMs: 20,
            what: () => `${count} requests matching ${matches} in state "${state}" on the admin API (last seen: ${JSON.stringify(last)})`,
        },
    );
}

// Shorthand: waits until `count` requests matching `matches` wait in the pool's queue.
export const waitForQueued = (server, matches, count, options) => waitForRequests(server, matches, count, options);
