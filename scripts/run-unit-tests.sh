#!/usr/bin/env bash
# Runs every unit test of BUILD_DIR/unit_tests as SHARDS GoogleTest shards at once (`make
# unit-test`, `make asan-test`). ctest starts the binary once per test: 511 starts cost nothing in
# Release but about 0.6 s of CPU each under ASan (its runtime's start and LeakSanitizer's exit
# scan of a 250 MB binary), minutes on a 2-core machine. A shard is one process; the tests mostly
# wait (timers, children), so more shards than cores shorten the run. Each shard is bounded by
# TIMEOUT seconds; its whole output goes to BUILD_DIR/unit-shard-N.log and is printed if it fails.
# `ctest -R pattern` in the build folder still runs single tests in their own process.
# Usage: run-unit-tests.sh BUILD_DIR [SHARDS] [TIMEOUT]
set -uo pipefail
build_dir=$1 shards=${2:-4} timeout_seconds=${3:-600}
binary=$build_dir/unit_tests

pids=()
for ((index = 0; index < shards; index++)); do
    GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$index timeout --kill-after=10 "$timeout_seconds" \
        "$binary" --gtest_color=no >"$build_dir/unit-shard-$index.log" 2>&1 &
    pids+=($!)
done

failed=0 passed=0
for ((index = 0; index < shards; index++)); do
    log=$build_dir/unit-shard-$index.log
    if wait "${pids[$index]}"; then
        passed=$((passed + $(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$log")))
    else
        status=$?
        failed=1
        echo "=== unit test shard $index/$shards failed (exit $status$([ $status -ge 124 ] && echo ", timed out after ${timeout_seconds} s")): $log"
        cat "$log"
    fi
done
[ $failed -eq 0 ] && echo "unit tests: $passed passed in $shards shards ($binary)"
exit $failed
