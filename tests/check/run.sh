#!/bin/sh
# partd --check golden cases: each cases/NAME/ is a configuration directory
# with NAME.out (stdout), NAME.err (stderr) and NAME.rc (exit code) beside
# it. Paths in the output are relative to cases/. Usage: run.sh PARTD
set -u
partd=$1
cd "$(dirname "$0")/cases" || exit 2
pass=0
fail=0
for dir in */; do
    name=${dir%/}
    out=$(mktemp) err=$(mktemp)
    "$partd" --check "$name" >"$out" 2>"$err"
    rc=$?
    # the test-driver URI is absolute: make it relative to tests/check; so
    # are the directories of host paths in messages: relative to cases/
    sed -i "s|test://$(dirname "$(pwd)")/|test://../|" "$out"
    sed -i "s|$(pwd)/||g" "$err"
    ok=1
    [ "$rc" = "$(cat "$name.rc")" ] || { echo "FAIL $name: exit $rc, expected $(cat "$name.rc")"; ok=0; }
    diff -u "$name.out" "$out" || { echo "FAIL $name: stdout differs"; ok=0; }
    diff -u "$name.err" "$err" || { echo "FAIL $name: stderr differs"; ok=0; }
    if [ $ok = 1 ]; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); fi
    rm -f "$out" "$err"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
