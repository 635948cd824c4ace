#!/bin/sh
# partctl's command line without a server: exit codes and messages of usage
# errors, local validation, an unreachable partd, help, completion and the
# man page. Usage: partctl-cli.sh PARTCTL
set -u
partctl=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
# nothing listens on port 1 (privileged, never a partd): every request fails
unset PARTD_TOKEN
export PARTD_SERVER=http://127.0.0.1:1

# check, ok and lacks (they use tmp, pass and fail)
. "$(dirname "$0")/lib.sh"

commands="cpc list show define undefine activate deactivate resize plan rebalance policy events
top metrics validate version health"

# help
check "--help" 0 '^Usage: partctl' "$partctl" --help
for c in $commands help completion; do
    check "--help lists $c" 0 "^  $c( |$)" "$partctl" --help
    check "$c --help" 0 "^Usage: partctl $c" "$partctl" "$c" --help
done
check "help resize" 0 '--scope SCOPE' "$partctl" help resize
check "help events" 0 '--since N' "$partctl" help events
check "help top" 0 '--iterations N' "$partctl" help top
check "help policy" 0 '^Usage: partctl policy \[POLICY\] \[--list\]$' "$partctl" help policy
check "help of an unknown command" 2 "unknown command 'bogus'" "$partctl" help bogus
check "--version" 0 '^partctl [0-9]+\.[0-9]+\.[0-9]+$' "$partctl" --version

# usage errors
check "no command" 2 'no command given' "$partctl"
check "unknown command" 2 "unknown command 'bogus'" "$partctl" bogus
check "unknown option" 2 "unknown option '--bogus'" "$partctl" list --bogus
check "command option before the command" 2 "unknown option '--force'" \
    "$partctl" --force deactivate prod
check "missing argument" 2 'missing argument NAME' "$partctl" show
check "missing file" 2 'missing argument FILE' "$partctl" validate
check "extra argument" 2 "unexpected argument 'b'" "$partctl" show a b
check "option without its argument" 2 'option --cpus needs an argument' \
    "$partctl" resize prod --cpus
check "flag with an argument" 2 'option --force takes no argument' \
    "$partctl" deactivate prod --force=yes
check "resize without changes" 2 'nothing to change' "$partctl" resize prod
check "resize with only a scope" 2 'nothing to change' "$partctl" resize prod --scope running
check "bad --scope" 2 "invalid value 'now' for --scope" "$partctl" resize prod --cpus 2 --scope now
check "bad --cpus" 2 "invalid --cpus 'two'" "$partctl" resize prod --cpus two
check "bad --memory" 2 "invalid --memory '8GB'" "$partctl" resize prod --memory 8GB
check "bad --cap" 2 "invalid --cap '-1'" "$partctl" resize prod --cap -1
check "bad --weight" 2 "invalid --weight '1.5'" "$partctl" resize prod --weight 1.5
check "bad deactivate --timeout" 2 "invalid --timeout 'soon' \(seconds\)" \
    "$partctl" deactivate prod --timeout soon
check "bad global --timeout" 2 "invalid --timeout '0'" "$partctl" --timeout 0 list
check "bad -o" 2 "invalid value 'yaml' for --output" "$partctl" -o yaml list
check "bad shell" 2 "invalid SHELL 'fish'" "$partctl" completion fish

# usage errors of the rebalancer, events, top and metrics
check "plan with an argument" 2 "unexpected argument 'prod'" "$partctl" plan prod
check "rebalance with an argument" 2 "unexpected argument 'now'" "$partctl" rebalance now
check "metrics with an option" 2 "unknown option '--follow'" "$partctl" metrics --follow
check "policy with two names" 2 "unexpected argument 'b'" "$partctl" policy a b
check "policy with an empty name" 2 'the policy name is empty' "$partctl" policy ''
check "policy --list with a name" 2 'give no POLICY with it' "$partctl" policy --list balanced
check "plan --policy with --all" 2 'not with --all' "$partctl" plan --policy balanced --all
check "plan --policy ''" 2 'the policy name is empty' "$partctl" plan --policy ''
check "policy without a name asks partd" 1 'cannot reach partd' "$partctl" policy
check "bad --since" 2 "invalid --since 'x' \(an event number" "$partctl" events --since x
check "negative --since" 2 "invalid --since '-1'" "$partctl" events --since -1
check "fractional --since" 2 "invalid --since '1.5'" "$partctl" events --since 1.5
check "--since too big" 2 "invalid --since '18446744073709551616'" \
    "$partctl" events --since 18446744073709551616
check "--since without N" 2 'option --since needs an argument \(N\)' "$partctl" events --since
check "--follow with an argument" 2 'option --follow takes no argument' \
    "$partctl" events --follow=yes
check "bad --since with --follow" 2 "invalid --since ''" "$partctl" events --follow --since ''
check "top --iterations 0" 2 "invalid --iterations '0' \(a whole number, 1 or more\)" \
    "$partctl" top --iterations 0
check "top --iterations x" 2 "invalid --iterations 'x'" "$partctl" top --iterations x
check "top --iterations -2" 2 "invalid --iterations '-2'" "$partctl" top --iterations -2
check "top --interval 0" 2 "invalid --interval '0' \(seconds, over 0\)" "$partctl" top --interval 0
check "top --interval -1" 2 "invalid --interval '-1'" "$partctl" top --interval -1
check "top --interval soon" 2 "invalid --interval 'soon'" "$partctl" top --interval soon
check "top --interval nan" 2 "invalid --interval 'nan'" "$partctl" top --interval nan
check "top --interval over a day" 2 "invalid --interval '86401'" "$partctl" top --interval 86401
check "top's --timeout is the global one" 2 "invalid --timeout '0'" "$partctl" top --timeout 0

# typed options: every value is converted and checked against its range
# (libpart's for the settings, partd's for the deactivation timeout) before
# any request. A recorder stands in for partd to show what is sent, and
# that nothing is for a bad value.
: >"$tmp/requests"
python3 "$(dirname "$0")/recorder.py" "$tmp/requests" "$tmp/port" &
recorder=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
rec=http://127.0.0.1:$(cat "$tmp/port")
# sent NAME REGEX: the last request the recorder got matches REGEX
sent() {
    tail -n 1 "$tmp/requests" >"$tmp/last"
    ok "$1" grep -Eq -- "$2" "$tmp/last"
}
# refused NAME REGEX ARGS...: partctl ARGS exits with 2 and a message that
# matches REGEX, and sends nothing
refused() {
    name=$1 regex=$2
    shift 2
    before=$(wc -l <"$tmp/requests")
    check "$name" 2 "$regex" "$partctl" --server "$rec" "$@"
    ok "$name: nothing sent" test "$(wc -l <"$tmp/requests")" = "$before"
}
refused "deactivate --timeout over partd's limit" \
    "^partctl: invalid --timeout '601' \(seconds\), at most 600$" deactivate prod --timeout 601
refused "deactivate --timeout over the limit in minutes" \
    "invalid --timeout '11m' \(seconds\), at most 600" deactivate prod --timeout 11m
refused "deactivate --timeout over the limit in hours" \
    "invalid --timeout '1h' \(seconds\), at most 600" deactivate prod --timeout 1h
refused "deactivate --timeout below 0" "invalid --timeout '-1' \(seconds\), at most 600" \
    deactivate prod --timeout -1
refused "deactivate --timeout in days" "invalid --timeout '1d' \(seconds\), at most 600" \
    deactivate prod --timeout 1d
refused "deactivate --timeout with an exponent" "invalid --timeout '1e3' \(seconds\)" \
    deactivate prod --timeout 1e3
refused "deactivate --timeout empty" "invalid --timeout '' \(seconds\)" deactivate prod --timeout=
refused "resize --cpus 0" \
    "^partctl: invalid --cpus '0' \(a whole number, 1 or more\), at most 1024$" \
    resize prod --cpus 0
refused "resize --cpus over libpart's maximum" "invalid --cpus '1025' .*, at most 1024$" \
    resize prod --cpus 1025
refused "resize --cpus negative" "invalid --cpus '-2' \(a whole number, 1 or more\)" \
    resize prod --cpus -2
refused "resize --cpus not a number" "invalid --cpus '4x' .*, at most 1024$" resize prod --cpus 4x
refused "resize --weight 0" "invalid --weight '0' \(a whole number, 1 or more\), at most 999$" \
    resize prod --weight 0
refused "resize --weight 1000" "invalid --weight '1000' .*, at most 999$" resize prod --weight 1000
refused "resize --weight not a number" "invalid --weight 'heavy' .*, at most 999$" \
    resize prod --weight heavy
refused "resize --weight-min 0" "invalid --weight-min '0' .*1 or more.*at most 999$" \
    resize prod --weight-min 0
refused "resize --weight-max 1000" "invalid --weight-max '1000' .*at most 999$" \
    resize prod --weight-max 1000
refused "resize --cap under 0.01" \
    "^partctl: invalid --cap '0' \(processors, 0.01 or more\), at most 255, or none$" \
    resize prod --cap 0
refused "resize --cap over 255" "invalid --cap '255.5' .*, at most 255, or none$" \
    resize prod --cap 255.5
refused "resize --cap not a number" "invalid --cap 'nan' .*, or none$" resize prod --cap nan
refused "resize --cap None" "invalid --cap 'None' .*, or none$" resize prod --cap None
refused "resize --memory 0" \
    "^partctl: invalid --memory '0' \(MiB, or a size with MiB, GiB or TiB, 1MiB or more\)$" \
    resize prod --memory 0
refused "resize --memory in half MiB" "invalid --memory '1.5MiB' .*1MiB or more" \
    resize prod --memory 1.5MiB
refused "resize --memory negative" "invalid --memory '-4GiB' .*1MiB or more" \
    resize prod --memory -4GiB
refused "resize --memory in GB" "invalid --memory '8GB' .*1MiB or more" resize prod --memory 8GB
refused "a bad value among good ones" "invalid --weight '0'" \
    resize prod --cpus 4 --memory 8GiB --weight 0
refused "a bad value after a good one for the same option" "invalid --cpus '0'" \
    resize prod --cpus 4 --cpus 0
ok "resize --cap none is taken" "$partctl" --server "$rec" resize prod --cap none
sent "resize --cap none is sent as null" '^PATCH /v1/partitions/prod \{"cap":null\}$'
ok "resize at libpart's bounds" "$partctl" --server "$rec" resize prod \
    --cpus 1024 --weight 999 --weight-min 1 --weight-max 999 --cap 0.01 --memory 1.5GiB
sent "resize at the bounds: the body" \
    '"processors":1024,"memory":1536,"weight":999,"weight_min":1,"weight_max":999,"cap":0.01\}$'
ok "resize --cap 255 --scope running" "$partctl" --server "$rec" resize prod \
    --cap 255 --scope running
sent "resize --cap 255: the body" '\{"cap":255(\.0)?,"scope":"running"\}$'
check "deactivate --timeout at partd's limit" 0 '^partition prod deactivated$' \
    "$partctl" --server "$rec" deactivate prod --timeout 10m --force
sent "deactivate --timeout 10m: the body" \
    '^POST /v1/partitions/prod/deactivate \{"force":true,"timeout":600\}$'
check "deactivate --timeout 0" 0 '^partition prod deactivated$' "$partctl" --server "$rec" \
    deactivate prod --timeout 0
sent "deactivate --timeout 0: the body" '\{"timeout":0\}$'
check "deactivate --timeout 1.5m" 0 '^partition prod deactivated$' "$partctl" --server "$rec" deactivate prod --timeout 1.5m
sent "deactivate --timeout 1.5m: the body" '\{"timeout":90\}$'
check "deactivate --timeout 2.5" 0 '^partition prod deactivated$' "$partctl" --server "$rec" deactivate prod --timeout 2.5
sent "deactivate --timeout 2.5: the body" '\{"timeout":2.5\}$'
check "events --since 007" 0 '^TIME +BY' "$partctl" --server "$rec" events --since 007
sent "events --since: the query" '^GET /v1/events\?since=7 $'
kill "$recorder"
wait "$recorder" 2>/dev/null
check "help resize shows libpart's ranges" 0 '--cpus N .*; 1 to 1024$' "$partctl" help resize
check "help resize shows the cap's none" 0 '0.01 to 255, or none$' "$partctl" help resize
check "help deactivate shows partd's limit" 0 '0 to 600 seconds' "$partctl" help deactivate

# validate: local, partd's messages
check "validate a good profile" 0 \
    '^.*examples/test-cpc/partitions.d/prod.json: valid profile of partition prod' \
    "$partctl" validate "$src/examples/test-cpc/partitions.d/prod.json"
check "validate a bad profile" 1 \
    'fail-profiles/partitions.d/prod.json:3:48: processors.initial \(9\) exceeds processors.reserved \(8\)' \
    "$partctl" validate "$src/tests/check/cases/fail-profiles/partitions.d/prod.json"
check "validate a missing file" 1 'nonexistent.json' "$partctl" validate "$tmp/nonexistent.json"
check "validate -o json" 0 '"name": "prod"' \
    "$partctl" -o json validate "$src/examples/test-cpc/partitions.d/prod.json"
check "define checks locally first" 1 'prod.json:3:48: processors.initial' \
    "$partctl" define "$src/tests/check/cases/fail-profiles/partitions.d/prod.json"

# an unreachable partd
check "nothing listening" 1 '^partctl: cannot reach partd at http://127.0.0.1:1: ' "$partctl" list
check "--server wins over PARTD_SERVER" 1 'cannot reach partd at http://127.0.0.1:2: ' \
    "$partctl" --server http://127.0.0.1:2 cpc
check "global option after the command" 1 'cannot reach partd at http://127.0.0.1:3: ' \
    "$partctl" health --server=http://127.0.0.1:3
check "no UNIX socket" 1 "cannot reach partd at unix:$tmp/none.sock: " \
    "$partctl" --server "unix:$tmp/none.sock" show prod
check "version without partd" 1 'cannot reach partd' "$partctl" version
check "unreadable token file" 1 "cannot read a token from $tmp/none" \
    "$partctl" --token-file "$tmp/none" list
: >"$tmp/empty"
check "empty token file" 1 'the file is empty' "$partctl" --token-file "$tmp/empty" list
check "plan without partd" 1 'cannot reach partd' "$partctl" plan
check "rebalance without partd" 1 'cannot reach partd' "$partctl" rebalance
check "policy NAME without partd" 1 'cannot reach partd' "$partctl" policy balanced
check "policy --list without partd" 1 'cannot reach partd' "$partctl" policy --list
check "plan --policy without partd" 1 'cannot reach partd' "$partctl" plan --policy balanced
check "events without partd" 1 'cannot reach partd' "$partctl" events --since 3
check "events --follow without partd" 1 '^partctl: cannot reach partd at http://127.0.0.1:1: ' \
    "$partctl" events --follow
ok "events --follow without partd prints no header" lacks "$tmp/out" '^TIME'
check "top without partd" 1 'cannot reach partd' "$partctl" top --iterations 1
check "metrics without partd" 1 '^partctl: cannot reach partd at http://127.0.0.1:1: ' \
    "$partctl" metrics
check "metrics over a missing UNIX socket" 1 "cannot reach partd at unix:$tmp/none.sock: " \
    "$partctl" --server "unix:$tmp/none.sock" metrics

# completion
"$partctl" completion bash >"$tmp/completion.bash"
ok "completion bash parses" bash -n "$tmp/completion.bash"
cat >"$tmp/complete.bash" <<'EOF'
source "$1"
c() { COMP_WORDS=("${@:2}"); COMP_CWORD=$(($# - 2)); COMPREPLY=(); _partctl; [[ "${COMPREPLY[*]}" == "$1" ]] || { echo "got '${COMPREPLY[*]}' for '${*:2}', expected '$1'"; exit 1; }; }
c "resize" partctl res
c "--scope" partctl resize prod --sc
c "running profile both" partctl resize prod --scope ''
c "table json" partctl -o ''
c "--force" partctl deactivate prod --fo
c "bash" partctl completion ''
c "rebalance" partctl reb
c "--follow" partctl events --fo
c "--interval --iterations" partctl top --i
c "" partctl top --interval ''
c "none" partctl resize prod --cap ''
c "--all" partctl plan --a
c "--policy" partctl plan --p
c "--list" partctl policy --l
c "cpcs" partctl cpcs
EOF
ok "completion bash completes" bash "$tmp/complete.bash" "$tmp/completion.bash"

# the man page documents every command and option
man="$src/docs/man/partctl.1"
ok "man page exists" test -f "$man"
missing=""
for c in $commands help completion; do
    grep -Eq "^\.(B|BI|BR) \"?$c( |\"|\$)" "$man" || missing="$missing $c"
    for o in $("$partctl" help "$c" | grep -Eo -- '--[a-z][a-z-]*' | sort -u); do
        grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$man" || missing="$missing $c:$o"
    done
done
for o in $("$partctl" --help | grep -Eo -- '^ +(-., )?--[a-z][a-z-]*' | grep -Eo -- '--[a-z-]+'); do
    grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$man" || missing="$missing $o"
done
[ -z "$missing" ] || echo "not in $man:$missing"
ok "man page covers every command and option" test -z "$missing"
if command -v man >/dev/null 2>&1; then
    ok "man page renders without warnings" sh -c \
        "! MANWIDTH=80 man --warnings -l '$man' 2>&1 >/dev/null | grep ."
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
