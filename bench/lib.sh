# Helpers shared by run.sh, extended.sh, memory.sh and connections.sh (sourced; both run with set -euo pipefail and set NODE).

CLK_TCK=$(getconf CLK_TCK)
USED_PORTS=" "

# tree_pids NAME=VALUE [PID...]: the processes whose environment holds NAME=VALUE, the PIDs given,
# and all their descendants. (nginx overwrites its environment with its process title, and a
# server's spawner may clear it, so the pids we started and their descendants count too.)
tree_pids() {
    local roots
    roots=$(grep -lzx -- "$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | tr '\n' ' ' || true)
    shift
    roots+=" $*"
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$roots" -v self="$$" '
        { n = split($0, a, ")"); split(a[n], f, " "); parent[$1] = f[2] }
        END {
            k = split(roots, r, " ")
            for (i = 1; i <= k; i++) keep[r[i]] = 1
            do {
                changed = 0
                for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
            } while (changed)
            for (p in keep) if (p != self && (p in parent)) printf "%s ", p
        }' || true
}

# cpu_us PID...: user+system CPU time those processes have used so far, in microseconds.
cpu_us() {
    local p stat fields ticks=0
    for p; do
        { stat=$(<"/proc/$p/stat"); } 2>/dev/null || continue
        read -r -a fields <<<"${stat##*) }"
        ticks=$((ticks + fields[11] + fields[12]))
    done
    echo $((ticks * 1000000 / CLK_TCK))
}

# free_port: sets FREE_PORT to a loopback port nobody listens on and this run has not handed out.
free_port() {
    while :; do
        FREE_PORT=$("$NODE" -e 'const s=require("net").createServer();
            s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')
        [[ $USED_PORTS == *" $FREE_PORT "* ]] && continue
        USED_PORTS+="$FREE_PORT "
        return
    done
}

# wait_http URL [CURL_ARGS...]: polls URL until it answers 2xx, for at most START_TIMEOUT
# seconds (CURL_ARGS: e.g. -k for a self-signed HTTPS server).
wait_http() {
    local url=$1 deadline=$((SECONDS + START_TIMEOUT))
    shift
    while ((SECONDS < deadline)); do
        curl -fsS "$@" -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# nginx_conf_head PREFIX [WORKERS]: the start of an nginx.conf (up to inside http{}) for a
# target's prefix, with WORKERS worker processes (default: $NGINX_WORKERS, else 1).
nginx_conf_head() {
    local prefix=$1 user=""
    [[ $(id -u) == 0 ]] && user="user nobody nogroup;"
    cat <<EOF
$user
worker_processes ${2:-${NGINX_WORKERS:-1}};
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
EOF
}

# self_signed_certificate ec|rsa KEY CERT: a throwaway certificate for localhost (ECDSA P-256 or
# RSA 2048), readable by nginx's workers (they run as nobody). False for another kind.
self_signed_certificate() {
    local key_args
    case $1 in
        ec) key_args=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
        rsa) key_args=(-newkey rsa:2048) ;;
        *) return 1 ;;
    esac
    openssl req -x509 "${key_args[@]}" -nodes -keyout "$2" -out "$3" -days 2 -subj /CN=localhost \
        2>/dev/null && chmod 644 "$2" "$3"
}

# build_tls_cycle OUT: builds bench/tls_cycle.c (libssl-dev's headers) into OUT; compiler errors
# go to OUT.log.
build_tls_cycle() {
    cc -O2 -o "$1" "$BENCH_DIR/tls_cycle.c" -lssl -lcrypto 2>"$1.log"
}

# nginx_tls_server PORT CERT KEY [LISTEN_FLAGS]: an nginx server block with TLS on PORT, proxying
# to the caller's `upstream app`.
nginx_tls_server() {
    cat <<EOF
    server {
        listen 127.0.0.1:$1 ssl${4:+ $4};
        ssl_certificate $2;
        ssl_certificate_key $3;
        location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
EOF
}

# stop_pids SIGNAL SECONDS: the scripts' cleanup: SIGNAL to every pid in the caller's PIDS, then
# SIGKILL to whatever is left after SECONDS.
stop_pids() {
    local signal=$1 grace=$2 pid
    for pid in "${PIDS[@]}"; do kill "-$signal" "$pid" 2>/dev/null || true; done
    sleep "$grace"
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# core_options APP_DIR OUT_FILE BINARY START_ARGS...: starts `BINARY start START_ARGS...` in
# APP_DIR, writes its core's PASSENGER_CORE_OPTIONS to OUT_FILE and stops it (profile.sh and
# profile_tls.sh run the core outside its watchdog with these). False when no core showed up.
core_options() {
    local dir=$1 out=$2 binary=$3 probe core="" _
    shift 3
    (cd "$dir" && exec setsid "$binary" start "$@" >"$out.log" 2>&1 </dev/null) &
    probe=$!
    for _ in $(seq 1 100); do
        core=$(ps -eo pid=,ppid=,args= | awk -v w="$probe" '$2 == w && $3 == "passenger" && $4 == "core" {print $1}')
        [[ -n $core ]] && grep -qz '^PASSENGER_CORE_OPTIONS=' "/proc/$core/environ" 2>/dev/null && break
        sleep 0.1
    done
    [[ -n $core ]] && tr '\0' '\n' <"/proc/$core/environ" | grep '^PASSENGER_CORE_OPTIONS=' | cut -d= -f2- >"$out"
    kill -TERM "$probe"
    wait "$probe" 2>/dev/null || true
    [[ -s $out ]]
}
