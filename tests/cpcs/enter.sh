#!/bin/sh
# enter.sh HOSTDIR CMD [ARG...]: runs CMD in a host of the two-host harness
# (tests/cpcs/twohost.py): in the host's cgroups, then in the network, mount
# and cgroup namespaces its holder process keeps, in the same working
# directory. exec all the way: CMD keeps this script's PID, so whoever
# started it stops it by that PID.
set -eu
dir=${1:?usage: enter.sh HOSTDIR CMD [ARG...]}
shift
read -r holder <"$dir/holder.pid"
[ -d "/proc/$holder" ] || { echo "enter.sh: the holder of $dir (pid $holder) is gone" >&2; exit 1; }
# Join the cgroups first: a cgroup namespace does not move its members.
# -r: the holder's root too. Entering a mount namespace resets the root to
# that namespace's own, which under a chroot (a fresh Debian root, a build
# container) is the machine's, not the chroot's: the daemons would then use
# the machine's /run/libvirt rather than the host's private one.
while read -r cg; do echo $$ >"$cg/cgroup.procs"; done <"$dir/cgroups"
exec nsenter -t "$holder" -n -m -C -r --wd="$PWD" -- "$@"
