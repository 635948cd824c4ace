#!/usr/bin/python3
"""Two CPCs on one machine (docs/cpcs.md, "Test environment"): hosts a and
b, each a network namespace (partd2h-a, partd2h-b, joined by a veth pair:
10.231.7.1 and 10.231.7.2, addresses that exist only inside them), a mount
namespace with private libvirt directories (run, state, log, cache,
config: a host_uuid of its own) and a cgroup namespace rooted in a cgroup
of its own, with its own virtlogd and libvirtd, and partd when a test
starts one. Between the hosts libvirt speaks qemu+tcp without
authentication: for these namespaces only.

    with TwoHosts(workdir) as h:
        h.a.virsh("define", xml_file)
        h.a.virsh("migrate", "--live", "--p2p", dom, h.b.uri_remote)

A Host runs commands inside itself (run, popen, virsh; enter.sh does the
entering), has its URIs (uri inside, uri_remote from the other host,
uri_outside for this process) and starts partd (partd()). Whatever a
guest's console prints goes to a file both hosts and this process see
(console_path); ConsoleFollower stamps each line with its arrival time.

Everything started is stopped by PID and every namespace, veth, cgroup and
mount removed when the block ends, failure or not (and at exit). A run
killed before that is cleaned up by:

    twohost.py down WORKDIR
    twohost.py up WORKDIR          (a harness to try things in; Ctrl-C ends it)
    twohost.py enter WORKDIR a CMD (a command in host a of a running harness)
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from partdtest import (SRC, Console, Partd, make_cert, machine_lock,  # noqa: E402
                       write_json)

ENTER = os.path.join(HERE, "enter.sh")
INTEGRATION = os.path.join(SRC, "tests", "integration")
GUEST_DIR = os.path.join(os.environ.get("PARTD_TEST_CACHE", "/var/cache/partd-test"), "guest")
PREFIX = "partd2h"
HOSTS = (("a", "10.231.7.1"), ("b", "10.231.7.2"))
# the host's own copy of each, bind-mounted over it in its mount namespace
PRIVATE = (("run", "/run/libvirt"), ("lib", "/var/lib/libvirt"), ("log", "/var/log/libvirt"),
           ("cache", "/var/cache/libvirt"), ("etc", "/etc/libvirt"))
STATE = "twohost.json"

# The holder: PID 1 of nothing, it only keeps a host's namespaces alive.
# Run in the new mount and cgroup namespaces: the cgroup filesystems are
# mounted again so that they show the host's cgroup as their root (libvirt
# then makes its machine cgroups inside it), and the private directories
# are bound over libvirt's. Arguments: the host's directory, then
# KEY:PATH for each of PRIVATE.
HOLDER_SH = r"""set -eu
d=$1
shift
awk '$3 == "cgroup" || $3 == "cgroup2" { print $2, $3, $4 }' /proc/self/mounts |
while read -r mp type opts; do
	umount -l "$mp"
	mount -t "$type" -o "$opts" "$type" "$mp"
done
for pair; do
	mount --bind "$d/${pair%%:*}" "${pair#*:}"
done
: >"$d/holder.ready"
exec sleep infinity
"""


class SetupError(Exception):
    """The harness cannot be set up here; the message says why."""


def sh(argv, timeout=60, check=True, **kw):
    """Runs argv (text output captured); SetupError when check and it fails."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise SetupError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                               (r.stderr or r.stdout).strip()))
    return r


def comm(pid):
    """The command name of process pid, None when there is none."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except (OSError, ValueError):
        return None


def kill_pid(pid, name, sig=signal.SIGTERM):
    """Signals pid if it still runs the command name (a recorded PID may
    have been reused since)."""
    if pid and comm(pid) == name:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def alive(pid):
    """Whether pid runs (a zombie, exited but not yet reaped, does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pids, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.05)


def own_cgroups():
    """[(directory of this process's cgroup, filesystem type)] in every
    cgroup hierarchy mounted under /sys/fs/cgroup."""
    mine = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            num, ctrls, path = line.rstrip("\n").split(":", 2)
            mine[ctrls] = path
    res = []
    with open("/proc/self/mounts") as f:
        for line in f:
            _, mp, fstype, opts = line.split()[:4]
            if not mp.startswith("/sys/fs/cgroup/"):
                continue
            if fstype == "cgroup2":
                key = ""
            elif fstype == "cgroup":
                opt = set(opts.split(","))
                key = next((k for k in mine if k and set(k.split(",")) <= opt), None)
            else:
                continue
            if key is not None and key in mine:
                res.append((mp + mine[key].rstrip("/"), fstype))
    return res


def cgroup_procs(top):
    """PIDs in the cgroup directory top and every cgroup below it."""
    pids = []
    for d, _, _ in os.walk(top):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
    return pids


def cgroup_remove(top):
    """Removes the cgroup top and those below it, deepest first (libvirt's
    machine cgroups). Returns the ones left."""
    left = []
    for d, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
        try:
            os.rmdir(d)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(d)
    return left


def copy_skeleton(src, dst, files=False):
    """Makes dst a copy of src's directories (mode and owner kept), and of
    its files when files."""
    for d, dirs, fs in os.walk(src):
        rel = os.path.relpath(d, src)
        t = os.path.normpath(os.path.join(dst, rel))
        os.makedirs(t, exist_ok=True)
        st = os.stat(d)
        os.chown(t, st.st_uid, st.st_gid)
        os.chmod(t, st.st_mode & 0o7777)
        if files:
            for f in fs:
                shutil.copy2(os.path.join(d, f), os.path.join(t, f), follow_symlinks=False)


# -- a host ----------------------------------------------------------------------

class Host:
    """One CPC of the harness. name "a" or "b", addr its address, dir its
    directory (the private libvirt directories, the daemons' logs, partd's
    directory)."""

    def __init__(self, name, addr, dir, console_dir):
        self.name = name
        self.addr = addr
        self.dir = dir
        self.console_dir = console_dir
        self.netns = "%s-%s" % (PREFIX, name)
        self.uri = "qemu:///system"                       # inside this host
        self.uri_remote = "qemu+tcp://%s/system" % addr   # from the other host
        # from outside (this process): the socket in the private run directory
        self.uri_outside = "qemu+unix:///system?socket=%s" % os.path.join(dir, "run",
                                                                          "libvirt-sock")
        self.host_uuid = str(uuid.uuid4())
        self.cgroups = []
        self.pids = {}   # command name -> PID, of what this harness started here
        self.procs = []  # their Popen objects
        self.partds = []
        self.harness = None  # the TwoHosts this host belongs to

    def __repr__(self):
        return "host %s (%s, %s)" % (self.name, self.addr, self.netns)

    # -- commands inside the host

    def argv(self, cmd):
        """cmd as it runs inside this host."""
        return ["sh", ENTER, self.dir] + list(cmd)

    def run(self, cmd, timeout=60, **kw):
        """Runs cmd inside this host; a CompletedProcess with text stdout
        and stderr."""
        return subprocess.run(self.argv(cmd), capture_output=True, text=True, timeout=timeout,
                              **kw)

    def popen(self, cmd, **kw):
        """Starts cmd inside this host; its Popen's pid is cmd's PID."""
        return subprocess.Popen(self.argv(cmd), **kw)

    def virsh(self, *args, timeout=60):
        """virsh -q on this host's libvirtd (qemu:///system inside it)."""
        return self.run(["virsh", "-q", "-c", self.uri] + list(args), timeout=timeout)

    def domains(self):
        """{name: state} of the domains this host's libvirtd knows, defined
        or running; None when it does not answer."""
        r = self.virsh("list", "--all", timeout=30)
        if r.returncode != 0:
            return None
        doms = {}
        for line in r.stdout.splitlines():
            f = line.split(None, 2)
            if len(f) == 3:
                doms[f[1]] = f[2].strip()
        return doms

    # -- set-up

    def write_config(self):
        etc = os.path.join(self.dir, "etc")
        os.makedirs(os.path.join(etc, "qemu"), exist_ok=True)
        with open(os.path.join(etc, "libvirtd.conf"), "w") as f:
            f.write('# two-host harness, host %s\nlisten_tcp = 1\nlisten_tls = 0\n'
                    'auth_tcp = "none"\nlisten_addr = "%s"\nhost_uuid = "%s"\n'
                    % (self.name, self.addr, self.host_uuid))
        # migration_host: else the destination advertises its host name,
        # which resolves to loopback; remember_owner off: two libvirtds
        # would keep one reference count in the guest files' xattrs
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            f.write('# two-host harness, host %s\nmigration_host = "%s"\nremember_owner = 0\n'
                    % (self.name, self.addr))
        open(os.path.join(etc, "virtlogd.conf"), "w").close()

    def make_dirs(self):
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        for key, path in PRIVATE:
            if key == "etc":
                self.write_config()
            elif key in ("lib", "cache"):
                # the packages' directories (QEMU's user owns some), and the
                # QEMU capabilities cache: no probing at each start
                copy_skeleton(path, os.path.join(self.dir, key), files=(key == "cache"))
            else:
                os.makedirs(os.path.join(self.dir, key, "qemu" if key == "log" else ""),
                            exist_ok=True)
            os.chmod(os.path.join(self.dir, key), os.stat(path).st_mode & 0o7777)

    def make_cgroups(self):
        """A cgroup of this host's under this process's own, in every
        hierarchy; recorded in dir/cgroups for enter.sh."""
        for parent, fstype in own_cgroups():
            cg = os.path.join(parent, self.netns)
            os.makedirs(cg, exist_ok=True)
            self.cgroups.append(cg)
            if os.path.exists(os.path.join(cg, "cpuset.cpus")):
                for k in ("cpuset.cpus", "cpuset.mems"):  # empty in a new v1 cpuset
                    with open(os.path.join(parent, k)) as f, open(os.path.join(cg, k), "w") as g:
                        g.write(f.read())
        with open(os.path.join(self.dir, "cgroups"), "w") as f:
            f.write("".join(cg + "\n" for cg in self.cgroups))

    def start_holder(self):
        def join():
            for cg in self.cgroups:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
        log = open(os.path.join(self.dir, "holder.log"), "wb")
        argv = ["nsenter", "--net=/run/netns/" + self.netns, "--", "unshare", "--cgroup",
                "--mount", "--propagation", "private", "--", "sh", "-c", HOLDER_SH, "holder",
                self.dir] + ["%s:%s" % kp for kp in PRIVATE]
        p = subprocess.Popen(argv, preexec_fn=join, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        log.close()
        self.started("sleep", p)
        with open(os.path.join(self.dir, "holder.pid"), "w") as f:
            f.write("%d\n" % p.pid)
        self.wait_for(lambda: os.path.exists(os.path.join(self.dir, "holder.ready")), p,
                      "the namespaces", "holder.log", 10)

    def start_daemon(self, name, argv, ready, timeout=30):
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        p = self.popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.started(name, p)
        self.wait_for(ready, p, name, name + ".log", timeout)

    def start_libvirt(self):
        self.start_daemon("virtlogd", ["/usr/sbin/virtlogd", "-p", "/run/libvirt/virtlogd.pid"],
                          lambda: os.path.exists(os.path.join(self.dir, "run", "virtlogd-sock")))
        self.start_daemon("libvirtd", ["/usr/sbin/libvirtd", "--listen", "-p",
                                       "/run/libvirt/libvirtd.pid"],
                          lambda: sh(["virsh", "-c", self.uri_outside, "version"],
                                     check=False).returncode == 0, timeout=60)

    def started(self, name, proc):
        self.procs.append(proc)
        self.pids[name] = proc.pid
        self.harness.save()

    def wait_for(self, pred, proc, what, log, timeout):
        end = time.monotonic() + timeout
        while not pred():
            if proc.poll() is not None or time.monotonic() > end:
                with open(os.path.join(self.dir, log), errors="replace") as f:
                    tail = "".join(f.readlines()[-15:])
                raise SetupError("host %s: %s %s\n%s" % (
                    self.name, what, "exited with %d" % proc.returncode
                    if proc.returncode is not None else "not ready in %d s" % timeout, tail))
            time.sleep(0.05)

    # -- partd

    def partd(self, binary, example="qemu-cpc", **kw):
        """A Partd (tests/lib/partdtest.py) for this host, not started: a
        copy of examples/EXAMPLE in dir/partd listening on addr (HTTPS, its
        certificate for addr made here; cacert, the certificate, is what
        the other host's partd must trust) and on a UNIX socket, which this
        process's clients use; paths.images is the guest files' directory
        and paths.logs the console directory, both the same on the two
        hosts. kw goes to Partd (policy, extra...). Start it with
        start_partd()."""
        tmp = os.path.join(self.dir, "partd")
        tls = os.path.join(self.dir, "tls")
        os.makedirs(tls, exist_ok=True)
        cert, key = make_cert(tls, ips=(self.addr, "127.0.0.1"), names=("localhost",))
        extra = dict(kw.pop("extra", None) or {}, tls_cert=cert, tls_key=key)
        p = Partd(binary, example=example, tmp=tmp, host=self.addr, via_unix=True, cacert=cert,
                  extra=extra, pidfile=os.path.join(self.dir, "partd.pid"), **kw)
        p.edit_config(lambda cfg: cfg.setdefault("paths", {}).update(
            images=GUEST_DIR, logs=self.console_dir))
        return p

    def start_partd(self, partd, timeout=30):
        """Starts partd inside this host (Partd.start: None, or why not)."""
        self.partds.append(partd)
        err = partd.start(wrapper=self.argv([]), timeout=timeout)
        if partd.proc:
            self.pids["partd"] = partd.proc.pid
            self.harness.save()
        return err

    # -- tear-down

    def teardown(self):
        """Stops what runs here: guests (destroyed through libvirtd), partd,
        libvirtd, virtlogd, then by PID whatever is left in the host's
        cgroups (the holder too), and removes the cgroups. Returns what it
        could not do."""
        if self.pids.get("libvirtd") and comm(self.pids["libvirtd"]) == "libvirtd":
            r = sh(["virsh", "-q", "-c", self.uri_outside, "list", "--name"], check=False,
                   timeout=30)
            for dom in r.stdout.split():
                sh(["virsh", "-q", "-c", self.uri_outside, "destroy", dom], check=False,
                   timeout=60)
        for p in self.partds:
            p.stop()
        for name in ("partd", "libvirtd", "virtlogd"):
            kill_pid(self.pids.get(name), name)
        wait_gone([p for n, p in self.pids.items() if n != "sleep"], 15)
        return kill_cgroups(self.cgroups, lambda: [p.poll() for p in self.procs])


def kill_cgroups(cgroups, reap=lambda: None):
    """SIGKILL by PID to every process left in cgroups (all started by the
    harness), then the cgroups removed; reap() reaps the caller's own
    children. Returns what is left."""
    pids = set()
    for cg in cgroups:
        pids.update(cgroup_procs(cg))
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # a zombie keeps its cgroup busy until its parent (or init, for the
    # children of a killed run) reaps it
    end = time.monotonic() + 10
    while True:
        reap()
        left = []
        for cg in cgroups:
            left += cgroup_remove(cg)
        if not left or time.monotonic() > end:
            return ["cgroup %s not removed" % d for d in left]
        time.sleep(0.1)


# -- the two hosts -------------------------------------------------------------

def why_not():
    """Why the harness cannot run here, None when it can: only a user who
    is not root skips it. A tool missing is a failure, not a skip (build.sh
    installs iproute2, util-linux and openssl with the test packages, the
    harness libvirt's with libvirtd-up.sh): a test that skips itself on a
    machine that should run it shows nothing."""
    if os.geteuid() != 0:
        return "needs root (network, mount and cgroup namespaces, libvirtd)"
    return None


def missing_tools():
    return [t for t in ("ip", "nsenter", "unshare", "virsh", "openssl") if not shutil.which(t)]


def leftovers(harness=None):
    """Namespaces or links of this harness that exist now, and, given a
    harness, the processes it started that still run and its cgroups."""
    found = []
    for h in harness.hosts if harness else ():
        found += ["%s (pid %d) of host %s" % (n, p, h.name) for n, p in h.pids.items()
                  if alive(p) and comm(p) == n]
        found += ["cgroup " + cg for cg in h.cgroups if os.path.exists(cg)]
    for name, _ in HOSTS:
        ns = "%s-%s" % (PREFIX, name)
        if os.path.exists("/run/netns/" + ns):
            found.append("network namespace " + ns)
        if os.path.exists("/sys/class/net/" + ns):
            found.append("network interface " + ns)
    return found


class TwoHosts:
    """Hosts a and b (self.a, self.b, self.hosts) under workdir (emptied
    first); console_dir is the directory both see for guests' consoles.
    With lock, holds the machine's real-guest lock (partdtest.machine_lock)
    while it exists. times says how long the lock and the set-up took."""

    def __init__(self, workdir, lock=True, install=True):
        self.workdir = os.path.abspath(workdir)
        self.console_dir = os.path.join(self.workdir, "console")
        self.lock = lock
        self.install = install
        self.lockf = None
        self.hosts = [Host(n, a, os.path.join(self.workdir, n), self.console_dir)
                      for n, a in HOSTS]
        for h in self.hosts:
            h.harness = self
        self.a, self.b = self.hosts
        self.up = False

    def save(self):
        """What down() needs after a killed run, in workdir/twohost.json."""
        write_json(os.path.join(self.workdir, STATE), {
            "hosts": {h.name: {"pids": h.pids, "cgroups": h.cgroups} for h in self.hosts}})

    def __enter__(self):
        why = why_not()
        if why:
            raise SetupError(why)
        t0 = time.monotonic()
        if self.lock:
            self.lockf = machine_lock(300)
            if not self.lockf:
                raise SetupError("another real-guest run held the machine's lock for 300 s")
        if os.path.exists(os.path.join(self.workdir, STATE)):
            down(self.workdir)  # this workdir's own killed run
        left = leftovers()
        if left:
            if self.lockf:
                self.lockf.close()
                self.lockf = None
            raise SetupError("%s exist: another run of the harness, or a killed one (twohost.py "
                             "down WORKDIR removes it)" % ", ".join(left))
        self.up = True
        atexit.register(self.close)
        t1 = time.monotonic()
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        self.times = {"lock_s": t1 - t0, "setup_s": time.monotonic() - t1}
        return self

    def __exit__(self, *exc):
        self.close()

    def setup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.makedirs(self.console_dir)
        os.chmod(self.workdir, 0o755)
        os.chmod(self.console_dir, 0o755)
        self.save()
        if self.install:
            r = sh(["bash", os.path.join(INTEGRATION, "libvirtd-up.sh"),
                    os.path.join(self.workdir, "packages"), "--packages-only"], check=False,
                   timeout=900)
            if r.returncode != 0:
                raise SetupError("libvirtd-up.sh --packages-only: " + r.stderr.strip())
        missing = missing_tools()
        if missing:
            raise SetupError("needs %s (./build.sh test installs them)" % ", ".join(missing))
        a, b = (h.netns for h in self.hosts)
        for ns in (a, b):
            sh(["ip", "netns", "add", ns])
        sh(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        for h in self.hosts:
            sh(["ip", "link", "set", h.netns, "netns", h.netns])
            for cmd in (["addr", "add", h.addr + "/24", "dev", h.netns],
                        ["link", "set", h.netns, "up"], ["link", "set", "lo", "up"]):
                sh(["ip", "-n", h.netns] + cmd)
        for h in self.hosts:
            h.make_dirs()
            h.make_cgroups()
            self.save()
            h.start_holder()
        for h in self.hosts:
            h.start_libvirt()
        for h, other in ((self.a, self.b), (self.b, self.a)):
            r = h.run(["virsh", "-c", other.uri_remote, "uri"])
            if r.returncode != 0:
                raise SetupError("host %s cannot reach %s: %s" % (h.name, other.uri_remote,
                                                                 r.stderr.strip()))

    def console_path(self, dom):
        """Where the console of domain dom goes (a file both hosts see)."""
        return os.path.join(self.console_dir, dom + ".log")

    def close(self):
        """Tears everything down (once; safe after a failed set-up)."""
        if not self.up:
            return
        self.up = False
        problems = []
        for h in self.hosts:
            try:
                problems += h.teardown()
            except Exception as e:  # the other host is still torn down
                problems.append("host %s: %s" % (h.name, e))
        problems += remove_network()
        if not problems:
            try:
                os.unlink(os.path.join(self.workdir, STATE))
            except FileNotFoundError:
                pass
        if self.lockf:
            self.lockf.close()
            self.lockf = None
        for p in problems:
            print("twohost: teardown: " + p, file=sys.stderr, flush=True)


def remove_network():
    problems = []
    for name, _ in HOSTS:
        ns = "%s-%s" % (PREFIX, name)
        if os.path.exists("/run/netns/" + ns):
            r = sh(["ip", "netns", "del", ns], check=False)
            if r.returncode != 0:
                problems.append("ip netns del %s: %s" % (ns, r.stderr.strip()))
        if os.path.exists("/sys/class/net/" + ns):  # a set-up stopped before the move
            sh(["ip", "link", "del", ns], check=False)
    return problems


def down(workdir):
    """Cleans up what a killed run under workdir left: its processes (by
    the PIDs it recorded, checked against their names, and whatever is in
    its cgroups), cgroups, namespaces and veth. Returns the problems. The
    caller holds the machine's lock (the namespaces' names are every
    run's)."""
    try:
        with open(os.path.join(workdir, STATE)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        state = {"hosts": {}}
    problems = []
    for name, h in state["hosts"].items():
        for cmd, pid in h["pids"].items():
            kill_pid(pid, cmd)
        wait_gone(list(h["pids"].values()), 15)
        problems += kill_cgroups(h["cgroups"])
    problems += remove_network()
    if not problems:
        try:
            os.unlink(os.path.join(workdir, STATE))
        except FileNotFoundError:
            pass
    return problems


# -- the guest -------------------------------------------------------------------

def guest_files():
    """Builds (or finds up to date) the real-guest harness's guest
    (tests/integration/guest-build.sh) and checks that QEMU's user can
    read it; returns (kernel, initrd). SetupError otherwise."""
    sh(["bash", os.path.join(INTEGRATION, "guest-build.sh"), GUEST_DIR], timeout=900)
    files = tuple(os.path.join(GUEST_DIR, f) for f in ("vmlinuz", "initrd.img"))
    for f in files:
        sh(["bash", os.path.join(INTEGRATION, "qemu-can-read.sh"), f])
    return files


def accel():
    """The domain type for test guests (tests/integration/accel.sh)."""
    return sh(["sh", os.path.join(INTEGRATION, "accel.sh")]).stdout.strip() or "qemu"


def guest_xml(name, console, kind="qemu", memory_mib=256, vcpus=1, current_mib=None,
              vcpus_current=None):
    """A domain of the test guest named name, its console appended to the
    file console (on a move, the destination's QEMU appends to it too).
    With current_mib, a virtio balloon holds it at current_mib of
    memory_mib; with vcpus_current, vcpus_current of vcpus are online (as
    partd defines a partition: its reserved maximum, its initial values)."""
    kernel, initrd = (os.path.join(GUEST_DIR, f) for f in ("vmlinuz", "initrd.img"))
    return """<domain type='%s'>
  <name>%s</name>
  <memory unit='MiB'>%d</memory>%s
  <vcpu%s>%d</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>%s</kernel>
    <initrd>%s</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='%s' append='on'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='%s'/>
  </devices>
</domain>
""" % (kind, name, memory_mib,
       "" if current_mib is None else "\n  <currentMemory unit='MiB'>%d</currentMemory>" % current_mib,
       "" if vcpus_current is None else " current='%d'" % vcpus_current, vcpus,
       kernel, initrd, console, "none" if current_mib is None else "virtio")


class ConsoleFollower(Console):
    """Follows a guest's console file, on whichever host the guest runs
    (both write to the same file), in a thread: every guest line with the
    time.monotonic() of its arrival, in self.stamped as (arrival, line)
    (Console.parse's dicts). A file truncated (a QEMU opening it without
    append) is read again from its start. Use as a context manager, or
    start() and stop()."""

    def __init__(self, path, poll=0.02):
        super().__init__(path)
        self.poll = poll
        self.stamped = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.follow, daemon=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def follow(self):
        offset, partial = 0, b""
        while not self.stopping.wait(self.poll):
            try:
                with open(self.path, "rb") as f:
                    if os.fstat(f.fileno()).st_size < offset:
                        offset, partial = 0, b""
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            if not data:
                continue
            now = time.monotonic()
            offset += len(data)
            text, _, partial = (partial + data).rpartition(b"\n")
            lines = self.parse(text.decode("utf-8", "replace"))
            with self.lock:
                self.stamped += [(now, ln) for ln in lines]

    def since(self, t):
        """The stamped lines that arrived after monotonic time t."""
        with self.lock:
            return [s for s in self.stamped if s[0] > t]

    def wait_line(self, after, timeout):
        """The first line arriving after monotonic time after, waiting up to
        timeout seconds for it; None when none came."""
        end = time.monotonic() + timeout
        while True:
            got = self.since(after)
            if got:
                return got[0]
            if time.monotonic() >= end:
                return None
            time.sleep(self.poll)

    def gap(self, start, end):
        """The console across an interruption from monotonic time start to
        end (a move): {"gap_s": the longest interval between consecutive
        lines from the last line before start to the first one after end,
        "interval_s": the median interval of the lines before start (the
        guest's own rhythm), "t_before", "t_after": the guest's uptimes on
        those two lines}; None without a line on both sides."""
        with self.lock:
            before = [s for s in self.stamped if s[0] <= start]
            after = [s for s in self.stamped if s[0] > end]
            if not before or not after:
                return None
            window = [s for s in self.stamped if before[-1][0] <= s[0] <= after[0][0]]
        last = before[-11:]
        steps = sorted(b[0] - a[0] for a, b in zip(last, last[1:]))
        return {"gap_s": max(b[0] - a[0] for a, b in zip(window, window[1:])),
                "interval_s": steps[len(steps) // 2] if steps else None,
                "t_before": before[-1][1]["t"], "t_after": after[0][1]["t"]}


# -- as a script -------------------------------------------------------------------

def main(argv):
    if len(argv) < 3 or argv[1] not in ("up", "down", "enter"):
        print(__doc__)
        return 2
    workdir = os.path.abspath(argv[2])
    if argv[1] == "down":
        # under the lock: the namespaces' names are the same for every run
        lockf = machine_lock(300)
        if lockf is None:
            print("twohost: the machine's real-guest lock is held by a run: not now",
                  file=sys.stderr)
            return 1
        problems = down(workdir)
        for p in problems:
            print("twohost: " + p, file=sys.stderr)
        return 1 if problems else 0
    if argv[1] == "enter":
        return subprocess.call(["sh", ENTER, os.path.join(workdir, argv[3])] + argv[4:])
    with TwoHosts(workdir) as h:
        for x in h.hosts:
            print("%s: %s, inside %s, from the other host %s, from outside %s" % (
                x.name, x.addr, x.uri, x.uri_remote, x.uri_outside))
        print("up: twohost.py enter %s a|b CMD; Ctrl-C ends it" % workdir, flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
