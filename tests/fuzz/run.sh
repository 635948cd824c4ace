#!/bin/sh
# Runs the libFuzzer harnesses of a PARTD_FUZZ=ON build, each for SECONDS.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS [NAME...]   (NAME: size profile
#        config policy resize api; default all)
# Each harness first runs its seed corpus (tests/fuzz/corpus/NAME, which holds
# the regression inputs too), then mutates for SECONDS. New inputs go to
# BUILD_DIR/tests/fuzz/corpus/NAME, crashes to BUILD_DIR/tests/fuzz/artifacts/;
# the log of each run is BUILD_DIR/tests/fuzz/NAME.log. Prints one line per
# harness with its exec count, then "N passed, M failed"; exits 1 on a failure.
# PARTD_FUZZ_JOBS=N runs N harnesses at once (default 1).
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR SECONDS [NAME...]" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
names=${*:-size profile config policy resize api}
out=$build/tests/fuzz
mkdir -p "$out/artifacts"
export PART_SRCDIR=${PART_SRCDIR:-$(cd "$src/../.." && pwd)}
# leaks are findings too; UBSan stops at the first report
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
    name=$1
    bin=$out/fuzz-$name
    log=$out/$name.log
    if [ ! -x "$bin" ]; then
        echo "FAIL fuzz-$name: $bin is not built (cmake --build $build --target fuzzers)"
        return 1
    fi
    mkdir -p "$out/corpus/$name"
    dict="-dict=$src/dict/json.dict" # the JSON parsers
    [ -f "$src/dict/$name.dict" ] && dict="-dict=$src/dict/$name.dict"
    # -max_len: bodies up to 16 KiB for the JSON parsers, 256 B for sizes
    maxlen=16384
    [ "$name" = size ] && maxlen=256
    "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=$maxlen \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" $dict \
        "$out/corpus/$name" "$src/corpus/$name" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
    if [ $rc -eq 0 ]; then
        echo "ok   fuzz-$name: ${runs:-?} execs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$out/corpus/$name" | wc -l) new"
        return 0
    fi
    echo "FAIL fuzz-$name: exit $rc after ${runs:-?} execs; log $log"
    grep -m1 -E 'ERROR: |runtime error:|deadly signal|Test unit written' "$log" | sed 's/^/     /'
    grep -E '^artifact_prefix|Test unit written to' "$log" | sed 's/^/     /'
    return 1
}

passed=0 failed=0
jobs=${PARTD_FUZZ_JOBS:-1}
if [ "$jobs" -le 1 ]; then
    for n in $names; do
        if run_one "$n"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
else
    tmp=$(mktemp -d)
    for n in $names; do
        while [ "$(ls "$tmp" | grep -c '\.running$')" -ge "$jobs" ]; do sleep 1; done
        touch "$tmp/$n.running"
        ( if run_one "$n" >"$tmp/$n.out"; then touch "$tmp/$n.ok"; fi; rm -f "$tmp/$n.running" ) &
    done
    wait
    for n in $names; do
        cat "$tmp/$n.out"
        if [ -e "$tmp/$n.ok" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
    rm -rf "$tmp"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
