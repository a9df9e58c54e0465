#!/usr/bin/env bash
# Memory of the front end, side by side: ours (bin/passenger start), Debian's Passenger 6.0.17
# (Standalone, builtin engine) and nginx (proxy_pass to node), each in front of one node process
# running bench/apps/sink. For each target, the front-end process (our core, Passenger's core,
# nginx's one worker) is measured:
#   1. per idle keep-alive connection: RSS before and while CONNECTIONS connections that made one
#      request each stay open and idle (bench/memory_client.js), divided by CONNECTIONS;
#   2. during a large upload: the peak RSS while UPLOAD_MB MiB are POSTed with a Content-Length.
# Writes (or replaces) the "Memory" section of bench/RESULTS.md, which bench/run.sh keeps.
#
#   bench/memory.sh                                   # about a minute
#   CONNECTIONS=5000 UPLOAD_MB=4096 bench/memory.sh
#   TARGETS=ours RESULTS=/tmp/m.md bench/memory.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
CONNECTIONS=${CONNECTIONS:-1000}
UPLOAD_MB=${UPLOAD_MB:-1024}
TARGETS=${TARGETS:-"ours passenger nginx"}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
START_TIMEOUT=${START_TIMEOUT:-60}
KEEP_TMP=${KEEP_TMP:-0}
OURS=${OURS:-$REPO/bin/passenger}
DEBIAN_PASSENGER=/usr/bin/passenger
NODE=${NODE:-/usr/bin/node}
NGINX=${NGINX:-/usr/sbin/nginx}

# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"  # wait_http (its free_port is replaced below)

log() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in "$NODE" curl; do command -v "$tool" >/dev/null || die "$tool is missing"; done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) > CONNECTIONS + 100)) || die "open-file limit $(ulimit -n) is too low for $CONNECTIONS connections"

WORK=$(mktemp -d /tmp/passenger-memory.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as nobody
TAG="PASSENGER_MEMORY_BENCH=$WORK"
LEADERS=()  # session leaders of everything started (each target runs in its own session)

# Every process started carries $TAG in its environment, also the ones that daemonize.
tagged_pids() {
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "$TAG" && echo "$pid"
    done
    true
}

cleanup() {
    local leader pid
    for leader in "${LEADERS[@]}"; do kill -TERM -- "-$leader" 2>/dev/null || true; done
    sleep 2
    for pid in $(tagged_pids); do kill -KILL "$pid" 2>/dev/null || true; done
    if [[ $KEEP_TMP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts a command in its own session with the tag; sets SPAWNED to its pid.
spawn() {
    local dir=$1
    shift
    (cd "$dir" && exec setsid env "$TAG" "$@" >>"$WORK/$CURRENT.log" 2>&1 </dev/null) &
    SPAWNED=$!
    LEADERS+=("$SPAWNED")
}

# The front-end process(es) of the current target: among the tagged ones, or nginx's workers
# (nginx overwrites its environment with its process title).
front_end_pids() {
    local pid title
    if [[ $CURRENT == nginx ]]; then
        pgrep -P "$(cat "$WORK/nginx/nginx.pid" 2>/dev/null || echo 0)" || true
        return
    fi
    for pid in $(tagged_pids); do
        title=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)
        case $CURRENT in
            ours) [[ $title == *" core"* ]] && echo "$pid" ;;
            passenger) [[ $title == "Passenger core"* ]] && echo "$pid" ;;
        esac
    done
    true
}

# Sum of a /proc/PID/status field (kB) over the given pids.
status_kb() {
    local field=$1 pid total=0 value
    shift
    for pid in "$@"; do
        value=$({ awk -v f="$field:" '$1 == f {print $2}' "/proc/$pid/status"; } 2>/dev/null || echo 0)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

start_target() {
    local port=$1 dir="$WORK/$CURRENT-app"
    mkdir -p "$dir" && cp "$BENCH_DIR/apps/sink/app.js" "$dir/"
    case $CURRENT in
        ours)
            [[ -x $OURS ]] || return 1
            spawn "$dir" "$OURS" start --port "$port" --address 127.0.0.1 --environment production \
                --nodejs "$NODE" --min-instances 1 --max-pool-size 1 --data-buffer-dir "$WORK"
            ;;
        passenger)
            [[ -x $DEBIAN_PASSENGER ]] || return 1
            mkdir -p "$WORK/passenger-tmp"
            spawn "$dir" env TMPDIR="$WORK/passenger-tmp" "$DEBIAN_PASSENGER" start --engine=builtin \
                --port "$port" --address 127.0.0.1 --min-instances 1 --max-pool-size 1 \
                --environment production --nodejs "$NODE" --instance-registry-dir "$WORK/passenger-tmp" \
                --pid-file "$WORK/passenger.pid" --log-file "$WORK/passenger.core.log" \
                --disable-security-update-check --disable-anonymous-telemetry
            ;;
        nginx)
            [[ -x $NGINX ]] || return 1
            local backend user=""
            backend=$(free_port)
            spawn "$dir" env PORT="$backend" HOST=127.0.0.1 "$NODE" app.js
            wait_http "http://127.0.0.1:$backend/" || return 1
            [[ $(id -u) == 0 ]] && user="user nobody nogroup;"
            mkdir -p "$WORK/nginx/logs"
            cat >"$WORK/nginx/nginx.conf" <<EOF
$user
worker_processes 1;
worker_rlimit_nofile 65536;
pid $WORK/nginx/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    client_max_body_size 0;
    client_body_temp_path $WORK/nginx/client_body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    upstream app { server 127.0.0.1:$backend; keepalive 32; }
    server {
        listen 127.0.0.1:$port;
        keepalive_timeout 600s;
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
            chmod -R 755 "$WORK/nginx"
            spawn "$WORK/nginx" "$NGINX" -p "$WORK/nginx/" -e "$WORK/nginx/logs/error.log" \
                -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
            ;;
    esac
    wait_http "http://127.0.0.1:$port/"
}

stop_target() {
    local leader
    for leader in "${LEADERS[@]}"; do kill -TERM -- "-$leader" 2>/dev/null || true; done
    sleep 2
    for leader in $(tagged_pids); do kill -KILL "$leader" 2>/dev/null || true; done
    LEADERS=()
}

# A sparse file: read back as zeros without disk I/O, so the client costs little.
truncate -s "${UPLOAD_MB}M" "$WORK/upload.bin"

ROWS=()
for CURRENT in $TARGETS; do
    log "$CURRENT: starting"
    port=$(free_port)
    if ! start_target "$port"; then
        ROWS+=("| $CURRENT | did not start (see KEEP_TMP=1 logs) | | | | |")
        stop_target
        continue
    fi
    for _ in 1 2 3 4 5; do curl -fsS -o /dev/null "http://127.0.0.1:$port/"; done
    mapfile -t pids < <(front_end_pids)
    if ((${#pids[@]} == 0)); then
        ROWS+=("| $CURRENT | front-end process not found | | | | |")
        stop_target
        continue
    fi
    sleep 1
    base=$(status_kb VmRSS "${pids[@]}")

    log "$CURRENT: uploading $UPLOAD_MB MiB"
    before_upload=$(status_kb VmRSS "${pids[@]}")
    curl -sS -o "$WORK/upload.out" -w '%{http_code} %{time_total}\n' -H 'Expect:' -X POST \
        -T "$WORK/upload.bin" "http://127.0.0.1:$port/upload" >"$WORK/upload.status" &
    upload=$!
    peak=$before_upload
    while kill -0 "$upload" 2>/dev/null; do
        now=$(status_kb VmRSS "${pids[@]}")
        ((now > peak)) && peak=$now
        sleep 0.05
    done
    wait "$upload" || true
    read -r code seconds <"$WORK/upload.status" || true
    received=$(tr -d '\n' <"$WORK/upload.out" 2>/dev/null || true)
    note=""
    [[ $code == 200 && $received == $((UPLOAD_MB << 20)) ]] || note=" (HTTP $code, app got ${received:-nothing})"
    log "$CURRENT: $CONNECTIONS idle keep-alive connections"
    sleep 1
    before_idle=$(status_kb VmRSS "${pids[@]}")
    coproc CLIENT { exec env "$TAG" "$NODE" "$BENCH_DIR/memory_client.js" "$port" "$CONNECTIONS"; }
    read -r -t 120 ready <&"${CLIENT[0]}" || ready="timeout"
    [[ $ready == "ready $CONNECTIONS" ]] || log "$CURRENT: client said: $ready"
    sleep 2
    idle=$(status_kb VmRSS "${pids[@]}")
    kill "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
    sleep 2
    per_connection=$(awk -v a="$idle" -v b="$before_idle" -v n="$CONNECTIONS" 'BEGIN {printf "%.1f", (a - b) / n}')

    seconds=$(awk -v s="${seconds:-0}" 'BEGIN {printf "%.1f", s}')
    ROWS+=("| $CURRENT | $(mib "$base") | $(mib "$peak")$note | $seconds | $(mib "$idle") | $per_connection |")
    log "$CURRENT: base ${base} KiB, idle ${idle} KiB, upload peak ${peak} KiB"
    stop_target
done

section=$(
    echo "<!-- memory.sh: begin -->"
    echo "## Memory (bench/memory.sh)"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Ours at commit \`$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)\`;" \
        "Debian passenger $([[ -x $DEBIAN_PASSENGER ]] && "$DEBIAN_PASSENGER" --version 2>/dev/null | head -1 | awk '{print $NF}');" \
        "nginx $([[ -x $NGINX ]] && "$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 1 worker"
    echo "- The front-end process only (our core, Passenger's core, nginx's worker), RSS in MiB;" \
        "each target in front of one node process running \`bench/apps/sink\`."
    echo "- Idle: $CONNECTIONS keep-alive connections that made one request each, then stay open (after" \
        "the upload; per connection: the growth over the RSS just before they opened)."
    echo "- Upload: one POST of $UPLOAD_MB MiB with a Content-Length (curl -T) to an app that reads it" \
        "all. Ours and nginx receive the whole body before the app gets the request (ours: 128 KiB in" \
        "memory, the rest in an unlinked temp file; nginx: client_body_temp); the seconds include that."
    echo
    echo "| target | RSS at rest | peak RSS during the upload | upload seconds | RSS with $CONNECTIONS idle connections | KiB per idle connection |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    for row in "${ROWS[@]}"; do echo "$row"; done
    echo "<!-- memory.sh: end -->"
)
if [[ -f $RESULTS ]] && grep -q '^<!-- memory.sh: begin -->$' "$RESULTS"; then
    awk -v section="$section" '
        /^<!-- memory.sh: begin -->$/ { print section; skip = 1; next }
        /^<!-- memory.sh: end -->$/ { skip = 0; next }
        !skip { print }' "$RESULTS" >"$RESULTS.tmp"
else
    { [[ -f $RESULTS ]] && cat "$RESULTS" && echo; echo "$section"; } >"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
log "wrote the memory section of $RESULTS"
echo "$section"
