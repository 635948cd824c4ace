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
check "help policy" 0 '^Usage: partctl policy \[POLICY\]$' "$partctl" help policy
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
