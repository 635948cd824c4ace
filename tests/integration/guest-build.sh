#!/bin/bash
# Build the integration-test guest from Debian 12 packages, cached in OUTDIR:
#   OUTDIR/vmlinuz, OUTDIR/initrd.img   (OUTDIR/debs/ keeps the packages)
# Nothing is installed on the host: packages are fetched with apt-get download
# and unpacked with dpkg-deb. A re-run does nothing while the candidate package
# versions and these scripts are unchanged.
set -eu -o pipefail

out=${1:?usage: guest-build.sh OUTDIR}
# QEMU, as libvirt's own user, reads vmlinuz and initrd.img from here
umask 022
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
log() { echo "guest-build: $*" >&2; }

# apt-get download needs package lists; a fresh container has none.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
	log "no package lists: apt-get update"
	apt-get update -qq
fi

# Fast path: nothing to do while the stamp is newer than the package lists
# and these scripts (apt-cache costs ~0.8 s a call here: no pkgcache.bin).
stamp=$out/stamp
if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$stamp" ] &&
	[ -z "$(find /var/lib/apt/lists "$here/guest-build.sh" "$here/guest-init.sh" \
		"$here/guest-hog.c" -newer "$stamp" -print -quit)" ]; then
	log "up to date: $out ($(grep ^linux-image "$out/versions"))"
	exit 0
fi

# The meta package names the current versioned kernel, so the guest follows
# Debian 12's kernel updates without editing this script. qemu-ga's own
# libraries come from packages too; the C library must match the loader that
# ldd runs, so it (and its base-system deps) comes from the host.
deps=$(apt-cache show --no-all-versions linux-image-cloud-amd64 qemu-guest-agent |
	awk -F': ' '$1 == "Depends" { n = split($2, d, ", ");
		for (i = 1; i <= n; i++) { split(d[i], w, " "); print w[1] } }')
kpkg=$(echo "$deps" | grep '^linux-image-')
libs=$(echo "$deps" | grep '^lib' | grep -vx libc6)
# shellcheck disable=SC2086 # package lists: split on purpose
want=$(apt-cache show --no-all-versions $kpkg busybox-static qemu-guest-agent $libs |
	awk '/^Package:/ { p = $2 } /^Version:/ { print p "=" $2 }' | LC_ALL=C sort)

key=$({ echo "$want"; cat "$here/guest-build.sh" "$here/guest-init.sh" "$here/guest-hog.c"; } |
	sha256sum | cut -d' ' -f1)
if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
	[ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
	touch "$stamp"
	log "up to date: $out ($kpkg)"
	exit 0
fi

# Download what the cache lacks (apt-get names files pkg_version_arch.deb with
# ':' escaped), drop superseded versions.
cd "$out/debs"
keep=" " missing=""
for pv in $want; do
	base=$(echo "${pv%%=*}_${pv#*=}" | sed 's/:/%3a/')
	keep="$keep$base "
	ls "$base"_*.deb >/dev/null 2>&1 || missing="$missing $pv"
done
if [ -n "$missing" ]; then
	log "apt-get download$missing"
	rm -rf .part && mkdir .part
	# Sandbox user off: _apt cannot write into a root-owned build tree.
	# shellcheck disable=SC2086
	(cd .part && apt-get -q -o APT::Sandbox::User=root download $missing >/dev/null)
	mv .part/*.deb . && rmdir .part
fi
for f in *.deb; do
	case "$keep" in *" ${f%_*.deb} "*) ;; *) rm -f "$f" ;; esac
done

# Unpack: the whole of the small packages, only vmlinuz and the virtio
# modules of the kernel (the full module tree is ~100 MB).
x=$out/unpacked r=$out/root
rm -rf "$x" "$r"
mkdir -p "$x"
for f in *.deb; do
	case $f in
	linux-image-*) dpkg-deb --fsys-tarfile "$f" | tar -x -C "$x" --wildcards \
		'./boot/vmlinuz-*' '*/kernel/drivers/virtio/*.ko' '*/kernel/drivers/char/virtio_console.ko' ;;
	*) dpkg-deb -x "$f" "$x" ;;
	esac
done

mkdir -p "$r"/{bin,dev,proc,sys,run,tmp,var,usr/sbin,lib/modules,lib64,lib/x86_64-linux-gnu}
cp "$x/bin/busybox" "$r/bin/busybox"
ln -s busybox "$r/bin/sh"
cp "$here/guest-init.sh" "$r/init"
chmod 0755 "$r/init"
# the memory hog (guest-hog.c), static: the initramfs has no C library
# but the one qemu-ga brings
gcc -static -Os -s -o "$r/bin/hog" "$here/guest-hog.c"
# qemu-ga's guest-shutdown (libvirt's shutdown when the agent is up) runs
# /sbin/shutdown -P|-H|-r +0 MESSAGE and waits for it; busybox has no
# shutdown applet. Answer at once and power off a moment later, so that a
# graceful deactivation works.
mkdir -p "$r/sbin"
cat >"$r/sbin/shutdown" <<'EOF'
#!/bin/sh
case ${1:-} in -r) act=reboot ;; -H) act=halt ;; *) act=poweroff ;; esac
echo "partd-guest: $act asked by the guest agent" >/dev/console
(sleep 0.3; sync; /bin/busybox $act -f) </dev/null >/dev/null 2>&1 &
exit 0
EOF
chmod 0755 "$r/sbin/shutdown"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_balloon virtio_console; do
	ko=$(find "$x" -name "$m.ko")
	[ -n "$ko" ] || { log "$m.ko not in $kpkg"; exit 1; }
	cp "$ko" "$r/lib/modules/"
done
cp "$x/usr/sbin/qemu-ga" "$r/usr/sbin/"
# Libraries as the loader resolves them: unpacked packages first, then host.
ldd_out=$(LD_LIBRARY_PATH="$x/lib/x86_64-linux-gnu:$x/usr/lib/x86_64-linux-gnu" \
	ldd "$x/usr/sbin/qemu-ga")
if echo "$ldd_out" | grep -q 'not found'; then
	log "qemu-ga libraries missing:"; echo "$ldd_out" >&2; exit 1
fi
echo "$ldd_out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
	while read -r lib; do cp -L "$lib" "$r/lib/x86_64-linux-gnu/"; done
interp=$(echo "$ldd_out" | awk '$1 ~ /^\/.*ld-linux/ { print $1 }')
cp -L "$interp" "$r$interp"

# Catch a broken library set here rather than as a silent guest.
if [ "$(id -u)" = 0 ]; then
	chroot "$r" /usr/sbin/qemu-ga --version >/dev/null ||
		{ log "qemu-ga does not run in the initramfs root"; exit 1; }
fi

# Reproducible archive: fixed mtimes and owner, sorted names, renumbered
# inodes, no device numbers, no gzip timestamp.
find "$r" -exec touch -h -d @0 {} +
(cd "$r" && find . | LC_ALL=C sort |
	"$r/bin/busybox" cpio -o -H newc -R 0:0 --renumber-inodes --ignore-devno 2>/dev/null) |
	gzip -n -6 >"$out/initrd.img.new"
cp "$x"/boot/vmlinuz-* "$out/vmlinuz.new"
mv "$out/initrd.img.new" "$out/initrd.img"
mv "$out/vmlinuz.new" "$out/vmlinuz"
rm -rf "$x"
echo "$want" >"$out/versions"
echo "$key" >"$stamp"
log "built $out/vmlinuz ($kpkg) and initrd.img ($(du -k "$out/initrd.img" | cut -f1) KiB) in ${SECONDS}s"
