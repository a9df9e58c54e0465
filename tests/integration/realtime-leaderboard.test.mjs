// examples/leaderboard, the app `make start` runs, in a real browser: Debian's Chromium, headless,
// driven by playwright-core. Two browsers (fresh contexts, so separate cookies) end up on two
// different processes; a score given in one appears in the other without a reload, through the
// shared SQLite store and each process's SockJS connections.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { chromium } from 'playwright-core';

import { request } from './lib/http.mjs';
import { waitForReadyProcesses } from './lib/pool.mjs';
import { chromiumPath, linkNodeModules } from './lib/realtime.mjs';
import { makeTempDir, onCleanup, repoRoot, startServer } from './lib/server.mjs';

const exampleDir = path.join(repoRoot, 'examples', 'leaderboard');
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A copy of the example without its database and dependencies (linked from the example).
async function copyLeaderboard(t) {
    const appDir = await makeTempDir(t, 'passenger-it-leaderboard-');
    await fsp.cp(exampleDir, appDir, {
        recursive: true,
        filter: (source) => !['node_modules', 'db'].includes(path.basename(source)) || path.dirname(source) !== exampleDir,
    });
    const modules = path.join(exampleDir, 'node_modules');
    assert.ok(fs.existsSync(path.join(modules, 'better-sqlite3')), `${modules} is missing: run scripts/install-deps.sh (npm ci in examples/leaderboard)`);
    linkNodeModules(appDir, modules);
    return appDir;
}

// One browser with a fresh profile (--user-data-dir, so its own cookies) showing the
// leaderboard; resolves once its live connection is open.
async function openBoard(t, url) {
    const userDataDir = await makeTempDir(t, 'passenger-it-chromium-');
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 30000 });
    onCleanup(t, () => context.close()); // before its profile folder is removed
    const page = context.pages()[0] ?? (await context.newPage());
    const problems = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(url, { timeout: 15000 });
    await page.waitForSelector('#status[data-state="open"]', { timeout: 15000 });
    const status = page.locator('#status');
    return {
        context,
        page,
        problems,
        pagePid: Number(await page.locator('#page-pid').textContent()),
        socketPid: Number(await status.getAttribute('data-pid')),
        transport: await status.getAttribute('data-transport'),
        cookies: await context.cookies(),
    };
}

const scoreOf = (page, id) => page.locator(`li.player[data-id="${id}"] .score`).textContent().then(Number);

test('leaderboard: two browsers on two processes see each other\'s points without reloading', { timeout: 120000 }, async (t) => {
    const appDir = await copyLeaderboard(t);
    const server = await startServer(t, { appDir, args: ['--min-instances', '2', '--sticky-sessions'], readyTimeoutMs: 30000 });
    const pids = await waitForReadyProcesses(server, 2, { timeoutMs: 30000 });

    const first = await openBoard(t, server.url);
    // The first browser's WebSocket keeps its process busy, so a fresh browser lands on the
    // other one (least busy); its own route cookie then keeps it there.
    let second = await openBoard(t, server.url);
    for (let attempt = 0; attempt < 4 && second.socketPid === first.socketPid; attempt++) {
        await second.context.close();
        second = await openBoard(t, server.url);
    }
    for (const board of [first, second]) {
        assert.equal(board.transport, 'websocket', 'Chromium talks SockJS over a WebSocket through the server');
        assert.equal(board.pagePid, board.socketPid, 'the page and its live connection come from one process (sticky)');
        assert.ok(pids.includes(board.socketPid));
        const route = board.cookies.find((cookie) => cookie.name === '_passenger_route');
        assert.match(route?.value ?? '', /^[0-9a-f]{16}$/);
        assert.equal(route.secure, false);
        assert.equal(route.sameSite, 'Lax');
    }
    assert.notEqual(first.socketPid, second.socketPid, 'the two browsers are on different processes');

    // Give points in the first browser: the second one sees them without reloading (pushed to
    // it), and so on. The wait is a bound for a busy machine; the time it took is reported.
    for (const [from, to] of [[first, second], [second, first]]) {
        const row = from.page.locator('li.player').nth(2);
        const id = Number(await row.getAttribute('data-id'));
        const before = await scoreOf(to.page, id);
        await row.click();
        await from.page.locator('#give').click();
        const clickedAt = Date.now();
        await to.page.waitForFunction(
            ([id, expected]) => document.querySelector(`li.player[data-id="${id}"] .score`)?.textContent === String(expected),
            [id, before + 5],
            { timeout: 10000, polling: 20 },
        );
        t.diagnostic(`seen by the other browser after ${Date.now() - clickedAt} ms`);
        assert.equal(await scoreOf(from.page, id), before + 5);
    }

    // Adding a player shows up everywhere too, and in the shared store.
    await first.page.fill('#new-name', 'Alan Turing');
    await first.page.click('#add button');
    await second.page.waitForSelector('li.player:has-text("Alan Turing")', { timeout: 10000 });
    const stored = (await request(server.port, '/api/players')).json();
    assert.ok(stored.players.some((player) => player.name === 'Alan Turing'));
    assert.deepEqual([...first.problems, ...second.problems], []);
    if (process.env.LEADERBOARD_SCREENSHOT) await second.page.screenshot({ path: process.env.LEADERBOARD_SCREENSHOT });
});
