#!/bin/bash
# Make qemu:///system usable on a machine without systemd: install libvirtd and
# QEMU if missing, start virtlogd and libvirtd if not running, and record in
# STATEDIR exactly what was changed so libvirtd-down.sh undoes only that.
# With --packages-only, only the installation: for tests that start
# libvirtd themselves (tests/cpcs/twohost.py).
set -eu

state=${1:?usage: libvirtd-up.sh STATEDIR [--packages-only]}
mkdir -p "$state"
log() { echo "libvirtd-up: $*" >&2; }
t0=${EPOCHREALTIME//[.,]/}

# libvirt-daemon-system brings /etc/libvirt/qemu.conf, the libvirt-qemu user,
# the kvm group and /var/log/libvirt, without which the qemu driver does not
# load. Without systemd as PID 1, pick the sysv variant: the systemd one would
# pull in (and upgrade) systemd itself.
pkgs="libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86"
missing=""
for p in $pkgs; do
	dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	case $missing in *libvirt-daemon-system*)
		[ -d /run/systemd/system ] || missing="$missing libvirt-daemon-system-sysv" ;;
	esac
	ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -qq
	# Keep the packages' scripts from starting daemons: we start our own and
	# must know their PIDs.
	prc=/usr/sbin/policy-rc.d
	if [ ! -e $prc ]; then
		printf '#!/bin/sh\nexit 101\n' >$prc && chmod 0755 $prc
		trap 'rm -f $prc' EXIT
	fi
	log "apt-get install$missing"
	# shellcheck disable=SC2086 # package list: split on purpose
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$missing >"$state/apt.log" 2>&1 || { tail -20 "$state/apt.log" >&2; exit 1; }
	echo "$missing" >>"$state/installed-packages"
fi
[ "${2:-}" != --packages-only ] || exit 0

# Monolithic daemons (Debian 12). virtlogd first: QEMU's serial log files go
# through it. Daemons already running belong to someone else; leave them be.
for d in virtlogd libvirtd; do
	if pid=$(pgrep -x $d); then
		# Ours only if this STATEDIR started it (a run killed before its
		# down); then down stops it. Otherwise it is someone else's.
		if [ "$(cat "$state/$d.pid" 2>/dev/null)" = "$pid" ]; then
			log "$d (pid $pid) left running by an earlier run, adopted"
		else
			log "$d already running (pid $pid), not ours: left alone"
		fi
		continue
	fi
	rm -f "/run/$d.pid"
	/usr/sbin/$d -d
	i=0
	until [ -s "/run/$d.pid" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "/run/$d.pid" ] || { log "$d did not start"; exit 1; }
	cat "/run/$d.pid" >"$state/$d.pid"
	log "started $d (pid $(cat "$state/$d.pid"))"
done

# Without udev /dev/kvm is root-only, and libvirt (running QEMU as
# libvirt-qemu, group kvm) then re-probes QEMU on every call: define 52 s
# instead of 0.04 s. Open it to the kvm group; save the old mode once.
if [ -c /dev/kvm ] && getent group kvm >/dev/null && [ ! -f "$state/kvm-mode" ]; then
	stat -c '%a %u:%g' /dev/kvm >"$state/kvm-mode"
	chgrp kvm /dev/kvm
	chmod 0660 /dev/kvm
fi

i=0
until virsh -c qemu:///system version >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 300 ] || { log "qemu:///system not answering after 30 s"; exit 1; }
	sleep 0.1
done
ms=$(((${EPOCHREALTIME//[.,]/} - t0) / 1000))
log "qemu:///system up in $((ms / 1000)).$(printf %03d $((ms % 1000)))s"
