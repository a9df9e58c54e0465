#!/usr/bin/env bash
# Syscalls and CPU per proxied hello-world request in the core at full speed (unlike
# bench/syscalls.sh's strace, which slows the core so much that an app's response is always
# there when it is first read): `perf stat` with the kernel's syscall tracepoints on the core
# process while wrk -c CONNECTIONS runs DURATION seconds against each binary in turn
# (interleaved rounds; 2 Node processes, --core-threads 1). Prints per binary and round the
# syscalls per request by name and the core's task-clock µs per request (split into user and
# system by the shares of /proc/PID/stat's utime and stime over the same run).
#
#   flock /work/team/bench.lock bench/perf_syscalls.sh BINARY...
#   ROUNDS=3 DURATION=5 CONNECTIONS=50 bench/perf_syscalls.sh build-base/passenger bin/passenger
#   URL_PATH=/f4k.bin bench/perf_syscalls.sh ...   # a static 4 KiB file instead of the app
#   CORE_THREADS=2 bench/perf_syscalls.sh ...       # --core-threads (default 1)
#
# TLS=ec|rsa: per TLS connection instead (issue 15): each binary with --ssl (a P-256 or RSA 2048
# certificate made here), bench/tls_cycle -c CONNECTIONS as the client (a full TLS 1.3 handshake,
# resumed, and one `Connection: close` request per connection); the name `nginx` among the
# binaries is nginx with one worker (TLS, proxy_pass to a node process of its own), its worker
# counted. Every syscall with a nonzero count is listed.
#   TLS=ec bench/perf_syscalls.sh build-base/passenger bin/passenger nginx
#
# CLOSE=1: plain HTTP with a new connection per request (wrk -H 'Connection: close'), every
# syscall with a nonzero count listed, per request (= per connection).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=${NODE:-/usr/bin/node}
WRK=${WRK:-/usr/bin/wrk}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-50}
CORE_THREADS=${CORE_THREADS:-1}
URL_PATH=${URL_PATH:-/}
START_TIMEOUT=${START_TIMEOUT:-60}
TLS=${TLS:-}
CLOSE=${CLOSE:-}
WRK_HEADERS=()
[[ -n $CLOSE ]] && WRK_HEADERS=(-H 'Connection: close')
NGINX=${NGINX:-/usr/sbin/nginx}
NAMES="recvfrom sendmsg sendto epoll_ctl epoll_wait read write writev timerfd_settime io_uring_enter"
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

SCHEME=http SSL_ARGS=() CYCLE=""
if [[ -n $TLS ]]; then
    SCHEME=https
    self_signed_certificate "$TLS" "$TMP/tls.key" "$TMP/tls.crt" || { log "TLS=ec or TLS=rsa"; exit 1; }
    chmod 755 "$TMP"  # nginx workers run as nobody
    SSL_ARGS=(--ssl --ssl-certificate "$TMP/tls.crt" --ssl-certificate-key "$TMP/tls.key")
    CYCLE=$TMP/tls_cycle
    build_tls_cycle "$CYCLE" || { log "tls_cycle did not build: $(head -3 "$CYCLE.log")"; exit 1; }
fi

# start_nginx I: nginx, one worker, TLS in front of a node process of its own; sets PORT[I], CORE[I].
start_nginx() {
    local i=$1 prefix=$TMP/nginx backend master
    mkdir -p "$prefix/logs"
    free_port
    backend=$FREE_PORT
    (cd "$TMP" && PORT=$backend HOST=127.0.0.1 exec "$NODE" "$BENCH_DIR/apps/hello/app.js") &
    PIDS+=($!)
    free_port
    PORT[$i]=$FREE_PORT
    cat >"$prefix/nginx.conf" <<EOF
$(nginx_conf_head "$prefix" 1)
    upstream app { server 127.0.0.1:$backend; keepalive 32; }
    ssl_protocols TLSv1.2 TLSv1.3;
$(nginx_tls_server "$FREE_PORT" "$TMP/tls.crt" "$TMP/tls.key")
}
EOF
    "$NGINX" -p "$prefix/" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    master=$!
    wait_http "https://localhost:$FREE_PORT/" -k || { log "nginx did not start"; cat "$prefix/logs/error.log" >&2; exit 1; }
    CORE[$i]=$(ps -eo pid=,ppid=,args= | awk -v m="$master" '$2 == m && /worker process/ {print $1}')
}

declare -A PORT CORE
i=0
for binary in "$@"; do
    i=$((i + 1))
    if [[ $binary == nginx ]]; then
        [[ -n $TLS ]] || { log "nginx is for TLS=ec|rsa only"; exit 1; }
        start_nginx "$i"
        "$CYCLE" -c"$CONNECTIONS" -d2 localhost "${PORT[$i]}" >/dev/null  # warm-up
        continue
    fi
    app="$TMP/app$i"
    mkdir -p "$app/tmp" "$app/public"
    cp "$BENCH_DIR/apps/hello/app.js" "$app/"
    head -c 4096 /dev/urandom >"$app/public/f4k.bin"
    free_port
    PORT[$i]=$FREE_PORT
    exe=$(readlink -f "$binary")
    (cd "$app" && exec setsid "$exe" start --port "$FREE_PORT" --address 127.0.0.1 \
        --environment production --nodejs "$NODE" --min-instances 2 --max-pool-size 2 \
        --core-threads "$CORE_THREADS" "${SSL_ARGS[@]}" >"$TMP/server$i.log" 2>&1 </dev/null) &
    server=$!
    PIDS+=("$server")
    wait_http "$SCHEME://localhost:$FREE_PORT/" -k || { log "$binary did not answer"; tail "$TMP/server$i.log"; exit 1; }
    CORE[$i]=$(ps -eo pid=,ppid=,args= | awk -v w="$server" '$2 == w && $3 == "passenger" && $4 == "core" {print $1}')
    if [[ -n $TLS ]]; then
        "$CYCLE" -c"$CONNECTIONS" -d2 localhost "$FREE_PORT" >/dev/null  # warm-up
    else
        "$WRK" -t2 -c"$CONNECTIONS" -d2 "http://127.0.0.1:$FREE_PORT$URL_PATH" >/dev/null  # warm-up
    fi
done

# load I: the client against binary I for DURATION seconds; sets TOTAL (requests, one per TLS
# connection) and RATE.
load() {
    local out
    if [[ -n $TLS ]]; then
        out=$("$CYCLE" -c"$CONNECTIONS" -d"$DURATION" localhost "${PORT[$1]}")
        TOTAL=$(awk '$1 == "requests" {print $2}' <<<"$out")
        RATE=$(awk '$1 == "requests" {print $10}' <<<"$out")
    else
        out=$("$WRK" -t2 -c"$CONNECTIONS" -d"$DURATION" "${WRK_HEADERS[@]}" "http://127.0.0.1:${PORT[$1]}$URL_PATH")
        TOTAL=$(awk '/requests in/ {print $1}' <<<"$out")
        RATE=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    fi
}

events="task-clock,raw_syscalls:sys_enter"
if [[ -n $TLS || -n $CLOSE ]]; then
    events+=",syscalls:sys_enter_*"
fi
if [[ -n $TLS ]]; then
    unit=conn
    echo "tls_cycle -c$CONNECTIONS -d$DURATION ($TLS), one loop / one worker; per connection (nonzero counts):"
else
    [[ -n $CLOSE ]] || for n in $NAMES; do events+=",syscalls:sys_enter_$n"; done
    unit=req
    echo "wrk -t2 -c$CONNECTIONS -d$DURATION${CLOSE:+ (Connection: close)} $URL_PATH, --core-threads $CORE_THREADS, 2 Node processes; per request:"
fi
for round in $(seq 1 "$ROUNDS"); do
    i=0
    for binary in "$@"; do
        i=$((i + 1))
        read -r -a before <"/proc/${CORE[$i]}/stat"
        perf stat -x, -e "$events" -p "${CORE[$i]}" -o "$TMP/perf.txt" &
        perf=$!
        load "$i"
        kill -INT "$perf"
        wait "$perf" || true
        read -r -a after <"/proc/${CORE[$i]}/stat"
        # user and system shares of the core's CPU (utime, stime: fields 14 and 15)
        user=$((after[13] - before[13])) system=$((after[14] - before[14]))
        awk -F, -v n="$TOTAL" -v b="$binary" -v r="$round" -v rate="$RATE" -v unit="$unit" -v all="${CLOSE:+1}" \
            -v utime="$user" -v stime="$system" '
            /task-clock/ {cpu = $1 * 1000 / n}
            /sys_enter/ && ((unit == "req" && !all) || $1 + 0 > 0) {
                name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all";
                line = line sprintf(" %s %.3f", name, $1 / n)}
            END {share = utime + stime > 0 ? utime / (utime + stime) : 0
                printf "round %s %s: %s %s/s, core %.2f us/%s (user %.1f, system %.1f);%s\n", r, b,
                    rate, unit, cpu, unit, cpu * share, cpu * (1 - share), line}' "$TMP/perf.txt"
    done
done
