"""What the real-guest scripts share (python3 standard library only): the
real-guest tests (tests/integration/partd-guests.py, partd-mempress.py),
the calibration of the simulator's dispatcher (calibrate.py) and the demo
(examples/demo-guests.py).

A script's start (begin: arguments, root, the machine's lock, signals),
commands (run, virsh), the domains a run defined (Domains), libvirt's and
the host's CPU counters (cpu_times, pool_busy, measure), a guest's serial
console (Console, partdtest's, re-exported: the line guest-init.sh prints
each second), a guest's busy loops turned on and off through its agent
(burn), and the host made ready for guests
(host_up/host_down: guest-build.sh, libvirtd-up.sh, accel.sh,
qemu-can-read.sh, libvirtd-down.sh of tests/integration).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

from partdtest import Console  # noqa: F401 (re-exported: one parser of the guest's line)
from partdtest import MACHINE_LOCK, log_if_failed, machine_lock, skip

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration")
VIRSH = ["virsh", "-q", "-c", "qemu:///system"]


def now():
    return time.monotonic()


def begin(R, name, doc):
    """The start of every real-guest script's main(): its arguments (BUILD
    SRC), root, the machine's real-guest lock (up to 300 s), and SIGTERM,
    SIGINT and SIGHUP turned into KeyboardInterrupt so its cleanup runs.
    Returns (build, src, lock file: held until the script exits), or the
    exit status to return at once (usage, skipped, lock not had)."""
    sys.stdout.reconfigure(line_buffering=True)
    if len(sys.argv) != 3:
        print(doc)
        return 2
    if os.geteuid() != 0:
        return skip("%s: needs root (starts libvirtd and QEMU guests): skipped" % name)
    lockf = machine_lock(300)
    if lockf is None:
        R.check("another real-guest run held %s for 300 s" % MACHINE_LOCK, False)
        return R.finish()

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    build, src = (os.path.abspath(a) for a in sys.argv[1:3])
    return build, src, lockf


def end(R, partd, consoles, cleanup, lines):
    """The end of every real-guest script's main(), in its finally: no
    signal interrupts the clean-up; after a failure the last lines of each
    (name, Console) of consoles and partd's log (when it was started);
    then cleanup(), whose own error is printed, not raised."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if R.failed:
        for name, con in consoles:
            print("--- last console lines of %s\n%s" % (name, con.tail(lines)), flush=True)
    if partd:
        log_if_failed(R, partd)
    try:
        cleanup()
    except Exception as e:
        print("cleanup: %s" % e, flush=True)


class Domains:
    """The domains a run defines, listed in a file until its clean-up
    removes them, so that the next run removes those of a run killed
    before its clean-up."""

    def __init__(self, path):
        self.path = path

    def record(self, names):
        with open(self.path, "w") as f:
            f.write("\n".join(names) + "\n")

    def remove(self, names=None):
        """Destroys and undefines names (default: those recorded) and
        forgets the list; returns the names, [] when none were recorded.
        A domain already gone is not an error."""
        if names is None:
            try:
                with open(self.path) as f:
                    names = f.read().split()
            except OSError:
                return []
        for d in names:
            virsh("destroy", d)
            r = virsh("undefine", d)
            if r.rc != 0 and "ailed to get domain" not in r.err:
                print("undefine %s: %s" % (d, r.err.strip()), flush=True)
        try:
            os.unlink(self.path)
        except OSError:
            pass
        return names


def guest_cache():
    """Where guest-build.sh keeps the guest's kernel and initramfs: where
    QEMU (libvirt-qemu) can read them, shared by every build tree."""
    return os.path.join(os.environ.get("PARTD_TEST_CACHE", "/var/cache/partd-test"), "guest")


# -- commands -----------------------------------------------------------------

class Cmd:
    def __init__(self, argv, rc, stdout, stderr, secs):
        self.argv, self.rc, self.out, self.err, self.secs = argv, rc, stdout, stderr, secs

    def __repr__(self):
        return "%s -> exit %s (%.2fs): %s %s" % (" ".join(self.argv), self.rc, self.secs,
                                                 self.out.strip()[:300], self.err.strip()[:300])


def run(argv, timeout=120, env=None):
    t = now()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL)
        return Cmd(argv, p.returncode, p.stdout, p.stderr, now() - t)
    except subprocess.TimeoutExpired as e:
        return Cmd(argv, None, e.stdout or "", "timed out after %ss" % timeout, now() - t)


def virsh(*args, timeout=60):
    return run(VIRSH + list(args), timeout=timeout)


# -- the host ---------------------------------------------------------------------

def host_up(state_dir):
    """Builds the guest (cached), starts libvirtd and virtlogd unless they
    run (recording in state_dir what it started) and checks that QEMU can
    read the guest. Their messages go to our stderr. Returns (accelerator,
    None), or (None, why not)."""
    for argv, timeout in ((["bash", os.path.join(HERE, "guest-build.sh"), guest_cache()], 600),
                          (["bash", os.path.join(HERE, "libvirtd-up.sh"), state_dir], 600)):
        r = run(argv, timeout=timeout)
        sys.stdout.write(r.err)
        if r.rc != 0:
            return None, "%s failed (exit %s)" % (os.path.basename(argv[1]), r.rc)
    r = run(["sh", os.path.join(HERE, "accel.sh")])
    sys.stdout.write(r.err)
    for f in ("vmlinuz", "initrd.img"):
        c = run(["bash", os.path.join(HERE, "qemu-can-read.sh"), os.path.join(guest_cache(), f)])
        if c.rc != 0:
            return None, c.err.strip()
    return r.out.strip() or "qemu", None


def host_down(state_dir):
    """Stops libvirtd and virtlogd if host_up() started them."""
    r = run(["bash", os.path.join(HERE, "libvirtd-down.sh"), state_dir])
    sys.stdout.write(r.err)


# -- CPU counters -----------------------------------------------------------------

def cpu_times(doms):
    """(monotonic time, {domain: cpu.time in ns}) from one bulk stats call."""
    r = virsh("domstats", "--cpu-total", *doms)
    t = now()
    res, cur = {}, None
    for line in r.out.splitlines():
        m = re.match(r"Domain: '(.*)'", line.strip())
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"cpu\.time=(\d+)$", line.strip())
        if m and cur:
            res[cur] = int(m.group(1))
    return t, res


def pool_busy(cpus):
    """Busy seconds so far of the host CPUs cpus (from /proc/stat)."""
    busy = 0.0
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+) (.*)", line)
            if m and int(m.group(1)) in cpus:
                v = [int(x) for x in m.group(2).split()]
                busy += sum(v[:3]) + sum(v[5:8])  # user nice system irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def measure(doms, seconds, pool=None):
    """Cores each domain used over seconds; with pool (host CPUs), also what
    everything else used of those CPUs ("other")."""
    b0 = pool_busy(pool) if pool else 0
    t0, c0 = cpu_times(doms)
    time.sleep(seconds)
    t1, c1 = cpu_times(doms)
    b1 = pool_busy(pool) if pool else 0
    dt = t1 - t0
    rates = {d: (c1.get(d, 0) - c0.get(d, 0)) / 1e9 / dt for d in doms}
    if pool:
        rates["other"] = max(0.0, (b1 - b0) / dt - sum(rates[d] for d in doms))
    return rates


# -- the guest ----------------------------------------------------------------------

def burn(dom, on):
    """Makes the guest busy (a busy loop on every online CPU) or idle: its
    agent writes /run/burn, which its /init reads each second. False if the
    agent did not take it."""
    cmd = {"execute": "guest-exec",
           "arguments": {"path": "/bin/sh",
                         "arg": ["-c", "echo %d >/run/burn" % (1 if on else 0)]}}
    return virsh("qemu-agent-command", dom, json.dumps(cmd), timeout=20).rc == 0
