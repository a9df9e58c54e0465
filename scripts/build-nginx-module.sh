#!/usr/bin/env bash
# Builds the nginx module (src/integrations/nginx/) for Debian's own nginx, as Debian builds its
# dynamic modules: nginx's configure from nginx-dev with Debian's conf_flags (--with-compat, so the
# module's signature matches /usr/sbin/nginx), then `make modules`.
# Usage: build-nginx-module.sh MODULE_SOURCE_DIR BUILD_DIR OUTPUT_SO
set -euo pipefail
module_dir=$1 build_dir=$2 output=$3
nginx_src=/usr/share/nginx/src
if [ ! -f "$nginx_src/conf_flags" ]; then
    echo "build-nginx-module.sh: $nginx_src/conf_flags is missing (apt-get install nginx-dev)" >&2
    exit 1
fi
mkdir -p "$build_dir"
cd "$build_dir"
# configure writes objs/ and a Makefile into the current folder: run it in the build folder with
# links to the (read-only) sources.
for entry in auto configure src; do ln -sfn "$nginx_src/$entry" "$entry"; done
if [ ! -f objs/Makefile ] || [ "$module_dir/config" -nt objs/Makefile ] ||
    [ "$nginx_src/conf_flags" -nt objs/Makefile ]; then
    # shellcheck source=/dev/null
    source "$nginx_src/conf_flags"
    ./configure "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$module_dir" >configure.log 2>&1 ||
        { tail -20 configure.log >&2; exit 1; }
fi
make -s -f objs/Makefile modules
cp objs/ngx_http_passenger_module.so "$output"
