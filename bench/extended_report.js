// bench/extended.sh's report: turns runs.tsv, memory.tsv, starts.tsv and restarts.tsv into Markdown.
// node extended_report.js RUNS MEMORY STARTS RESTARTS IDLE_CONNECTIONS
'use strict';
const fs = require('fs');

const [runsFile, memoryFile, startsFile, restartsFile, idleConnections] = process.argv.slice(2);

function readTsv(file) {
  if (!fs.existsSync(file)) return [];
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const keys = head.split('\t');
  return lines.filter(Boolean).map((line) => {
    const values = line.split('\t');
    return Object.fromEntries(keys.map((k, i) => [k, /^-?\d+(\.\d+)?$/.test(values[i]) ? Number(values[i]) : values[i]]));
  });
}
const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ratioCell = (xs) => (xs.length ? `${fmt(median(xs), 2)} (${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)})` : '–');

const runs = readTsv(runsFile).map((r) => ({
  ...r,
  rps: (r.requests * 1e6) / r.duration_us,
  cpu_server: r.server_cpu_us / Math.max(r.requests, 1),
  cpu_app: r.app_cpu_us / Math.max(r.requests, 1),
}));
const out = [];
const order = ['node', 'ours', 'base', 'passenger', 'nginx', 'pm2'];
const describe = {
  'hello-c50': 'hello world, 50 connections',
  'hello-c1': 'hello world, 1 connection',
  'big100k-c50': 'GET of a 100 KiB response (app), 50 connections',
  'post1m-c10': 'POST of 1 MiB (app reads it, answers its length), 10 connections',
  'static4k-c50': 'static file 4 KiB from public/, 50 connections',
  'static100k-c50': 'static file 100 KiB from public/, 50 connections',
};

out.push('### Throughput');
out.push('');
out.push('Each cell is the median over the rounds; `÷ nginx` and `÷ pm2` are medians of per-round paired ratios (min–max). req/s: higher is better; latency and CPU: lower is better. CPU µs/req is user+system time from `/proc` of the server\'s own processes + the app processes.');
for (const scenario of [...new Set(runs.map((r) => r.scenario))]) {
  out.push('');
  out.push(`#### ${describe[scenario] || scenario}`);
  out.push('');
  out.push('| target | req/s | p50 ms | p99 ms | CPU µs/req server + app | req/s ÷ nginx | p50 ÷ nginx | p99 ÷ nginx | CPU ÷ nginx | req/s ÷ pm2 | errors |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const rows = runs.filter((r) => r.scenario === scenario);
  const targets = order.filter((t) => rows.some((r) => r.target === t));
  for (const t of targets) {
    const mine = rows.filter((r) => r.target === t);
    const paired = (ref, f) =>
      mine
        .map((r) => {
          const o = rows.find((x) => x.target === ref && x.round === r.round);
          return o ? f(r) / f(o) : NaN;
        })
        .filter(Number.isFinite);
    const cpu = (r) => r.cpu_server + r.cpu_app;
    out.push(
      `| ${t} | ${fmt(median(mine.map((r) => r.rps)))} | ${fmt(median(mine.map((r) => r.p50_us)) / 1000, 2)} | ${fmt(median(mine.map((r) => r.p99_us)) / 1000, 2)} | ${fmt(median(mine.map((r) => r.cpu_server)))} + ${fmt(median(mine.map((r) => r.cpu_app)))} | ${ratioCell(paired('nginx', (r) => r.rps))} | ${ratioCell(paired('nginx', (r) => r.p50_us))} | ${ratioCell(paired('nginx', (r) => r.p99_us))} | ${ratioCell(paired('nginx', cpu))} | ${ratioCell(paired('pm2', (r) => r.rps))} | ${mine.reduce((a, r) => a + r.socket_errors + r.status_errors, 0)} |`,
    );
  }
}

const memory = readTsv(memoryFile);
if (memory.length) {
  const mib = (k) => fmt(k / 1024, 1);
  out.push('');
  out.push(`### Memory of the server's own processes`);
  out.push('');
  out.push(`Sum over the server's processes (ours: watchdog + core; Passenger: ruby front end + watchdog + core; nginx: master + workers; PM2: its daemon, which is also the cluster master), app processes excluded, in MiB. RSS counts shared pages once per process; PSS splits them. "Idle": ${idleConnections} keep-alive connections that made one GET each and stay open.`);
  out.push('');
  out.push(`| target | processes | RSS at rest | PSS at rest | RSS idle ${idleConnections} | PSS idle ${idleConnections} | KiB/connection (RSS) | RSS ÷ nginx at rest | RSS ÷ nginx idle |`);
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const nginx = memory.find((m) => m.target === 'nginx');
  for (const m of memory) {
    out.push(
      `| ${m.target} | ${m.server_pids} | ${mib(m.rss_rest)} | ${mib(m.pss_rest)} | ${mib(m.rss_idle)} | ${mib(m.pss_idle)} | ${fmt((m.rss_idle - m.rss_rest) / idleConnections, 1)} | ${nginx ? fmt(m.rss_rest / nginx.rss_rest, 2) : '–'} | ${nginx ? fmt(m.rss_idle / nginx.rss_idle, 2) : '–'}${m.ready === `ready ${idleConnections}` ? '' : ` (client: ${m.ready})`} |`,
    );
  }
}

const starts = readTsv(startsFile);
const restarts = readTsv(restartsFile);
if (starts.length || restarts.length) {
  out.push('');
  out.push('### Cold start and restart');
  out.push('');
  out.push('Cold start: from the start command to the first 200 on `GET /` (curl polling every 5 ms), 1 app process. Restart: from `touch tmp/restart.txt` to the first `GET /pid` answered by a process that was not serving before. Milliseconds, median (min–max) over the repetitions; `− node` is the difference to the median of bare `node app.js` (the app\'s own start).');
  out.push('');
  out.push('| target | cold start ms | − node ms | restart ms | restart − node ms |');
  out.push('| --- | ---: | ---: | ---: | ---: |');
  const nodeMs = median(starts.filter((s) => s.target === 'node').map((s) => s.ms / 1000));
  const cell = (xs) => (xs.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '–');
  for (const t of order) {
    const c = starts.filter((s) => s.target === t).map((s) => s.ms / 1000);
    const r = restarts.filter((s) => s.target === t).map((s) => s.ms / 1000);
    if (!c.length && !r.length) continue;
    out.push(`| ${t} | ${cell(c)} | ${t === 'node' ? '' : fmt(median(c) - nodeMs)} | ${cell(r)} | ${r.length ? fmt(median(r) - nodeMs) : ''} |`);
  }
}
console.log(out.join('\n'));
