// A real HAProxy (Debian's package) in front of instances, for the operations tests: started
// with examples/deploy/haproxy.cfg itself (its addresses come from the environment) on loopback
// ports, stopped by its pid. Its stats socket tells what HAProxy thinks of each instance.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { isAlive } from './proc.mjs';
import { freePort, onCleanup, repoRoot } from './server.mjs';

export const haproxyBin = '/usr/sbin/haproxy';
export const haproxyConfig = path.join(repoRoot, 'examples', 'deploy', 'haproxy.cfg');

// Starts HAProxy in the foreground for two instances; resolves {port, pid, stats(), output()}.
export async function startHaproxy(t, dir, [first, second], { checkInterval = '200ms' } = {}) {
    const port = await freePort();
    const statsSocket = path.join(dir, 'haproxy.sock');
    const child = spawn(haproxyBin, ['-db', '-f', haproxyConfig], {
        env: {
            ...process.env,
            LISTEN: `127.0.0.1:${port}`,
            PASSENGER_1: `127.0.0.1:${first}`,
            PASSENGER_2: `127.0.0.1:${second}`,
            STATS_SOCKET: statsSocket,
            CHECK_INTERVAL: checkInterval,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    onCleanup(t, async () => {
        if (!isAlive(child.pid)) return;
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (isAlive(child.pid)) child.kill('SIGKILL');
    });
    return { port, pid: child.pid, stats: () => showStat(statsSocket), output: () => output };
}

// `show stat` as {serverName: {status, check_status, check_code}} for the backend's servers.
export function showStat(socketPath) {
    return new Promise((resolve, reject) => {
        const socket = net.createConnection(socketPath);
        let text = '';
        socket.setTimeout(5000, () => socket.destroy(new Error('no answer from the stats socket')));
        socket.on('connect', () => socket.write('show stat\n'));
        socket.on('data', (chunk) => (text += chunk));
        socket.on('error', reject);
        socket.on('close', () => {
            const [header, ...rows] = text.trim().split('\n');
            if (!header?.startsWith('# ')) return reject(new Error(`unexpected stats: ${text.slice(0, 200)}`));
            const columns = header.slice(2).split(',');
            const servers = {};
            for (const row of rows) {
                const fields = Object.fromEntries(row.split(',').map((value, i) => [columns[i], value]));
                if (fields.pxname === 'passenger' && fields.svname !== 'BACKEND') servers[fields.svname] = fields;
            }
            resolve(servers);
        });
    });
}
