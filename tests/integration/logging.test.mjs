// The app's stdout and stderr reach the log file as "App <pid> stdout: <line>" /
// "App <pid> stderr: <line>", and in the foreground the server's stderr (the terminal) too.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startServer } from './lib/server.mjs';

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('app output in the log and on the terminal', { timeout: 90000 }, async (t) => {
    const server = await startServer(t, { fixture: 'echo' });
    const { pid } = (await server.get('/pid')).json();
    const sub = (name, fn) => t.test(name, { timeout: 20000 }, fn);

    // Waits until `line` (a whole line) is in the log file and in the server's stderr.
    const expectLine = async (line) => {
        const pattern = new RegExp(`^${escape(line)}$`, 'm');
        await server.waitForLog(pattern);
        await server.waitForOutput(pattern, { stream: 'stderr' });
    };
    const write = (text, stream = 'stdout') => server.get(`/write?stream=${stream}&text=${encodeURIComponent(text)}`);

    await sub('startup output of the app, with its pid', async () => {
        await expectLine(`App ${pid} stdout: echo fixture starting, pid ${pid}`);
        await expectLine(`App ${pid} stderr: echo fixture stderr line, pid ${pid}`);
    });

    await sub('a line written during a request', async () => {
        await write('line-from-request-3b9\n');
        await expectLine(`App ${pid} stdout: line-from-request-3b9`);
        await write('stderr-from-request-41c\n', 'stderr');
        await expectLine(`App ${pid} stderr: stderr-from-request-41c`);
    });

    await sub('several lines in one write become separate prefixed lines, in order', async () => {
        await write('multi-one\nmulti-two\nmulti-three\n');
        await expectLine(`App ${pid} stdout: multi-three`);
        const log = server.logText();
        const positions = ['one', 'two', 'three'].map((word) => log.indexOf(`App ${pid} stdout: multi-${word}\n`));
        assert.ok(positions.every((position) => position >= 0), `all three lines are prefixed:\n${log.slice(-1000)}`);
        assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'in order');
    });

    await sub('a line written in two parts is logged as one line', async () => {
        await write('part-A-');
        await new Promise((resolve) => setTimeout(resolve, 300)); // the behaviour under test: a pause mid-line
        await write('part-B\n');
        await expectLine(`App ${pid} stdout: part-A-part-B`);
    });

    await sub('many lines at once all arrive, in order, none lost', async () => {
        const lines = Array.from({ length: 300 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
        await write(lines.join('\n') + '\n');
        await expectLine(`App ${pid} stdout: burst-299`);
        const logged = server
            .logText()
            .split('\n')
            .filter((line) => line.startsWith(`App ${pid} stdout: burst-`))
            .map((line) => line.slice(`App ${pid} stdout: `.length));
        assert.deepEqual(logged, lines);
    });
});
