#!/bin/sh
# The main job on the embedded default: partd on libvirt's test driver with
# the example CPC, then partctl showing it. partd writes profiles and state,
# so it runs on a copy of examples/test-cpc in a temporary directory.
# Usage: examples/demo.sh BUILD_DIR
set -eu
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/test-cpc" && pwd)
work=$(mktemp -d /tmp/partd-demo.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp -r "$src/." "$work/"
# every TCP listener needs a token: a new one per role (partd.json names
# admin.token, operator.token, viewer.token), readable by this user only
for role in admin operator viewer; do
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$work/$role.token")
done
sed -i "s|\"state_dir\": \"[^\"]*\"|\"state_dir\": \"$work/state\"|; s|\"policies_dir\": \"[^\"]*\"|\"policies_dir\": \"$src/../../policies\"|; s|\"listen\": \[[^]]*\]|\"listen\": [\"127.0.0.1:$port\", \"unix:$work/partd.sock\"]|" "$work/partd.json"

"$build/partd/partd" -c "$work/partd.json" -f 2>"$work/partd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM
PARTD_TOKEN=$(cat "$work/admin.token") # the resize below changes the profile too
export PARTD_SERVER="http://127.0.0.1:$port" PARTD_TOKEN
i=0
until curl -fs "$PARTD_SERVER/v1/health" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$work/partd.log"; echo "partd did not start" >&2; exit 1; }
    sleep 0.1
done
partctl="$build/partctl/partctl"
run() {
    echo "\$ partctl $*"
    "$partctl" "$@"
    echo
}
run cpc
run list
run resize prod --cpus 10 --memory 20GiB --weight 600
run show prod
run list
echo "partd's log:"
sed 's/^/  /' "$work/partd.log"
echo
echo "The console: http://127.0.0.1:$port/ (sign in with the viewer's token: $(cat "$work/viewer.token"))"
# on a terminal partd stays up for the console until Ctrl-C; without one
# (CI, a pipe) the demo ends here
if [ -t 0 ] && [ -t 1 ]; then
    echo "partd keeps running; Ctrl-C stops it."
    wait $pid
fi
