#!/bin/bash
# The Debian packages, built, checked and used as a host would:
#   package.sh SRCDIR BUILDDIR      (exit 77 = skipped: not root)
# 1. dpkg-buildpackage -b on a copy of the source; lintian on the result
#    (no error allowed);
# 2. a program built against the installed libpart.pc (docs/libpart-example.c);
# 3. the packages installed into a copy of a cached Debian 12 root
#    (root.sh), booted with systemd as its init (systemd-nspawn --boot), where
#    inside.sh checks the service and writes a transcript, then powers off.
# Whatever this starts it stops by PID; the boot is bounded in time.
set -eu -o pipefail

src=$(cd "${1:?usage: package.sh SRCDIR BUILDDIR}" && pwd)
build=$(cd "${2:?usage: package.sh SRCDIR BUILDDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "package: needs root (debootstrap, systemd-nspawn): skipped"
	exit 77
fi
work=$build/tests/package
cache=${PARTD_TEST_CACHE:-/var/cache/partd-test}
pass=0 fail=0 nspawn_pid=""
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
step() { echo "time $1 $((SECONDS - t))s"; t=$SECONDS; }

finish() {
	local rc=$?
	set +e
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		kill -TERM "$nspawn_pid" # nspawn shuts the container down
		for _ in $(seq 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$nspawn_pid" 2>/dev/null
	fi
	if [ $rc != 0 ] && [ $fail = 0 ]; then bad "aborted (exit $rc)"; fi
	echo "total ${SECONDS}s"
	echo "$pass passed, $fail failed"
	[ $fail = 0 ] || exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM
for tool in dpkg-buildpackage lintian debootstrap systemd-nspawn; do
	command -v $tool >/dev/null || { bad "$tool is missing (./build.sh test installs it)"; exit 1; }
done
# one run at a time on this machine: the cached root is shared
exec 9>>/run/lock/partd-package.lock
flock -w 600 9 || { bad "another package test held /run/lock/partd-package.lock for 600 s"; exit 1; }

# -- 1. build and lintian --------------------------------------------------------
t=$SECONDS
# PARTD_PACKAGE_REUSE=1 (for working on the checks): the packages of the last run
if [ "${PARTD_PACKAGE_REUSE:-}" = 1 ] && ls "$work"/partd_*.deb >/dev/null 2>&1; then
	rm -rf "$work/root" "$work/dev-root"
	ok "the packages of the last run, reused: $(cd "$work" && ls ./*.deb | grep -v dbgsym | tr '\n' ' ')"
else
	rm -rf "$work"
	mkdir -p "$work/src"
	# the working tree as it is (committed or not), without build trees
	if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$src" ls-files -co --exclude-standard -z | (cd "$src" && tar --null -T - -cf -) |
			tar -xf - -C "$work/src"
	else
		tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -xf - -C "$work/src"
	fi
	if (cd "$work/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$work/dpkg-buildpackage.log" 2>&1; then
		ok "dpkg-buildpackage -b -us -uc: $(cd "$work" && ls ./*.deb | grep -v dbgsym | tr '\n' ' ')"
	else
		tail -30 "$work/dpkg-buildpackage.log"
		bad "dpkg-buildpackage failed (log: $work/dpkg-buildpackage.log)"
		exit 1
	fi
fi
step dpkg-buildpackage
lintian --tag-display-limit 0 -I "$work"/*.changes >"$work/lintian.log" 2>&1 || true
sed 's/^/  /' "$work/lintian.log"
summary=$(for s in E W I; do printf '%s %s, ' "$(grep -c "^$s: " "$work/lintian.log")" $s; done)
if grep -q '^E: ' "$work/lintian.log"; then bad "lintian: ${summary%, }"; else ok "lintian: ${summary%, } (E errors, W warnings, I info)"; fi
step lintian

# -- 2. a program against the installed libpart.pc -------------------------------
dev=$work/dev-root
mkdir -p "$dev"
for p in libpart0 libpart-dev; do dpkg-deb -x "$work/${p}_"*.deb "$dev"; done
pcdir=$(dirname "$(find "$dev" -name libpart.pc)")
flags=$(PKG_CONFIG_SYSROOT_DIR=$dev PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs libpart)
if cc -Wall -Werror -o "$work/libpart-example" "$src/docs/libpart-example.c" $flags >"$work/cc.log" 2>&1 &&
	out=$(LD_LIBRARY_PATH=${pcdir%/pkgconfig} "$work/libpart-example" "$src/examples/test-cpc/partitions.d") &&
	grep -q '^prod ' <<<"$out"; then
	ok "docs/libpart-example.c built with pkg-config --cflags --libs libpart ($flags), lists $(wc -l <<<"$out") profiles"
else
	cat "$work/cc.log"
	bad "docs/libpart-example.c against the packaged libpart.pc ($flags)"
fi

# -- 3. install into a Debian 12 root and boot it --------------------------------
base=$(bash "$here/root.sh" "$cache")
step root
root=$work/root
cp -a "$base" "$root"
mkdir -p "$root/opt/partd-debs"
cp "$work"/*.deb "$root/opt/partd-debs/"
rm -f "$root"/opt/partd-debs/*dbgsym*
nspawn=(systemd-nspawn -q -D "$root" --register=no --keep-unit --private-network)
if "${nspawn[@]}" -E DEBIAN_FRONTEND=noninteractive sh -c \
	'apt-get install -y -q --no-install-recommends /opt/partd-debs/*.deb' >"$work/install.log" 2>&1; then
	ok "apt-get install ./partd ./libpart0 ./libpart-dev in the root: $(grep -c '^Setting up' "$work/install.log") packages set up"
else
	tail -20 "$work/install.log"
	bad "apt-get install of the packages failed"
	exit 1
fi
step install
# the test driver instead of qemu:///system: a drop-in of the unit and a
# configuration of the test's, the example CPC's node and profiles
mkdir -p "$root/srv/partd-test" "$root/etc/systemd/system/partd.service.d"
cp "$src/examples/test-cpc/cpc.xml" "$root/srv/partd-test/"
cp "$src/examples/test-cpc/partitions.d/"*.json "$root/etc/partd/partitions.d/"
cat >"$root/srv/partd-test/partd.json" <<'EOF'
{
  "uri": "test:///srv/partd-test/cpc.xml",
  "listen": ["unix:/run/partd/partd.sock"],
  "tokens": { "admin": "/etc/partd/admin.token", "operator": "/etc/partd/operator.token",
              "viewer": "/etc/partd/viewer.token" },
  "socket_group": "partd",
  "state_dir": "/var/lib/partd",
  "partitions_dir": "/etc/partd/partitions.d",
  "policies_dir": "/usr/share/partd/policies",
  "policy": "static",
  "interval": 1,
  "cpc": { "host_reserved_cpus": 2, "host_reserved_memory": "4GiB", "groups": { "web": { "cap": 10 } } }
}
EOF
# the tokens are those the package's postinst made in /etc/partd
cat >"$root/etc/systemd/system/partd.service.d/test-driver.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/sbin/partd --foreground --config /srv/partd-test/partd.json
EOF
cp "$here/inside.sh" "$root/usr/local/sbin/partd-package-check"
chmod 0755 "$root/usr/local/sbin/partd-package-check"
cat >"$root/etc/systemd/system/partd-package-check.service" <<'EOF'
[Unit]
Description=partd package test (tests/package/inside.sh)
After=partd.service multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/partd-package-check
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
ln -s ../partd-package-check.service "$root/etc/systemd/system/multi-user.target.wants/"
# the container's own hostname; no console logins
echo partd-test >"$root/etc/hostname"
rm -f "$root/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true

"${nspawn[@]}" --boot --console=read-only >"$work/boot.log" 2>&1 </dev/null &
nspawn_pid=$!
transcript=$root/var/lib/partd-package-check/transcript
end=$((SECONDS + 240))
while kill -0 "$nspawn_pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.5; done
if kill -0 "$nspawn_pid" 2>/dev/null; then
	bad "the container did not power off within 240 s"
else
	wait "$nspawn_pid" || true
	nspawn_pid=""
fi
step boot+checks
if [ -f "$transcript" ]; then
	echo "--- inside the container (tests/package/inside.sh)"
	cat "$transcript"
	echo "---"
	last=$(tail -1 "$transcript")
	p=${last%% passed*} f=${last#*passed, } f=${f%% failed*}
	if [[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
		pass=$((pass + p)) fail=$((fail + f))
	else
		bad "the checks inside did not finish: $last"
	fi
else
	bad "no transcript from inside the container"
fi
if [ $fail != 0 ]; then
	echo "--- the container's console (last lines of $work/boot.log)"
	tail -40 "$work/boot.log"
fi
