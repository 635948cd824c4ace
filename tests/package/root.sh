#!/bin/bash
# The Debian 12 root the package test boots, built once with debootstrap and
# kept in CACHE (default /var/cache/partd-test) for later runs:
#   root.sh [CACHE]   prints the root's path
# A root whose package list differs from the one below is built again. It
# holds systemd (its init) and what partd's packages depend on, so that
# installing them needs no download; the test copies it before each use.
set -eu -o pipefail

cache=${1:-/var/cache/partd-test}
log() { echo "root: $*" >&2; }
# libvirt0 and libsystemd0 bring most of partd's libraries with them;
# libjansson-dev is what libpart-dev needs, procps what partd needs
pkgs="systemd,systemd-sysv,dbus,adduser,libvirt0,libjansson4,libmicrohttpd12,libcurl4,libxml2,libjansson-dev,procps"
root=$cache/bookworm-service
stamp=$root/.partd-test-root

if [ "$(cat "$stamp" 2>/dev/null)" = "$pkgs" ]; then
	echo "$root"
	exit 0
fi
command -v debootstrap >/dev/null || { log "debootstrap is missing (build.sh test installs it)"; exit 1; }
# this machine's Debian mirror, as apt has it
mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
mkdir -p "$cache"
tmp=$root.new
rm -rf "$tmp"
log "debootstrap bookworm into $root (once; a few minutes)"
t0=$SECONDS
# shellcheck disable=SC2086 # an empty mirror means debootstrap's default
if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$tmp" $mirror \
	>"$cache/debootstrap.log" 2>&1; then
	tail -20 "$cache/debootstrap.log" >&2
	exit 1
fi
# apt inside: the same sources as this machine; no package lists kept
if cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/" 2>/dev/null; then
	rm -f "$tmp/etc/apt/sources.list"
fi
rm -rf "$tmp"/var/cache/apt/archives/*.deb
echo "$pkgs" >"$tmp/.partd-test-root"
rm -rf "$root"
mv "$tmp" "$root"
log "built in $((SECONDS - t0)) s"
echo "$root"
