#!/usr/bin/env bash
# HTTPS and HTTP/2 (issue 15): our server with --ssl against nginx (`listen ssl http2`,
# proxy_pass with keep-alive) in front of one node process each, on the hello-world app, in
# interleaved rounds:
# - HTTP/1.1 keep-alive over TLS 1.3 (wrk -c50), ECDSA P-256 certificate;
# - h2 (h2load -c10 -m10: 10 connections, 10 streams each), ECDSA P-256;
# - a TLS 1.3 handshake per request (wrk -c50 with Connection: close), ECDSA P-256 and RSA 2048:
#   resumed handshakes (wrk keeps each connection's session, so only its first 50 sign);
#   for these also bench/tls_cycle (built here with cc): its req/s (a client that does not
#   busy-poll, unlike wrk: see below) and the whole cycle a client sees per connection,
#   connect() to the response's end, which wrk's latency (from the request's write) leaves out;
# - a full TLS 1.3 handshake per request (tls_cycle -n: a new session every time, one signature
#   per connection), ECDSA P-256 and RSA 2048 (scenarios full-ec, full-rsa).
#
# wrk polls a connection in its handshake without waiting: it watches it for writability, which
# a connected socket always has, and retries SSL_connect at every turn of its loop (40-80
# failing reads per connection against tls_cycle's 16, bench/RESULTS.md "TLS: handshake req/s
# at one core"). So on the handshake rows wrk takes a CPU whatever the server does, and on this
# 2-CPU machine the server's req/s is as much the scheduler's split as its own cost; the
# tls_cycle column is the one to read for the server.
# Writes (or replaces) the "TLS and HTTP/2" section of bench/RESULTS.md.
#
#   flock /work/team/bench.lock bench/tls.sh
#   ROUNDS=5 DURATION=5 bench/tls.sh
#   CORES=2 bench/tls.sh    # both servers on 2 cores: ours --core-threads 2, nginx 2 workers
#   SCENARIOS="handshake-ec handshake-rsa" bench/tls.sh    # some of h1 h2 handshake-ec handshake-rsa full-ec full-rsa
#   OURS_ARGS="..." bench/tls.sh    # more options for ours
#
# Both servers get the same number of cores (CORES, default 1: ours --core-threads CORES, nginx
# worker_processes CORES). One each is the default because the clients run on the same machine:
# with one core per server the server is what saturates and req/s follows its cost per request;
# with 2 (on a 2-CPU machine) each server also shares its CPUs with the client, so the result
# also measures how the scheduler splits them (bench/RESULTS.md "TLS: handshake syscalls").
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
DURATION=${DURATION:-3}
ROUNDS=${ROUNDS:-3}
START_TIMEOUT=${START_TIMEOUT:-60}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
OURS=${OURS:-$REPO/bin/passenger}
OURS_ARGS=${OURS_ARGS:-}
CORES=${CORES:-1}
NODE=${NODE:-/usr/bin/node}
WRK=${WRK:-/usr/bin/wrk}
H2LOAD=${H2LOAD:-/usr/bin/h2load}
NGINX=${NGINX:-/usr/sbin/nginx}
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

log() { echo "[tls.sh] $*" >&2; }
# h2load is Debian's nghttp2-client; run.sh installs wrk and nginx the same way.
if [[ ! -x $H2LOAD && $(id -u) == 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2-client >/dev/null
fi
for tool in "$WRK" "$H2LOAD" "$NGINX" "$OURS"; do
    [[ -x $tool ]] || { log "$tool is missing (apt-get install wrk nghttp2-client nginx; make build)"; exit 1; }
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d /tmp/passenger-bench-tls-XXXXXX)
# The full-cycle client (libssl-dev's headers; without them its columns say "–").
CYCLE=$TMP/tls_cycle
build_tls_cycle "$CYCLE" ||
    { log "tls_cycle did not build (cc, libssl-dev): $(head -3 "$CYCLE.log")"; CYCLE=""; }
chmod 755 "$TMP"  # nginx workers run as nobody
PIDS=()
cleanup() {
    stop_pids INT 2
    rm -rf "$TMP"
}
trap cleanup EXIT

self_signed_certificate ec "$TMP/ec.key" "$TMP/ec.crt"
self_signed_certificate rsa "$TMP/rsa.key" "$TMP/rsa.crt"

# start_ours NAME CERT: our server with --ssl on a free port (one node process); sets PORT_<NAME>.
start_ours() {
    local name=$1 cert=$2 dir=$TMP/$1
    free_port
    cp -r "$BENCH_DIR/apps/hello" "$dir"
    # shellcheck disable=SC2086 # OURS_ARGS is words
    "$OURS" start "$dir" --port "$FREE_PORT" --address 127.0.0.1 --environment production \
        --nodejs "$NODE" --min-instances 1 --max-pool-size 1 --log-file "$dir/passenger.log" \
        --ssl --ssl-certificate "$TMP/$cert.crt" --ssl-certificate-key "$TMP/$cert.key" \
        --core-threads "$CORES" $OURS_ARGS >"$dir/stdout" 2>&1 &
    PIDS+=($!)
    printf -v "PORT_$name" '%s' "$FREE_PORT"
    printf -v "ROOT_$name" '%s' "$!"
    wait_http "https://localhost:$FREE_PORT/" -k || { log "$name did not start"; cat "$dir/stdout" >&2; exit 1; }
}

# nginx: one server per certificate, both to one bare node process.
start_nginx() {
    free_port
    local backend=$FREE_PORT prefix=$TMP/nginx
    mkdir -p "$prefix/logs"
    cp -r "$BENCH_DIR/apps/hello" "$TMP/nginx-app"
    (cd "$TMP/nginx-app" && PORT=$backend HOST=127.0.0.1 exec "$NODE" app.js) &
    PIDS+=($!)
    NODE_FOR_NGINX=$!
    free_port
    PORT_nginx_ec=$FREE_PORT
    free_port
    PORT_nginx_rsa=$FREE_PORT
    cat >"$prefix/nginx.conf" <<EOF
$(nginx_conf_head "$prefix" "$CORES")
    ssl_protocols TLSv1.2 TLSv1.3;
    # nginx closes a connection after 1000 requests by default (h2 too: GOAWAY, which h2load
    # counts as errors and does not reconnect after); ours has no such limit.
    keepalive_requests 1000000;
    upstream app { server 127.0.0.1:$backend; keepalive 32; }
$(nginx_tls_server "$PORT_nginx_ec" "$TMP/ec.crt" "$TMP/ec.key" http2)
$(nginx_tls_server "$PORT_nginx_rsa" "$TMP/rsa.crt" "$TMP/rsa.key" http2)
}
EOF
    "$NGINX" -p "$prefix/" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    ROOT_nginx=$!
    wait_http "https://localhost:$PORT_nginx_ec/" -k && wait_http "https://localhost:$PORT_nginx_rsa/" -k ||
        { log "nginx did not start"; cat "$prefix/logs/error.log" >&2; exit 1; }
}

start_ours ours_ec ec
start_ours ours_rsa rsa
start_nginx
log "ours: $PORT_ours_ec (EC), $PORT_ours_rsa (RSA); nginx: $PORT_nginx_ec, $PORT_nginx_rsa"

# measure SCENARIO PORT PIDS...: one run; prints "req/s p99_ms cpu_us_per_req errors cycle_p50_ms
# cycle_p99_ms cycle_req/s" (the cycle's from tls_cycle after wrk, handshake scenarios only; else
# "-"). The full-* scenarios are tls_cycle -n alone: its req/s, CPU, errors and cycle.
measure() {
    local scenario=$1 port=$2 url out before after requests rps p99="-" errors cycle="- - -"
    shift 2
    url="https://localhost:$port/"
    before=$(cpu_us "$@")
    case $scenario in
        h1 | h1-rsa)
            out=$("$WRK" -t1 -c50 -d"${DURATION}s" --latency "$url" 2>&1) ;;
        handshake-ec | handshake-rsa)
            out=$("$WRK" -t1 -c50 -d"${DURATION}s" --latency -H 'Connection: close' "$url" 2>&1) ;;
        h2)
            out=$("$H2LOAD" -c10 -m10 -D "$DURATION" "$url" 2>&1) ;;
        full-ec | full-rsa)
            [[ -n $CYCLE ]] || { log "$scenario needs tls_cycle"; echo "0 - 0 0 - - -"; return; }
            out=$("$CYCLE" -n -c50 -d"$DURATION" localhost "$port" 2>&1) ;;
    esac
    after=$(cpu_us "$@")
    if [[ $scenario == handshake-* && -n $CYCLE ]]; then
        cycle=$("$CYCLE" -c50 -d"$DURATION" localhost "$port" |
            awk '$1 == "requests" { rps = $10 } $1 == "cycle" { c = $3 " " $7 } END { print c, rps }' || true)
        [[ -n $cycle ]] || cycle="- - -"
    fi
    if [[ $scenario == full-* ]]; then
        rps=$(awk '$1 == "requests" { print $10 }' <<<"$out")
        requests=$(awk '$1 == "requests" { print $2 }' <<<"$out")
        errors=$(awk '$1 == "requests" { print $4 }' <<<"$out")
        cycle=$(awk '$1 == "cycle" { print $3, $7 }' <<<"$out")" $rps"
    elif [[ $scenario == h2 ]]; then
        rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
        requests=$(awk '/^requests:/ { print $8 }' <<<"$out")
        errors=$(awk '/^requests:/ { print $10 + $12 }' <<<"$out")
    else
        rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
        requests=$(awk '/requests in/ { print $1 }' <<<"$out")
        p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' <<<"$out")
        errors=$(awk '/Socket errors|Non-2xx/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i } END { print s + 0 }' <<<"$out")
    fi
    [[ -n $rps && -n $requests && $requests -gt 0 ]] || { log "$scenario on $port: no result: $out"; echo "0 - 0 0 - - -"; return; }
    echo "$rps $p99 $(((after - before) / requests)) $errors $cycle"
}

SCENARIOS=${SCENARIOS:-h1 h2 handshake-ec handshake-rsa full-ec full-rsa}
RAW=$TMP/raw
: >"$RAW"
for round in $(seq 1 "$ROUNDS"); do
    for scenario in $SCENARIOS; do
        if [[ $scenario == *-rsa ]]; then
            ours_port=$PORT_ours_rsa ours_root=$ROOT_ours_rsa nginx_port=$PORT_nginx_rsa
        else
            ours_port=$PORT_ours_ec ours_root=$ROOT_ours_ec nginx_port=$PORT_nginx_ec
        fi
        # Alternate who goes first, so neither always meets the warmer machine.
        order="ours nginx"
        ((round % 2 == 0)) && order="nginx ours"
        for target in $order; do
            if [[ $target == ours ]]; then
                # shellcheck disable=SC2046
                result=$(measure "$scenario" "$ours_port" $(tree_pids NO_SUCH=VARIABLE "$ours_root"))
            else
                # shellcheck disable=SC2046
                result=$(measure "$scenario" "$nginx_port" $(tree_pids NO_SUCH=VARIABLE "$ROOT_nginx" "$NODE_FOR_NGINX"))
            fi
            log "round $round $scenario $target: $result"
            echo "$round $scenario $target $result" >>"$RAW"
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

SECTION=$TMP/section
{
    echo "<!-- tls.sh: begin -->"
    echo "## TLS and HTTP/2 (\`bench/tls.sh\`)"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S') UTC; $(nproc) CPUs; load average before/after: $LOAD_BEFORE / $LOAD_AFTER"
    echo "- ROUNDS=$ROUNDS DURATION=${DURATION}s; ours \`$("$OURS" --version 2>/dev/null | head -1)\` at \`$(git -C "$REPO" rev-parse --short HEAD)\`" \
        "(1 node process, --ssl --core-threads $CORES${OURS_ARGS:+ $OURS_ARGS}) against nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (\`listen ssl http2\`, $CORES worker(s), proxy_pass keep-alive to 1 bare node process);" \
        "$("$WRK" -v 2>&1 | head -1 | awk '{print "wrk " $2}'), $("$H2LOAD" --version 2>&1 | head -1); OpenSSL $(openssl version | awk '{print $2}')"
    echo "- The machine is shared: other engineers' compiles may have run during the measurements;"
    echo "  only the ratios (ours ÷ nginx, paired per round, median with min–max) mean much."
    echo
    echo "| scenario | ours req/s | nginx req/s | req/s ÷ nginx | p99 ÷ nginx | CPU µs/req ours / nginx (client excluded) | errors ours / nginx | full cycle p50 / p99 ms ours, nginx (tls_cycle) | full cycle p50 / p99 ÷ nginx | tls_cycle req/s ÷ nginx |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -v rounds="$ROUNDS" '
        function median(list, n,   i, j, t, a) {
            split(list, a, " "); n = 0
            for (i in a) if (a[i] != "") n++
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function span(list,   a, i, lo, hi, n) {
            n = split(list, a, " "); lo = hi = ""
            for (i = 1; i <= n; i++) if (a[i] != "") { if (lo == "" || a[i] + 0 < lo) lo = a[i] + 0; if (hi == "" || a[i] + 0 > hi) hi = a[i] + 0 }
            return sprintf("%.2f–%.2f", lo, hi)
        }
        { key = $1 " " $2; rps[key, $3] = $4; p99[key, $3] = $5; cpu[key, $3] = $6; err[$2, $3] += $7; seen[$2] = 1; rounds_of[$2] = rounds_of[$2] " " $1
          c50[key, $3] = NF >= 9 ? $8 : "-"; c99[key, $3] = NF >= 9 ? $9 : "-"; crps[key, $3] = NF >= 10 ? $10 : "-" }
        END {
            names["h1"] = "HTTP/1.1 keep-alive, TLS 1.3, ECDSA P-256 (wrk -c50)"
            names["h2"] = "h2, ECDSA P-256 (h2load -c10 -m10)"
            names["handshake-ec"] = "a resumed handshake per request, ECDSA P-256 (wrk -c50, Connection: close)"
            names["handshake-rsa"] = "a resumed handshake per request, RSA 2048 (wrk -c50, Connection: close)"
            names["full-ec"] = "a full handshake per request, ECDSA P-256 (tls_cycle -c50 -n)"
            names["full-rsa"] = "a full handshake per request, RSA 2048 (tls_cycle -c50 -n)"
            order[1] = "h1"; order[2] = "h2"; order[3] = "handshake-ec"; order[4] = "handshake-rsa"
            order[5] = "full-ec"; order[6] = "full-rsa"
            for (o = 1; o <= 6; o++) {
                s = order[o]; if (!(s in seen)) continue
                ro = ""; rn = ""; rr = ""; pr = ""; co = ""; cn = ""; q50o = ""; q50n = ""; q99o = ""; q99n = ""; q50r = ""; q99r = ""; cr = ""
                for (r = 1; r <= rounds; r++) {
                    k = r " " s
                    ro = ro " " rps[k, "ours"]; rn = rn " " rps[k, "nginx"]
                    if (rps[k, "nginx"] > 0) rr = rr " " rps[k, "ours"] / rps[k, "nginx"]
                    if (p99[k, "nginx"] != "-" && p99[k, "nginx"] > 0) pr = pr " " p99[k, "ours"] / p99[k, "nginx"]
                    co = co " " cpu[k, "ours"]; cn = cn " " cpu[k, "nginx"]
                    if (c50[k, "ours"] != "-" && c50[k, "nginx"] != "-" && c50[k, "nginx"] > 0) {
                        q50o = q50o " " c50[k, "ours"]; q50n = q50n " " c50[k, "nginx"]; q50r = q50r " " c50[k, "ours"] / c50[k, "nginx"]
                        q99o = q99o " " c99[k, "ours"]; q99n = q99n " " c99[k, "nginx"]; q99r = q99r " " c99[k, "ours"] / c99[k, "nginx"]
                    }
                    if (crps[k, "ours"] != "-" && crps[k, "nginx"] != "-" && crps[k, "nginx"] > 0) cr = cr " " crps[k, "ours"] / crps[k, "nginx"]
                }
                cycles = q50r == "" ? "– | –" : sprintf("%.1f / %.1f, %.1f / %.1f | %.2f (%s) / %.2f (%s)", median(q50o), median(q99o),
                    median(q50n), median(q99n), median(q50r), span(q50r), median(q99r), span(q99r))
                printf "| %s | %\047d | %\047d | %.2f (%s) | %s | %d / %d | %d / %d | %s | %s |\n", names[s], median(ro), median(rn),
                    median(rr), span(rr), pr == "" ? "–" : sprintf("%.2f (%s)", median(pr), span(pr)), median(co), median(cn),
                    err[s, "ours"], err[s, "nginx"], cycles, cr == "" ? "–" : sprintf("%.2f (%s)", median(cr), span(cr))
            }
        }' "$RAW"
    echo
    echo "<details><summary>Every run (round scenario target req/s p99_ms CPU_µs/req errors cycle_p50_ms cycle_p99_ms cycle_req/s)</summary>"
    echo
    echo '```'
    cat "$RAW"
    echo '```'
    echo
    echo "</details>"
    echo "<!-- tls.sh: end -->"
} >"$SECTION"

# Replace the section between its markers (run.sh keeps it), or append it.
touch "$RESULTS"
if grep -q '^<!-- tls.sh: begin -->$' "$RESULTS"; then
    awk -v section="$SECTION" '
        /^<!-- tls.sh: begin -->$/ { while ((getline line < section) > 0) print line; skip = 1; next }
        /^<!-- tls.sh: end -->$/ { skip = 0; next }
        !skip { print }' "$RESULTS" >"$TMP/results"
else
    { cat "$RESULTS"; echo; cat "$SECTION"; } >"$TMP/results"
fi
cp "$TMP/results" "$RESULTS"
cat "$SECTION"
