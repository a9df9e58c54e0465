#!/usr/bin/env bash
# Core threads (issue 17): our server at --core-threads 1, 2 and 4 and the main branch's build
# (one thread, before threads existed), against nginx with `worker_processes auto`, on hello
# world (2 Node processes; nginx proxy_pass to 2 plain Node processes) and on a static 4 KiB file
# (nginx serves it from disk itself). Interleaved rounds of wrk -c50; the median req/s, p99 and
# the server's own CPU per request (app processes excluded). Prints a Markdown table. The "floor"
# row is bench/floor_proxy.c, the least a proxy can do per request (FLOOR=0 leaves it out); the
# "pm2" row PM2's cluster mode when bench/node_modules has it (req/s only: its workers serve).
#
#   flock /work/team/bench.lock bench/threads.sh
#   ROUNDS=5 DURATION=5 BASELINE=/path/to/old/passenger bench/threads.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-"1 2 4"}
START_TIMEOUT=${START_TIMEOUT:-60}
OURS=${OURS:-$REPO/bin/passenger}
BASELINE=${BASELINE:-/work/main/build/passenger}  # main's build: one thread, today's core
NODE=${NODE:-/usr/bin/node}
NGINX=${NGINX:-/usr/sbin/nginx}
WRK=${WRK:-/usr/bin/wrk}
PM2=${PM2:-$BENCH_DIR/node_modules/.bin/pm2}
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { echo "[threads.sh] $*" >&2; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d /tmp/passenger-bench-threads-XXXXXX)
PIDS=()
cleanup() {
    [[ -d $TMP/pm2-home ]] && PM2_HOME=$TMP/pm2-home timeout 20 "$PM2" kill >/dev/null 2>&1
    stop_pids TERM 1
    rm -rf "$TMP"
}
trap cleanup EXIT

declare -A PORT TREE_MARK TREE_PID
TARGETS=()

app_copy() { # app_copy NAME -> prints a fresh copy of the hello app with public/f4k.bin
    local dir="$TMP/$1"
    cp -r "$BENCH_DIR/apps/hello" "$dir"
    mkdir -p "$dir/public"
    head -c 4096 /dev/urandom >"$dir/public/f4k.bin"
    echo "$dir"
}

start_passenger() { # start_passenger NAME BINARY [ARGS...]
    local name=$1 binary=$2 dir
    shift 2
    dir=$(app_copy "$name")
    free_port
    PORT[$name]=$FREE_PORT
    TREE_MARK[$name]="BENCH_TARGET=$name"
    (cd "$dir" && exec env BENCH_TARGET="$name" "$binary" start --port "$FREE_PORT" \
        --address 127.0.0.1 --environment production --min-instances 2 --max-pool-size 2 \
        "$@" >"$TMP/$name.log" 2>&1) &
    PIDS+=($!)
    TARGETS+=("$name")
}

start_nginx() {
    local name=nginx dir prefix="$TMP/nginx-prefix" upstreams="" i
    dir=$(app_copy "$name")
    for i in 1 2; do
        free_port
        (cd "$dir" && exec env BENCH_TARGET=$name PORT="$FREE_PORT" HOST=127.0.0.1 "$NODE" app.js) &
        PIDS+=($!)
        upstreams+="server 127.0.0.1:$FREE_PORT; "
    done
    free_port
    PORT[$name]=$FREE_PORT
    TREE_MARK[$name]="BENCH_TARGET=$name"
    mkdir -p "$prefix/logs"
    chmod 755 "$prefix" "$TMP" "$dir" "$dir/public"
    chmod 644 "$dir/public/f4k.bin"
    cat >"$prefix/nginx.conf" <<EOF
$(nginx_conf_head "$prefix" auto)
    upstream app { $upstreams keepalive 32; }
    server {
        listen 127.0.0.1:${PORT[$name]};
        location = /f4k.bin { root $dir/public; }
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        }
    }
}
EOF
    env BENCH_TARGET=$name "$NGINX" -p "$prefix/" -e "$prefix/logs/error.log" \
        -c "$prefix/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    TREE_PID[$name]=$!  # nginx overwrites its environment with its process title
    TARGETS+=("$name")
}

# The floor (bench/floor_proxy.c): the kernel's four transfers per request and nothing else, in
# front of 2 Node processes on Unix sockets as ours are. Hello world only (it has no static files).
start_floor() {
    local name=floor dir sockets=() i
    dir=$(app_copy "$name")
    cc -O2 -o "$TMP/floor_proxy" "$BENCH_DIR/floor_proxy.c"
    for i in 1 2; do
        sockets+=("$TMP/floor-app-$i.sock")
        (cd "$dir" && exec env BENCH_TARGET=$name SOCKET_PATH="$TMP/floor-app-$i.sock" "$NODE" app.js) &
        PIDS+=($!)
    done
    free_port
    PORT[$name]=$FREE_PORT
    TREE_MARK[$name]="BENCH_TARGET=$name"
    local deadline=$((SECONDS + START_TIMEOUT))
    for i in 1 2; do
        until [[ -S ${sockets[i - 1]} ]]; do
            ((SECONDS < deadline)) || { log "floor: app $i did not listen"; exit 1; }
            sleep 0.1
        done
    done
    env BENCH_TARGET=$name "$TMP/floor_proxy" "$FREE_PORT" "${sockets[@]}" &
    PIDS+=($!)
    TARGETS+=("$name")
}

# PM2 in cluster mode (bench/node_modules, `npm ci --prefix bench`): 2 workers, no proxy hop (the
# kernel hands each connection to a worker). Hello world only; issue 17 asks for 0.75× its req/s.
start_pm2() {
    local name=pm2 dir
    dir=$(app_copy "$name")
    free_port
    PORT[$name]=$FREE_PORT
    TREE_MARK[$name]="BENCH_TARGET=$name"
    mkdir -p "$TMP/pm2-home"
    env BENCH_TARGET=$name PM2_HOME="$TMP/pm2-home" PORT="$FREE_PORT" HOST=127.0.0.1 \
        "$PM2" start "$dir/app.js" --name "$name" -i 2 --cwd "$dir" --no-autorestart >/dev/null
    TARGETS+=("$name")
}

# The reference rows serve hello world only (no static files).
hello_only() { [[ $1 == floor || $1 == pm2 ]]; }

# The server's own CPU time (app processes, named node, left out), in microseconds.
server_cpu_us() {
    local pids=() p
    for p in $(tree_pids "${TREE_MARK[$1]}" ${TREE_PID[$1]:-}); do
        [[ $(cat "/proc/$p/comm" 2>/dev/null) == node ]] && continue
        pids+=("$p")
    done
    cpu_us "${pids[@]}"
}

# BASELINE_ARGS: e.g. "--core-threads 1" to compare one loop with one loop.
# shellcheck disable=SC2086
[[ -x $BASELINE ]] && start_passenger main "$BASELINE" ${BASELINE_ARGS:-}
for n in $THREADS; do start_passenger "t$n" "$OURS" --core-threads "$n"; done
[[ -x $NGINX ]] && start_nginx
[[ ${FLOOR:-1} == 1 ]] && start_floor
[[ -x $PM2 ]] && start_pm2
for t in "${TARGETS[@]}"; do
    wait_http "http://127.0.0.1:${PORT[$t]}/" || { log "$t did not answer"; exit 1; }
    hello_only "$t" || wait_http "http://127.0.0.1:${PORT[$t]}/f4k.bin" || { log "$t: no static file"; exit 1; }
    "$WRK" -t2 -c"$CONNECTIONS" -d2 "http://127.0.0.1:${PORT[$t]}/" >/dev/null  # warm up
done

declare -A RPS P99 CPU
for round in $(seq 1 "$ROUNDS"); do
    for path in / /f4k.bin; do
        for t in "${TARGETS[@]}"; do
            hello_only "$t" && [[ $path != / ]] && continue
            before=$(server_cpu_us "$t")
            out=$("$WRK" -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:${PORT[$t]}$path")
            after=$(server_cpu_us "$t")
            rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
            p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
            errors=$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out")
            [[ -n $errors ]] && log "$t $path round $round: $errors"
            total=$(awk '/requests in/ {print $1}' <<<"$out")
            RPS[$t$path]+="$rps "
            P99[$t$path]+="$p99 "
            CPU[$t$path]+="$(awk -v c=$((after - before)) -v n="$total" 'BEGIN {printf "%.1f", c / n}') "
            log "round $round $t $path: $rps req/s, p99 $p99"
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ms() { # wrk's latency (123.45us, 1.23ms, 1.02s) in ms
    awk '{v = $1; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)}
          else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; printf "%.2f\n", v}'
}
echo "Load average before the run: $LOAD_BEFORE; $(nproc) CPUs; $ROUNDS interleaved rounds of"
echo "wrk -t2 -c$CONNECTIONS -d$DURATION per target and workload (medians)."
echo
echo "| target | hello req/s | × main | p99 ms | server µs/req | static 4 KiB req/s | × main | p99 ms | server µs/req |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for t in "${TARGETS[@]}"; do
    row="| $t"
    for path in / /f4k.bin; do
        if [[ -z ${RPS[$t$path]:-} ]]; then row+=" | – | – | – | –"; continue; fi
        r=$(median <<<"${RPS[$t$path]}")
        base=$(median <<<"${RPS[main$path]:-$r}")
        p=$(tr ' ' '\n' <<<"${P99[$t$path]}" | grep -v '^$' | ms | median)
        c=$(median <<<"${CPU[$t$path]}")
        [[ $t == pm2 ]] && c="–"  # its workers do the serving, and they are node processes
        row+=" | $r | $(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a / b}') | $p | $c"
    done
    echo "$row |"
done
