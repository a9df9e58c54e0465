#!/usr/bin/env bash
# Side-by-side hello-world benchmark: bare `node app.js`, our server (bin/passenger), Debian's
# Passenger 6.0.17 (Standalone, builtin engine) and nginx proxy_pass to plain node processes, all
# started once and measured with wrk in interleaved rounds. Writes bench/RESULTS.md.
#
#   bench/run.sh                       # full run, about 4-5 minutes
#   ROUNDS=5 DURATION=10 bench/run.sh  # longer
#   TARGETS="node nginx" bench/run.sh  # a subset (node is always measured: it is the baseline)
#
# See bench/README.md for every knob and how to read the output.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

DURATION=${DURATION:-3}              # seconds per measured wrk run
WARMUP=${WARMUP:-3}                  # seconds of wrk -c50 per target before the first round
ROUNDS=${ROUNDS:-5}                  # interleaved repetitions
CONNECTIONS=${CONNECTIONS:-"50 1"}   # wrk -c values
PROCESSES=${PROCESSES:-"1 2"}        # app process counts for ours / passenger / nginx
WRK_THREADS=${WRK_THREADS:-1}
TARGETS=${TARGETS:-"node ours passenger nginx module"}
START_TIMEOUT=${START_TIMEOUT:-60}   # seconds for a target to answer its first request
NGINX_WORKERS=${NGINX_WORKERS:-auto}
INSTALL_DEPS=${INSTALL_DEPS:-1}      # apt-get install wrk/nginx/passenger when missing (root only)
KEEP_TMP=${KEEP_TMP:-0}
WAIT_IDLE=${WAIT_IDLE:-0}            # seconds to wait, at most, for the machine to be idle first
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
APP_SRC=${APP_SRC:-$BENCH_DIR/apps/hello}

OURS=${OURS:-$REPO/bin/passenger}            # our server, never looked up through PATH
DEBIAN_PASSENGER=/usr/bin/passenger          # the peer, never looked up through PATH
NODE=${NODE:-/usr/bin/node}
NGINX=${NGINX:-/usr/sbin/nginx}
WRK=${WRK:-/usr/bin/wrk}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites

install_missing() {
    local packages=()
    [[ -x $WRK ]] || packages+=(wrk)
    [[ -x $NGINX ]] || packages+=(nginx)
    [[ -x $DEBIAN_PASSENGER ]] || packages+=(passenger)
    command -v curl >/dev/null || packages+=(curl)
    ((${#packages[@]})) || return 0
    if [[ $INSTALL_DEPS == 1 && $(id -u) == 0 ]]; then
        log "installing ${packages[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y \
                --no-install-recommends "${packages[@]}" >&2; } ||
            log "apt-get failed; the targets that need ${packages[*]} will be skipped"
    else
        log "missing ${packages[*]} (run as root or install them); dependent targets are skipped"
    fi
}

install_missing
[[ -x $NODE ]] || die "node not found at $NODE (set NODE=)"
[[ -x $WRK ]] || die "wrk not found at $WRK (apt-get install wrk)"
command -v curl >/dev/null || die "curl not found"
[[ -f $APP_SRC/app.js ]] || die "no app at $APP_SRC/app.js"

# ---------------------------------------------------------------------------------------------
# Bookkeeping: every process we start carries BENCH_RUN_TAG in its environment (not in ours),
# gets its own process group, and is stopped on exit, together with its descendants.

WORK=$(mktemp -d /tmp/passenger-bench.XXXXXX)
chmod 755 "$WORK" # nginx workers run as nobody
TAG="$(basename "$WORK")-$$"
mkdir -p "$WORK/apps" "$WORK/logs" "$WORK/tmp"
GROUPS_STARTED=()
declare -A PORT LABEL PROCS APPDIR MAINPID TARGET_PIDS
ACTIVE=()       # targets that are up, in table order
COMMANDS=()     # exact start commands, for RESULTS.md
NOTES=()
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"
# shellcheck source=apache_targets.sh
source "$BENCH_DIR/apache_targets.sh"

# cpu_sample PID...: one "pid starttime ticks" line per live process, for cpu_delta_us.
cpu_sample() {
    local p stat fields
    for p; do
        { stat=$(<"/proc/$p/stat"); } 2>/dev/null || continue
        read -r -a fields <<<"${stat##*) }"
        echo "$p ${fields[19]} $((fields[11] + fields[12]))"
    done
}

# cpu_delta_us SAMPLE_BEFORE SAMPLE_AFTER: CPU microseconds used in between by the processes
# present in both (same pid and start time), so one that exits or is replaced does not count.
cpu_delta_us() {
    awk -v tck="$CLK_TCK" 'NR == FNR { if (NF == 3) before[$1 " " $2] = $3; next }
        ($1 " " $2) in before { sum += $3 - before[$1 " " $2] }
        END { printf "%d\n", sum * 1000000 / tck }' <(echo "$1") <(echo "$2")
}

# cpu_snapshot: "<elapsed_us> <machine_busy_us> <ours_us>": wall clock, CPU time the whole machine
# spent busy, and CPU time spent by this script, its reaped children (wrk) and every process it
# started. The difference of two snapshots tells how much CPU other processes took meanwhile.
cpu_snapshot() {
    local line fields busy self
    read -r line </proc/stat
    read -r -a fields <<<"$line"
    # user nice system idle iowait irq softirq steal
    busy=$((fields[1] + fields[2] + fields[3] + fields[6] + fields[7] + fields[8]))
    { line=$(<"/proc/$$/stat"); } 2>/dev/null
    read -r -a fields <<<"${line##*) }"
    self=$((fields[11] + fields[12] + fields[13] + fields[14]))
    echo "$(($(date +%s%N) / 1000)) $((busy * 1000000 / CLK_TCK))" \
        "$((self * 1000000 / CLK_TCK + $(cpu_us $(tree_pids "BENCH_RUN_TAG=$TAG" "${GROUPS_STARTED[@]}"))))"
}

cleanup() {
    local status=${EXIT_STATUS:-$?} pg pids i
    trap - EXIT INT TERM
    set +e
    for pg in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$pg" 2>/dev/null; done
    for i in $(seq 1 100); do
        pids=$(tree_pids "BENCH_RUN_TAG=$TAG" "${GROUPS_STARTED[@]}")
        [[ -z $pids ]] && break
        ((i == 50)) && kill -TERM $pids 2>/dev/null
        sleep 0.1
    done
    pids=$(tree_pids "BENCH_RUN_TAG=$TAG" "${GROUPS_STARTED[@]}")
    if [[ -n $pids ]]; then
        log "force-killing leftovers: $pids"
        kill -KILL $pids 2>/dev/null
    fi
    if [[ $KEEP_TMP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'EXIT_STATUS=130; exit 130' INT
trap 'EXIT_STATUS=143; exit 143' TERM

quote_words() {
    local word out=()
    for word; do
        if [[ $word =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=("$word"); else out+=("'$word'"); fi
    done
    echo "${out[*]}"
}

# spawn NAME DIR CMD... : starts CMD in DIR in its own session (output to logs/NAME.log) and sets
# SPAWNED to its pid. NODE_ENV=production for every target, as Passenger's --environment sets it.
spawn() {
    local name=$1 dir=$2
    shift 2
    (cd "$dir" && exec env BENCH_RUN_TAG="$TAG" BENCH_TARGET="$name" NODE_ENV=production setsid "$@" \
        >>"$WORK/logs/$name.log" 2>&1 </dev/null) &
    SPAWNED=$!
    GROUPS_STARTED+=("$SPAWNED")
    TARGET_PIDS[$name]+="$SPAWNED "
    COMMANDS+=("(cd $dir && $(quote_words "$@"))")
}

# wait_ready URL PID: polls until URL answers with the app's body, PID dies, or the deadline.
wait_ready() {
    local url=$1 pid=$2 deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if curl -sf --max-time 2 "$url" 2>/dev/null | grep -q 'Hello world'; then return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# activate_when_ready TARGET PORT APPDIR PID: once PORT answers, TARGET takes part in the runs;
# else it is marked failed (PID gone: the server exited; alive: it never answered in time).
activate_when_ready() {
    local t=$1 port=$2 dir=$3 pid=$4
    if wait_ready "http://127.0.0.1:$port/" "$pid"; then
        PORT[$t]=$port APPDIR[$t]=$dir MAINPID[$t]=$pid
        ACTIVE+=("$t")
    elif ! kill -0 "$pid" 2>/dev/null; then
        fail_target "$t" "the server exited (an option may be unsupported)"
    else
        fail_target "$t" "did not answer within ${START_TIMEOUT}s"
    fi
}

# fail_target TARGET WHY: records why TARGET is not measured, keeps its logs (outside the temp dir,
# which is removed on exit) and stops whatever it left running.
fail_target() {
    local target=$1 why=$2 logfile="$WORK/logs/$1.log" tail="" kept="" pid
    [[ -s $logfile ]] && tail=$({ grep -v '^\s*$' "$logfile" || true; } | tail -n 3 | tr '\n' ' ' | cut -c1-400)
    if compgen -G "$WORK/logs/$target*" >/dev/null; then
        kept="/tmp/$(basename "$WORK")-$target-logs"
        mkdir -p "$kept"
        cp "$WORK/logs/$target"* "$kept/" 2>/dev/null || true
        cp "$WORK/apps/$target/"*.log "$kept/" 2>/dev/null || true
    fi
    for pid in ${TARGET_PIDS[$target]:-}; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    NOTES+=("**$target** (${LABEL[$target]}, ${PROCS[$target]} process(es)) not measured: $why${tail:+ — last output: \`$tail\`}${kept:+ (logs kept in \`$kept\`)}")
    log "$target: not measured: $why ${tail:+($tail)} ${kept:+logs in $kept}"
}

copy_app() { # copy_app TARGET -> prints the new app dir
    local dir="$WORK/apps/$1"
    mkdir -p "$dir"
    cp -R "$APP_SRC/." "$dir/"
    mkdir -p "$dir/public" "$dir/tmp"
    echo "$dir"
}

register() { # register TARGET PROCS LABEL
    LABEL[$1]=$3
    PROCS[$1]=$2
}

# ---------------------------------------------------------------------------------------------
# Targets

start_node() {
    local t=node port dir
    register $t 1 'bare `node app.js`'
    free_port
    port=$FREE_PORT
    dir=$(copy_app $t)
    spawn $t "$dir" env PORT="$port" HOST=127.0.0.1 "$NODE" app.js
    activate_when_ready "$t" "$port" "$dir" "$SPAWNED"
}

start_ours() {
    local n=$1 t="ours-$1" port dir
    register "$t" "$n" 'ours (`bin/passenger start`)'
    if [[ ! -x $OURS ]]; then
        fail_target "$t" "$OURS does not exist yet (run \`make build\`)"
        return
    fi
    free_port
    port=$FREE_PORT
    dir=$(copy_app "$t")
    spawn "$t" "$dir" "$OURS" start --port "$port" --address 127.0.0.1 \
        --environment production --nodejs "$NODE" --min-instances "$n" --max-pool-size "$n"
    activate_when_ready "$t" "$port" "$dir" "$SPAWNED"
}

start_passenger() {
    local n=$1 t="passenger-$1" port dir
    register "$t" "$n" "Debian Passenger $PASSENGER_VERSION (builtin engine)"
    if [[ ! -x $DEBIAN_PASSENGER ]]; then
        fail_target "$t" "$DEBIAN_PASSENGER is not installed (apt-get install passenger)"
        return
    fi
    free_port
    port=$FREE_PORT
    dir=$(copy_app "$t")
    mkdir -p "$WORK/passenger-registry-$n" "$WORK/tmp/$t"
    # Standalone ignores SIGINT when started in the background (bash sets it to SIG_IGN); it
    # stops cleanly, watchdog and apps included, on SIGTERM. TMPDIR keeps its runtime dir here.
    spawn "$t" "$dir" env TMPDIR="$WORK/tmp/$t" "$DEBIAN_PASSENGER" start --engine=builtin \
        --port "$port" --address 127.0.0.1 --min-instances "$n" --max-pool-size "$n" \
        --environment production --nodejs "$NODE" \
        --instance-registry-dir "$WORK/passenger-registry-$n" \
        --pid-file "$WORK/$t.pid" --log-file "$WORK/logs/$t.core.log" \
        --disable-security-update-check --disable-anonymous-telemetry
    activate_when_ready "$t" "$port" "$dir" "$SPAWNED"
}

# run_nginx_target TARGET PREFIX PORT APPDIR: starts nginx on PREFIX/nginx.conf, waits for PORT.
run_nginx_target() {
    local t=$1 prefix=$2 port=$3 dir=$4
    spawn "$t" "$prefix" "$NGINX" -p "$prefix/" -e "$prefix/logs/error.log" \
        -c "$prefix/nginx.conf" -g 'daemon off;'
    activate_when_ready "$t" "$port" "$dir" "$SPAWNED"
}

start_nginx() {
    local n=$1 t="nginx-$1" port dir i upstreams=""
    register "$t" "$n" "nginx $NGINX_VERSION proxy_pass → node"
    if [[ ! -x $NGINX ]]; then
        fail_target "$t" "$NGINX is not installed (apt-get install nginx)"
        return
    fi
    dir=$(copy_app "$t")
    for i in $(seq 1 "$n"); do
        local bport bpid
        free_port
        bport=$FREE_PORT
        spawn "$t" "$dir" env PORT="$bport" HOST=127.0.0.1 "$NODE" app.js
        bpid=$SPAWNED
        if ! wait_ready "http://127.0.0.1:$bport/" "$bpid"; then
            fail_target "$t" "backend node $i did not answer"
            return
        fi
        upstreams+="        server 127.0.0.1:$bport;"$'\n'
    done
    free_port
    port=$FREE_PORT
    local prefix="$WORK/nginx-$n"
    mkdir -p "$prefix/logs"
    chmod 755 "$prefix"
    cat >"$prefix/nginx.conf" <<EOF
$(nginx_conf_head "$prefix")
    upstream app {
$upstreams        keepalive 32;
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
    run_nginx_target "$t" "$prefix" "$port" "$dir"
}

# nginx with our module (src/integrations/nginx/): the same nginx, `passenger_enabled on` instead
# of proxy_pass; the module's core spawns the N app processes (`passenger_min_instances N`).
start_module() {
    local n=$1 t="module-$1" port dir module
    register "$t" "$n" "nginx $NGINX_VERSION + our module"
    # NGINX_MODULE: another build of the module (an earlier channel version, side by side).
    module=${NGINX_MODULE:-$("$REPO/bin/passenger-config" about nginx-module 2>/dev/null || true)}
    if [[ ! -x $NGINX || ! -f $module ]]; then
        fail_target "$t" "nginx or the module is missing (make nginx-module)"
        return
    fi
    dir=$(copy_app "$t")
    free_port
    port=$FREE_PORT
    local prefix="$WORK/module-$n"
    mkdir -p "$prefix/logs"
    chmod 755 "$prefix"
    cat >"$prefix/nginx.conf" <<EOF
load_module $module;
$(nginx_conf_head "$prefix")
    passenger_root $("$REPO/bin/passenger-config" about root);
    passenger_max_pool_size $n;
    passenger_instance_registry_dir $prefix;
    server {
        listen 127.0.0.1:$port;
        root $dir/public;
        passenger_enabled on;
        passenger_nodejs $NODE;
        passenger_min_instances $n;
    }
}
EOF
    run_nginx_target "$t" "$prefix" "$port" "$dir"
}

# classify_pids TARGET: splits the target's processes into APP_PIDS (node running the target's
# app copy: bare, behind nginx, or spawned by a server) and SERVER_PIDS (everything else).
declare -A APP_PIDS SERVER_PIDS
NODE_EXE=$(readlink -f "$NODE")
classify_pids() {
    local t=$1 p apps="" servers=""
    for p in $(tree_pids "BENCH_TARGET=$t" ${TARGET_PIDS[$t]}); do
        if [[ $(readlink "/proc/$p/cwd" 2>/dev/null) == "${APPDIR[$t]}" &&
            $(readlink -f "/proc/$p/exe" 2>/dev/null) == "$NODE_EXE" ]]; then
            apps+="$p "
        else
            servers+="$p "
        fi
    done
    APP_PIDS[$t]=$apps
    SERVER_PIDS[$t]=$servers
    [[ -z ${BENCH_DEBUG:-} ]] || log "$t: app pids: $apps; server pids: $servers"
}

# ---------------------------------------------------------------------------------------------
# Versions and machine

NODE_VERSION=$("$NODE" --version)
NGINX_VERSION=$([[ -x $NGINX ]] && "$NGINX" -v 2>&1 | sed 's/.*nginx\///' || echo "not installed")
APACHE_VERSION=$([[ -x $APACHE ]] && "$APACHE" -v 2>&1 | sed -n 's/.*Apache\/\([^ ]*\).*/\1/p' || echo "not installed")
PASSENGER_VERSION=$([[ -x $DEBIAN_PASSENGER ]] &&
    "$DEBIAN_PASSENGER" --version 2>/dev/null | sed -n 's/.*Passenger(R) //p' | head -1 || echo "not installed")
OURS_VERSION=$([[ -x $OURS ]] && timeout 10 "$OURS" --version 2>&1 </dev/null | head -1 || echo "not built")
WRK_VERSION=$("$WRK" -v 2>&1 | head -1 | awk '{print $2}' || true)
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no -- src loaders 2>/dev/null | head -1)
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
KERNEL=$(uname -srm)
NPROC=$(nproc)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

# ---------------------------------------------------------------------------------------------
# Start everything

# busy_cpus SECONDS: how many CPUs the whole machine kept busy over the next SECONDS.
busy_cpus() {
    local a b fields line
    read -r line </proc/stat; read -r -a fields <<<"$line"
    a=$((fields[1] + fields[2] + fields[3] + fields[6] + fields[7] + fields[8]))
    sleep "$1"
    read -r line </proc/stat; read -r -a fields <<<"$line"
    b=$((fields[1] + fields[2] + fields[3] + fields[6] + fields[7] + fields[8]))
    awk -v d=$((b - a)) -v t="$CLK_TCK" -v s="$1" 'BEGIN { printf "%.2f", d / t / s }'
}

if ((WAIT_IDLE > 0)); then
    log "waiting up to ${WAIT_IDLE}s for the machine to be idle (under 0.25 CPUs busy over 10s)"
    idle_deadline=$((SECONDS + WAIT_IDLE))
    while :; do
        busy=$(busy_cpus 10)
        awk -v b="$busy" 'BEGIN { exit !(b < 0.25) }' && { log "idle enough ($busy CPUs busy)"; break; }
        if ((SECONDS >= idle_deadline)); then log "still busy ($busy CPUs); measuring anyway"; break; fi
    done
fi

log "work dir $WORK"
want() { [[ " $TARGETS " == *" $1 "* ]]; }
start_node
((${#ACTIVE[@]})) || die "bare node did not start; see above"
for n in $PROCESSES; do
    want ours && start_ours "$n"
    want passenger && start_passenger "$n"
    want nginx && start_nginx "$n"
    want module && start_module "$n"
    want apache && start_apache "$n"
    want apachemod && start_apachemod "$n"
    want apachepsg && start_apachepsg "$n"
done
log "up: ${ACTIVE[*]}"

ORDER=()
printf 'target\tprocs\tlabel\n' >"$WORK/targets.tsv"
for t in node ours-1 ours-2 passenger-1 passenger-2 nginx-1 nginx-2 module-1 module-2 \
    $(for n in $PROCESSES; do echo "ours-$n passenger-$n nginx-$n module-$n apache-$n apachemod-$n apachepsg-$n"; done); do
    [[ " ${ORDER[*]:-} " == *" $t "* ]] && continue
    [[ -n ${LABEL[$t]:-} ]] || continue
    ORDER+=("$t")
    printf '%s\t%s\t%s\n' "$t" "${PROCS[$t]}" "${LABEL[$t]}" >>"$WORK/targets.tsv"
done

# run_wrk TARGET CONNS SECONDS -> prints the RESULT fields; wrk's full output goes to the log
run_wrk() {
    local t=$1 c=$2 d=$3 out
    out=$("$WRK" -t"$WRK_THREADS" -c"$c" -d"${d}s" --latency -s "$BENCH_DIR/report.lua" \
        "http://127.0.0.1:${PORT[$t]}/" 2>&1) || true
    printf '== %s -c%s -d%ss\n%s\n' "$t" "$c" "$d" "$out" >>"$WORK/logs/wrk.log"
    sed -n 's/^RESULT //p' <<<"$out" | tr ' ' '\t'
}

log "warming up each target for ${WARMUP}s"
for t in "${ACTIVE[@]}"; do
    run_wrk "$t" 50 "$WARMUP" >/dev/null
    classify_pids "$t"
    seen=$(wc -w <<<"${APP_PIDS[$t]}")
    if [[ $seen != "${PROCS[$t]}" ]]; then
        NOTES+=("**$t**: $seen app processes seen after warm-up, expected ${PROCS[$t]}.")
        log "$t: $seen app processes after warm-up, expected ${PROCS[$t]}"
    fi
done

SNAPSHOT_BEFORE=$(cpu_snapshot)
total=$((ROUNDS * ${#ACTIVE[@]} * $(wc -w <<<"$CONNECTIONS")))
log "measuring: $ROUNDS rounds x ${#ACTIVE[@]} targets x connections ($CONNECTIONS), ${DURATION}s each, ~$((total * (DURATION + 1)))s"
printf 'round\tconns\ttarget\tprocs\tother_cpus\tserver_cpu_us\tapp_cpu_us\trequests\tduration_us\tp50_us\tp90_us\tp99_us\tmax_us\tsocket_errors\tstatus_errors\n' \
    >"$WORK/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
    # Rotate the order each round so no target always runs first or right after the same peer.
    k=$(((round - 1) % ${#ACTIVE[@]}))
    rotated=("${ACTIVE[@]:k}" "${ACTIVE[@]:0:k}")
    for t in "${ACTIVE[@]}"; do classify_pids "$t"; done
    for c in $CONNECTIONS; do
        for t in "${rotated[@]}"; do
            read -r w0 b0 o0 <<<"$(cpu_snapshot)"
            server_before=$(cpu_sample ${SERVER_PIDS[$t]})
            app_before=$(cpu_sample ${APP_PIDS[$t]})
            fields=$(run_wrk "$t" "$c" "$DURATION")
            server_cpu=$(cpu_delta_us "$server_before" "$(cpu_sample ${SERVER_PIDS[$t]})")
            app_cpu=$(cpu_delta_us "$app_before" "$(cpu_sample ${APP_PIDS[$t]})")
            read -r w1 b1 o1 <<<"$(cpu_snapshot)"
            other=$(awk -v b=$((b1 - b0)) -v o=$((o1 - o0)) -v w=$((w1 - w0)) \
                'BEGIN { x = (b - o) / w; if (x < 0) x = 0; printf "%.2f", x }')
            if [[ -z $fields ]]; then
                log "round $round $t -c$c: wrk produced no result (see wrk.log)"
                NOTES+=("round $round, $t, -c$c: wrk produced no result.")
                continue
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$t" "${PROCS[$t]}" "$other" "$server_cpu" "$app_cpu" \
                "$fields" >>"$WORK/results.tsv"
            read -r req dur p50 _ p99 _ <<<"$fields"
            log "round $round/$ROUNDS -c$c $t: $((req * 1000000 / dur)) req/s, p50 ${p50}us, p99 ${p99}us," \
                "CPU/req server $((server_cpu / (req ? req : 1)))us app $((app_cpu / (req ? req : 1)))us;" \
                "other processes $other CPUs"
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
read -r wall0 busy0 ours0 <<<"$SNAPSHOT_BEFORE"
read -r wall1 busy1 ours1 <<<"$(cpu_snapshot)"
OTHER_CPUS=$(awk -v b=$((busy1 - busy0)) -v o=$((ours1 - ours0)) -v w=$((wall1 - wall0)) \
    'BEGIN { x = (b - o) / w; if (x < 0) x = 0; printf "%.2f", x }')
OURS_CPUS=$(awk -v o=$((ours1 - ours0)) -v w=$((wall1 - wall0)) 'BEGIN { printf "%.2f", o / w }')
log "during the measurements: this benchmark kept $OURS_CPUS CPUs busy, other processes $OTHER_CPUS"
if awk -v x="$OTHER_CPUS" 'BEGIN { exit !(x >= 0.2) }'; then
    NOTES+=("Other processes on the machine kept on average $OTHER_CPUS of its $NPROC CPUs busy during the measurements (this benchmark: $OURS_CPUS), so the numbers are noisier than on an idle machine; the min–max ranges show by how much.")
fi

for t in "${ACTIVE[@]}"; do
    errors=$({ grep -cE 'App [0-9]+ std(out|err)|\[ E |\[error\]|\[crit\]|\[alert\]' \
        "$WORK/logs/$t.log" "$WORK/logs/$t.core.log" "$WORK/nginx-${t#nginx-}/logs/error.log" 2>/dev/null ||
        true; } | awk -F: '{s+=$NF} END {print s+0}')
    ((errors == 0)) || NOTES+=("**$t** logged $errors error or app-output lines during the run (kept out of the table; rerun with KEEP_TMP=1 to read them).")
done

# ---------------------------------------------------------------------------------------------
# RESULTS.md

tables=$("$NODE" "$BENCH_DIR/report.js" "$WORK/results.tsv" "$WORK/targets.tsv")
{
    echo "# Benchmark results"
    echo
    echo "Written by \`bench/run.sh\` (see \`bench/README.md\`). Only ratios measured in the same run are"
    echo "meaningful: client and servers share the machine's cores."
    echo
    echo "- Date: $STARTED_AT"
    echo "- Machine: $NPROC CPUs, $CPU_MODEL; $KERNEL; load average before/after: $LOAD_BEFORE / $LOAD_AFTER;" \
        "CPUs kept busy during the measurements by this benchmark / by other processes: $OURS_CPUS / $OTHER_CPUS"
    echo "- Versions: node $NODE_VERSION; nginx $NGINX_VERSION; Debian passenger $PASSENGER_VERSION;" \
        "ours \`$OURS_VERSION\` at commit \`$COMMIT\`${DIRTY:+ (with uncommitted changes in src/ or loaders/)};" \
        "wrk $WRK_VERSION"
    echo "- Run: ROUNDS=$ROUNDS DURATION=${DURATION}s WARMUP=${WARMUP}s CONNECTIONS=\"$CONNECTIONS\"" \
        "PROCESSES=\"$PROCESSES\" WRK_THREADS=$WRK_THREADS NGINX_WORKERS=$NGINX_WORKERS"
    echo
    echo "Each cell is the median over the rounds; a ratio is the median of the per-round paired ratios"
    echo "(the target against the reference measured in the same round), with min–max in parentheses."
    echo "\"÷ node\" compares with one bare \`node app.js\`; \"÷ nginx\" with nginx in front of the same"
    echo "number of node processes. req/s: higher is better; latency ratios: lower is better."
    echo
    echo "$tables"
    if ((${#NOTES[@]})); then
        echo "## Notes"
        echo
        for note in "${NOTES[@]}"; do echo "- $note"; done
        echo
    fi
    echo "## Commands"
    echo
    echo "Started once each, in \`$WORK\` (a temporary copy of \`bench/apps/hello\` per target):"
    echo
    echo '```'
    for cmd in "${COMMANDS[@]}"; do echo "$cmd"; done
    echo '```'
    echo
    nginx_conf=$(compgen -G "$WORK/nginx-*/nginx.conf" | head -1 || true)
    if [[ -n $nginx_conf ]]; then
        echo "$(basename "$(dirname "$nginx_conf")")'s nginx.conf (the N-process one lists N upstream servers):"
        echo
        echo '```nginx'
        cat "$nginx_conf"
        echo '```'
        echo
    fi
    echo "Each measurement (after a ${WARMUP}s \`-c50\` warm-up per target; targets rotate each round):"
    echo
    echo '```'
    echo "$WRK -t$WRK_THREADS -c<conns> -d${DURATION}s --latency -s bench/report.lua http://127.0.0.1:<port>/"
    echo '```'
} >"$RESULTS.tmp"
# Everything after this script's own tables survives a rerun: the sections other scripts rewrite
# between their `<!-- name: begin/end -->` markers and the notes written by hand around them, all
# of which come after the first marker. (A fixed list of blocks once dropped every section added
# after the list was written.)
if [[ -f $RESULTS ]] && grep -q '^<!-- .*: begin -->$' "$RESULTS"; then
    echo >>"$RESULTS.tmp"
    awk '/^<!-- .*: begin -->$/ {on = 1} on {print}' "$RESULTS" >>"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
log "wrote $RESULTS"
echo "$tables"

# The rest of issue 8 (PM2, large bodies, static files, memory, cold start, restart): its own
# section of RESULTS.md. EXTENDED=0 skips it.
if [[ ${EXTENDED:-1} == 1 ]]; then
    for pg in "${GROUPS_STARTED[@]}"; do kill -TERM -- "-$pg" 2>/dev/null || true; done
    sleep 3 # this run's targets stop first (cleanup on exit still catches any leftover)
    OURS="$OURS" RESULTS="$RESULTS" KEEP_TMP="$KEEP_TMP" "$BENCH_DIR/extended.sh" ||
        log "extended.sh failed (status $?)"
fi
