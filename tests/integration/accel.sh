#!/bin/sh
# Print the libvirt domain type for test guests: qemu (TCG) unless
# PARTD_TEST_KVM=1 asks for kvm and /dev/kvm is real. /sys/module/kvm_pvm
# marks a nested software emulation of /dev/kvm that cannot boot a stock
# kernel; it is recognised by that marker only, because probing it (opening
# /dev/kvm and creating a VM) hangs for minutes.
set -eu

if [ "${PARTD_TEST_KVM:-0}" = 1 ]; then
	if [ -e /sys/module/kvm_pvm ]; then
		echo "accel: PARTD_TEST_KVM=1 ignored: /dev/kvm is emulated (kvm_pvm); running on qemu (TCG)" >&2
		echo qemu
	elif [ -c /dev/kvm ]; then
		echo "accel: running on kvm (PARTD_TEST_KVM=1)" >&2
		echo kvm
	else
		echo "accel: PARTD_TEST_KVM=1 but no /dev/kvm; running on qemu (TCG)" >&2
		echo qemu
	fi
else
	echo "accel: running on qemu (TCG); set PARTD_TEST_KVM=1 for kvm" >&2
	echo qemu
fi
