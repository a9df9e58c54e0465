#!/usr/bin/env bash
# Cold start only: command to the first 200 on GET /, 1 app process, REPS interleaved repetitions
# of bare `node app.js` and `passenger start`. Unlike extended.sh, the app copy and the free port
# are prepared before the clock starts, so the figure is the server's and the app's own time.
# POLLER=curl (default) polls like extended.sh (curl every 5 ms, which favours a server that binds
# its port early); POLLER=socket uses bench/first_200.py (1 ms, the same cost for every target).
# Prints each run and the medians.
#
#   bench/cold_start.sh                       # REPS=10
#   REPS=20 TARGETS="node ours" APP=bench/apps/hello/app.js bench/cold_start.sh
#   TARGETS="node ours ours=/tmp/passenger-before" bench/cold_start.sh   # two builds side by side
#   POLLER=socket REPS=20 bench/cold_start.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
REPS=${REPS:-10}
TARGETS=${TARGETS:-"node ours"}
OURS=${OURS:-$REPO/bin/passenger}
NODE=${NODE:-/usr/bin/node}
APP=${APP:-$BENCH_DIR/apps/extended/app.js}
POLLER=${POLLER:-curl}

WORK=$(mktemp -d /tmp/passenger-cold.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

free_port() {
    "$NODE" -e 'const s=require("net").createServer();
        s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

wait_200() {
    local url=$1 deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) == 200 ]] && return 0
        sleep 0.005
    done
    return 1
}

declare -A RUNS RUN
for rep in $(seq 1 "$REPS"); do
    for kind in $TARGETS; do
        dir="$WORK/$(echo "$kind" | tr -c 'a-z0-9\n' _)-$rep"
        mkdir -p "$dir/tmp"
        cp "$APP" "$dir/app.js"
        port=$(free_port)
        cd "$dir"
        case $kind in
            node) command=("$NODE" app.js) ;;
            ours*) binary=$OURS
                [[ $kind == ours=* ]] && binary=${kind#ours=}
                command=("$binary" start --port "$port" --address 127.0.0.1 --environment production
                    --nodejs "$NODE" --min-instances 1 --max-pool-size 1) ;;
        esac
        # The same environment for every target (ours passes it on to its app).
        variables=(PORT="$port" HOST=127.0.0.1 NODE_ENV=production)
        ms=""
        if [[ $POLLER == socket ]]; then
            ms=$(env "${variables[@]}" python3 "$BENCH_DIR/first_200.py" "$port" "${command[@]}") || ms=""
        else
            t0=$(date +%s%N)
            env "${variables[@]}" setsid "${command[@]}" >"$dir/log" 2>&1 </dev/null &
            pid=$!
            wait_200 "http://127.0.0.1:$port/" && ms=$((($(date +%s%N) - t0) / 1000000))
            kill -TERM -- "-$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
        if [[ -n $ms ]]; then
            RUNS[$kind]+="$ms "
            RUN["$kind,$rep"]=$ms
            printf '%s\t%s\t%s ms\n' "$rep" "$kind" "$ms"
        else
            printf '%s\t%s\tfailed\n' "$rep" "$kind"
        fi
        cd "$WORK"
        sleep 0.3
    done
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for kind in $TARGETS; do
    # shellcheck disable=SC2086
    printf 'median %s: %s ms (%s)\n' "$kind" "$(median ${RUNS[$kind]})" "${RUNS[$kind]}"
done
# Paired with bare node in the same repetition: steadier on a machine whose load drifts.
for kind in $TARGETS; do
    [[ $kind == node ]] && continue
    differences=()
    for rep in $(seq 1 "$REPS"); do
        [[ -n ${RUN["$kind,$rep"]:-} && -n ${RUN["node,$rep"]:-} ]] &&
            differences+=($((RUN["$kind,$rep"] - RUN["node,$rep"])))
    done
    ((${#differences[@]})) &&
        printf 'median of (%s - node) per repetition: %s ms (%s)\n' "$kind" \
            "$(median "${differences[@]}")" "${differences[*]}"
done
