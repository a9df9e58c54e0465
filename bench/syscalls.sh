#!/usr/bin/env bash
# Syscalls per proxied hello-world request in the core, a measure that does not depend on the
# machine's load (unlike µs): each binary in turn (interleaved rounds) serves 1 Node process with
# --core-threads 1; after a warm-up, `strace -c -f` counts the core's syscalls while
# bench/profile_client.js sends REQUESTS `GET /` over CONNECTIONS keep-alive connections (each one
# request at a time). Prints, per binary and connection count, the syscalls per request by name
# (the median of the rounds). strace slows the core down, so once-a-second work (the pool's
# /proc sampling) weighs more per request here than it does at full speed.
#
#   flock /work/team/bench.lock bench/syscalls.sh BINARY...
#   ROUNDS=3 REQUESTS=20000 CONNECTIONS="1 50" bench/syscalls.sh /work/main/build/passenger bin/passenger
#   CORE_THREADS=2 bench/syscalls.sh ...   # --core-threads (default 1)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=${NODE:-/usr/bin/node}
ROUNDS=${ROUNDS:-2}
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-"1 50"}
START_TIMEOUT=${START_TIMEOUT:-60}
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { echo "[syscalls.sh] $*" >&2; }
(($# > 0)) || { log "usage: bench/syscalls.sh BINARY..."; exit 1; }
command -v strace >/dev/null || { log "strace is missing (apt-get install strace)"; exit 1; }
TMP=$(mktemp -d /tmp/passenger-bench-syscalls-XXXXXX)
PIDS=()
cleanup() {
    stop_pids TERM 1
    rm -rf "$TMP"
}
trap cleanup EXIT

# count BINARY CONNECTIONS OUT: one round; writes "name per_request" lines to OUT.
count() {
    local binary=$1 connections=$2 out=$3 app="$TMP/app" server core
    rm -rf "$app"
    mkdir -p "$app/tmp" "$app/public"
    cp "$BENCH_DIR/apps/hello/app.js" "$app/"
    free_port
    (cd "$app" && exec setsid "$binary" start --port "$FREE_PORT" --address 127.0.0.1 \
        --environment production --nodejs "$NODE" --min-instances 1 --max-pool-size 1 \
        --core-threads "${CORE_THREADS:-1}" >"$TMP/server.log" 2>&1 </dev/null) &
    server=$!
    PIDS=("$server")
    wait_http "http://127.0.0.1:$FREE_PORT/" || { log "$binary did not answer"; tail "$TMP/server.log" >&2; exit 1; }
    core=$(ps -eo pid=,ppid=,args= | awk -v w="$server" '$2 == w && $3 == "passenger" && $4 == "core" {print $1}')
    [[ -n $core ]] || { log "no core process under $server"; exit 1; }
    "$NODE" "$BENCH_DIR/profile_client.js" "$FREE_PORT" 2000 "$connections" >/dev/null
    strace -c -f -p "$core" -o "$TMP/strace.txt" 2>/dev/null &
    local tracer=$!
    sleep 1
    "$NODE" "$BENCH_DIR/profile_client.js" "$FREE_PORT" "$REQUESTS" "$connections" >"$TMP/client.txt"
    kill -INT "$tracer"
    wait "$tracer" || true
    grep -q ' errors 0 ' "$TMP/client.txt" || { log "client errors: $(cat "$TMP/client.txt")"; exit 1; }
    awk -v n="$REQUESTS" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { print $NF, $4 / n }' \
        "$TMP/strace.txt" >"$out"
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    PIDS=()
}

# median CONNECTIONS INDEX NAME: the median over the rounds of NAME's syscalls per request.
median() {
    cat "$TMP"/r*-c"$1"-b"$2" | awk -v n="$3" '$1 == n { print $2 }' |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}

for round in $(seq 1 "$ROUNDS"); do
    for connections in $CONNECTIONS; do
        for index in $(seq 1 $#); do
            log "round $round, ${connections} connections, ${!index}"
            count "${!index}" "$connections" "$TMP/r$round-c$connections-b$index"
        done
    done
done

echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); --core-threads ${CORE_THREADS:-1}, $REQUESTS requests per round, $ROUNDS interleaved rounds, median per name"
for index in $(seq 1 $#); do echo "- binary $index: ${!index}"; done
for connections in $CONNECTIONS; do
    echo
    echo "Syscalls per request, $connections connection(s):"
    echo
    printf '| syscall |'
    for index in $(seq 1 $#); do printf ' binary %s |' "$index"; done
    printf '\n| --- |'
    for index in $(seq 1 $#); do printf ' ---: |'; done
    echo
    cat "$TMP"/r*-c"$connections"-b* | awk '{ print $1 }' | sort -u | while read -r name; do
        printf '| %s |' "$name"
        for index in $(seq 1 $#); do
            median=$(median "$connections" "$index" "$name")
            printf ' %.3f |' "$median"
        done
        echo
    done
    # The sum of the medians above (what one typical request costs).
    printf '| **total** |'
    for index in $(seq 1 $#); do
        total=0
        for name in $(cat "$TMP"/r*-c"$connections"-b* | awk '{ print $1 }' | sort -u); do
            median=$(median "$connections" "$index" "$name")
            total=$(echo "$total $median" | awk '{ print $1 + $2 }')
        done
        printf ' **%.2f** |' "$total"
    done
    echo
done
