# Apache targets of bench/run.sh (sourced by it): the same Debian Apache 2.4 (event MPM, run
# directly with -d/-f -DFOREGROUND, as nobody when root) three ways, to compare our module
# (issue 13) with what Apache users have:
#   apache-N     mod_proxy (proxy_http, a balancer of N plain `node app.js`, kept-alive backends)
#   apachemod-N  our module (`make apache2-module`): the app in DocumentRoot's parent, N processes
#   apachepsg-N  Debian's libapache2-mod-passenger 6.0.17 (a peer we only compare against)
# Run with `TARGETS="node apache apachemod apachepsg" BENCH_REFERENCE=apache bench/run.sh`.

APACHE=${APACHE:-/usr/sbin/apache2}
APACHE_MODULES=/usr/lib/apache2/modules
DEBIAN_MOD_PASSENGER=$APACHE_MODULES/mod_passenger.so

# apache_conf_head PREFIX PORT MODULES...: the server config up to the VirtualHost.
apache_conf_head() {
    local prefix=$1 port=$2 name
    shift 2
    for name in mpm_event authz_core "$@"; do
        echo "LoadModule ${name}_module $APACHE_MODULES/mod_$name.so"
    done
    if [[ $(id -u) == 0 ]]; then printf 'User nobody\nGroup nogroup\n'; fi
    printf '%s\n' "ServerName localhost" "PidFile $prefix/apache2.pid" "Mutex file:$prefix" \
        "ErrorLog $prefix/logs/error.log" "LogLevel warn" "Listen 127.0.0.1:$port"
}

# run_apache_target TARGET PREFIX PORT APPDIR: starts Apache on PREFIX/apache2.conf, waits for PORT.
run_apache_target() {
    local t=$1 prefix=$2 port=$3 dir=$4
    spawn "$t" "$prefix" "$APACHE" -d "$prefix" -f "$prefix/apache2.conf" -DFOREGROUND
    activate_when_ready "$t" "$port" "$dir" "$SPAWNED"
}

# apache_prefix TARGET: sets PREFIX (a fresh ServerRoot) and PORT_NOW (a free port).
apache_prefix() {
    PREFIX="$WORK/$1"
    mkdir -p "$PREFIX/logs"
    chmod 755 "$PREFIX"
    free_port
    PORT_NOW=$FREE_PORT
}

start_apache() {
    local n=$1 t="apache-$1" dir i bport members=""
    register "$t" "$n" "Apache $APACHE_VERSION mod_proxy → node"
    [[ -x $APACHE ]] || { fail_target "$t" "$APACHE is not installed (apt-get install apache2)"; return; }
    dir=$(copy_app "$t")
    for i in $(seq 1 "$n"); do
        free_port
        bport=$FREE_PORT
        spawn "$t" "$dir" env PORT="$bport" HOST=127.0.0.1 "$NODE" app.js
        wait_ready "http://127.0.0.1:$bport/" "$SPAWNED" || { fail_target "$t" "backend node $i did not answer"; return; }
        members+="        BalancerMember http://127.0.0.1:$bport"$'\n'
    done
    apache_prefix "$t"
    {
        apache_conf_head "$PREFIX" "$PORT_NOW" proxy proxy_http proxy_balancer slotmem_shm lbmethod_byrequests
        printf '%s\n' "<VirtualHost 127.0.0.1:$PORT_NOW>" "    <Proxy balancer://app>"
        printf '%s' "$members"
        printf '%s\n' "    </Proxy>" "    ProxyPass / balancer://app/" "    ProxyPreserveHost On" "</VirtualHost>"
    } >"$PREFIX/apache2.conf"
    run_apache_target "$t" "$PREFIX" "$PORT_NOW" "$dir"
}

start_apachemod() {
    local n=$1 t="apachemod-$1" dir module
    register "$t" "$n" "Apache $APACHE_VERSION + our module"
    module=$("$REPO/bin/passenger-config" about apache2-module 2>/dev/null || true)
    [[ -x $APACHE && -f $module ]] || { fail_target "$t" "Apache or the module is missing (make apache2-module)"; return; }
    dir=$(copy_app "$t")
    apache_prefix "$t"
    {
        apache_conf_head "$PREFIX" "$PORT_NOW"
        printf '%s\n' "LoadModule passenger_module $module" \
            "PassengerRoot $("$REPO/bin/passenger-config" about root)" \
            "PassengerMaxPoolSize $n" "PassengerInstanceRegistryDir $PREFIX" \
            "<VirtualHost 127.0.0.1:$PORT_NOW>" "    DocumentRoot $dir/public" \
            "    PassengerNodejs $NODE" "    PassengerMinInstances $n" "</VirtualHost>"
    } >"$PREFIX/apache2.conf"
    run_apache_target "$t" "$PREFIX" "$PORT_NOW" "$dir"
}

start_apachepsg() {
    local n=$1 t="apachepsg-$1" dir
    register "$t" "$n" "Apache $APACHE_VERSION + Debian mod_passenger $PASSENGER_VERSION"
    [[ -x $APACHE && -f $DEBIAN_MOD_PASSENGER ]] ||
        { fail_target "$t" "$DEBIAN_MOD_PASSENGER is missing (apt-get install libapache2-mod-passenger)"; return; }
    dir=$(copy_app "$t")
    apache_prefix "$t"
    mkdir -p "$PREFIX/registry"
    # Passenger's module needs mod_dir and, for a Node app, PassengerAppRoot (without them it
    # declines and Apache answers 404).
    {
        apache_conf_head "$PREFIX" "$PORT_NOW" dir
        printf '%s\n' "LoadModule passenger_module $DEBIAN_MOD_PASSENGER" \
            "PassengerRoot /usr/lib/ruby/vendor_ruby/phusion_passenger/locations.ini" \
            "PassengerDefaultRuby /usr/bin/ruby" "PassengerMaxPoolSize $n" \
            "PassengerInstanceRegistryDir $PREFIX/registry" \
            "PassengerDisableSecurityUpdateCheck on" "PassengerDisableAnonymousTelemetry on" \
            "<VirtualHost 127.0.0.1:$PORT_NOW>" "    DocumentRoot $dir/public" \
            "    PassengerAppRoot $dir" "    PassengerAppType node" "    PassengerStartupFile app.js" \
            "    PassengerNodejs $NODE" "    PassengerMinInstances $n" "</VirtualHost>"
    } >"$PREFIX/apache2.conf"
    run_apache_target "$t" "$PREFIX" "$PORT_NOW" "$dir"
}
