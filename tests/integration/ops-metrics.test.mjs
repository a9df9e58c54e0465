// --metrics-address (issue 16): Prometheus text over HTTP on its own port, scraped while
// requests run: what passenger-status --show=metrics prints, plus responses by status class, a
// duration histogram whose count matches the requests made, bytes, spawns, CPU and memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { request } from './lib/http.mjs';
import { parseMetrics } from './lib/inspection.mjs';
import { waitFor } from './lib/proc.mjs';
import { freePort, startServer } from './lib/server.mjs';

const sum = (samples, name, match = () => true) =>
    samples.filter((s) => s.name === name && match(s.labels)).reduce((total, s) => total + s.value, 0);

test('metrics over HTTP', async (t) => {
    const metricsPort = await freePort();
    const server = await startServer(t, {
        fixture: 'echo',
        args: ['--metrics-address', `127.0.0.1:${metricsPort}`],
        readyPath: '/pid',
    });
    const scrape = async () => {
        const response = await request(metricsPort, '/metrics');
        assert.equal(response.status, 200);
        assert.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/);
        return parseMetrics(response.text);
    };

    await t.test('counters grow under load and the histogram counts every request', async () => {
        const before = await scrape();
        const count = (samples) => sum(samples, 'passenger_request_duration_seconds_count');
        const made = 60;
        let scrapedDuring = null;
        const clients = Array.from({ length: 4 }, async (_, client) => {
            for (let i = client; i < made; i += 4) {
                const path = i % 10 === 0 ? '/status?code=404' : `/echo?i=${i}`;
                const response = await server.get(path, { method: i % 10 === 0 ? 'GET' : 'POST', body: i % 10 === 0 ? undefined : 'x'.repeat(100) });
                assert.ok(response.status === 200 || response.status === 404, `${path}: ${response.status}`);
                if (client === 0 && i === 20) scrapedDuring = await scrape();
            }
        });
        await Promise.all(clients);
        const after = await scrape();
        assert.ok(count(scrapedDuring) > count(before), 'the count grew during the load');
        assert.equal(count(after) - count(before), made);
        const responses = (samples, cls) => sum(samples, 'passenger_responses_total', (l) => l.status_class === cls);
        assert.equal(responses(after, '2xx') - responses(before, '2xx'), made - 6);
        assert.equal(responses(after, '4xx') - responses(before, '4xx'), 6);
        assert.equal(sum(after, 'passenger_request_body_bytes_total') - sum(before, 'passenger_request_body_bytes_total'), (made - 6) * 100);
        assert.ok(sum(after, 'passenger_response_bytes_total') > sum(before, 'passenger_response_bytes_total'));
        const infBucket = sum(after, 'passenger_request_duration_seconds_bucket', (l) => l.le === '+Inf');
        assert.equal(infBucket, count(after));
        // What passenger-status --show=metrics prints is there too.
        assert.ok(sum(after, 'passenger_spawns_total') >= 1);
        assert.ok(sum(after, 'passenger_processes') >= 1);
        // Memory is sampled once a second by the pool's maintenance: wait for the first sample.
        await waitFor(
            async () => (await scrape()).some((s) => s.name === 'passenger_process_private_memory_bytes' && s.value > 0),
            { timeoutMs: 10000, what: 'a private memory sample in /metrics' },
        );
        assert.ok(after.some((s) => s.name === 'passenger_process_cpu_percent'));
        assert.ok(after.some((s) => s.name === 'passenger_process_crashes_total'));
    });

    await t.test('only /metrics, and never on the app port', async () => {
        assert.equal((await request(metricsPort, '/')).status, 404);
        assert.equal((await request(metricsPort, '/metrics', { method: 'POST', body: 'x' })).status, 405);
        // The app's port is the app's: /metrics there reaches the app (the echo fixture's 404).
        const onAppPort = await server.get('/metrics');
        assert.doesNotMatch(onAppPort.text, /passenger_requests_total/);
        assert.match(server.logText(), new RegExp(`Serving metrics at http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    });
});
