#!/usr/bin/python3
"""The rebalancer on real guests: partd under libvirtd (qemu:///system) with
two small QEMU guests, a and b, equal in everything, in one group. With the
`demo` policy (balanced, acting every second) partd moves capacity to a
while a is busy (processors; weight too while the pool has room to share),
and back when a idles and b gets busy; partctl top and partctl events show
it happen.

Usage: examples/demo-guests.py BUILD_DIR      (as root; ./build.sh demo guests)

It reuses the real-guest tests' pieces (tests/integration): guest-build.sh
for the guest (a Debian kernel and a busybox initramfs, cached in
/var/cache/partd-test/guest), libvirtd-up.sh/libvirtd-down.sh to start
libvirtd and QEMU (installed when missing) and stop only what they started,
accel.sh for the accelerator (kvm where /dev/kvm is a real one, TCG
otherwise), and tests/lib's Partd to run partd on a copy of
examples/qemu-cpc. A guest is made busy and idle through its guest agent,
which writes 1 or 0 to the guest's /run/burn (see guest-init.sh).

Everything it started is stopped at the end, on failure or Ctrl-C too: the
guests (deactivated, then destroyed and undefined), partd, libvirtd and
virtlogd when it started them; its temporary directory is removed. Once the
guest is built and libvirtd is up, the demo takes under a minute, at
most three. One run at a time, and never during a real-guest test run:
they share /run/lock/partd-integration.lock.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
HERE = os.path.join(SRC, "tests", "integration")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
from partdtest import MACHINE_LOCK, Partd, fast_policy, machine_lock, write_json  # noqa: E402
from realguest import Domains, burn  # noqa: E402

VIRSH = ["virsh", "-q", "-c", "qemu:///system"]
BUDGET = 180     # seconds from partd's start to the end of the last phase
BOOT_TIMEOUT = 60
PHASE = 60       # the most one phase waits for capacity to move
TICK = 3         # seconds between progress lines
WEIGHT_WAIT = 12  # after a's processors moved, how long to wait for weight
DEMO_POLICY = fast_policy("demo", "balanced, fast: for examples/demo-guests.py")

T0 = time.monotonic()


def say(msg=""):
    print(msg, flush=True)


class Stop(Exception):
    """The demo cannot go on; the message says why."""


def run(argv, env=None, timeout=120):
    """argv's exit status, output and errors; stdin closed."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "%s: timed out after %d s" % (argv[0], timeout)


def script(name, *args, env=None):
    """Runs tests/integration/NAME, its messages going to our output."""
    p = subprocess.run(["bash", os.path.join(HERE, name)] + list(args), env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    if p.returncode != 0:
        raise Stop("%s failed (exit %d)" % (name, p.returncode))
    return p.stdout.decode().strip()


def virsh(*args, timeout=60):
    return run(VIRSH + list(args), timeout=timeout)


class Demo:
    def __init__(self, build):
        self.partctl_bin = os.path.join(build, "partctl", "partctl")
        self.partd_bin = os.path.join(build, "partd", "partd")
        # kept between runs, in the build tree: libvirtd-up.sh records there
        # what it started, and this run which domains it defined, so that a
        # run killed before its clean-up is cleaned up by the next one
        self.keep = os.path.join(build, "demo-guests")
        self.domains = Domains(os.path.join(self.keep, "domains"))
        self.guest = os.path.join(os.environ.get("PARTD_TEST_CACHE", "/var/cache/partd-test"),
                                  "guest")
        self.work = None
        self.partd = None
        self.libvirtd = False
        self.names = {x: "demo%d-%s" % (os.getpid(), x) for x in ("a", "b")}
        self.A, self.B = self.names["a"], self.names["b"]
        self.env = None

    # -- set-up and clean-up

    def setup(self):
        os.makedirs(self.keep, exist_ok=True)
        say("==> the guest: a Debian kernel and a busybox initramfs (built once, then cached)")
        script("guest-build.sh", self.guest)
        say("==> libvirtd and QEMU")
        self.libvirtd = True  # libvirtd-down.sh is safe after a failed up
        script("libvirtd-up.sh", os.path.join(self.keep, "libvirtd"))
        self.stale_cleanup()
        # accel.sh's choice when asked for kvm: kvm unless /dev/kvm is
        # missing or is the emulated kind that cannot boot a stock kernel
        _, accel, _ = run(["sh", os.path.join(HERE, "accel.sh")],
                          env=dict(os.environ, PARTD_TEST_KVM="1"))
        accel = accel.strip() or "qemu"
        say("==> the guests run on %s" % (
            "kvm" if accel == "kvm" else "qemu (TCG: no usable /dev/kvm here, slower)"))
        for f in ("vmlinuz", "initrd.img"):
            script("qemu-can-read.sh", os.path.join(self.guest, f))

        # partd on a copy of examples/qemu-cpc: our listeners, tokens and
        # state, the guest where QEMU reads it, the demo policy beside the
        # shipped ones
        self.work = tempfile.mkdtemp(prefix="partd-demo-guests.", dir="/tmp")
        os.chmod(self.work, 0o755)  # QEMU's user reaches the consoles' directory
        self.partd = Partd(self.partd_bin, example="qemu-cpc", tmp=self.work, src=SRC,
                           policy="static", interval=1, policies=[DEMO_POLICY])
        ncpu = os.cpu_count() or 1

        def edit(cfg):
            cfg["paths"]["images"] = self.guest
            # a pool of at least two CPUs, so that processors can move
            cfg["cpc"]["host_reserved_cpus"] = 1 if ncpu > 2 else 0
        self.partd.edit_config(edit)
        logs = os.path.join(self.partd.cpc, "log")
        os.makedirs(logs)
        os.chmod(logs, 0o755)
        parts = self.partd.parts_dir
        for x, name in self.names.items():
            path = os.path.join(parts, x + ".json")
            with open(path) as f:
                p = json.load(f)
            os.unlink(path)
            p["name"] = name
            p["serial_log"] = name + ".log"
            p["machine"]["type"] = accel
            # both idle at first: the demo makes them busy through the agent
            p["boot"]["cmdline"] = p["boot"]["cmdline"].replace(" burn=1", "")
            write_json(os.path.join(parts, name + ".json"), p)
        self.consoles = {n: os.path.join(logs, n + ".log") for n in self.names.values()}
        # partd defines every profile's domain when it starts: ours from now on
        self.domains.record([self.A, self.B])
        self.env = dict(os.environ, PARTD_SERVER="http://127.0.0.1:%d" % self.partd.port,
                        PARTD_TOKEN=self.partd.token)

    def stale_cleanup(self):
        """The domains of a run killed before its clean-up."""
        names = self.domains.remove()
        if names:
            say("removed the domains an earlier run left: %s" % " ".join(names))

    def cleanup(self):
        say()
        say("==> stopping everything the demo started")
        if self.partd and self.partd.running():
            for d in (self.A, self.B):
                self.burn(d, False)  # a burning guest under TCG shuts down slowly
                out = self.partctl("deactivate", d, "--timeout", "20", "--force", check=False)
                say("$ partctl deactivate %s --timeout 20 --force\n%s" % (
                    d, (out.splitlines() or ["(no answer)"])[0]))
            self.partd.stop()
            say("partd stopped")
        if self.work:
            self.domains.remove([self.A, self.B])
            say("domains %s and %s undefined" % (self.A, self.B))
        if self.libvirtd:
            subprocess.run(["bash", os.path.join(HERE, "libvirtd-down.sh"),
                            os.path.join(self.keep, "libvirtd")], stdin=subprocess.DEVNULL)
        if self.work:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- partd, partctl and the guests

    def partctl(self, *args, echo=False, check=True):
        """partctl's output; with echo, printed under the command line."""
        rc, out, err = run([self.partctl_bin] + list(args), env=self.env)
        if echo:
            say("$ partctl %s" % " ".join(args))
            sys.stdout.write(out + err)
            say()
        if rc != 0 and check and not echo:
            raise Stop("partctl %s: exit %s: %s" % (" ".join(args), rc, err.strip()))
        return out

    def pjson(self, *args):
        return json.loads(self.partctl("-o", "json", *args))

    def last_seq(self):
        ev = self.pjson("events").get("events", [])
        return ev[-1]["seq"] if ev else 0

    def console(self, dom):
        """The guest's own last report (guest-init.sh), as a dict."""
        try:
            with open(self.consoles[dom], "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return None
        for line in reversed(lines):
            if line.startswith("partd-guest "):
                return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        return None

    def burn(self, dom, on):
        """Makes the guest busy or idle (realguest.burn)."""
        return burn(dom, on)

    def state(self):
        """One progress line: what partd gives each guest and what it uses."""
        parts = {p["name"]: p for p in self.pjson("list").get("partitions", [])}
        cells = []
        for x, name in self.names.items():
            p = parts.get(name, {})
            u = (p.get("utilisation") or {}).get("used")
            c = self.console(name) or {}
            cells.append("%s: %s cpus, weight %s, uses %s (guest: busy=%s)" % (
                x, (p.get("processors") or {}).get("online"),
                (p.get("weight") or {}).get("current"),
                "%.2f" % u if u is not None else "-", c.get("busy", "-")))
        return parts, "  ".join(cells)

    def watch(self, done, what, limit=PHASE):
        """Progress lines every TICK seconds until done(partitions) or limit
        seconds (or the budget) have passed."""
        start = time.monotonic()
        end = min(start + limit, T0 + BUDGET)
        while True:
            parts, line = self.state()
            say("  %3ds  %s" % (time.monotonic() - start, line))
            if done(parts):
                return True
            if time.monotonic() >= end:
                say("  (%s: not within %d s; going on)" % (what, time.monotonic() - start))
                return False
            time.sleep(TICK)

    # -- the demo

    def show(self):
        global T0
        say("==> partd on a copy of examples/qemu-cpc, policy static for now")
        err = self.partd.start(timeout=60)
        if err:
            raise Stop("partd did not start: %s" % err)
        T0 = time.monotonic()
        self.partctl("cpc", echo=True)
        for d in (self.A, self.B):
            self.partctl("activate", d, echo=True)
        say("waiting for both guests to boot (up to %d s)" % BOOT_TIMEOUT)
        start = time.monotonic()
        tick = start + 5
        while not all(self.console(d) for d in (self.A, self.B)):
            if time.monotonic() - start > BOOT_TIMEOUT:
                raise Stop("the guests did not boot within %d s (consoles in %s)" % (
                    BOOT_TIMEOUT, os.path.dirname(self.consoles[self.A])))
            time.sleep(1)
            if time.monotonic() >= tick:
                say("  %.0fs ..." % (time.monotonic() - start))
                tick += 5
        say("both booted in %.0f s; their agents:" % (time.monotonic() - start))
        for d in (self.A, self.B):
            start = time.monotonic()
            while not self.burn(d, False):
                if time.monotonic() - start > 30:
                    raise Stop("%s's guest agent does not answer" % d)
                time.sleep(1)
        say("ok; waiting for their use to settle after the boot")
        def quiet(parts):
            used = [(parts[n].get("utilisation") or {}).get("used") for n in parts]
            return all(u is not None and u < 0.3 for u in used)
        self.watch(quiet, "the guests settled", limit=30)
        say()
        self.partctl("policy", "demo", echo=True)
        self.partctl("top", "--iterations", "1", echo=True)
        init = {n: self.pjson("show", n) for n in (self.A, self.B)}
        w0 = {n: init[n]["weight"]["current"] for n in init}

        say("==> a gets busy (one busy loop per CPU it has online): partd gives it")
        say("    processors, and weight from b while the pool has room to share")
        seq = self.last_seq()
        if not self.burn(self.A, True):
            raise Stop("%s's guest agent did not take the command" % self.A)
        moved = []

        def to_a(parts):
            """a has more processors than b; then the weight moves too, or
            WEIGHT_WAIT seconds pass (a pool that a fills has none to share)"""
            a, b = parts[self.A], parts[self.B]
            if a["processors"]["online"] <= b["processors"]["online"]:
                return False
            moved.append(time.monotonic())
            return (a["weight"]["current"] > b["weight"]["current"] or
                    moved[-1] - moved[0] >= WEIGHT_WAIT)
        self.watch(to_a, "a got more processors")
        self.partctl("top", "--iterations", "1", echo=True)
        self.partctl("events", "--since", str(seq), echo=True)

        say("==> a idles and b gets busy: a gives back its processors (it idles)")
        say("    and any weight it borrowed (b, which lent it, needs it now)")
        seq = self.last_seq()
        self.burn(self.A, False)
        if not self.burn(self.B, True):
            raise Stop("%s's guest agent did not take the command" % self.B)

        def back(parts):
            a, b = parts[self.A], parts[self.B]
            return (a["processors"]["online"] == 1 and b["processors"]["online"] > 1 and
                    a["weight"]["current"] <= w0[self.A] and
                    b["weight"]["current"] >= w0[self.B])
        self.watch(back, "the capacity went back")
        self.partctl("top", "--iterations", "1", echo=True)
        self.partctl("events", "--since", str(seq), echo=True)
        say("demo: %.0f s from partd's start" % (time.monotonic() - T0))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("demo-guests: run as root (it starts libvirtd and QEMU guests)", file=sys.stderr)
        return 1
    build = os.path.abspath(sys.argv[1])
    for b in ("partd/partd", "partctl/partctl"):
        if not os.access(os.path.join(build, b), os.X_OK):
            print("demo-guests: no %s in %s: build first (./build.sh build)" % (b, build),
                  file=sys.stderr)
            return 1
    lockf = machine_lock(0)
    if lockf is None:
        print("demo-guests: a real-guest test or demo holds %s; waiting for it (up to "
              "5 minutes)" % MACHINE_LOCK, flush=True)
        lockf = machine_lock(300)
        if lockf is None:
            print("demo-guests: still held: giving up", file=sys.stderr)
            return 1

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    demo = Demo(build)
    rc = 0
    try:
        demo.setup()
        demo.show()
    except Stop as e:
        say("demo-guests: %s" % e)
        if demo.partd:
            say("partd's log ends:\n%s" % demo.partd.log_tail())
        rc = 1
    except KeyboardInterrupt:
        say("\ndemo-guests: interrupted")
        rc = 130
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        demo.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
