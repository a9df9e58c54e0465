#!/usr/bin/env bash
# What the operations features (issue 16) cost and deliver, on the hello-world app:
# - req/s of our server (1 process, wrk -c50) plain, with --access-log, with --metrics-address
#   (scraped every second meanwhile), and with both, in interleaved rounds;
# - a drain behind HAProxy (examples/deploy/haproxy.cfg): wrk through HAProxy to two instances
#   while one is stopped with `passenger stop --drain`: failed requests (non-2xx, socket errors).
# Writes (or replaces) the "Operations" section of bench/RESULTS.md (run.sh keeps it).
#
#   bench/ops.sh
#   ROUNDS=5 DURATION=10 bench/ops.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-3}
DRAIN_SECONDS=${DRAIN_SECONDS:-10}  # wrk's run through HAProxy; the drain starts after a third
START_TIMEOUT=${START_TIMEOUT:-60}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
OURS=${OURS:-$REPO/bin/passenger}
NODE=${NODE:-/usr/bin/node}
WRK=${WRK:-/usr/bin/wrk}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { echo "[ops.sh] $*" >&2; }
# Taken before the run: during it, wrk, the server and the app load the machine themselves.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d /tmp/passenger-bench-ops-XXXXXX)
PIDS=()
cleanup() {
    stop_pids INT 2  # SIGINT: a stop without draining
    rm -rf "$TMP"
}
trap cleanup EXIT

# start_ours NAME ARGS...: an instance of the hello app on a free port; sets PORT_<NAME>.
start_ours() {
    local name=$1
    shift
    free_port
    local port=$FREE_PORT dir=$TMP/$name
    cp -r "$BENCH_DIR/apps/hello" "$dir"
    "$OURS" start "$dir" --port "$port" --address 127.0.0.1 --environment production \
        --nodejs "$NODE" --min-instances 1 --max-pool-size 1 --log-file "$dir/passenger.log" \
        --pid-file "$dir/passenger.pid" "$@" >"$dir/stdout" 2>&1 &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$port/" || { log "$name did not start"; cat "$dir/stdout" >&2; exit 1; }
    printf -v "PORT_$name" '%s' "$port"
}

req_per_second() { "$WRK" -t2 -c50 -d"${DURATION}s" "http://127.0.0.1:$1/" | awk '/^Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

free_port
METRICS_PORT=$FREE_PORT
start_ours plain
start_ours access --access-log "$TMP/access.log"
start_ours metrics --metrics-address "127.0.0.1:$METRICS_PORT"
free_port
BOTH_METRICS_PORT=$FREE_PORT
start_ours both --access-log "$TMP/both-access.log" --metrics-address "127.0.0.1:$BOTH_METRICS_PORT"
# Prometheus' side: a scrape of each metrics listener every second.
(while :; do
    curl -fsS -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics" || true
    curl -fsS -o /dev/null "http://127.0.0.1:$BOTH_METRICS_PORT/metrics" || true
    sleep 1
done) &
PIDS+=($!)

declare -A SAMPLES
for variant in plain access metrics both; do req_per_second "$(eval echo "\$PORT_$variant")" >/dev/null; done
for ((round = 1; round <= ROUNDS; round++)); do
    for variant in plain access metrics both; do
        port_var="PORT_$variant"
        SAMPLES[$variant]+="$(req_per_second "${!port_var}") "
    done
    log "round $round: ${SAMPLES[*]}"
done
declare -A MEDIAN
for variant in plain access metrics both; do
    MEDIAN[$variant]=$(tr ' ' '\n' <<<"${SAMPLES[$variant]}" | grep . | median)
done
access_lines=$(wc -l <"$TMP/access.log")

# The drain: two instances behind HAProxy, one stopped with --drain while wrk runs.
start_ours drain1 --health-check-path /health --drain-timeout 3
start_ours drain2 --health-check-path /health --drain-timeout 3
free_port
HAPROXY_PORT=$FREE_PORT
LISTEN=127.0.0.1:$HAPROXY_PORT PASSENGER_1=127.0.0.1:$PORT_drain1 PASSENGER_2=127.0.0.1:$PORT_drain2 \
    STATS_SOCKET=$TMP/haproxy.sock CHECK_INTERVAL=200ms "$HAPROXY" -db -f "$REPO/examples/deploy/haproxy.cfg" \
    >"$TMP/haproxy.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$HAPROXY_PORT/" || { log "HAProxy did not start"; exit 1; }
sleep 1 # both servers UP (rise 2 checks 200 ms apart)
"$WRK" -t2 -c20 -d"${DRAIN_SECONDS}s" "http://127.0.0.1:$HAPROXY_PORT/" >"$TMP/drain.wrk" &
wrk_pid=$!
sleep $((DRAIN_SECONDS / 3))
"$OURS" stop --drain --pid-file "$TMP/drain1/passenger.pid"
wait "$wrk_pid"
drain_requests=$(awk '/requests in/ {print $1}' "$TMP/drain.wrk")
drain_non2xx=$(awk '/Non-2xx/ {print $NF}' "$TMP/drain.wrk")
drain_errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$TMP/drain.wrk")

pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f %%", (a - b) * 100 / b}'; }
section=$(
    echo "<!-- ops.sh: begin -->"
    echo "## Operations (bench/ops.sh)"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load average before the run: $LOAD_BEFORE;" \
        "ours at commit \`$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)\`"
    echo "- Hello world, 1 process, \`wrk -t2 -c50 -d${DURATION}s\`, median of $ROUNDS interleaved rounds."
    echo "  The access log wrote $access_lines lines to a file; the metrics listeners were scraped every second."
    if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n)}'; then
        echo "  **The machine was busy (load above its CPU count): differences of this size are noise, not"
        echo "  the cost of the feature; rerun on an idle machine before reading them against the 5 % target.**"
    fi
    echo
    echo "| variant | req/s | vs plain |"
    echo "| --- | ---: | ---: |"
    for variant in plain access metrics both; do
        echo "| $variant | ${MEDIAN[$variant]} | $(pct "${MEDIAN[$variant]}" "${MEDIAN[plain]}") |"
    done
    echo
    echo "- Drain: \`wrk -t2 -c20 -d${DRAIN_SECONDS}s\` through HAProxy 2.6 (\`examples/deploy/haproxy.cfg\`," \
        "checks every 200 ms) to two instances with \`--drain-timeout 3\`; one stopped with" \
        "\`passenger stop --drain\` after $((DRAIN_SECONDS / 3)) s: $drain_requests requests," \
        "${drain_non2xx:-0} non-2xx, ${drain_errors:-0} socket errors."
    echo "<!-- ops.sh: end -->"
)
if [[ -f $RESULTS ]] && grep -q '^<!-- ops.sh: begin -->$' "$RESULTS"; then
    awk -v section="$section" '
        /^<!-- ops.sh: begin -->$/ { print section; skip = 1; next }
        /^<!-- ops.sh: end -->$/ { skip = 0; next }
        !skip { print }' "$RESULTS" >"$RESULTS.tmp"
else
    { [[ -f $RESULTS ]] && cat "$RESULTS" && echo; echo "$section"; } >"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
echo "$section"
