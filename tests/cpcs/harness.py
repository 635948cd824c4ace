#!/usr/bin/python3
"""The two-host harness itself (tests/cpcs/twohost.py): what it leaves
behind when things go wrong.

Usage: harness.py BUILD_DIR      (exit 77: skipped, not root)

- it refuses to start while a namespace of its own name exists (another
  run, or a killed one), saying so, and touches nothing;
- a test failing inside `with TwoHosts(...)`, a guest running: the guest,
  the daemons, the cgroups, the namespaces and the veth are all gone;
- a run killed with SIGKILL (no clean-up at all), a guest running:
  `twohost.py down WORKDIR` removes all of it;
- enter.sh runs a command in the host: its address, its own libvirt
  directories, and the cgroup namespace (its cgroup is the root there).
"""

import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from partdtest import Results, machine_lock, main_wrapper, skip  # noqa: E402
import twohost  # noqa: E402


class Crash(Exception):
    """A test failing inside the harness."""


def start_guest(R, h, what):
    dom = "partd2h-harness"
    xml = os.path.join(h.workdir, dom + ".xml")
    with open(xml, "w") as f:
        f.write(twohost.guest_xml(dom, h.console_path(dom), twohost.accel(), 128))
    r = h.a.virsh("create", xml)
    R.check("%s: a guest runs on a" % what, r.returncode == 0, r.stderr.strip())


def refusal(R, work):
    """Under the machine's lock, as another run would hold it: the harness
    is told not to take it."""
    ns = "%s-a" % twohost.PREFIX
    lockf = machine_lock(300)
    if not R.check("the machine's real-guest lock is free within 300 s", lockf is not None):
        return
    try:
        refused(R, work, ns)
    finally:
        lockf.close()


def refused(R, work, ns):
    r = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if not R.check("ip netns add %s" % ns, r.returncode == 0, r.stderr.strip()):
        return
    try:
        try:
            with twohost.TwoHosts(work, lock=False, install=False):
                R.check("refused while %s exists" % ns, False, "it started")
        except twohost.SetupError as e:
            R.check("refused while %s exists, saying so" % ns,
                    "network namespace " + ns in str(e) and "down" in str(e), e)
        R.check("the refusal touched nothing (the namespace stays, no workdir made)",
                os.path.exists("/run/netns/" + ns) and not os.path.exists(work))
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def inside(R, h):
    r = h.b.run(["sh", "-c", "ip -br addr show dev %s; cat /proc/self/cgroup; "
                 "cat /etc/libvirt/libvirtd.conf" % h.b.netns])
    R.check("enter.sh: host b has its address, its cgroup as root, its own libvirtd.conf",
            r.returncode == 0 and h.b.addr + "/24" in r.stdout and
            all(ln.endswith(":/") for ln in r.stdout.splitlines() if ln[:1].isdigit()) and
            h.b.host_uuid in r.stdout, r.stdout + r.stderr)


def failure(R, work):
    h = None
    try:
        with twohost.TwoHosts(work, install=False) as h:
            inside(R, h)
            start_guest(R, h, "a failing test")
            raise Crash()
    except Crash:
        pass
    left = twohost.leftovers(h) if h else ["no harness"]
    R.check("a failing test: nothing left behind", not left, ", ".join(left))


def killed(R, work):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "twohost.py"), "up", work],
                         stdout=subprocess.PIPE, text=True)
    up = False
    for ln in p.stdout:
        if ln.startswith("up:"):
            up = True
            break
    if not R.check("twohost.py up: the hosts come up", up):
        p.kill()
        p.wait()
        return
    h = twohost.TwoHosts(work)  # the same hosts, to look at them; not entered
    start_guest(R, h, "a killed run")
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    p.stdout.close()
    R.check("after SIGKILL, the run's namespaces are still there",
            bool(twohost.leftovers()), "none")
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, os.path.join(HERE, "twohost.py"), "down", work],
                       capture_output=True, text=True, timeout=120)
    with open(os.path.join(work, "a", "cgroups")) as f:
        cgroups = f.read().split()
    left = twohost.leftovers() + [cg for cg in cgroups if os.path.exists(cg)]
    left += ["QEMU (pid %s)" % pid for pid in subprocess.run(
        ["pgrep", "-f", "guest=partd2h-harness"], capture_output=True, text=True).stdout.split()]
    R.check("twohost.py down WORKDIR after a killed run: nothing left (%.1f s)" % (
        time.monotonic() - t0), r.returncode == 0 and not left, r.stderr + ", ".join(left))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    why = twohost.why_not()
    if why:
        return skip("cpcs-harness: %s: skipped" % why)
    out = os.path.join(os.path.abspath(sys.argv[1]), "tests", "cpcs")
    os.makedirs(out, exist_ok=True)
    R = Results("cpcs-harness")
    shutil.rmtree(os.path.join(out, "harness-refused"), ignore_errors=True)
    try:
        refusal(R, os.path.join(out, "harness-refused"))
        failure(R, os.path.join(out, "harness-failure"))
        killed(R, os.path.join(out, "harness-killed"))
    except twohost.SetupError as e:
        R.check("the two hosts are set up", False, e)
    finally:
        lockf = machine_lock(300)
        twohost.down(os.path.join(out, "harness-killed"))
        if lockf:
            lockf.close()
    return R.finish()


if __name__ == "__main__":
    main_wrapper(main)
