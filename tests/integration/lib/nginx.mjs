// A real nginx (Debian's /usr/sbin/nginx) with our module, for the nginx integration tests: a
// private prefix with its own nginx.conf, loopback ports from freePort(), `load_module` with the
// absolute path `passenger-config about nginx-module` prints, stopped by its pid in t.after.
//
// nginx's workers run as `nobody` when the test runs as root, and so do our core and the apps:
// app folders are made world-readable (makeAppReadable).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { startForeground } from './foreground.mjs';
import { cmdline, descendantsOf, procStat } from './proc.mjs';
import { binDir, makeTempDir, repoRoot } from './server.mjs';

export const nginxBin = '/usr/sbin/nginx';
const configTool = path.join(repoRoot, 'bin', 'passenger-config');

export function aboutValue(what) {
    const result = spawnSync(configTool, ['about', what], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`passenger-config about ${what}: ${result.stderr}`);
    return result.stdout.trim();
}

// The passenger_root (PassengerRoot) whose bin/passenger the modules start: this checkout, or
// with TEST_BIN_DIR (the ThreadSanitizer run, `make tsan-test`) the build folder above that bin/.
export function passengerRoot() {
    return process.env.TEST_BIN_DIR ? path.dirname(binDir) : aboutValue('root');
}

// The folders the apps' user (nobody) must be able to read: the app and everything above it.
export async function makeAppReadable(dir) {
    for (let current = dir; current !== '/'; current = path.dirname(current)) {
        const mode = (await fsp.stat(current)).mode & 0o7777;
        await fsp.chmod(current, mode | 0o055);
    }
    await fsp.chmod(path.join(dir, 'tmp'), 0o777).catch(() => {});
}

// The nginx.conf of a test: `servers` are server{} bodies (each gets `listen 127.0.0.1:PORT;`
// from its `port`, plus ` ssl` with `ssl: true`), `http` lines go into http{}. `root`: another
// installation's passenger_root (its module is ROOT/lib/passenger/...), default this checkout.
export function nginxConfig(prefix, { servers, http = '', root = null }) {
    const serverBlocks = servers
        .map(({ port, body, ssl }) => `    server {\n        listen 127.0.0.1:${port}${ssl ? ' ssl' : ''};\n${body}\n    }`)
        .join('\n');
    const module = root ? path.join(root, 'lib', 'passenger', 'ngx_http_passenger_module.so') : aboutValue('nginx-module');
    return `load_module ${module};
error_log ${prefix}/logs/error.log info;
pid ${prefix}/nginx.pid;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${prefix}/body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    passenger_root ${root ?? passengerRoot()};
    passenger_instance_registry_dir ${prefix}/registry;
${http}
${serverBlocks}
}
`;
}

// A fresh prefix folder with logs/ and registry/ (the registry is written by the core: nobody).
export async function makePrefix(t) {
    const prefix = await makeTempDir(t, 'passenger-nginx-');
    await fsp.mkdir(path.join(prefix, 'logs'));
    await fsp.mkdir(path.join(prefix, 'registry'), { mode: 0o777 });
    await fsp.chmod(path.join(prefix, 'registry'), 0o777);
    await fsp.chmod(prefix, 0o755);
    return prefix;
}

export function runNginx(prefix, args) {
    return spawnSync(nginxBin, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), ...args], {
        encoding: 'utf8',
        timeout: 30000,
    });
}

export function errorLog(prefix) {
    try {
        return fs.readFileSync(path.join(prefix, 'logs', 'error.log'), 'utf8');
    } catch {
        return '';
    }
}

// Processes whose command line names this prefix (our watchdog's --log-file does).
export function processesOfPrefix(prefix) {
    return fs
        .readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .filter((pid) => (cmdline(pid) ?? []).some((word) => word.includes(prefix)));
}

// Starts nginx in the foreground (daemon off, master process on) and waits until `waitPort`
// answers. Returns { prefix, pid, exited, log(), stderr(), remember() }.
export async function startNginx(t, prefix, config, { waitPort } = {}) {
    await fsp.writeFile(path.join(prefix, 'nginx.conf'), config);
    const log = () => errorLog(prefix);
    const args = ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off; master_process on;'];
    const started = await startForeground(t, { name: 'nginx', bin: nginxBin, args, stopSignal: 'SIGQUIT', log, waitPort });
    return { prefix, log, ...started };
}

// Our processes below nginx: the watchdog, the core and the apps (by their command lines).
export function passengerProcesses(server) {
    const below = descendantsOf(server.pid);
    const named = (word) => below.filter((stat) => (cmdline(stat.pid) ?? []).includes(word)).map((stat) => stat.pid);
    return { watchdogs: named('nginx-watchdog'), cores: named('core'), all: below.map((stat) => stat.pid) };
}

// The socket folders of spawn helper `helper` made since `since` (ms): a helper killed earlier,
// in this run or an earlier one, may have left a folder under the same pid, reused since.
export function spawnSocketDirs(helper, since) {
    return fs.readdirSync('/tmp').filter((name) =>
        name.startsWith(`passenger-spawn.${helper}.`) && fs.statSync(path.join('/tmp', name)).ctimeMs >= since);
}

export { procStat };
