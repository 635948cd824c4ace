#!/bin/bash
# qemu-can-read.sh FILE: whether QEMU, run by libvirt as its own user, can
# open FILE; if not, says which directory (or the file itself) stops it.
# libvirt gives the file itself to QEMU's user while the guest runs, but not
# the directories above it. Needs root; the user is libvirt-qemu (Debian).
set -eu
file=$(realpath "${1:?usage: qemu-can-read.sh FILE}")
user=${PARTD_QEMU_USER:-libvirt-qemu}
getent passwd "$user" >/dev/null || { echo "qemu-can-read: no user $user" >&2; exit 1; }
as() { runuser -u "$user" -- "$@" 2>/dev/null; }
as test -r "$file" && exit 0
dir=/
IFS=/ read -ra parts <<<"${file#/}"
for p in "${parts[@]:0:${#parts[@]}-1}"; do
	dir=${dir%/}/$p
	if ! as test -x "$dir"; then
		echo "qemu-can-read: QEMU's user $user cannot reach $file: the directory $dir" \
			"($(stat -c '%A %U:%G' "$dir")) is closed to it" >&2
		exit 1
	fi
done
echo "qemu-can-read: QEMU's user $user cannot read $file ($(stat -c '%A %U:%G' "$file"))" >&2
exit 1
