#!/usr/bin/env bash
# Builds the Apache module (src/integrations/apache2/) with Debian's apxs (apache2-dev), as any
# third-party Apache module is built. The objects go to BUILD_DIR (the sources are linked there so
# that libtool writes nothing into src/); the module is copied to OUTPUT_SO.
# Usage: build-apache2-module.sh MODULE_SOURCE_DIR BUILD_DIR OUTPUT_SO
set -euo pipefail
module_dir=$1 build_dir=$2 output=$3
if ! command -v apxs >/dev/null; then
    echo "build-apache2-module.sh: apxs is missing (apt-get install apache2-dev)" >&2
    exit 1
fi
mkdir -p "$build_dir"
cd "$build_dir"
sources=()
# ../common: what the nginx module shares (starting the watchdog).
for file in "$module_dir"/*.c "$module_dir"/*.h "$module_dir"/../common/*.c "$module_dir"/../common/*.h; do
    ln -sfn "$file" "$(basename "$file")"
    case $file in *.c) sources+=("$(basename "$file")") ;; esac
done
apxs -c -o mod_passenger.la -Wc,-Wall -Wc,-Wextra -Wc,-Werror -Wc,-std=gnu11 "${sources[@]}" >build.log 2>&1 ||
    { cat build.log >&2; exit 1; }
cp .libs/mod_passenger.so "$output"
