#!/usr/bin/env bash
# Two builds of ours side by side on the hot paths, to check that a change costs no throughput or
# latency: hello world through the app (50 connections and 1) and static files of 4 KiB and
# 100 KiB from public/ (50 connections), `wrk -t1` in interleaved rounds, each build started once
# with PROCS (2) processes of bench/apps/extended/app.js. Prints a Markdown table of medians
# (req/s, p50 and p99 latency) with the ratio of the second build to the first.
#
#   bench/builds.sh /tmp/passenger-before bin/passenger
#   ROUNDS=5 DURATION=5 bench/builds.sh OLD NEW
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
PROCS=${PROCS:-2}
START_TIMEOUT=${START_TIMEOUT:-60}
NODE=${NODE:-/usr/bin/node}
WRK=${WRK:-/usr/bin/wrk}
SCENARIOS=("hello-c50 50 /" "hello-c1 1 /" "static4k-c50 50 /4k.bin" "static100k-c50 50 /100k.bin")

(($# == 2)) || { echo "usage: $0 FIRST_BUILD SECOND_BUILD (paths to bin/passenger)" >&2; exit 1; }
BUILDS=("$(readlink -f "$1")" "$(readlink -f "$2")")
for build in "${BUILDS[@]}"; do [[ -x $build ]] || { echo "$build is not executable" >&2; exit 1; }; done
log() { printf '[builds %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

WORK=$(mktemp -d /tmp/passenger-builds.XXXXXX)
LEADERS=()
cleanup() {
    local pid
    for pid in "${LEADERS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    sleep 1
    rm -rf "$WORK"
}
trap cleanup EXIT

PORTS=()
for i in 0 1; do
    dir="$WORK/app$i"
    mkdir -p "$dir/public" "$dir/tmp"
    cp "$BENCH_DIR/apps/extended/app.js" "$dir/"
    head -c 4096 /dev/urandom >"$dir/public/4k.bin"
    head -c 102400 /dev/urandom >"$dir/public/100k.bin"
    free_port
    PORTS+=("$FREE_PORT")
    (cd "$dir" && exec setsid "${BUILDS[$i]}" start --port "$FREE_PORT" --address 127.0.0.1 \
        --environment production --nodejs "$NODE" --min-instances "$PROCS" \
        --max-pool-size "$PROCS" >"$WORK/server$i.log" 2>&1 </dev/null) &
    LEADERS+=("$!")
    wait_http "http://127.0.0.1:$FREE_PORT/" || { log "build $i did not start"; cat "$WORK/server$i.log"; exit 1; }
done
# Both builds' app processes are up before anything is measured.
sleep 2
for i in 0 1; do "$WRK" -t1 -c50 -d1s "http://127.0.0.1:${PORTS[$i]}/" >/dev/null; done

declare -A RESULTS_OF
for ((round = 1; round <= ROUNDS; round++)); do
    for scenario in "${SCENARIOS[@]}"; do
        read -r name connections path <<<"$scenario"
        # Alternate which build goes first, so neither always runs on the warmer machine.
        order=(0 1)
        ((round % 2 == 0)) && order=(1 0)
        for i in "${order[@]}"; do
            line=$("$WRK" -t1 -c"$connections" -d"${DURATION}s" --timeout 10s --latency \
                -s "$BENCH_DIR/report.lua" "http://127.0.0.1:${PORTS[$i]}$path" | grep '^RESULT')
            RESULTS_OF[$name/$i]+="$line"$'\n'
        done
    done
    log "round $round of $ROUNDS done"
done

# median COLUMN < RESULT lines (RESULT requests duration_us p50 p90 p99 max errors non2xx)
median() {
    awk -v c="$1" '$1 == "RESULT" { if (c == "rps") print $2 / ($3 / 1e6); else print $c / 1000 }' |
        sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "| scenario | req/s first | req/s second | second/first | p50 ms first | p50 ms second | p99 ms first | p99 ms second | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for scenario in "${SCENARIOS[@]}"; do
    read -r name _ _ <<<"$scenario"
    r0=$(median rps <<<"${RESULTS_OF[$name/0]}")
    r1=$(median rps <<<"${RESULTS_OF[$name/1]}")
    errors=$(awk '$1 == "RESULT" { e += $8 + $9 } END { print e + 0 }' <<<"${RESULTS_OF[$name/0]}${RESULTS_OF[$name/1]}")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$r0" "$r1" \
        "$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.3f", b / a }')" \
        "$(median 4 <<<"${RESULTS_OF[$name/0]}")" "$(median 4 <<<"${RESULTS_OF[$name/1]}")" \
        "$(median 6 <<<"${RESULTS_OF[$name/0]}")" "$(median 6 <<<"${RESULTS_OF[$name/1]}")" "$errors"
done
