// Servers for the chaos tests: the real bin/passenger (through the integration tests' helpers,
// which also clean up every process they saw) serving a fresh copy of fixtures/chaos-app.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { adminGet } from '../../integration/lib/admin.mjs';
import { makeTempDir, startServer } from '../../integration/lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startChaosServer(t, args = []) {
    const appDir = await makeTempDir(t, 'passenger-chaos-');
    await fsp.cp(path.resolve(here, '..', 'fixtures', 'chaos-app'), appDir, { recursive: true });
    return startServer(t, { appDir, readyPath: '/work?id=ready', args });
}

// The requests the core has "in app" on process `pid`, by the id in their URI.
export async function requestIdsOn(server, pid) {
    const { requests } = await adminGet(server, '/requests');
    return requests
        .filter((request) => request.process === pid && request.state === 'in app')
        .map((request) => new URL(request.uri, 'http://x').searchParams.get('id'));
}

// Diagnostics for a failed assertion: the end of the server's log.
export const logTail = (server) => `\n--- log tail ---\n${server.logText().slice(-2500)}`;
