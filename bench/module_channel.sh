#!/usr/bin/env bash
# Per-request cost of the nginx module's channel, process by process: nginx (one worker) + our
# module in front of one hello-world process, `wrk -c50` for DURATION seconds while `perf stat`
# counts the syscalls of the nginx worker and of the core, and /proc gives their CPU time.
# Each module build in MODULES (default: this checkout's) is measured ROUNDS times, alternating.
#
#   flock /work/team/bench.lock bench/module_channel.sh
#   MODULES="/tmp/v2.so build/ngx_http_passenger_module.so" ROUNDS=2 bench/module_channel.sh
#   PERF_RECORD=1 bench/module_channel.sh   # also `perf record -g` both (data in OUT)
#   TRACE=1 bench/module_channel.sh         # also `perf trace -s` both: counts by syscall in OUT
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
MODULES=${MODULES:-$("$REPO/bin/passenger-config" about nginx-module)}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-50}
PERF_RECORD=${PERF_RECORD:-0}
TRACE=${TRACE:-0}
OUT=${OUT:-/tmp/passenger-module-channel}
NGINX=/usr/sbin/nginx
NODE=/usr/bin/node

log() { printf '[module_channel %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

rm -rf "$OUT"
mkdir -p "$OUT"
chmod 755 "$OUT"

# nginx_config PREFIX PORT MODULE: nginx.conf with our module, or (MODULE `proxy`) with
# proxy_pass to the bare app on BACKEND_PORT through a kept-alive upstream, as bench/run.sh.
nginx_config() {
    local prefix=$1 port=$2 module=$3
    cat <<EOF
$([[ $module == proxy ]] || echo "load_module $module;")
error_log $prefix/logs/error.log notice;
pid $prefix/nginx.pid;
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
EOF
    if [[ $module == proxy ]]; then
        cat <<EOF
    upstream app {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
EOF
    else
        cat <<EOF
    passenger_root $("$REPO/bin/passenger-config" about root);
    passenger_instance_registry_dir $prefix;
    server {
        listen 127.0.0.1:$port;
        root $prefix/app/public;
        passenger_enabled on;
        passenger_nodejs $NODE;
        passenger_min_instances 1;
    }
}
EOF
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nginx MODULE PREFIX PORT: nginx in the background (and, for `proxy`, the bare app);
# waits for the app's first answer.
start_nginx() {
    local module=$1 prefix=$2 port=$3
    mkdir -p "$prefix/logs" "$prefix/app/public" "$prefix/app/tmp"
    cp "$BENCH_DIR/apps/hello/app.js" "$prefix/app/"
    chmod -R a+rX "$prefix"
    if [[ $module == proxy ]]; then
        BACKEND_PORT=$(free_port)
        (cd "$prefix/app" && PORT=$BACKEND_PORT exec "$NODE" app.js) &
        BACKEND_PID=$!
    fi
    nginx_config "$prefix" "$port" "$module" >"$prefix/nginx.conf"
    # In the foreground (our child): its watchdog and core are its descendants.
    "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' </dev/null >/dev/null 2>&1 &
    NGINX_PID=$!
    for _ in $(seq 1 200); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && return 0
        sleep 0.1
    done
    log "nginx with $module did not answer"
    return 1
}

# child_with_word PARENT WORD: the child of PARENT whose command line has WORD as a word.
child_with_word() {
    local p
    for p in $(pgrep -P "$1"); do
        tr '\0' '\n' <"/proc/$p/cmdline" | grep -qx -- "$2" && { echo "$p"; return; }
    done
    log "no child of $1 runs $2"
    return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure LABEL MODULE: one round; prints one result line.
measure() {
    local label=$1 module=$2 prefix port master worker requests processes
    prefix="$OUT/$label.$RANDOM"
    port=$(free_port)
    start_nginx "$module" "$prefix" "$port"
    master=$NGINX_PID
    worker=$(pgrep -P "$master" -f 'nginx: worker' | head -1)
    processes=("worker:$worker")
    [[ $module == proxy ]] || processes+=("core:$(child_with_word "$(child_with_word "$master" nginx-watchdog)" core)")
    wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port/" >/dev/null # warm-up
    local entry name pid recorders=() ticks=()
    for entry in "${processes[@]}"; do
        name=${entry%%:*} pid=${entry#*:}
        ticks+=("$(cpu_ticks "$pid")")
        perf stat -x, -e raw_syscalls:sys_enter -o "$prefix/$name.perf" -p "$pid" -- sleep "$DURATION" &
        recorders+=($!)
        if [[ $TRACE == 1 ]]; then # which syscalls (slows it down: for the counts only)
            perf trace -s -o "$OUT/$label.$name.trace" -p "$pid" -- sleep "$DURATION" >/dev/null 2>&1 &
            recorders+=($!)
        fi
        if [[ $PERF_RECORD == 1 ]]; then
            perf record -g -o "$OUT/$label.$name.data" -p "$pid" -- sleep "$DURATION" >/dev/null 2>&1 &
            recorders+=($!)
        fi
    done
    requests=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
    wait "${recorders[@]}"
    local line i=0 hz
    hz=$(getconf CLK_TCK)
    line=$(printf '%-28s %8.0f req/s' "$label" "$(awk -v n="$requests" -v d="$DURATION" 'BEGIN {print n / d}')")
    for entry in "${processes[@]}"; do
        name=${entry%%:*} pid=${entry#*:}
        line+=$(awk -v name="$name" -v n="$requests" -v hz="$hz" -v dt="$(($(cpu_ticks "$pid") - ticks[i]))" \
            -v sc="$(awk -F, '/raw_syscalls/ {print $1}' "$prefix/$name.perf")" \
            'BEGIN {printf "  %s: %5.1f syscalls/req %6.1f CPU us/req", name, sc / n, dt / hz * 1e6 / n}')
        i=$((i + 1))
    done
    echo "$line"
    kill -TERM "$master"
    wait "$master" || true
    NGINX_PID=
    if [[ -n $BACKEND_PID ]]; then
        kill -TERM "$BACKEND_PID"
        wait "$BACKEND_PID" || true
        BACKEND_PID=
    fi
}

NGINX_PID='' BACKEND_PID=''
trap 'for p in $NGINX_PID $BACKEND_PID; do kill -TERM "$p" 2>/dev/null; done; true' EXIT
log "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for module in $MODULES; do
        measure "r$round.$(basename "$module" .so)" "$module"
    done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
