#!/bin/bash
# Undo libvirtd-up.sh: stop only the daemons it started (by recorded PID) and
# restore /dev/kvm. Safe to run twice, or after a failed up. Installed
# packages stay: removing them would undo a user's own installation too.
set -eu

state=${1:?usage: libvirtd-down.sh STATEDIR}
log() { echo "libvirtd-down: $*" >&2; }

# Each daemon takes ~2 s to exit on TERM: signal both, then wait for both.
# Check the name too: a recorded PID may have been reused since.
pids=""
for d in libvirtd virtlogd; do
	f=$state/$d.pid
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	rm -f "$f"
	[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$d" ] || continue
	kill -TERM "$pid" && pids="$pids $pid:$d"
done
for pd in $pids; do
	pid=${pd%:*} d=${pd#*:}
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		log "$d (pid $pid) ignored TERM for 10 s, killing"
		kill -KILL "$pid" || true
	fi
	log "stopped $d (pid $pid)"
done

if [ -f "$state/kvm-mode" ]; then
	read -r mode owner <"$state/kvm-mode"
	chown "$owner" /dev/kvm && chmod "$mode" /dev/kvm
	rm -f "$state/kvm-mode"
fi
