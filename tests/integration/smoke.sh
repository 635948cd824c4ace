#!/bin/bash
# Smoke test of the real-guest stack partd builds on: one guest under a real
# libvirtd, driven with virsh the way partd drives libvirt (vCPU hot-add,
# vary offline through the guest agent, balloon, bulk stats), every effect
# read back from the guest's own console line.
#   smoke.sh BUILDDIR      (exit 77 = skipped: not root)
set -eu -o pipefail

build=$(cd "${1:?usage: smoke.sh BUILDDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "smoke: needs root (starts libvirtd, changes /dev/kvm): skipped"
	exit 77
fi
work=$build/tests/integration/smoke
# QEMU (libvirt-qemu) opens the kernel and the initramfs: they live where it
# can reach them, not in the build tree (a clone in a 0700 home directory
# would hide them), shared by every build tree
guest=${PARTD_TEST_CACHE:-/var/cache/partd-test}/guest
state=$work/libvirtd
mkdir -p "$work"
dom=partd-smoke-$$
console=$work/$dom.console
virsh="virsh -q -c qemu:///system"
pass=0 fail=0 defined=0

# Clock in microseconds; bash arithmetic, since awk prints big numbers with
# 6 significant digits (a 60 s timeout became ~80 min) and the decimal mark
# of EPOCHREALTIME follows the locale.
now() { echo "${EPOCHREALTIME//[.,]/}"; }
since() {
	local d=$(($(now) - $1))
	printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# Latest console line; the serial line ends in \r\n.
line() { grep -a '^partd-guest ' "$console" 2>/dev/null | tail -1 | tr -d '\r'; }
field() { line | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
	local end=$(($(now) + $1 * 1000000))
	shift
	until "$@"; do
		[ "$(now)" -lt $end ] || return 1
		sleep 0.2
	done
}
qemu_rss() {
	local pid
	pid=$(cat "/run/libvirt/qemu/$dom.pid" 2>/dev/null) || return 0
	awk '/^VmRSS:/ { printf "%d MiB", $2 / 1024 }' "/proc/$pid/status"
}

# Runs on every exit, failure or not: nothing of the test may outlive it.
finish() {
	local rc=$?
	set +e
	if [ $defined = 1 ]; then
		$virsh destroy "$dom" >/dev/null 2>&1
		$virsh undefine "$dom" >/dev/null && rm -f "$work/domain"
	fi
	bash "$here/libvirtd-down.sh" "$state"
	if [ $rc != 0 ] && [ $fail = 0 ]; then bad "aborted (exit $rc)"; fi
	if [ $fail != 0 ] && [ -f "$console" ]; then
		echo "--- last console lines ($console)"
		tail -15 "$console"
	fi
	echo "total ${SECONDS}s"
	echo "$pass passed, $fail failed"
	if [ $fail = 0 ]; then exit 0; else exit 1; fi
}
# One run at a time on this machine, whatever the build tree: runs share the
# system libvirtd (whoever started it stops it), /dev/kvm's mode and the host
# cores. Daemons must not inherit fd 9, or they would hold the lock forever.
exec 9>>/run/lock/partd-integration.lock
if ! flock -w 300 9; then
	echo "FAIL another integration run held /run/lock/partd-integration.lock for 300 s"
	echo "0 passed, 1 failed"
	exit 1
fi
trap finish EXIT
trap 'exit 130' INT TERM

t=$(now)
bash "$here/guest-build.sh" "$guest"
echo "time guest-build $(since "$t")s"
t=$(now)
bash "$here/libvirtd-up.sh" "$state" 9>&-
echo "time libvirtd-up $(since "$t")s"
type=$(sh "$here/accel.sh")
for f in vmlinuz initrd.img; do
	bash "$here/qemu-can-read.sh" "$guest/$f" || { bad "QEMU cannot read the guest"; exit 1; }
done

# The domain of a run of this build tree killed before its trap ran (SIGKILL,
# ctest timeout). Only that one: other domains may be someone else's.
if [ -f "$work/domain" ]; then
	old=$(cat "$work/domain")
	$virsh destroy "$old" >/dev/null 2>&1 || true
	$virsh undefine "$old" >/dev/null 2>&1 || true
fi
echo "$dom" >"$work/domain"

rm -f "$console"
cat >"$work/$dom.xml" <<EOF
<domain type='$type'>
  <name>$dom</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu placement='static' current='1'>4</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='file'><source path='$console'/></serial>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>
EOF

t=$(now)
$virsh define "$work/$dom.xml" >/dev/null
defined=1
$virsh start "$dom" >/dev/null
echo "time define+start $(since "$t")s"
has_line() { [ -n "$(line)" ]; }
if wait_for 60 has_line; then
	ok "boot: console line after $(since "$t")s (guest t=$(field t)s): $(line)"
else
	bad "boot: no console line within 60 s"
	exit 1
fi
echo "host RSS of the guest after boot: $(qemu_rss)"

agent_up() { $virsh qemu-agent-command "$dom" '{"execute":"guest-ping"}' >/dev/null 2>&1; }
t=$(now)
if wait_for 30 agent_up; then ok "agent answers guest-ping ($(since "$t")s)"; else bad "agent: no answer to guest-ping in 30 s"; fi

cpus_are() { [ "$(field cpus)" = "$1" ]; }
t=$(now)
if ! err=$($virsh setvcpus "$dom" 2 --live 2>&1); then
	bad "setvcpus --live 2: $err"
elif wait_for 5 cpus_are 2; then
	ok "setvcpus --live 2: guest cpus=2 after $(since "$t")s"
else
	bad "setvcpus --live 2: guest still says cpus=$(field cpus) after 5 s"
fi

t=$(now)
if ! err=$($virsh setvcpus "$dom" 1 --guest 2>&1); then
	bad "setvcpus --guest 1: $err"
elif wait_for 5 cpus_are 1; then
	ok "setvcpus --guest 1: guest cpus=1 after $(since "$t")s"
else
	bad "setvcpus --guest 1: guest still says cpus=$(field cpus) after 5 s"
fi

# setmem_to MIB TEST KIB: the balloon to MIB, then TEST (mem_below or
# mem_above) of the guest's MemTotal against KIB within 10 s.
mem_below() { [ "$(field memtotal)" -le "$1" ]; }
mem_above() { [ "$(field memtotal)" -ge "$1" ]; }
setmem_to() {
	local mt t
	mt=$(field memtotal)
	t=$(now)
	if ! err=$($virsh setmem "$dom" "$1M" --live 2>&1); then
		bad "setmem --live $1M: $err"
	elif wait_for 10 "$2" "$3"; then
		ok "setmem --live $1M: memtotal $mt -> $(field memtotal) KiB after $(since "$t")s"
	else
		bad "setmem --live $1M: memtotal $mt -> $(field memtotal) KiB after 10 s"
	fi
}

# Balloon down 64 MiB: MemTotal must lose (nearly) all of it.
setmem_to 192 mem_below $(($(field memtotal) - 60 * 1024))

# Bulk stats, as partd's monitor reads them: the balloon at its target and
# the guest-reported stats present. balloon.current follows QEMU's
# BALLOON_CHANGE events, rate-limited to one a second: it lags the guest.
stats_ok() {
	stats=$($virsh domstats "$dom" --balloon --cpu-total 2>&1) &&
		grep -q 'balloon.current=196608$' <<<"$stats" &&
		grep -q 'balloon.available=' <<<"$stats" &&
		grep -q 'cpu.time=' <<<"$stats"
}
t=$(now)
if wait_for 5 stats_ok; then
	ok "domstats after $(since "$t")s: $(grep -oE \
		'(balloon\.(current|available|rss)|cpu\.time)=[0-9]+' <<<"$stats" | tr '\n' ' ')"
else
	bad "domstats --balloon --cpu-total: no balloon.current=196608, balloon.available and cpu.time after 5 s: $stats"
fi

setmem_to 256 mem_above $(($(field memtotal) + 60 * 1024))
echo "host RSS of the guest at the end: $(qemu_rss)"
