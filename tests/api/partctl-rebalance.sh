#!/bin/sh
# partctl against the real partd: the rebalancer's commands (policy, plan,
# rebalance), events (listed and followed), top and metrics, on a copy of
# examples/test-cpc (libvirt's test driver, a free loopback port and a UNIX
# socket). partd is stopped by its PID whatever happens.
# Usage: partctl-rebalance.sh PARTCTL PARTD PROJECT_SOURCE_DIR
set -u
if [ $# -ne 3 ]; then
    echo "usage: $0 PARTCTL PARTD PROJECT_SOURCE_DIR" >&2
    exit 2
fi
partctl=$1
partd=$2
src=$(cd "$3" && pwd)
# a short directory: the UNIX socket's path must fit in 107 bytes
tmp=$(mktemp -d /tmp/partctl-rb.XXXXXX)
pid=""
follower=""
pass=0
fail=0

cleanup() {
    [ -z "$follower" ] || kill "$follower" 2>/dev/null
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# check, ok and lacks (they use tmp, pass and fail)
. "$(dirname "$0")/lib.sh"

# wait_for FILE REGEX: up to 5 s for a line of FILE to match REGEX
wait_for() {
    i=0
    while [ "$i" -lt 50 ]; do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

finish() {
    if [ "$fail" != 0 ] && [ -f "$tmp/partd.log" ]; then
        echo "--- partd log (last lines) ---"
        tail -n 30 "$tmp/partd.log"
    fi
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
    exit
}

# the configuration: the example's, on a free port, with absolute paths
cp -R "$src/examples/test-cpc" "$tmp/cpc"
port=$(python3 - "$tmp" "$src" <<'EOF'
import json, os, socket, sys
tmp, src = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
path = os.path.join(tmp, "cpc", "partd.json")
with open(path) as f:
    cfg = json.load(f)
cfg.update({
    "uri": "test://" + os.path.join(tmp, "cpc", "cpc.xml"),
    "listen": ["127.0.0.1:%d" % port, "unix:" + os.path.join(tmp, "partd.sock")],
    "state_dir": os.path.join(tmp, "state"),
    "policies_dir": os.path.join(src, "policies"),
})
token = os.path.join(tmp, "token")  # every TCP listener needs one: the admin's here
with open(os.open(token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
    f.write(os.urandom(16).hex() + "\n")
cfg["tokens"] = {"admin": token}
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
print(port)
EOF
)
ok "configuration written" test -n "$port"
[ -n "$port" ] || finish
PARTD_TOKEN=$(cat "$tmp/token")
export PARTD_TOKEN PARTD_SERVER="http://127.0.0.1:$port"

"$partd" -c "$tmp/cpc/partd.json" -f >"$tmp/partd.log" 2>&1 &
pid=$!
i=0
until "$partctl" health >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 150 ] || ! kill -0 "$pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
check "partd starts and answers health" 0 '^ok \(backend connected\)$' "$partctl" health
kill -0 "$pid" 2>/dev/null || finish

# policy
check "policy shows static" 0 '^name: +static$' "$partctl" policy
check "policy shows what it manages" 0 '^  weights: +no$' "$partctl" policy
check "policy balanced switches" 0 '^policy balanced in force$' "$partctl" policy balanced
check "policy shows balanced then (over the UNIX socket)" 0 '^name: +balanced$' \
    "$partctl" --server "unix:$tmp/partd.sock" policy
check "policy -o json" 0 '"name": "balanced"' "$partctl" -o json policy
check "an unknown policy is refused" 1 '\(HTTP 422\)$' "$partctl" policy nosuch
check "the policy in force stays" 0 '^name: +balanced$' "$partctl" policy
check "cpc shows the rebalancer" 0 '^  rebalancer: +policy balanced, [0-9]+ actions applied$' \
    "$partctl" cpc

# plan and rebalance: the test driver gives no CPU statistics, so no action
msg='^\(no action: everything is within its bounds and balanced\)$'
check "plan is empty" 0 "$msg" "$partctl" plan
check "plan -o json" 0 '"actions": \[\]' "$partctl" -o json plan
check "rebalance succeeds" 0 "$msg" "$partctl" rebalance
check "rebalance -o json" 0 '"policy": "balanced"' "$partctl" -o json rebalance

# events
check "events show the policy switch by api" 0 \
    '^[0-2][0-9]:[0-5][0-9]:[0-6][0-9] +api +policy +- +policy static -> balanced$' \
    "$partctl" events
check "events show the activations by partd" 0 ' partd +activated +prod ' "$partctl" events
"$partctl" -o json events >"$tmp/events.json" 2>&1
last=$(grep -Eo '"seq": [0-9]+' "$tmp/events.json" | tail -n 1 | grep -Eo '[0-9]+$')
ok "events -o json has sequence numbers" test -n "$last"
check "events --since the last one shows none" 0 '^TIME +BY +KIND +PARTITION +MESSAGE$' \
    "$partctl" events --since "${last:-0}"
ok "events --since the last one shows only the header" \
    test "$(wc -l <"$tmp/out")" -eq 1

# events --follow: a resize shows up while it follows
"$partctl" events --follow --since "${last:-0}" >"$tmp/follow" 2>&1 &
follower=$!
ok "events --follow connects" wait_for "$tmp/follow" '^TIME +BY +KIND'
check "resize while following" 0 '^processors +running +8 +6 +applied' \
    "$partctl" resize prod --cpus 6 --scope running
ok "events --follow gets the resize within 5 s" wait_for "$tmp/follow" ' api +resized +prod '
kill -INT "$follower" 2>/dev/null
wait "$follower"
rc=$?
follower=""
ok "events --follow ends with 0 on SIGINT" test "$rc" = 0
if [ "$fail" != 0 ]; then
    echo "    follower's output:"
    sed 's/^/    /' "$tmp/follow"
fi
"$partctl" -o json events --follow >"$tmp/follow.json" 2>&1 &
follower=$!
ok "events --follow -o json prints one object a line" \
    wait_for "$tmp/follow.json" '^\{"seq": ?[0-9]+,.*"kind": ?"resized",.*\}$'
kill "$follower" 2>/dev/null
wait "$follower" 2>/dev/null
follower=""

# show: the new fields
check "show has managed" 0 '^managed: +yes ' "$partctl" show prod
check "show has the defined capacity" 0 '^defined capacity: +none$' "$partctl" show prod
check "show has utilisation" 0 '^utilisation: +(not measured yet|[0-9.]+ processors)' \
    "$partctl" show prod

# top: two frames, every active partition in each
"$partctl" top --iterations 2 --interval 0.5 >"$tmp/top" 2>&1
rc=$?
ok "top --iterations 2 ends with 0" test "$rc" = 0
ok "top prints two frames" test "$(grep -c '^CPC: pool 12 CPUs, weight total ' "$tmp/top")" = 2
ok "top's header names the policy" grep -q ', policy balanced, ' "$tmp/top"
ok "top does not clear a screen that is not one" lacks "$tmp/top" "$(printf '\033')"
active=$("$partctl" list | awk '$2 == "active" { print $1 }')
ok "some partitions are active" test -n "$active"
for name in $active; do
    ok "top shows $name in both frames" test "$(grep -c "^$name " "$tmp/top")" = 2
done
ok "top leaves out inactive dev" lacks "$tmp/top" '^dev '
if [ "$fail" != 0 ]; then
    sed 's/^/    /' "$tmp/top"
fi
check "top -o json prints a line a frame" 0 '^\{"cpc": ?\{.*"partitions": ?\[' \
    "$partctl" -o json top --iterations 1

# metrics
check "metrics have prod's weight" 0 '^partd_partition_weight\{partition="prod"\} ' \
    "$partctl" metrics
check "metrics have types" 0 '^# TYPE partd_partition_weight gauge$' "$partctl" metrics

ok "partd is still running" kill -0 "$pid"
finish
