#!/usr/bin/env bash
# The rest of issue 8's benchmark, side by side in one run: PM2 in cluster mode as a fourth peer,
# a 100 KiB response, a 1 MiB POST, static files of 4 KiB and 100 KiB, the RSS of each server's own
# processes idle and with 1,000 idle keep-alive connections, cold start (command to first 200) and
# `touch tmp/restart.txt` to the first reply from a new process. bench/run.sh calls it at the end
# (EXTENDED=0 skips it); alone it replaces (or appends) its own section of bench/RESULTS.md.
#
#   bench/extended.sh                          # about 5 minutes
#   ROUNDS=5 DURATION=5 bench/extended.sh
#   TARGETS="ours nginx" RESULTS=/tmp/e.md bench/extended.sh
#   TARGETS_EXTENDED="ours base" BASELINE=/path/to/main/passenger START_REPS=0 RESULTS=/tmp/e.md \
#       bench/extended.sh   # a change against main's build, every throughput row interleaved
#
# Targets, all with PROCS (2) app processes of bench/apps/extended/app.js:
#   node       bare `node app.js` (1 process; the baseline for cold start and the app's own start)
#   ours       bin/passenger start
#   base       the same with BASELINE's binary (another build, e.g. main's)
#   passenger  Debian's passenger start --engine=builtin
#   nginx      nginx proxy_pass (upstream keepalive) to PROCS plain node processes; serves public/
#   pm2        PM2 (bench/node_modules, `npm ci --prefix bench`) in cluster mode, -i PROCS
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

ROUNDS=${ROUNDS_EXTENDED:-3}
DURATION=${DURATION_EXTENDED:-2}
PROCS=${PROCS:-2}
TARGETS=${TARGETS_EXTENDED:-"node ours passenger nginx pm2"}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-1000}
START_REPS=${START_REPS:-3}
START_TIMEOUT=${START_TIMEOUT:-60}
KEEP_TMP=${KEEP_TMP:-0}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
OURS=${OURS:-$REPO/bin/passenger}
BASELINE=${BASELINE:-}
DEBIAN_PASSENGER=/usr/bin/passenger
NODE=${NODE:-/usr/bin/node}
NGINX=${NGINX:-/usr/sbin/nginx}
WRK=${WRK:-/usr/bin/wrk}
PM2=$BENCH_DIR/node_modules/.bin/pm2
APP_SRC=$BENCH_DIR/apps/extended

log() { printf '[extended %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x $NODE && -x $WRK ]] || die "needs $NODE and $WRK"
command -v curl >/dev/null || die "needs curl"
if [[ ! -x $PM2 && " $TARGETS " == *" pm2 "* ]]; then
    log "installing PM2 into bench/node_modules (npm ci)"
    (cd "$BENCH_DIR" && timeout 300 npm ci --no-audit --no-fund >&2) || log "npm ci failed: pm2 is skipped"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

WORK=$(mktemp -d /tmp/passenger-extended.XXXXXX)
chmod 755 "$WORK"
TAG="$(basename "$WORK")-$$"
mkdir -p "$WORK/logs" "$WORK/apps"
GROUPS_STARTED=()
declare -A PORT APPDIR TPIDS APP_PIDS SERVER_PIDS
ACTIVE=()
NOTES=()
COMMANDS=()
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"
NODE_EXE=$(readlink -f "$NODE")

# kb FIELD PID...: sum of a /proc/PID/status field (VmRSS) or of smaps_rollup's Pss, in KiB.
kb() {
    local field=$1 p v total=0 file
    shift
    for p; do
        file=/proc/$p/status
        [[ $field == Pss ]] && file=/proc/$p/smaps_rollup
        v=$({ awk -v f="$field:" '$1 == f {print $2}' "$file"; } 2>/dev/null || true)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

cleanup() {
    local status=$? pg pids i
    trap - EXIT INT TERM
    set +e
    for home in "$WORK"/pm2-*; do
        [[ -d $home && -x $PM2 ]] && PM2_HOME=$home timeout 20 "$PM2" kill >/dev/null 2>&1
    done
    for pg in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$pg" 2>/dev/null; done
    for i in $(seq 1 100); do
        pids=$(tree_pids "BENCH_EXT_TAG=$TAG" "${GROUPS_STARTED[@]}")
        [[ -z $pids ]] && break
        ((i == 50)) && kill -TERM $pids 2>/dev/null
        sleep 0.1
    done
    pids=$(tree_pids "BENCH_EXT_TAG=$TAG" "${GROUPS_STARTED[@]}")
    [[ -n $pids ]] && { log "force-killing leftovers: $pids"; kill -KILL $pids 2>/dev/null; }
    if [[ $KEEP_TMP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# spawn NAME DIR CMD...: starts CMD in its own session, tagged; SPAWNED is its pid.
spawn() {
    local name=$1 dir=$2
    shift 2
    (cd "$dir" && exec env BENCH_EXT_TAG="$TAG" BENCH_TARGET="$name" NODE_ENV=production setsid "$@" \
        >>"$WORK/logs/$name.log" 2>&1 </dev/null) &
    SPAWNED=$!
    GROUPS_STARTED+=("$SPAWNED")
    TPIDS[$name]+="$SPAWNED "
}

# stop_target NAME: stops everything NAME started and waits (10 s at most) until it is gone.
stop_target() {
    local name=$1 pg pids i
    if [[ -d $WORK/pm2-$name ]]; then PM2_HOME=$WORK/pm2-$name timeout 20 "$PM2" kill >/dev/null 2>&1 || true; fi
    for pg in ${TPIDS[$name]:-}; do kill -TERM -- "-$pg" 2>/dev/null || true; done
    for i in $(seq 1 100); do
        pids=$(tree_pids "BENCH_TARGET=$name" ${TPIDS[$name]:-})
        [[ -z $pids ]] && break
        ((i == 60)) && kill -KILL $pids 2>/dev/null
        sleep 0.1
    done
    TPIDS[$name]=""
}

copy_app() {
    local dir="$WORK/apps/$1"
    rm -rf "$dir"
    mkdir -p "$dir/public" "$dir/tmp"
    cp "$APP_SRC/app.js" "$dir/"
    head -c 4096 /dev/urandom >"$dir/public/4k.bin"
    head -c 102400 /dev/urandom >"$dir/public/100k.bin"
    echo "$dir"
}

nginx_conf() { # nginx_conf PREFIX PORT ROOT BACKEND_PORT...
    local prefix=$1 port=$2 root=$3 user="" upstreams="" b
    shift 3
    for b; do upstreams+="        server 127.0.0.1:$b;"$'\n'; done
    [[ $(id -u) == 0 ]] && user="user nobody nogroup;"
    mkdir -p "$prefix/logs"
    cat >"$prefix/nginx.conf" <<EOF
$user
worker_processes auto;
worker_rlimit_nofile 65536;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 600s;
    keepalive_requests 1000000;
    client_max_body_size 0;
    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    default_type application/octet-stream;
    upstream app {
$upstreams        keepalive 32;
    }
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { try_files \$uri @app; }
        location @app {
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
    chmod -R 755 "$prefix"
}

# wait_200 URL [DEADLINE_S]: polls every 5 ms until URL answers 200.
wait_200() {
    local url=$1 deadline=$((SECONDS + ${2:-$START_TIMEOUT}))
    while ((SECONDS < deadline)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) == 200 ]] && return 0
        sleep 0.005
    done
    return 1
}

# start_target KIND NAME N: starts KIND with N app processes as NAME on a fresh port; sets PORT[NAME].
start_target() {
    local kind=$1 name=$2 n=$3 dir port i b backends=()
    dir=$(copy_app "$name")
    APPDIR[$name]=$dir
    free_port
    port=$FREE_PORT
    PORT[$name]=$port
    case $kind in
        node) spawn "$name" "$dir" env PORT="$port" HOST=127.0.0.1 "$NODE" app.js ;;
        ours | base)
            local binary=$OURS
            [[ $kind == base ]] && binary=$BASELINE
            [[ -x $binary ]] || return 1
            spawn "$name" "$dir" "$binary" start --port "$port" --address 127.0.0.1 --environment production \
                --nodejs "$NODE" --min-instances "$n" --max-pool-size "$n"
            ;;
        passenger)
            [[ -x $DEBIAN_PASSENGER ]] || return 1
            mkdir -p "$WORK/tmp-$name"
            spawn "$name" "$dir" env TMPDIR="$WORK/tmp-$name" "$DEBIAN_PASSENGER" start --engine=builtin \
                --port "$port" --address 127.0.0.1 --min-instances "$n" --max-pool-size "$n" \
                --environment production --nodejs "$NODE" --instance-registry-dir "$WORK/tmp-$name" \
                --pid-file "$WORK/$name.pid" --log-file "$WORK/logs/$name.core.log" \
                --disable-security-update-check --disable-anonymous-telemetry
            ;;
        nginx)
            [[ -x $NGINX ]] || return 1
            for i in $(seq 1 "$n"); do
                free_port
                b=$FREE_PORT
                backends+=("$b")
                spawn "$name" "$dir" env PORT="$b" HOST=127.0.0.1 "$NODE" app.js
            done
            for b in "${backends[@]}"; do wait_200 "http://127.0.0.1:$b/" 30 || return 1; done
            nginx_conf "$WORK/nginx-$name" "$port" "$dir/public" "${backends[@]}"
            spawn "$name" "$WORK/nginx-$name" "$NGINX" -p "$WORK/nginx-$name/" \
                -e "$WORK/nginx-$name/logs/error.log" -c "$WORK/nginx-$name/nginx.conf" -g 'daemon off;'
            ;;
        pm2)
            [[ -x $PM2 ]] || return 1
            mkdir -p "$WORK/pm2-$name"
            # `pm2 start` returns once the daemon has forked the workers; the daemon (PM2's "God")
            # keeps the tag in its environment.
            spawn "$name" "$WORK/pm2-$name" env PM2_HOME="$WORK/pm2-$name" PORT="$port" HOST=127.0.0.1 \
                "$PM2" start "$dir/app.js" --name "$name" -i "$n" --cwd "$dir" --no-autorestart
            ;;
    esac
    return 0
}

# The commands, for RESULTS.md.
start_command() {
    case $1 in
        node) echo "env PORT=P HOST=127.0.0.1 $NODE app.js" ;;
        base) echo "$BASELINE start --port P --address 127.0.0.1 --environment production --nodejs $NODE --min-instances N --max-pool-size N" ;;
        ours) echo "$OURS start --port P --address 127.0.0.1 --environment production --nodejs $NODE --min-instances N --max-pool-size N" ;;
        passenger) echo "$DEBIAN_PASSENGER start --engine=builtin --port P --address 127.0.0.1 --min-instances N --max-pool-size N --environment production --nodejs $NODE --instance-registry-dir D --pid-file F --log-file L --disable-security-update-check --disable-anonymous-telemetry" ;;
        nginx) echo "N × (env PORT=Pi HOST=127.0.0.1 $NODE app.js) + $NGINX -p D -c nginx.conf -g 'daemon off;' (config below)" ;;
        pm2) echo "env PM2_HOME=<tmp> PORT=P HOST=127.0.0.1 bench/node_modules/.bin/pm2 start <app>/app.js -i N --cwd <app> --no-autorestart" ;;
    esac
}

classify() { # classify NAME: APP_PIDS (node running the app copy), SERVER_PIDS (the rest)
    local name=$1 p apps="" servers="" cmd
    for p in $(tree_pids "BENCH_TARGET=$name" ${TPIDS[$name]:-}); do
        cmd=$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null || true)
        [[ -z $cmd ]] && continue
        if [[ $(readlink "/proc/$p/cwd" 2>/dev/null) == "${APPDIR[$name]}" &&
            $(readlink -f "/proc/$p/exe" 2>/dev/null) == "$NODE_EXE" && $cmd != PM2* ]]; then
            apps+="$p "
        else
            servers+="$p "
        fi
    done
    APP_PIDS[$name]=$apps
    SERVER_PIDS[$name]=$servers
}

count() { echo $#; }

# ---------------------------------------------------------------------------------------------
# 1. Cold start and the app's own start: command to first 200, START_REPS times, interleaved.

STARTS="$WORK/starts.tsv"
printf 'rep\ttarget\tms\n' >"$STARTS"
log "cold start: $START_REPS × ($TARGETS), 1 process each"
for rep in $(seq 1 "$START_REPS"); do
    for kind in $TARGETS; do
        name="cold-$kind"
        t0=$(date +%s%N)
        if start_target "$kind" "$name" 1 && wait_200 "http://127.0.0.1:${PORT[$name]}/"; then
            t1=$(date +%s%N)
            printf '%s\t%s\t%s\n' "$rep" "$kind" "$(((t1 - t0) / 1000))" >>"$STARTS"
        else
            NOTES+=("cold start of $kind (rep $rep) failed: $(tail -n 2 "$WORK/logs/$name.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)")
        fi
        stop_target "$name"
        sleep 0.5
    done
done

# ---------------------------------------------------------------------------------------------
# 2. Start the PROCS-process targets for everything else.

for kind in $TARGETS; do
    n=$PROCS
    [[ $kind == node ]] && n=1
    log "starting $kind ($n process(es))"
    if start_target "$kind" "$kind" "$n" && wait_200 "http://127.0.0.1:${PORT[$kind]}/"; then
        ACTIVE+=("$kind")
    else
        NOTES+=("$kind not measured: did not start ($(tail -n 3 "$WORK/logs/$kind.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300))")
        stop_target "$kind"
    fi
done
((${#ACTIVE[@]})) || die "no target started"
for t in "${ACTIVE[@]}"; do
    # Let every app process come up (min-instances spawns in the background), then check.
    for _ in $(seq 1 50); do
        classify "$t"
        want=$PROCS
        [[ $t == node ]] && want=1
        (($(count ${APP_PIDS[$t]}) >= want)) && break
        curl -s -o /dev/null "http://127.0.0.1:${PORT[$t]}/" || true
        sleep 0.2
    done
    classify "$t"
    ((want == $(count ${APP_PIDS[$t]}))) ||
        NOTES+=("$t: expected $want app process(es), found $(count ${APP_PIDS[$t]})")
done

# ---------------------------------------------------------------------------------------------
# 3. RSS of the servers' own processes: at rest, then with IDLE_CONNECTIONS idle keep-alive
#    connections that each made one request.

MEMORY="$WORK/memory.tsv"
printf 'target\tserver_pids\trss_rest\tpss_rest\trss_idle\tpss_idle\tready\n' >"$MEMORY"
for t in "${ACTIVE[@]}"; do
    [[ $t == node ]] && continue
    for _ in 1 2 3 4 5; do curl -s -o /dev/null "http://127.0.0.1:${PORT[$t]}/" || true; done
    sleep 1
    classify "$t"
    rss0=$(kb VmRSS ${SERVER_PIDS[$t]})
    pss0=$(kb Pss ${SERVER_PIDS[$t]})
    log "$t: $IDLE_CONNECTIONS idle connections"
    coproc CLIENT { exec "$NODE" "$BENCH_DIR/idle_clients.js" "${PORT[$t]}" "$IDLE_CONNECTIONS"; }
    client_pid=$CLIENT_PID
    ready=""
    read -r -t 110 ready <&"${CLIENT[0]}" || ready="timeout"
    sleep 2
    classify "$t"
    rss1=$(kb VmRSS ${SERVER_PIDS[$t]})
    pss1=$(kb Pss ${SERVER_PIDS[$t]})
    kill "$client_pid" 2>/dev/null || true
    wait "$client_pid" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(count ${SERVER_PIDS[$t]})" "$rss0" "$pss0" "$rss1" "$pss1" "$ready" >>"$MEMORY"
    sleep 1
done

# ---------------------------------------------------------------------------------------------
# 4. Throughput scenarios, interleaved rounds, rotating target order.

# scenario NAME: "conns path script applicable-targets"
declare -A SCEN=(
    [hello-c50]="50 / report.lua node ours base passenger nginx pm2"
    [hello-c1]="1 / report.lua node ours base passenger nginx pm2"
    [big100k-c50]="50 /big report.lua node ours base passenger nginx pm2"
    [post1m-c10]="10 /upload post.lua node ours base passenger nginx pm2"
    [static4k-c50]="50 /4k.bin report.lua ours base passenger nginx"
    [static100k-c50]="50 /100k.bin report.lua ours base passenger nginx"
)
SCENARIOS=${SCENARIOS:-"hello-c50 hello-c1 big100k-c50 post1m-c10 static4k-c50 static100k-c50"}
RUNS="$WORK/runs.tsv"
printf 'round\tscenario\ttarget\tserver_cpu_us\tapp_cpu_us\trequests\tduration_us\tp50_us\tp90_us\tp99_us\tmax_us\tsocket_errors\tstatus_errors\n' >"$RUNS"

for t in "${ACTIVE[@]}"; do "$WRK" -t1 -c50 -d2s "http://127.0.0.1:${PORT[$t]}/" >/dev/null 2>&1 || true; done
for round in $(seq 1 "$ROUNDS"); do
    log "round $round/$ROUNDS"
    for s in $SCENARIOS; do
        read -r conns path script applicable <<<"${SCEN[$s]}"
        order=()
        for t in "${ACTIVE[@]}"; do [[ " $applicable " == *" $t "* ]] && order+=("$t"); done
        ((${#order[@]})) || continue
        shift_by=$(((round - 1) % ${#order[@]}))
        order=("${order[@]:shift_by}" "${order[@]:0:shift_by}")
        for t in "${order[@]}"; do
            classify "$t"
            s0=$(cpu_us ${SERVER_PIDS[$t]})
            a0=$(cpu_us ${APP_PIDS[$t]})
            out=$("$WRK" -t1 -c"$conns" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_DIR/$script" \
                "http://127.0.0.1:${PORT[$t]}$path" 2>&1 || true)
            s1=$(cpu_us ${SERVER_PIDS[$t]})
            a1=$(cpu_us ${APP_PIDS[$t]})
            result=$(grep '^RESULT ' <<<"$out" | tail -n 1 || true)
            if [[ -z $result ]]; then
                NOTES+=("$s $t round $round: wrk gave no result: $(tail -n 2 <<<"$out" | tr '\n' ' ' | cut -c1-200)")
                continue
            fi
            read -r _ req dur p50 p90 p99 max se st <<<"$result"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$s" "$t" \
                $((s1 - s0)) $((a1 - a0)) "$req" "$dur" "$p50" "$p90" "$p99" "$max" "$se" "$st" >>"$RUNS"
            log "  $s $t: $((req * 1000000 / (dur ? dur : 1))) req/s p50 ${p50}us p99 ${p99}us errors $((se + st))"
        done
    done
done

# ---------------------------------------------------------------------------------------------
# 5. Restart: touch tmp/restart.txt, poll GET /pid every 5 ms until a pid that was not serving
#    before answers. (Both with their default --stat-throttle-rate; ours watches with inotify.)

RESTARTS="$WORK/restarts.tsv"
printf 'rep\ttarget\tms\n' >"$RESTARTS"
for rep in $(seq 1 "$START_REPS"); do
    for t in ours passenger; do
        [[ " ${ACTIVE[*]} " == *" $t "* ]] || continue
        classify "$t"
        old=" ${APP_PIDS[$t]} "
        url="http://127.0.0.1:${PORT[$t]}/pid"
        t0=$(date +%s%N)
        touch "${APPDIR[$t]}/tmp/restart.txt"
        ok=0
        while (($(date +%s%N) - t0 < 30000000000)); do
            pid=$(curl -s --max-time 5 "$url" 2>/dev/null | tr -d '\n' || true)
            if [[ $pid =~ ^[0-9]+$ && $old != *" $pid "* ]]; then ok=1; break; fi
            sleep 0.005
        done
        t1=$(date +%s%N)
        if ((ok)); then
            printf '%s\t%s\t%s\n' "$rep" "$t" "$(((t1 - t0) / 1000))" >>"$RESTARTS"
        else
            NOTES+=("restart of $t (rep $rep): no new process answered within 30 s")
        fi
        sleep 3 # let the old processes drain and the pool settle
    done
done

# ---------------------------------------------------------------------------------------------
# 6. Report.

versions="ours: \`$OURS\` ${OURS_LABEL:-at commit \`$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')\`$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')}"
[[ -x $DEBIAN_PASSENGER ]] && versions+=", Debian passenger $("$DEBIAN_PASSENGER" --version 2>/dev/null | head -1 | awk '{print $NF}')"
[[ -x $NGINX ]] && versions+=", nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
[[ -x $PM2 ]] && versions+=", pm2 $("$NODE" -p "require('$BENCH_DIR/node_modules/pm2/package.json').version" 2>/dev/null)"
versions+=", node $("$NODE" --version), wrk $( ("$WRK" -v 2>&1 || true) | head -1 | awk "{print \$2}")"
{
    echo "<!-- extended.sh: begin -->"
    echo "## Extended scenarios (bench/extended.sh)"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- $versions"
    echo "- $ROUNDS interleaved rounds of ${DURATION} s per scenario and target (\`wrk -t1 -cC -d${DURATION}s --timeout 10s --latency -s bench/report.lua\`, POST: \`-s bench/post.lua\`), $PROCS app processes per server (bare node: 1); app \`bench/apps/extended/app.js\`; static files \`public/4k.bin\`, \`public/100k.bin\` in each app copy."
    echo "- Start commands:"
    for k in $TARGETS; do echo "  - $k: \`$(start_command "$k")\`"; done
    echo
    "$NODE" "$BENCH_DIR/extended_report.js" "$RUNS" "$MEMORY" "$STARTS" "$RESTARTS" "$IDLE_CONNECTIONS"
    if ((${#NOTES[@]})); then
        echo
        echo "### Notes"
        echo
        for n in "${NOTES[@]}"; do echo "- $n"; done
    fi
    echo
    echo "<details><summary>nginx.conf (extended)</summary>"
    echo
    echo '```nginx'
    cat "$WORK/nginx-nginx/nginx.conf" 2>/dev/null || echo "(nginx did not run)"
    echo '```'
    echo "</details>"
    echo "<!-- extended.sh: end -->"
} >"$WORK/section.md"

if [[ -f $RESULTS ]] && grep -q '^<!-- extended.sh: begin -->$' "$RESULTS"; then
    awk -v file="$WORK/section.md" '
        /^<!-- extended.sh: begin -->$/ { while ((getline line < file) > 0) print line; skip = 1; next }
        /^<!-- extended.sh: end -->$/ { skip = 0; next }
        !skip { print }' "$RESULTS" >"$RESULTS.tmp"
else
    { [[ -f $RESULTS ]] && cat "$RESULTS" && echo; cat "$WORK/section.md"; } >"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
cp "$RUNS" "$MEMORY" "$STARTS" "$RESTARTS" "$WORK/logs/" 2>/dev/null || true
log "wrote the extended section of $RESULTS"
cat "$WORK/section.md"
