'use strict';
// Turns the per-run measurements of bench/run.sh into the Markdown tables of RESULTS.md.
//
//   node report.js results.tsv targets.tsv
//
// results.tsv: round conns target procs other_cpus server_cpu_us app_cpu_us requests duration_us p50_us
//              p90_us p99_us max_us socket_errors status_errors   (header line first)
// targets.tsv: target procs label   (the order the tables use)
//
// Absolute figures are medians over the rounds. Ratios are taken per round against the reference
// measured in the same round (bare node; nginx with the same process count), and the table shows
// the median of those paired ratios with their min and max.

const fs = require('fs');

// The reference of the ratio columns: nginx-N (proxy_pass), or BENCH_REFERENCE's kind (apache).
const reference = process.env.BENCH_REFERENCE || 'nginx';

function readTsv(file) {
    const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
    const names = header.split('\t');
    return lines.filter(Boolean).map((line) => {
        const cells = line.split('\t');
        const row = {};
        names.forEach((name, i) => {
            const n = Number(cells[i]);
            row[name] = cells[i] !== '' && Number.isFinite(n) ? n : cells[i];
        });
        return row;
    });
}

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (us) => (us / 1000).toFixed(us < 10000 ? 3 : 1);
const fmtRatio = (n) => n.toFixed(2);
const fmtCpu = (us) => us.toFixed(1);

function ratioCell(ratios) {
    if (ratios.length === 0) return '–';
    const lo = Math.min(...ratios), hi = Math.max(...ratios);
    if (ratios.length === 1) return fmtRatio(ratios[0]);
    return `${fmtRatio(median(ratios))} (${fmtRatio(lo)}–${fmtRatio(hi)})`;
}

function main() {
    const [resultsFile, targetsFile] = process.argv.slice(2);
    const results = readTsv(resultsFile).map((r) => ({
        ...r,
        rps: r.requests / (r.duration_us / 1e6),
        serverCpu: r.server_cpu_us / r.requests,
        appCpu: r.app_cpu_us / r.requests,
        cpu: (r.server_cpu_us + r.app_cpu_us) / r.requests,
    }));
    const targets = readTsv(targetsFile);
    const measured = new Set(results.map((r) => r.target));
    const connsList = [...new Set(results.map((r) => r.conns))].sort((a, b) => b - a);
    const at = (target, conns, round) =>
        results.find((r) => r.target === target && r.conns === conns && r.round === round);

    const out = [];
    for (const conns of connsList) {
        out.push(`### Hello world, ${conns} connection${conns === 1 ? '' : 's'}`, '');
        out.push('| target | procs | req/s | p50 ms | p99 ms | CPU µs/req server + app | req/s ÷ node | ' +
            `req/s ÷ ${reference} | p50 ÷ ${reference} | p99 ÷ ${reference} | CPU/req ÷ ${reference} | errors |`);
        out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
        for (const t of targets) {
            if (!measured.has(t.target)) continue;
            const runs = results.filter((r) => r.target === t.target && r.conns === conns);
            if (runs.length === 0) continue;
            const nginxRef = `${reference}-${t.procs}`;
            const vsNode = [], rpsVsNginx = [], p50VsNginx = [], p99VsNginx = [], cpuVsNginx = [];
            for (const run of runs) {
                const node = at('node', conns, run.round);
                const nginx = at(nginxRef, conns, run.round);
                if (node) vsNode.push(run.rps / node.rps);
                if (nginx) {
                    rpsVsNginx.push(run.rps / nginx.rps);
                    p50VsNginx.push(run.p50_us / nginx.p50_us);
                    p99VsNginx.push(run.p99_us / nginx.p99_us);
                    cpuVsNginx.push(run.cpu / nginx.cpu);
                }
            }
            const errors = runs.reduce((sum, r) => sum + r.socket_errors + r.status_errors, 0);
            const cpu = `${fmtCpu(median(runs.map((r) => r.serverCpu)))} + ${fmtCpu(median(runs.map((r) => r.appCpu)))}`;
            out.push(`| ${t.label} | ${t.procs} | ${fmtInt(median(runs.map((r) => r.rps)))} | ` +
                `${fmtMs(median(runs.map((r) => r.p50_us)))} | ${fmtMs(median(runs.map((r) => r.p99_us)))} | ${cpu} | ` +
                `${ratioCell(vsNode)} | ${ratioCell(rpsVsNginx)} | ${ratioCell(p50VsNginx)} | ` +
                `${ratioCell(p99VsNginx)} | ${ratioCell(cpuVsNginx)} | ${errors} |`);
        }
        out.push('');
    }

    const other = results.map((r) => r.other_cpus);
    out.push(`CPUs kept busy by other processes during a run: median ${median(other).toFixed(2)}, ` +
        `max ${Math.max(...other).toFixed(2)} (per run in the last column below).`, '');
    out.push('<details><summary>Every run</summary>', '');
    out.push('| round | conns | target | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | ' +
        'CPU µs/req server | CPU µs/req app | socket errors | non-2xx/3xx | other processes, CPUs |');
    out.push('| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
        out.push(`| ${r.round} | ${r.conns} | ${r.target} | ${r.requests} | ${fmtInt(r.rps)} | ${fmtMs(r.p50_us)} | ` +
            `${fmtMs(r.p90_us)} | ${fmtMs(r.p99_us)} | ${fmtMs(r.max_us)} | ${fmtCpu(r.serverCpu)} | ` +
            `${fmtCpu(r.appCpu)} | ${r.socket_errors} | ${r.status_errors} | ${r.other_cpus.toFixed(2)} |`);
    }
    out.push('', '</details>', '');
    process.stdout.write(out.join('\n'));
}

main();
