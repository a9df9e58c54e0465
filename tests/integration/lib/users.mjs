// Users made by the tests that check automatic user switching (run as root), and who runs a pid.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { fixturesDir, onCleanup } from './server.mjs';

export function run(command, args) {
    return spawnSync(command, args, { encoding: 'utf8' });
}

// A user with its own group, made afresh (a crashed earlier run may have left it behind) and
// removed when the test ends.
export function makeUser(t, name) {
    const removeUser = () => {
        run('userdel', [name]);
        run('groupdel', [name]);
    };
    removeUser();
    const added = run('useradd', ['-M', '-U', '-d', `/home/${name}`, '-s', '/bin/sh', name]);
    assert.equal(added.status, 0, added.stderr);
    onCleanup(t, removeUser);
    return { name, uid: Number(run('id', ['-u', name]).stdout), gid: Number(run('id', ['-g', name]).stdout) };
}

export function uidOf(pid) {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    return Number(line.split(/\s+/)[1]);
}

// Copies a fixture to `dir` (with a public/ for the web server's root) owned by `owner` (null: root's).
export async function placeApp(fixture, dir, owner) {
    await fsp.cp(path.join(fixturesDir, fixture), dir, { recursive: true });
    await fsp.mkdir(path.join(dir, 'public'), { recursive: true });
    await fsp.mkdir(path.join(dir, 'tmp'), { recursive: true });
    if (owner) assert.equal(run('chown', ['-R', `${owner.name}:${owner.name}`, dir]).status, 0);
}
