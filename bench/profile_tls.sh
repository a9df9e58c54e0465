#!/usr/bin/env bash
# Instructions per full TLS 1.3 handshake (issue 15): our core against nginx, both under callgrind,
# so that this VM's speed from one window to the next (which moves more than the gap between
# them: bench/RESULTS.md "TLS: handshake req/s at one core") does not enter. Each connection is
# one full handshake (a new session, one signature), one `GET /` proxied to a Node process and
# the close (`tls_cycle -n`). Our core runs outside its watchdog as in profile.sh, with its
# certificate handed over like the watchdog does (profile_launcher.py --tls); nginx runs as one
# process (master_process off).
#
#   bench/profile_tls.sh                    # ECDSA P-256, 4 connections at a time for 20 s each
#   CERT=rsa DURATION=30 bench/profile_tls.sh
#
# Prints instructions per connection for both and each one's top functions (exclusive); keeps
# the callgrind files in OUT (default /tmp/passenger-profile-tls).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OURS=${OURS:-$REPO/bin/passenger}
NODE=${NODE:-/usr/bin/node}
NGINX=${NGINX:-/usr/sbin/nginx}
CERT=${CERT:-ec}
CONNECTIONS=${CONNECTIONS:-4}
DURATION=${DURATION:-20}
TOP=${TOP:-20}
OUT=${OUT:-/tmp/passenger-profile-tls}
START_TIMEOUT=120
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { printf '[profile_tls %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v valgrind >/dev/null || { log "valgrind is missing (apt-get install valgrind)"; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
chmod 755 "$OUT"
cp -r "$BENCH_DIR/apps/hello" "$OUT/app"
cp -r "$BENCH_DIR/apps/hello" "$OUT/nginx-app"
build_tls_cycle "$OUT/tls_cycle" || { log "tls_cycle did not build: $(head -3 "$OUT/tls_cycle.log")"; exit 1; }
self_signed_certificate "$CERT" "$OUT/tls.key" "$OUT/tls.crt" || { log "CERT is ec or rsa"; exit 1; }
PIDS=()
cleanup() { stop_pids TERM 2; }
trap cleanup EXIT

# measure NAME PORT VALGRIND_PID: warm-up, then DURATION s of collection; prints instructions per
# connection (and keeps the top functions in OUT/NAME.top).
measure() {
    local name=$1 port=$2 vpid=$3 out connections file total
    "$OUT/tls_cycle" -c2 -n -d3 127.0.0.1 "$port" >/dev/null
    callgrind_control -i on "$vpid" >/dev/null
    out=$("$OUT/tls_cycle" -c"$CONNECTIONS" -n -d"$DURATION" 127.0.0.1 "$port")
    callgrind_control -i off "$vpid" >/dev/null
    callgrind_control -d "$vpid" >/dev/null
    sleep 1
    connections=$(awk '/^requests/ {print $2}' <<<"$out")
    [[ $(awk '/^requests/ {print $4}' <<<"$out") == 0 ]] || log "$name: tls_cycle errors: $out"
    file=$(ls -t "$OUT/$name".callgrind.out* | head -1)
    total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    callgrind_annotate --threshold=100 "$file" 2>/dev/null | sed -n '/^Ir/,$p' | head -n $((TOP + 2)) \
        >"$OUT/$name.top"
    echo "$name $connections $((total / connections))"
}

# 1. Our core's environment with --ssl, from a normally started server.
free_port
core_options "$OUT/app" "$OUT/options.json" "$OURS" --port "$FREE_PORT" --address 127.0.0.1 \
    --environment production --nodejs "$NODE" --min-instances 1 --max-pool-size 1 --core-threads 1 \
    --ssl --ssl-certificate "$OUT/tls.crt" --ssl-certificate-key "$OUT/tls.key" ||
    { log "no core process found"; exit 1; }

# 2. Our core under callgrind, collection off until the warm-up is done.
free_port
OURS_PORT=$FREE_PORT
(cd "$OUT/app" && exec setsid python3 "$BENCH_DIR/profile_launcher.py" --tls "$OUT/tls.crt" \
    "$OUT/tls.key" "$OURS_PORT" "$OUT/options.json" valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$OUT/ours.callgrind.out" "$(readlink -f "$OURS")" core \
    >"$OUT/core.log" 2>&1 </dev/null) &
launcher=$!
PIDS+=("$launcher")
wait_http "https://localhost:$OURS_PORT/" -k || { log "our core did not answer"; tail "$OUT/core.log"; exit 1; }
vpid=$(pgrep -P "$launcher" | head -1)
log "ours: collecting for ${DURATION}s (valgrind pid $vpid)"
ours=$(measure ours "$OURS_PORT" "$vpid")

# 3. nginx as one process under callgrind, proxying to one Node process.
free_port
backend=$FREE_PORT
(cd "$OUT/nginx-app" && PORT=$backend HOST=127.0.0.1 exec "$NODE" app.js) &
PIDS+=($!)
free_port
NGINX_PORT=$FREE_PORT
prefix=$OUT/nginx
mkdir -p "$prefix/logs"
cat >"$prefix/nginx.conf" <<EOF
master_process off;
$(nginx_conf_head "$prefix" 1 | grep -v '^user ')
    ssl_protocols TLSv1.2 TLSv1.3;
    upstream app { server 127.0.0.1:$backend; keepalive 32; }
$(nginx_tls_server "$NGINX_PORT" "$OUT/tls.crt" "$OUT/tls.key")
}
EOF
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/nginx.callgrind.out" \
    "$NGINX" -p "$prefix/" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" -g 'daemon off;' \
    >"$OUT/nginx.log" 2>&1 &
nginx=$!
PIDS+=("$nginx")
wait_http "https://localhost:$NGINX_PORT/" -k || { log "nginx did not answer"; tail "$OUT/nginx.log"; exit 1; }
log "nginx: collecting for ${DURATION}s"
theirs=$(measure nginx "$NGINX_PORT" "$nginx")

read -r _ ours_n ours_i <<<"$ours"
read -r _ nginx_n nginx_i <<<"$theirs"
echo "Full TLS 1.3 handshakes ($CERT), tls_cycle -c$CONNECTIONS -n, ${DURATION}s each under callgrind"
echo
echo "| server | connections | instructions per connection |"
echo "| --- | ---: | ---: |"
echo "| ours | $ours_n | $ours_i |"
echo "| nginx | $nginx_n | $nginx_i |"
echo
echo "ours ÷ nginx: $(awk -v a="$ours_i" -v b="$nginx_i" 'BEGIN {printf "%.3f", a / b}')"
for name in ours nginx; do
    echo
    echo "## $name: exclusive top $TOP"
    cat "$OUT/$name.top"
done
