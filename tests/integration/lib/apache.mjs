// A real Apache (Debian's /usr/sbin/apache2, run directly: no apache2ctl, no /etc/apache2/envvars)
// with our module, for the Apache integration tests: a private folder as ServerRoot (`-d`) with its
// own apache2.conf (`-f`), the event MPM (or another) and the few modules needed loaded by absolute path from
// /usr/lib/apache2/modules, loopback ports from freePort(), our module by the absolute path
// `passenger-config about apache2-module` prints; in the foreground, stopped by its pid.
//
// Run as root, Apache's children run as www-data, and so does our core (apps run as the owners of
// their startup files): app folders must be readable by others (makeAppReadable).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { startForeground } from './foreground.mjs';
import { aboutValue, passengerRoot } from './nginx.mjs';
import { cmdline, descendantsOf } from './proc.mjs';
import { makeTempDir } from './server.mjs';

export const apacheBin = '/usr/sbin/apache2';
const modules = '/usr/lib/apache2/modules';
const isRoot = process.getuid() === 0;

// The apache2.conf of a test: `vhosts` are VirtualHost bodies, each on 127.0.0.1:`port` (its own
// Listen line); `global` lines go to the server config, after PassengerRoot; `mpm` is event,
// worker or prefork.
export function apacheConfig(dir, { vhosts, global = '', mpm = 'event' }) {
    const listen = vhosts.map(({ port }) => `Listen 127.0.0.1:${port}`).join('\n');
    const hosts = vhosts.map(({ port, body }) => `<VirtualHost 127.0.0.1:${port}>\n${body}\n</VirtualHost>`).join('\n');
    const load = [`mpm_${mpm}`, 'authz_core', 'dir', 'mime', 'env']
        .map((name) => `LoadModule ${name}_module ${modules}/mod_${name}.so`)
        .join('\n');
    return `${load}
LoadModule passenger_module ${aboutValue('apache2-module')}
ServerName localhost
PidFile ${dir}/apache2.pid
Mutex file:${dir}
ErrorLog ${dir}/logs/error.log
LogLevel info
TypesConfig /etc/mime.types
${isRoot ? 'User www-data\nGroup www-data' : ''}
${listen}
PassengerRoot ${passengerRoot()}
PassengerInstanceRegistryDir ${dir}/registry
${global}
${hosts}
`;
}

// A fresh ServerRoot with logs/ and registry/ (the registry is written by the core: www-data).
export async function makeApacheDir(t) {
    const dir = await makeTempDir(t, 'passenger-apache-');
    await fsp.mkdir(path.join(dir, 'logs'));
    await fsp.mkdir(path.join(dir, 'registry'));
    await fsp.chmod(path.join(dir, 'registry'), 0o777);
    await fsp.chmod(dir, 0o755);
    return dir;
}

export const configFile = (dir) => path.join(dir, 'apache2.conf');

// `apache2 -t`, `-k graceful`, ...: the command for this ServerRoot and configuration.
export function runApache(dir, args) {
    return spawnSync(apacheBin, ['-d', dir, '-f', configFile(dir), ...args], { encoding: 'utf8', timeout: 30000 });
}

export function errorLog(dir) {
    try {
        return fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8');
    } catch {
        return '';
    }
}

// Starts Apache in the foreground (-DFOREGROUND: no detaching, its pid is the parent's) and waits
// until `waitPort` answers. Returns { dir, pid, exited, log(), stderr(), remember() }.
export async function startApache(t, dir, config, { waitPort } = {}) {
    await fsp.writeFile(configFile(dir), config);
    const log = () => errorLog(dir);
    const args = ['-d', dir, '-f', configFile(dir), '-DFOREGROUND'];
    const started = await startForeground(t, { name: 'apache2', bin: apacheBin, args, stopSignal: 'SIGTERM', log, waitPort });
    return { dir, log, ...started };
}

// Our processes below Apache: the watchdog, the core and everything else (by command line).
export function passengerProcesses(server) {
    const below = descendantsOf(server.pid);
    const named = (word) => below.filter((stat) => (cmdline(stat.pid) ?? []).includes(word)).map((stat) => stat.pid);
    return { watchdogs: named('apache2-watchdog'), cores: named('core'), all: below.map((stat) => stat.pid) };
}
