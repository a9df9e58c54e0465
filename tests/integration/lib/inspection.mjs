// Helpers for the inspection tools (passenger-status, passenger-memory-stats, passenger-config):
// running them against a private instance registry, and parsing what they print.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { descendantsOf, killRecorded, sleep } from './proc.mjs';
import { binDir, makeTempDir, repoRoot, serverEnv, startServer } from './server.mjs';

export const toolPath = (name) => path.join(binDir, name);

// A fresh instance registry folder for one test, so other tests' servers stay out of sight.
export async function makeRegistry(t) {
    const dir = await makeTempDir(t, 'passenger-it-registry-');
    await fsp.chmod(dir, 0o755); // other users' tools may list it
    return dir;
}

// Starts a server (see startServer) registered in `registry`.
export function startRegisteredServer(t, registry, options = {}) {
    const args = ['--instance-registry-dir', registry, ...(options.args ?? [])];
    return startServer(t, { fixture: 'echo', ...options, args });
}

// Runs a tool to completion (bounded). `command` is a tool name in bin/ or an absolute path;
// `prefix` runs it through another command (e.g. ['runuser', '-u', 'someone', '--']).
// Resolves {code, signal, stdout, stderr, ms}.
export function runTool(command, args = [], { registry, env = {}, prefix = [], timeoutMs = 30000 } = {}) {
    const executable = path.isAbsolute(command) ? command : toolPath(command);
    const extra = registry ? { PASSENGER_INSTANCE_REGISTRY_DIR: registry, ...env } : env;
    const argv = [...prefix, executable, ...args];
    return new Promise((resolve, reject) => {
        const startedAt = Date.now();
        const child = spawn(argv[0], argv.slice(1), { env: serverEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('error', reject);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt });
        });
    });
}

// The live entries of a registry folder: [{dir, properties}].
export function registryEntries(registry) {
    const entries = [];
    for (const name of fs.readdirSync(registry)) {
        if (!name.startsWith('passenger.')) continue;
        const dir = path.join(registry, name);
        try {
            entries.push({ dir, properties: JSON.parse(fs.readFileSync(path.join(dir, 'properties.json'), 'utf8')) });
        } catch {
            // being created or removed
        }
    }
    return entries;
}

// The app processes of a server: the `node` processes below it.
export function appPids(server) {
    return descendantsOf(server.pid)
        .filter((record) => fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').startsWith('node'))
        .map((record) => record.pid)
        .sort((a, b) => a - b);
}

// Parses passenger-status's default output into {version, date, instance, maxPoolSize,
// processes, topLevelQueue, groups: [{appRoot, queue, processes: [{pid, sessions, processed,
// uptime, cpu, memory, lastUsed}]}]}. Throws on a line it does not expect.
export function parseStatus(text) {
    const lines = text.split('\n');
    const header = (label) => {
        const line = lines.find((l) => l.startsWith(label));
        if (!line) throw new Error(`no "${label}" line in:\n${text}`);
        return line.slice(line.indexOf(':') + 1).trim();
    };
    const status = {
        version: header('Version '),
        date: header('Date '),
        instance: header('Instance'),
        maxPoolSize: Number(header('Max pool size')),
        processes: Number(header('Processes ')),
        topLevelQueue: Number(header('Requests in top-level queue')),
        groups: [],
    };
    // "Core threads  : 3 (connections per thread: 1, 1, 2)"
    const threads = /^Core threads +: (\d+) \(connections per thread: ([\d, ]+)\)$/m.exec(text);
    if (threads) Object.assign(status, { coreThreads: Number(threads[1]), threadConnections: threads[2].split(', ').map(Number) });
    let group = null;
    let process = null;
    for (const line of lines.slice(lines.indexOf('----------- Application groups -----------') + 1)) {
        let match;
        if ((match = /^ {2}App root: (.+)$/.exec(line))) {
            group = { appRoot: match[1], queue: null, processes: [] };
            status.groups.push(group);
        } else if ((match = /^ {2}Requests in queue: (\d+)$/.exec(line))) {
            group.queue = Number(match[1]);
        } else if ((match = /^ {2}\* PID: (\d+) +Sessions: (\d+) +Processed: (\d+) +Uptime: ((?:\d+[dhms] ?)+)$/.exec(line))) {
            process = { pid: Number(match[1]), sessions: Number(match[2]), processed: Number(match[3]), uptime: match[4] };
            group.processes.push(process);
        } else if ((match = /^ {4}CPU: (\d+)% +Memory {2}: (\d+)M +Last used: ((?:\d+[dhms] ?)+) ago$/.exec(line))) {
            Object.assign(process, { cpu: Number(match[1]), memory: Number(match[2]), lastUsed: match[3] });
        } else if (line.trim() !== '' && !/^ {2}(Processes being started|Last error): /.test(line) && !/^ {4}State: /.test(line)) {
            throw new Error(`unexpected line ${JSON.stringify(line)} in:\n${text}`);
        }
    }
    return status;
}

// Parses passenger-memory-stats into {sections: {title: {processes: [{pid, ppid, vmSize,
// private, name}], count, totalMb}}}. Sizes in MB, private null when unknown.
export function parseMemoryStats(text) {
    const sections = {};
    let section = null;
    for (const line of text.split('\n')) {
        let match;
        if ((match = /^-{10} (.+) -{10}$/.exec(line))) {
            section = { processes: [], count: null, totalMb: null };
            sections[match[1]] = section;
        } else if ((match = /^(\d+) +(\d+) +([\d.]+) MB +([\d.]+ MB|\?) +(.*)$/.exec(line))) {
            section.processes.push({
                pid: Number(match[1]),
                ppid: Number(match[2]),
                vmSize: Number(match[3]),
                private: match[4] === '?' ? null : Number.parseFloat(match[4]),
                name: match[5],
            });
        } else if ((match = /^### Processes: (\d+)$/.exec(line))) {
            section.count = Number(match[1]);
        } else if ((match = /^### Total private dirty RSS: ([\d.]+) MB/.exec(line))) {
            section.totalMb = Number(match[1]);
        }
    }
    return { sections };
}

// Parses Prometheus text into [{name, labels: {}, value}].
export function parseMetrics(text) {
    const samples = [];
    for (const line of text.split('\n')) {
        if (line === '' || line.startsWith('#')) continue;
        const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!match) throw new Error(`not a Prometheus sample: ${JSON.stringify(line)}`);
        const labels = {};
        for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
        samples.push({ name: match[1], labels, value: Number(match[3]) });
    }
    return samples;
}

// SIGKILLs the watchdog and the core of a server at once, like a machine crash would, and waits
// until both are gone. App processes follow through PR_SET_PDEATHSIG. Everything below the
// watchdog is stopped first: the core gets SIGTERM when the watchdog dies (PR_SET_PDEATHSIG) and,
// if it ran before its own SIGKILL (a busy machine), would shut down cleanly and remove its entry.
export async function crash(server) {
    const records = server.track();
    for (const record of records) killRecorded(record, 'SIGSTOP');
    server.proc.kill('SIGKILL');
    for (const record of records) killRecorded(record, 'SIGKILL');
    await server.exited;
    await sleep(100);
}
