#!/usr/bin/env bash
# Memory and CPU per open connection, side by side: ours (bin/passenger start), Debian's
# Passenger 6.0.17 (Standalone, builtin engine) and nginx (proxy_pass + Upgrade), each in front of
# PROCS (2) node processes running bench/apps/websocket. For each target, started afresh for
# each phase:
#   idle: CONNECTIONS keep-alive connections that made one request each, then stay open;
#   ws:   CONNECTIONS open WebSockets (each got its "pid" message), then one echo on every socket
#         and BROADCASTS broadcasts (one message relayed to every open socket per round).
# Memory is the RSS summed over the server's own processes (everything the target started except
# the node app processes), just before the clients connect and once they all did; the growth
# divided by CONNECTIONS is the cost of one connection. CPU is the server's user+system time over
# the broadcasts, per message delivered. Clients come from 127.0.0.2.. (1,000 per address), so
# source ports do not run out. Sets `ulimit -n` (and, as root, the hard limit and the local port
# range) for itself and what it starts. Writes the "Connections" section of bench/RESULTS.md.
#
#   bench/connections.sh                        # 10,000 connections, a few minutes
#   CONNECTIONS=2000 TARGETS=ours RESULTS=/tmp/c.md bench/connections.sh
#   TARGETS="ours ours=/tmp/passenger-before nginx" bench/connections.sh  # two builds of ours
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
CONNECTIONS=${CONNECTIONS:-10000}
PROCS=${PROCS:-2}
BROADCASTS=${BROADCASTS:-20}
PHASES=${PHASES:-"idle ws"}
TARGETS=${TARGETS:-"ours passenger nginx"}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
START_TIMEOUT=${START_TIMEOUT:-60}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-300}  # seconds for the client to open every connection
SETTLE=${SETTLE:-2}                      # seconds between the last connection and the RSS reading
KEEP_TMP=${KEEP_TMP:-0}
INSTALL_DEPS=${INSTALL_DEPS:-1}
OURS=${OURS:-$REPO/bin/passenger}
DEBIAN_PASSENGER=/usr/bin/passenger
NODE=${NODE:-/usr/bin/node}
NGINX=${NGINX:-/usr/sbin/nginx}

log() { printf '[connections %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites: the peers, ws, descriptors and ports.

missing=()
[[ -x $NGINX ]] || missing+=(nginx)
[[ -x $DEBIAN_PASSENGER ]] || missing+=(passenger)
if ((${#missing[@]})) && [[ $INSTALL_DEPS == 1 && $(id -u) == 0 ]]; then
    log "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
        log "apt-get failed; the targets that need ${missing[*]} will be skipped"
fi
[[ -x $NODE ]] || die "node not found at $NODE (set NODE=)"
command -v curl >/dev/null || die "curl not found"
[[ -d $BENCH_DIR/node_modules/ws ]] || (cd "$BENCH_DIR" && npm ci --no-audit --no-fund >&2) ||
    die "npm ci in bench/ failed (ws is needed)"

# Each WebSocket holds a descriptor in the client, two in the server (client and app side) and one
# in an app process; everything started here inherits this limit.
wanted_files=$((4 * CONNECTIONS + 1000))
if (($(ulimit -Hn) < wanted_files)); then
    ulimit -Hn "$wanted_files" 2>/dev/null ||
        log "cannot raise the hard open-file limit $(ulimit -Hn) (needs root with CAP_SYS_RESOURCE)"
fi
ulimit -n "$(ulimit -Hn)"
# A WebSocket takes two descriptors in a proxy's one process: that is what must fit.
LIMIT_NOTE=""
if ((2 * CONNECTIONS + 200 > $(ulimit -n))); then
    fits=$((($(ulimit -n) - 200) / 2))
    LIMIT_NOTE="$CONNECTIONS asked; $fits fit in the open-file limit $(ulimit -n), which could not be raised"
    log "$LIMIT_NOTE"
    CONNECTIONS=$fits
fi
ADDRESSES=$(((CONNECTIONS + 999) / 1000))
PORT_RANGE=$(cat /proc/sys/net/ipv4/ip_local_port_range)
if [[ $(id -u) == 0 ]]; then
    # The proxies' own connections to the apps all come from 127.0.0.1.
    sysctl -qw net.ipv4.ip_local_port_range="1024 65000" || log "could not widen the port range"
fi

WORK=$(mktemp -d /tmp/passenger-connections.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as nobody
TAG="PASSENGER_CONNECTIONS_BENCH=$WORK"
LEADERS=()
NODE_EXE=$(readlink -f "$NODE")
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

cleanup() {
    trap - EXIT INT TERM
    stop_target
    [[ $(id -u) == 0 ]] && sysctl -qw net.ipv4.ip_local_port_range="$PORT_RANGE"
    if [[ $KEEP_TMP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a command in its own session with the tag; sets SPAWNED to its pid.
spawn() {
    local dir=$1
    shift
    (cd "$dir" && exec setsid env "$TAG" "$@" >>"$WORK/${CURRENT//\//_}.log" 2>&1 </dev/null) &
    SPAWNED=$!
    LEADERS+=("$SPAWNED")
}

stop_target() {
    local pid
    for pid in "${LEADERS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    ((${#LEADERS[@]})) && sleep 2
    for pid in $(tree_pids "$TAG" "${LEADERS[@]}"); do kill -KILL "$pid" 2>/dev/null || true; done
    LEADERS=()
}

# The server's own processes: what the target started, minus the node processes running the app.
server_pids() {
    local pid
    for pid in $(tree_pids "$TAG" "${LEADERS[@]}"); do
        [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$NODE_EXE" ]] || echo "$pid"
    done
}
app_pids() {
    local pid
    for pid in $(tree_pids "$TAG" "${LEADERS[@]}"); do
        [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$NODE_EXE" ]] && echo "$pid"
    done
    true
}

rss_kb() {
    local pid total=0 value
    for pid; do
        value=$({ awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status"; } 2>/dev/null || echo 0)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

copy_app() {
    local dir="$WORK/${CURRENT//\//_}-app"
    rm -rf "$dir"
    mkdir -p "$dir/tmp" "$dir/public"
    cp "$BENCH_DIR/apps/websocket/app.js" "$dir/"
    cp -r "$BENCH_DIR/node_modules" "$dir/node_modules"  # readable by whichever user runs the app
    chmod -R a+rX "$dir"
    echo "$dir"
}

start_target() {
    local port=$1 dir ours=$OURS
    dir=$(copy_app)
    [[ $CURRENT == ours=* ]] && ours=${CURRENT#ours=}
    case $CURRENT in
        ours | ours=*)
            [[ -x $ours ]] || return 1
            spawn "$dir" "$ours" start --port "$port" --address 127.0.0.1 --environment production \
                --nodejs "$NODE" --min-instances "$PROCS" --max-pool-size "$PROCS" \
                --max-connections $((CONNECTIONS + 1000))
            ;;
        passenger)
            [[ -x $DEBIAN_PASSENGER ]] || return 1
            mkdir -p "$WORK/passenger-tmp"
            spawn "$dir" env TMPDIR="$WORK/passenger-tmp" "$DEBIAN_PASSENGER" start --engine=builtin \
                --port "$port" --address 127.0.0.1 --min-instances "$PROCS" --max-pool-size "$PROCS" \
                --environment production --nodejs "$NODE" --instance-registry-dir "$WORK/passenger-tmp" \
                --pid-file "$WORK/passenger.pid" --log-file "$WORK/passenger.core.log" \
                --disable-security-update-check --disable-anonymous-telemetry
            ;;
        nginx)
            [[ -x $NGINX ]] || return 1
            local i backend upstreams="" user=""
            for ((i = 0; i < PROCS; i++)); do
                free_port
                backend=$FREE_PORT
                spawn "$dir" env PORT="$backend" HOST=127.0.0.1 "$NODE" app.js
                wait_http "http://127.0.0.1:$backend/" || return 1
                upstreams+="        server 127.0.0.1:$backend;"$'\n'
            done
            [[ $(id -u) == 0 ]] && user="user nobody nogroup;"
            local prefix="$WORK/nginx"
            mkdir -p "$prefix/logs"
            cat >"$prefix/nginx.conf" <<CONF
$user
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $prefix/nginx.pid;
events { worker_connections $((2 * CONNECTIONS + 1000)); }
http {
    access_log off;
    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' ""; }
    upstream app {
$upstreams        keepalive 32;
    }
    server {
        listen 127.0.0.1:$port backlog=4096;
        keepalive_timeout 600s;
        keepalive_requests 100000;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }
    }
}
CONF
            chmod -R 755 "$prefix"
            spawn "$prefix" "$NGINX" -p "$prefix/" -e "$prefix/logs/error.log" \
                -c "$prefix/nginx.conf" -g 'daemon off;'
            ;;
    esac
    wait_http "http://127.0.0.1:$port/"
}

kib_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {printf "%.2f", (a - b) / n}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# One phase against the current target; sets ROW_<field> values in the associative array R.
declare -A R
run_phase() {
    local phase=$1 port ready reply pids before after cpu_before cpu_after app_before app_after
    free_port
    port=$FREE_PORT
    if ! start_target "$port"; then
        R[$CURRENT.$phase]="did not start"
        stop_target
        return
    fi
    for _ in $(seq 1 20); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" || true; done
    sleep 1
    mapfile -t pids < <(server_pids)
    before=$(rss_kb "${pids[@]}")
    R[$CURRENT.rest]=$before
    log "$CURRENT/$phase: RSS at rest $before KiB over ${#pids[@]} processes; opening $CONNECTIONS"
    coproc CLIENT { exec env "$TAG" "$NODE" "$BENCH_DIR/connections_client.js" "$phase" "$port" \
        "$CONNECTIONS" "$ADDRESSES" 2>>"$WORK/client.log"; }
    read -r -t "$CONNECT_TIMEOUT" ready <&"${CLIENT[0]}" || ready="timeout"
    if [[ $ready != "ready $CONNECTIONS "* ]]; then
        log "$CURRENT/$phase: client said: $ready"
        R[$CURRENT.$phase]="failed: ${ready}"
    else
        sleep "$SETTLE"
        mapfile -t pids < <(server_pids)
        after=$(rss_kb "${pids[@]}")
        R[$CURRENT.$phase]=$(kib_per "$after" "$before" "$CONNECTIONS")
        R[$CURRENT.$phase.rss]=$after
        log "$CURRENT/$phase: RSS $after KiB, $(kib_per "$after" "$before" "$CONNECTIONS") KiB per connection"
        if [[ $phase == ws ]]; then
            echo "echo" >&"${CLIENT[1]}"
            read -r -t 120 reply <&"${CLIENT[0]}" || reply="timeout"
            R[$CURRENT.echo]=$(awk '{print $3 " of " $5}' <<<"$reply")
            log "$CURRENT/$phase: $reply"
            local apps
            mapfile -t apps < <(app_pids)
            cpu_before=$(cpu_us "${pids[@]}")
            app_before=$(cpu_us "${apps[@]}")
            echo "broadcast $BROADCASTS" >&"${CLIENT[1]}"
            read -r -t $((60 * BROADCASTS + 60)) reply <&"${CLIENT[0]}" || reply="timeout"
            cpu_after=$(cpu_us "${pids[@]}")
            app_after=$(cpu_us "${apps[@]}")
            log "$CURRENT/$phase: $reply; server CPU $((cpu_after - cpu_before)) µs"
            # "broadcast K delivered D of E ms T"
            local delivered expected ms
            read -r _ _ _ delivered _ expected _ ms <<<"$reply"
            R[$CURRENT.broadcast]="$delivered of $expected"
            if [[ ${delivered:-0} -gt 0 ]]; then
                R[$CURRENT.cpu]=$(awk -v c=$((cpu_after - cpu_before)) -v d="$delivered" 'BEGIN {printf "%.2f", c / d}')
                R[$CURRENT.appcpu]=$(awk -v c=$((app_after - app_before)) -v d="$delivered" 'BEGIN {printf "%.2f", c / d}')
                R[$CURRENT.round]=$(awk -v m="$ms" -v k="$BROADCASTS" 'BEGIN {printf "%.0f", m / k}')
            fi
        fi
    fi
    exec {CLIENT[1]}>&-
    kill "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
    stop_target
}

for CURRENT in $TARGETS; do
    for phase in $PHASES; do run_phase "$phase"; done
done

ratio() {  # ratio TARGET PHASE: the target's per-connection KiB over nginx's
    awk -v a="${R[$1.$2]:-}" -v b="${R[nginx.$2]:-}" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf " (%.2f× nginx)", a / b }'
}

section=$(
    echo "<!-- connections.sh: begin -->"
    echo "## Connections (bench/connections.sh)"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Ours at commit \`$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)\`;" \
        "Debian passenger $([[ -x $DEBIAN_PASSENGER ]] && "$DEBIAN_PASSENGER" --version 2>/dev/null | head -1 | awk '{print $NF}');" \
        "nginx $([[ -x $NGINX ]] && "$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 1 worker; $PROCS node processes behind each"
    [[ -n $LIMIT_NOTE ]] && echo "- Connections: $LIMIT_NOTE."
    echo "- $CONNECTIONS connections from $ADDRESSES loopback addresses; each target started afresh" \
        "per phase. KiB per connection: growth of the RSS summed over the server's own processes" \
        "(not the node apps) from just before the clients connect to ${SETTLE} s after the last one did," \
        "divided by $CONNECTIONS. Kernel socket buffers are not in RSS."
    echo "- Broadcast: $BROADCASTS rounds; in each, one socket per app process asks its process to" \
        "send a message to every WebSocket it holds, and the round ends when all $CONNECTIONS got it." \
        "CPU: user+system time of the server's processes (and of the apps) over the rounds, per message delivered."
    echo
    echo "| target | RSS at rest (MiB) | KiB per idle keep-alive connection | KiB per open WebSocket | echo delivered | broadcast delivered | server CPU µs per message | app CPU µs per message | ms per broadcast round |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for t in $TARGETS; do
        echo "| $t | $(mib "${R[$t.rest]:-0}") | ${R[$t.idle]:-}$(ratio "$t" idle) | ${R[$t.ws]:-}$(ratio "$t" ws) | ${R[$t.echo]:-} | ${R[$t.broadcast]:-} | ${R[$t.cpu]:-} | ${R[$t.appcpu]:-} | ${R[$t.round]:-} |"
    done
    echo "<!-- connections.sh: end -->"
)
if [[ -f $RESULTS ]] && grep -q '^<!-- connections.sh: begin -->$' "$RESULTS"; then
    awk -v section="$section" '
        /^<!-- connections.sh: begin -->$/ { print section; skip = 1; next }
        /^<!-- connections.sh: end -->$/ { skip = 0; next }
        !skip { print }' "$RESULTS" >"$RESULTS.tmp"
    mv "$RESULTS.tmp" "$RESULTS"
else
    { [[ -f $RESULTS ]] && cat "$RESULTS" && echo; echo "$section"; } >"$RESULTS.tmp"
    mv "$RESULTS.tmp" "$RESULTS"
fi
log "wrote the connections section of $RESULTS"
echo "$section"
