# Shared helpers of the partctl shell tests, sourced by partctl-cli.sh and
# partctl-rebalance.sh. The sourcing script sets tmp (a private directory),
# pass=0 and fail=0; each check prints "ok   NAME" or "FAIL NAME..." and
# counts into pass and fail.

# check NAME RC REGEX CMD...: runs CMD, expects exit status RC and a line of
# its output (stdout and stderr together) matching the extended REGEX
check() {
    name=$1 rc=$2 regex=$3
    shift 3
    "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" != "$rc" ]; then
        echo "FAIL $name: exit $got, expected $rc"
        sed 's/^/    /' "$tmp/out"
        fail=$((fail + 1))
    elif ! grep -Eq -- "$regex" "$tmp/out"; then
        echo "FAIL $name: no line matches /$regex/"
        sed 's/^/    /' "$tmp/out"
        fail=$((fail + 1))
    else
        echo "ok   $name"
        pass=$((pass + 1))
    fi
}

# ok NAME CONDITION...: a test that is a shell condition
ok() {
    name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        fail=$((fail + 1))
    fi
}

# lacks FILE REGEX: no line of FILE matches REGEX
lacks() {
    ! grep -Eq -- "$2" "$1"
}
