#!/bin/bash
# The package test's checks, run inside the booted Debian 12 root by
# partd-package-check.service (package.sh puts both there). partd runs from
# its packages, as its unit says, on libvirt's test driver (a unit drop-in
# points it to /srv/partd-test/partd.json). Writes a transcript to $OUT,
# ending in "N passed, N failed", then powers the container off.
set -u
OUT=/var/lib/partd-package-check/transcript
mkdir -p "${OUT%/*}"
exec >"$OUT" 2>&1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# show CMD...: the command and its output, indented
show() {
	echo "\$ $*"
	"$@" 2>&1 | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}
# wait_for SECONDS CMD...: polls CMD every 0.2 s
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
prop() { systemctl show -P "$1" partd.service; }
# partctl finds the local socket and its token by itself: root's calls
# are the admin's (/etc/partd/admin.token, made by the package)
unset PARTD_TOKEN PARTD_SERVER
finish() {
	echo "$pass passed, $fail failed"
	sync
	systemctl poweroff --no-block
}
trap finish EXIT

echo "== the unit"
# --man=no: the root has no man-db (the pages are checked on the host)
show systemd-analyze verify --man=no /lib/systemd/system/partd.service &&
	ok "systemd-analyze verify partd.service" || bad "systemd-analyze verify partd.service"
score=$(systemd-analyze security --no-pager partd.service 2>&1 | tail -1)
echo "  $score"
case $score in
*"exposure level"*": "[0-4].*) ok "systemd-analyze security: ${score#→ }" ;;
*) bad "systemd-analyze security: $score" ;;
esac

echo "== start-up through READY=1"
wait_for 60 sh -c '[ "$(systemctl show -P ActiveState partd)" != activating ]'
show systemctl status --no-pager --lines=0 partd.service
state="$(prop ActiveState)/$(prop SubState)/$(prop Result)"
t_start=$(prop ExecMainStartTimestampMonotonic) t_active=$(prop ActiveEnterTimestampMonotonic)
ms=$(((t_active - t_start) / 1000))
if [ "$state" = active/running/success ] && [ "$(prop Type)" = notify ] && [ "$ms" -lt 30000 ]; then
	ok "partd.service active (running) ${ms} ms after exec, Type=notify: READY=1 (a timeout would be 'failed', after $(prop TimeoutStartUSec))"
else
	bad "partd.service: $state, Type=$(prop Type), ${ms} ms after exec"
	show journalctl -u partd --no-pager -q -o cat -n 20
fi
status=$(prop StatusText)
[[ $status == *partitions*active*policy*backend* ]] && ok "STATUS=: $status" || bad "STATUS=: '$status'"
[ "$(prop User)" = partd ] && [ -z "$(prop CapabilityBoundingSet)" ] &&
	ok "runs as user partd ($(id partd)), no capabilities" ||
	bad "User=$(prop User) CapabilityBoundingSet=$(prop CapabilityBoundingSet)"
[ "$(prop WatchdogUSec)" != 0 ] && ok "watchdog: WatchdogUSec=$(prop WatchdogUSec)" ||
	bad "no watchdog"
show ls -l /run/partd

echo "== the default configuration"
# as partd's user: the directories it writes are its own, which partd run
# by root would refuse to trust
show runuser -u partd -- partd --check /etc/partd && ok "partd --check /etc/partd (as partd)" ||
	bad "partd --check /etc/partd"

echo "== partctl over the default socket"
useradd -M -G partd alice && useradd -M bob
show stat -c '%A %U:%G %n' /run/partd /run/partd/partd.sock
tokens=$(stat -c '%n %a %U:%G' /etc/partd/admin.token /etc/partd/operator.token /etc/partd/viewer.token 2>&1)
echo "$tokens" | sed 's/^/  /'
if [ "$tokens" = "/etc/partd/admin.token 600 partd:partd
/etc/partd/operator.token 640 partd:partd
/etc/partd/viewer.token 640 partd:partd" ]; then
	ok "the package made a token per role: the admin's partd's only, the others readable by group partd"
else
	bad "the tokens the package made: $tokens"
fi
if show runuser -u alice -- partctl list; then
	ok "partctl list as alice ($(id -nG alice)), no token given: the operator's, found by partctl, over unix:/run/partd/partd.sock"
else
	bad "partctl list as alice"
fi
if out=$(runuser -u alice -- partctl undefine dev 2>&1); then
	bad "alice (operator) could undefine a partition: $out"
else
	ok "alice (operator) may not undefine: $out"
fi
if out=$(runuser -u bob -- partctl list 2>&1); then
	bad "partctl list as bob (not in group partd) was not refused: $out"
else
	ok "partctl list as bob (not in group partd) refused: $out"
fi

echo "== the journal"
has_lines() { [ -n "$(journalctl -u partd PARTITION=prod --no-pager -q)" ]; }
wait_for 10 has_lines
if show journalctl -u partd PARTITION=prod --no-pager -q -o cat && has_lines; then
	ok "journalctl -u partd PARTITION=prod finds prod's lines"
else
	bad "journalctl -u partd PARTITION=prod: nothing"
fi
show journalctl -u partd PARTD_EVENT=activated --no-pager -q -o verbose --output-fields=PARTITION,PARTD_EVENT,PARTD_BY,PRIORITY,MESSAGE -n 1
prio=$(journalctl -u partd -q -o json --no-pager | grep -c '"PRIORITY":"6"')
[ "$prio" -gt 0 ] && ok "$prio lines at priority 6 (info)" || bad "no line at priority info"

echo "== systemctl reload re-reads partitions.d"
sed 's/"name": "dev"/"name": "extra"/' /etc/partd/partitions.d/dev.json >/etc/partd/partitions.d/extra.json
show systemctl reload partd.service
if wait_for 10 sh -c 'partctl list | grep -q "^extra "'; then
	ok "after systemctl reload, partctl list shows extra"
else
	bad "extra not defined 10 s after systemctl reload"
fi
show sh -c 'journalctl -u partd --no-pager -q -o cat | grep -e SIGHUP -e extra'

echo "== systemctl stop leaves partitions running"
active=$(partctl list | awk '$2 == "active" { print $1 }' | sort | tr '\n' ' ')
show systemctl stop partd.service
stopped=$(journalctl -u partd --no-pager -q -o cat | grep -c "partitions keep running")
# what partd keeps active, recorded for its next start
show sh -c 'tr -d " \n" </var/lib/partd/state.json | cut -c1-300; echo'
if [ "$(prop Result)" = success ] && [ "$stopped" -gt 0 ]; then
	ok "stopped cleanly (Result=success), partd: 'partitions keep running'"
else
	bad "stop: Result=$(prop Result), 'keep running' lines: $stopped"
fi
show systemctl start partd.service
again=$(partctl list | awk '$2 == "active" { print $1 }' | sort | tr '\n' ' ')
# The test driver forgets its domains with partd's connection; partd brings
# back the ones it kept active (a QEMU guest is libvirt's child and never
# stopped at all).
if [ -n "$active" ] && [ "$again" = "$active" ]; then
	ok "active before the stop and after the start: $active"
else
	bad "active before the stop: '$active', after the start: '$again'"
fi

echo "== apt-get purge"
rm -rf /etc/systemd/system/partd.service.d # the test's drop-in
echo "\$ apt-get purge -y partd libpart0"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q partd libpart0 2>&1 | tr '\r' '\n' |
	grep -v -e '^(Reading database' -e '^$' | sed 's/^/  /'
left=$(ls -d /etc/partd /var/lib/partd /var/log/partd /run/partd /lib/systemd/system/partd.service \
	/etc/systemd/system/multi-user.target.wants/partd.service /usr/sbin/partd \
	/usr/lib/x86_64-linux-gnu/libpart.so.0 2>/dev/null)
if [ -z "$left" ] && ! pgrep -x partd >/dev/null && ! dpkg -s partd >/dev/null 2>&1; then
	ok "purged: no partd process, no package, nothing left of /etc/partd, /var/lib/partd, /var/log/partd, /run/partd, the unit"
else
	bad "after purge: left: $left; processes: $(pgrep -x partd)"
fi
