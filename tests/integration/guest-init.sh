#!/bin/sh
# /init of the partd test guest (busybox sh, PID 1). It reports what the guest
# itself sees, once a second on the console, so tests can check that what
# partd says happened really happened:
#   partd-guest cpus=N memtotal=KiB memfree=KiB memavail=KiB t=SECONDS busy=N
#     hog=GOT/WANT hogrc=STATUS oom=N
# Kernel command line: burn=1 keeps every online CPU busy: one busy loop per
# online CPU (busy=N), started and stopped as CPUs come and go. While it
# runs, /run/burn holding 1 or 0 turns that on or off within a second (the
# guest agent writes it: examples/demo-guests.py).
# /run/hog holding "MIB [STEP_MIB [STEP_MS [HOLD_S]]]" (written through the
# agent) starts the memory hog (guest-hog.c) with those arguments: hog= is
# its progress in MiB, hogrc= its exit status once it ended (137: killed,
# as by the OOM killer; - while it runs or before), oom= the kernel's
# "Out of memory" and "Killed process" lines so far.
# No set -e: if PID 1 exits the kernel panics; a failed step must not kill it.
set -u
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# The initramfs carries no device nodes (built without root): reopen the
# console now that devtmpfs provides it.
exec </dev/console >/dev/console 2>&1
mkdir -p /run /tmp
ln -s /run /var/run

# Order matters: insmod does not resolve dependencies.
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
         virtio_pci virtio_balloon virtio_console; do
	insmod /lib/modules/$m.ko || echo "partd-guest: insmod $m failed"
done

# No udev: create the by-name link libvirt's agent channel is known by.
# Ports appear asynchronously after virtio_console probes; wait up to 5 s.
agent=/dev/virtio-ports/org.qemu.guest_agent.0
i=0
while [ ! -e $agent ] && [ $i -lt 50 ]; do
	for n in /sys/class/virtio-ports/*/name; do
		[ -r "$n" ] || continue
		d=${n%/name}
		mkdir -p /dev/virtio-ports
		ln -sf "/dev/${d##*/}" "/dev/virtio-ports/$(cat "$n")"
	done
	[ -e $agent ] || { sleep 0.1; i=$((i + 1)); }
done
if [ -e $agent ]; then
	qemu-ga -m virtio-serial -p $agent &
else
	echo "partd-guest: no $agent, guest agent not started"
fi

burn=0
case " $(cat /proc/cmdline) " in *" burn=1 "*) burn=1 ;; esac
# burn_to N: keep exactly N busy loops running (their PIDs in $burners).
burners="" nb=0
burn_to() {
	while [ $nb -lt "$1" ]; do
		while :; do :; done &
		burners="$burners $!"
		nb=$((nb + 1))
	done
	while [ $nb -gt "$1" ]; do
		kill "${burners##* }" 2>/dev/null
		burners=${burners% *}
		nb=$((nb - 1))
	done
}

# The kernel does not online hot-added CPUs (udev would): online each CPU the
# first time it appears, and never again, so CPUs the agent varies offline
# on purpose stay offline.
seen=" "
hogpid="" hogrc=-
while :; do
	for d in /sys/devices/system/cpu/cpu[0-9]*; do
		n=${d##*/cpu}
		case "$seen" in *" $n "*) continue ;; esac
		# cpu0 has no online file: it cannot go offline.
		if [ -f "$d/online" ] && [ "$(cat "$d/online")" = 0 ]; then
			echo 1 >"$d/online" || continue # not seen yet: retried
		fi
		seen="$seen$n "
	done
	cpus=$(grep -c ^processor /proc/cpuinfo)
	[ -r /run/burn ] && read -r burn _ </run/burn
	if [ "$burn" = 1 ]; then burn_to "$cpus"; else burn_to 0; fi
	while read -r k v _; do
		case $k in
		MemTotal:) mt=$v ;;
		MemFree:) mf=$v ;;
		MemAvailable:) ma=$v ;;
		esac
	done </proc/meminfo
	if [ -z "$hogpid" ] && [ -r /run/hog ]; then
		read -r hogargs </run/hog
		rm -f /run/hog /run/hog.state
		hogrc=-
		# shellcheck disable=SC2086 # the arguments: split on purpose
		/bin/hog $hogargs &
		hogpid=$!
	fi
	if [ -n "$hogpid" ] && ! kill -0 "$hogpid" 2>/dev/null; then
		wait "$hogpid"
		hogrc=$?
		hogpid=""
	fi
	hog=0/0
	[ -r /run/hog.state ] && read -r hog </run/hog.state
	oom=$(dmesg | grep -c -e "Out of memory" -e "Killed process")
	read -r up _ </proc/uptime
	echo "partd-guest cpus=$cpus memtotal=$mt memfree=$mf memavail=$ma t=$up busy=$nb" \
		"hog=$hog hogrc=$hogrc oom=$oom"
	sleep 1
done
