#!/bin/bash
# partd's benchmarks (docs/BENCHMARKS.md), all in one run, each against a
# baseline measured in the same run: the machine is shared and noisy, so the
# figures that matter are ratios. Loopback only; every step is bounded in
# time (the whole run takes about four minutes).
#
# Usage: tests/bench/run.sh BUILD_DIR [--write]
#   prints the results as markdown; with --write also puts them in
#   docs/BENCHMARKS.md between its "results" markers.
# Environment: BENCH_WRK_SECONDS (6: each of the six wrk rounds),
#   BENCH_IDLE_SECONDS (30: the footprint's idle window).
#
# Needs (installed with apt-get when missing, as root or through sudo): wrk,
# nginx, hyperfine, virsh (libvirt-clients), curl; and the benchmark
# programs of tests/bench, built with everything else.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [--write]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd)
write=no
[ "${2:-}" = "--write" ] && write=yes
src=$(cd "$(dirname "$0")/../.." && pwd)
bench=$build/tests/bench
partd=$build/partd/partd
partctl=$build/partctl/partctl
PY=$(command -v python3)
WRK_SECONDS=${BENCH_WRK_SECONDS:-6}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-30}

say() { echo "==> $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

for f in "$partd" "$partctl" "$bench/bench-plan" "$bench/bench-monitor" "$bench/bench-http" \
         "$bench/bench-virt-resize" "$bench/bench-curl-load" "$bench/bench-curl-get"; do
    [ -x "$f" ] || die "$f is missing: build first (cmake --build $build)"
done

# --- tools -----------------------------------------------------------------
need=""
command -v wrk >/dev/null || need="$need wrk"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$need nginx-light"
command -v hyperfine >/dev/null || need="$need hyperfine"
command -v virsh >/dev/null || need="$need libvirt-clients"
command -v curl >/dev/null || need="$need curl"
if [ -n "$need" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    say "installing:$need"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $need >&2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# --- work directory, processes, clean-up ------------------------------------
work=$(mktemp -d /tmp/partd-bench.XXXXXX)
chmod 755 "$work" # nginx's workers read the reply file from here
pids=()
shm_dirs=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work" "${shm_dirs[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS [HEADER]: until URL answers 2xx
wait_http() {
    local url=$1 limit=$(( $2 * 10 )) i=0
    until curl -fs ${3:+-H "$3"} "$url" -o /dev/null; do
        i=$((i + 1))
        [ $i -lt $limit ] || return 1
        sleep 0.1
    done
}

res=$work/results.txt # key=value lines for report.py
rec() { echo "$1=$2" >>"$res"; }

# stat_cpu PID: utime + stime in clock ticks (all threads)
stat_cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
vm_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# start_partd DIR PORT LOG: starts partd on DIR/partd.json; sets $partd_pid
start_partd() {
    "$partd" -c "$1/partd.json" -f 2>"$3" &
    partd_pid=$!
    pids+=("$partd_pid")
}
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# --- the machine ------------------------------------------------------------
rec machine.nproc "$(nproc)"
rec machine.cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
rec machine.kernel "$(uname -srm)"
rec machine.memory "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
rec machine.os "$(. /etc/os-release && echo "$PRETTY_NAME")"
rec machine.date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rec machine.commit "$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$src" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
rec machine.build_type "$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"
rec tool.libvirt "$(pkg-config --modversion libvirt 2>/dev/null || echo '?')"
rec tool.libmicrohttpd "$(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?')"
rec tool.libcurl "$(pkg-config --modversion libcurl 2>/dev/null || echo '?')"
rec tool.nginx "$("$NGINX" -v 2>&1 | sed 's|.*nginx/||')"
rec tool.wrk "$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
rec tool.hyperfine "$(hyperfine --version | awk '{ print $2 }')"
rec run.wrk_seconds "$WRK_SECONDS"
rec run.idle_seconds "$IDLE_SECONDS"
t_start=$(date +%s)

# --- partd on a copy of the example CPC, with a token (1, 2, 6) --------------
say "partd on the example CPC"
cpc=$work/cpc
mkdir -p "$cpc"
cp -r "$src/examples/test-cpc/." "$cpc/"
# a token per role the example names (admin.token, ...); the admin's is used
for role in admin operator viewer; do
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$cpc/$role.token"
    chmod 600 "$cpc/$role.token"
done
token=$(cat "$cpc/admin.token")
pport=$(free_port)
sed -i "s|\"state_dir\": \"[^\"]*\"|\"state_dir\": \"$cpc/state\"|; s|\"policies_dir\": \"[^\"]*\"|\"policies_dir\": \"$src/policies\"|; s|\"listen\": \[[^]]*\]|\"listen\": [\"127.0.0.1:$pport\"]|" "$cpc/partd.json"
start_partd "$cpc" "$pport" "$work/partd-example.log"
ex_pid=$partd_pid
base=http://127.0.0.1:$pport
wait_http "$base/v1/health" 20 || { cat "$work/partd-example.log" >&2; die "partd did not start"; }
auth="Authorization: Bearer $token"
curl -fs -H "$auth" "$base/v1/partitions/prod" -o /dev/null || die "GET /v1/partitions/prod failed"
sleep 1
rec fp.example_rss_kib "$(vm_kib "$ex_pid" VmRSS)"
rec fp.example_anon_kib "$(vm_kib "$ex_pid" RssAnon)"
rec fp.example_partitions "$(ls "$cpc/partitions.d" | wc -l)"

# --- 1. status API vs nginx -------------------------------------------------
say "1. status API: wrk against partd and nginx (6 x ${WRK_SECONDS} s)"
www=$work/www
mkdir -p "$www/v1/partitions" "$work/nginx"
curl -fs -H "$auth" "$base/v1/partitions/prod" -o "$www/v1/partitions/prod"
chmod -R a+rX "$www"
rec api.reply_bytes "$(stat -c %s "$www/v1/partitions/prod")"
nport=$(free_port)
temp_paths="client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;"
for m in fastcgi uwsgi scgi; do
    "$NGINX" -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
        temp_paths="$temp_paths ${m}_temp_path $work/nginx/$m;"
done
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/json;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    $temp_paths
    server {
        listen 127.0.0.1:$nport;
        root $www;
    }
}
EOF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_http "http://127.0.0.1:$nport/v1/partitions/prod" 10 ||
    { cat "$work/nginx/error.log" >&2; die "nginx did not start"; }
cmp -s <(curl -fs "http://127.0.0.1:$nport/v1/partitions/prod") "$www/v1/partitions/prod" ||
    die "nginx does not serve the reply bytes"

export PARTD_BENCH_TOKEN=$token
# wrk_rps NAME URL SECONDS: req/s, after checking for errors and non-2xx
wrk_rps() {
    local out=$work/wrk-$1.txt
    wrk -t2 -c32 -d"$3"s --latency -s "$src/tests/bench/auth.lua" "$2" >"$out" 2>&1
    if grep -q "Non-2xx" "$out"; then
        cat "$out" >&2
        die "wrk: $1 answered non-2xx"
    fi
    awk '/^Requests\/sec:/ { print $2 }' "$out"
}
wrk_p50() { awk '$1 == "50%" { print $2 }' "$work/wrk-$1.txt"; }
wrk_errors() { awk '/Socket errors/ { print }' "$work/wrk-$1.txt"; }
purl=$base/v1/partitions/prod
nurl=http://127.0.0.1:$nport/v1/partitions/prod
wrk -t2 -c32 -d2s -s "$src/tests/bench/auth.lua" "$nurl" >/dev/null 2>&1 # warm-up
wrk -t2 -c32 -d2s -s "$src/tests/bench/auth.lua" "$purl" >/dev/null 2>&1
# three pairs, the order alternating (n p, p n, n p) against drift
order="nginx partd partd nginx nginx partd"
i=0
n_rps="" p_rps="" n_p50="" p_p50="" errors=""
for who in $order; do
    i=$((i + 1))
    url=$nurl
    [ "$who" = partd ] && url=$purl
    rps=$(wrk_rps "$who$i" "$url" "$WRK_SECONDS")
    if [ "$who" = partd ]; then
        p_rps="$p_rps $rps" p_p50="$p_p50 $(wrk_p50 "$who$i")"
    else
        n_rps="$n_rps $rps" n_p50="$n_p50 $(wrk_p50 "$who$i")"
    fi
    errors="$errors$(wrk_errors "$who$i")"
done
rec api.nginx_rps "$n_rps"
rec api.partd_rps "$p_rps"
rec api.nginx_p50 "$n_p50"
rec api.partd_p50 "$p_p50"
rec api.errors "$errors"
stop_pid "$nginx_pid"
[ ! -e "$work/nginx/nginx.pid" ] || die "nginx left its pid file: not stopped?"

# --- 2. partctl vs virsh ----------------------------------------------------
say "2. CLI: hyperfine partctl show, virsh dominfo, libcurl floors"
# virsh's test driver is its own: the same domain inline in a node XML
cat >"$work/virsh-node.xml" <<'EOF'
<node>
  <cpu>
    <mhz>3000</mhz><model>x86_64</model><active>16</active><nodes>1</nodes>
    <sockets>1</sockets><cores>8</cores><threads>2</threads>
  </cpu>
  <memory>67108864</memory>
  <domain type='test'>
    <name>prod</name>
    <memory unit='MiB'>32768</memory>
    <currentMemory unit='MiB'>16384</currentMemory>
    <vcpu placement='static' current='8'>12</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
  </domain>
</node>
EOF
vuri=test://$work/virsh-node.xml
virsh -c "$vuri" dominfo prod >/dev/null || die "virsh dominfo failed"
export PARTD_SERVER=$base PARTD_TOKEN=$token
"$partctl" show prod >/dev/null || die "partctl show prod failed"
# three rounds of 20 runs, the commands in a different order each time, so
# that the machine's drift falls on all of them alike
cli_cmds=(
    "partctl|$partctl show prod"
    "virsh|virsh -c $vuri dominfo prod"
    "curl-get|$bench/bench-curl-get $purl $token"
    "curl-init|$bench/bench-curl-load init"
    "curl-load|$bench/bench-curl-load"
    "true|/bin/true"
)
for round in 1 2 3; do
    args=()
    for k in "${!cli_cmds[@]}"; do
        entry=${cli_cmds[$(( (k + round - 1) % ${#cli_cmds[@]} ))]}
        args+=(-n "${entry%%|*}" "${entry#*|}")
    done
    hyperfine -N --warmup 3 --runs 20 --export-json "$work/hf-cli-$round.json" "${args[@]}" \
        >"$work/hf-cli-$round.txt" 2>&1 || { cat "$work/hf-cli-$round.txt" >&2; die "hyperfine failed"; }
done
rec cli.json "$work/hf-cli-1.json $work/hf-cli-2.json $work/hf-cli-3.json"
unset PARTD_SERVER PARTD_TOKEN

# --- 6. resize overhead -----------------------------------------------------
say "6. resize: PATCH round trips vs virDomainSetVcpusFlags"
body_a='{"processors": 6, "scope": "running"}'
body_b='{"processors": 7, "scope": "running"}'
rec resize.patch_running "$("$bench/bench-http" "$purl" "$token" PATCH "$body_a" 200 "$body_b")"
rec resize.get "$("$bench/bench-http" "$purl" "$token" GET - 200)"
rec resize.patch_both "$("$bench/bench-http" "$purl" "$token" PATCH '{"processors": 6}' 50 '{"processors": 7}')"
rec resize.raw "$("$bench/bench-virt-resize" "$vuri" prod 6 7 200 | tr '\n' ';')"
stop_pid "$ex_pid"
# where the time goes: the same partd with its state directory in memory
# (tmpfs: fsync costs nothing there), so the difference is the two fsyncs
# (file and directory) with which every change saves partd's state
if shm=$(mktemp -d /dev/shm/partd-bench.XXXXXX 2>/dev/null); then
    shm_dirs+=("$shm")
    sed -i "s|\"state_dir\": \"[^\"]*\"|\"state_dir\": \"$shm\"|" "$cpc/partd.json"
    start_partd "$cpc" "$pport" "$work/partd-tmpfs.log"
    wait_http "$base/v1/health" 20 || die "partd (state on tmpfs) did not start"
    rec resize.patch_tmpfs "$("$bench/bench-http" "$purl" "$token" PATCH "$body_a" 200 "$body_b")"
    stop_pid "$partd_pid"
fi

# --- 3. planner -------------------------------------------------------------
say "3. planner: part_plan_make at 10 to 10,000 partitions"
"$bench/bench-plan" -p "$src/policies" -P balanced -b 1 >"$work/plan.txt" ||
    die "bench-plan failed"
rec plan.out "$work/plan.txt"

# --- 4. monitor cycle -------------------------------------------------------
say "4. monitor: bulk stats of 1,000 domains"
node_xml() { # node_xml FILE DOMAINS: 64 CPUs, 1 TiB, DOMAINS running domains
    awk -v n="$2" 'BEGIN {
        print "<node><cpu><mhz>3000</mhz><model>x86_64</model><active>64</active><nodes>1</nodes>"
        print "<sockets>1</sockets><cores>32</cores><threads>2</threads></cpu>"
        print "<memory>1073741824</memory>"
        for (i = 0; i < n; i++)
            printf "<domain type=\"test\"><name>p%04d</name><memory unit=\"MiB\">512</memory>" \
                   "<currentMemory unit=\"MiB\">256</currentMemory><vcpu current=\"1\">2</vcpu>" \
                   "<os><type>hvm</type></os></domain>\n", i
        print "</node>"
    }' >"$1"
}
node_xml "$work/node1000.xml" 1000
muri=test://$work/node1000.xml
"$bench/bench-monitor" "$muri" 1000 21 >"$work/monitor.txt" || die "bench-monitor failed"
rec monitor.out "$work/monitor.txt"
hyperfine -N --warmup 1 --runs 10 --export-json "$work/hf-virsh.json" \
    -n domstats "virsh -c $muri domstats" \
    -n connect "virsh -c $muri uri" >"$work/hf-virsh.txt" 2>&1 ||
    { cat "$work/hf-virsh.txt" >&2; die "hyperfine failed"; }
rec virsh.json "$work/hf-virsh.json"

# --- 5. footprint -----------------------------------------------------------
say "5. footprint: partd with 1,000 partitions, ${IDLE_SECONDS} s idle at interval 1 s"
big=$work/big
mkdir -p "$big/partitions.d"
node_xml "$big/node.xml" 0
bport=$(free_port)
{
    printf '{\n  "uri": "test:node.xml",\n  "listen": ["127.0.0.1:%s"],\n' "$bport"
    printf '  "tokens": {"admin": "%s/admin.token"},\n' "$cpc"
    printf '  "state_dir": "%s/state",\n  "partitions_dir": "partitions.d",\n' "$big"
    printf '  "policies_dir": "%s/policies",\n  "policy": "static",\n  "interval": 1,\n' "$src"
    printf '  "cpc": {\n    "host_reserved_cpus": 2, "host_reserved_memory": "4GiB",\n'
    printf '    "cpu_overcommit": 20, "memory_overcommit": 1.0,\n    "groups": {'
    for g in $(seq 0 99); do
        printf '%s"g%d": {}' "$([ "$g" = 0 ] || echo ', ')" "$g"
    done
    printf '}\n  }\n}\n'
} >"$big/partd.json"
for i in $(seq 0 999); do
    n=$(printf 'p%04d' "$i")
    printf '{"name": "%s", "processors": {"mode": "shared", "initial": 1, "min": 1, "reserved": 2},
 "weight": {"initial": 100, "min": 50, "max": 200},
 "memory": {"initial": "512MiB", "min": "256MiB", "reserved": "1GiB"},
 "group": "g%d", "autostart": true}\n' "$n" $((i / 10)) >"$big/partitions.d/$n.json"
done
t0=$(date +%s.%N)
start_partd "$big" "$bport" "$work/partd-big.log"
big_pid=$partd_pid
wait_http "http://127.0.0.1:$bport/v1/health" 150 ||
    { tail -5 "$work/partd-big.log" >&2; die "partd with 1,000 partitions did not start"; }
rec fp.startup_s "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
active=$(curl -fs -H "$auth" "http://127.0.0.1:$bport/v1/cpc" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["partitions"]["active"])')
rec fp.active "$active"
sleep 2 # the first samples
rec fp.rss_start_kib "$(vm_kib "$big_pid" VmRSS)"
c0=$(stat_cpu "$big_pid")
w0=$(date +%s.%N)
sleep "$IDLE_SECONDS"
c1=$(stat_cpu "$big_pid")
w1=$(date +%s.%N)
rec fp.rss_end_kib "$(vm_kib "$big_pid" VmRSS)"
rec fp.anon_end_kib "$(vm_kib "$big_pid" RssAnon)"
rec fp.file_end_kib "$(vm_kib "$big_pid" RssFile)"
rec fp.hwm_kib "$(vm_kib "$big_pid" VmHWM)"
rec fp.threads "$(vm_kib "$big_pid" Threads)"
rec fp.cpu_ticks "$((c1 - c0))"
rec fp.clk_tck "$(getconf CLK_TCK)"
rec fp.window_s "$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }')"
stop_pid "$big_pid"
sleep 30 &
sleep_pid=$!
pids+=("$sleep_pid")
sleep 0.2
rec fp.sleep_rss_kib "$(vm_kib "$sleep_pid" VmRSS)"
stop_pid "$sleep_pid"

rec run.seconds "$(( $(date +%s) - t_start ))"

# --- the report -------------------------------------------------------------
cmdline="tests/bench/run.sh ${1}${2:+ $2}"
"$PY" "$src/tests/bench/report.py" "$res" "$cmdline" >"$work/report.md"
cat "$work/report.md"
if [ "$write" = yes ]; then
    "$PY" - "$src/docs/BENCHMARKS.md" "$work/report.md" <<'EOF'
import sys
path, report = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
if begin not in text or end not in text:
    sys.exit(f"{path}: no {begin} ... {end} markers")
head, rest = text.split(begin, 1)
tail = rest.split(end, 1)[1]
open(path, "w").write(head + begin + "\n" + report + end + tail)
print(f"==> results written to {path}", file=sys.stderr)
EOF
fi
