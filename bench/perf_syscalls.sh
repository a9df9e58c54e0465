#!/usr/bin/env bash
# Syscalls and CPU per proxied hello-world request in the core at full speed (unlike
# bench/syscalls.sh's strace, which slows the core so much that an app's response is always
# there when it is first read): `perf stat` with the kernel's syscall tracepoints on the core
# process while wrk -c CONNECTIONS runs DURATION seconds against each binary in turn
# (interleaved rounds; 2 Node processes, --core-threads 1). Prints per binary and round the
# syscalls per request by name and the core's task-clock µs per request.
#
#   flock /work/team/bench.lock bench/perf_syscalls.sh BINARY...
#   ROUNDS=3 DURATION=5 CONNECTIONS=50 bench/perf_syscalls.sh build-base/passenger bin/passenger
#   URL_PATH=/f4k.bin bench/perf_syscalls.sh ...   # a static 4 KiB file instead of the app
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=${NODE:-/usr/bin/node}
WRK=${WRK:-/usr/bin/wrk}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-50}
URL_PATH=${URL_PATH:-/}
START_TIMEOUT=${START_TIMEOUT:-60}
NAMES="recvfrom sendmsg sendto epoll_ctl epoll_wait read write writev timerfd_settime"
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { echo "[perf_syscalls.sh] $*" >&2; }
(($# > 0)) || { log "usage: bench/perf_syscalls.sh BINARY..."; exit 1; }
TMP=$(mktemp -d /tmp/passenger-bench-perfsys-XXXXXX)
PIDS=()
cleanup() {
    stop_pids TERM 1
    rm -rf "$TMP"
}
trap cleanup EXIT

declare -A PORT CORE
i=0
for binary in "$@"; do
    i=$((i + 1))
    app="$TMP/app$i"
    mkdir -p "$app/tmp" "$app/public"
    cp "$BENCH_DIR/apps/hello/app.js" "$app/"
    head -c 4096 /dev/urandom >"$app/public/f4k.bin"
    free_port
    PORT[$i]=$FREE_PORT
    exe=$(readlink -f "$binary")
    (cd "$app" && exec setsid "$exe" start --port "$FREE_PORT" --address 127.0.0.1 \
        --environment production --nodejs "$NODE" --min-instances 2 --max-pool-size 2 \
        --core-threads 1 >"$TMP/server$i.log" 2>&1 </dev/null) &
    server=$!
    PIDS+=("$server")
    wait_http "http://127.0.0.1:$FREE_PORT/" || { log "$binary did not answer"; tail "$TMP/server$i.log"; exit 1; }
    CORE[$i]=$(ps -eo pid=,ppid=,args= | awk -v w="$server" '$2 == w && $3 == "passenger" && $4 == "core" {print $1}')
    "$WRK" -t2 -c"$CONNECTIONS" -d2 "http://127.0.0.1:$FREE_PORT$URL_PATH" >/dev/null  # warm-up
done

events="task-clock,raw_syscalls:sys_enter"
for n in $NAMES; do events+=",syscalls:sys_enter_$n"; done
echo "wrk -t2 -c$CONNECTIONS -d$DURATION $URL_PATH, --core-threads 1, 2 Node processes; per request:"
for round in $(seq 1 "$ROUNDS"); do
    i=0
    for binary in "$@"; do
        i=$((i + 1))
        perf stat -x, -e "$events" -p "${CORE[$i]}" -o "$TMP/perf.txt" &
        perf=$!
        out=$("$WRK" -t2 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:${PORT[$i]}$URL_PATH")
        kill -INT "$perf"
        wait "$perf" || true
        total=$(awk '/requests in/ {print $1}' <<<"$out")
        rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        awk -F, -v n="$total" -v b="$binary" -v r="$round" -v rps="$rps" '
            /task-clock/ {cpu = $1 * 1000 / n}
            /sys_enter/ {name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all";
                         line = line sprintf(" %s %.3f", name, $1 / n)}
            END {printf "round %s %s: %s req/s, core %.2f us/req;%s\n", r, b, rps, cpu, line}' "$TMP/perf.txt"
    done
done
