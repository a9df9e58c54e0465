#!/usr/bin/env bash
# Instruction-count profile of the core on the proxied hello-world path, with callgrind (perf
# sampling does not work on this VM). The core runs under valgrind outside the watchdog (valgrind
# cannot follow the watchdog's exec of /proc/self/exe), started by bench/profile_launcher.py with
# the watchdog's environment contract (PASSENGER_CORE_OPTIONS, listening socket on fd 3, ready pipe
# on fd 4), taken from a normally started core. Collection is off during start-up and warm-up; then
# REQUESTS requests over CONNECTIONS keep-alive connections (bench/profile_client.js) are measured.
#
#   bench/profile.sh                    # ours = bin/passenger, 20000 requests, 10 connections
#   OURS=/path/to/passenger REQUESTS=50000 bench/profile.sh
#   CORE_THREADS=1 bench/profile.sh     # --core-threads (default: the core's, one per CPU)
#
# Prints the totals, instructions and allocations (malloc calls, by caller: callgrind_allocs.py)
# per request and the top functions (exclusive and inclusive);
# keeps callgrind.out in OUT (default /tmp/passenger-profile).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OURS=${OURS:-$REPO/bin/passenger}
NODE=${NODE:-/usr/bin/node}
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-10}
OUT=${OUT:-/tmp/passenger-profile}
TOP=${TOP:-25}

# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { printf '[profile %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v valgrind >/dev/null || { log "valgrind is missing (apt-get install valgrind)"; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/app/tmp" "$OUT/app/public"
cp "$BENCH_DIR/apps/hello/app.js" "$OUT/app/"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port() { "$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# 1. The core's environment, from a normally started server.
P=$(port)
# shellcheck disable=SC2086 # CORE_THREADS is a number or empty
core_options "$OUT/app" "$OUT/options.json" "$OURS" --port "$P" --address 127.0.0.1 \
    --environment production --nodejs "$NODE" --min-instances 1 --max-pool-size 1 \
    ${CORE_THREADS:+--core-threads "$CORE_THREADS"} || { log "no core process found"; exit 1; }

# 2. The core under callgrind, collection off.
P=$(port)
(cd "$OUT/app" && exec setsid python3 "$BENCH_DIR/profile_launcher.py" "$P" "$OUT/options.json" \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
    "$(readlink -f "$OURS")" core >"$OUT/core.log" 2>&1 </dev/null) &
launcher=$!
PIDS+=("$launcher")
for _ in $(seq 1 120); do
    curl -sf --max-time 5 "http://127.0.0.1:$P/" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -sf --max-time 5 "http://127.0.0.1:$P/" >/dev/null || { log "the core did not answer"; tail "$OUT/core.log"; exit 1; }
"$NODE" "$BENCH_DIR/profile_client.js" "$P" 2000 "$CONNECTIONS" >/dev/null # warm-up
vpid=$(pgrep -P "$launcher" -f valgrind || pgrep -P "$launcher" || true)
log "collecting: $REQUESTS requests over $CONNECTIONS connections (valgrind pid $vpid)"
callgrind_control -i on "$vpid" >/dev/null
"$NODE" "$BENCH_DIR/profile_client.js" "$P" "$REQUESTS" "$CONNECTIONS" | tee "$OUT/client.txt"
callgrind_control -i off "$vpid" >/dev/null
callgrind_control -d "$vpid" >/dev/null
sleep 1
file=$(ls -t "$OUT"/callgrind.out* | head -1)
total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "callgrind file: $file"
echo "instructions: $total over $REQUESTS requests = $((total / REQUESTS)) per request"
python3 "$BENCH_DIR/callgrind_allocs.py" "$file" "$REQUESTS" "$TOP"
echo
echo "## exclusive (self) top $TOP"
callgrind_annotate --threshold=100 "$file" 2>/dev/null | sed -n '/^Ir/,$p' | head -n $((TOP + 2))
echo
echo "## inclusive top $TOP"
callgrind_annotate --inclusive=yes --threshold=100 "$file" 2>/dev/null | sed -n '/^Ir/,$p' | head -n $((TOP + 2))
