#!/usr/bin/env bash
# Installs everything the build, the tests and the example apps need on Debian 12 (run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential cmake pkg-config clang-format
    clang libclang-rt-14-dev
    libasio-dev node-llhttp nlohmann-json3-dev libcli11-dev libfmt-dev
    libssl-dev openssl libnghttp2-dev
    googletest libgtest-dev libgmock-dev
    curl procps
    ruby ruby-rack python3
    chromium
    nginx nginx-dev
    apache2 apache2-dev
    haproxy
    systemd  # systemd-analyze verify checks examples/deploy's unit (ops-init test)
)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$package")
done
# Node.js: the machine may already have its own build (with npm); take Debian's only if absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages used by the integration tests (real clients) and the example apps.
for dir in tests/integration examples/*/; do
    if [ -f "$dir/package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
