#!/usr/bin/python3
"""partd driving real QEMU guests under a real libvirtd, checked from inside
the guests (their serial consoles) and from libvirt's own numbers.

Usage: partd-guests.py BUILD_DIR SOURCE_DIR      (exit 77: skipped, not root)

Copies examples/qemu-cpc (two partitions, a and b, written as a user writes
them: a boot section, serial_log, guest_agent, machine) to
BUILD_DIR/tests/integration/partd-guests/, with the guest kernel and
initramfs of guest-build.sh, the accelerator of accel.sh (qemu/TCG unless
PARTD_TEST_KVM=1), partition names with a prefix unique to the run, a free
port and a policies directory with a fast test policy; starts
BUILD_DIR/partd/partd -f there and drives it with BUILD_DIR/partctl/partctl.

Phase 1, the shipped CPC (host_reserved_cpus 1: the shared pool is one CPU;
a burns one busy loop per online CPU, b too until check 6):
  1  partctl activate boots both partitions; partctl show says active;
     both consoles print; partd's memory target is the profile's.
  4  weight and cap reach the cgroups (virsh schedinfo); vCPUs and emulator
     are pinned to the pool CPU; with both guests burning on the one-CPU
     pool, weights 3:1 deliver at least 2:1 (cpu.time), and a cap of 0.5
     holds a guest to 0.5 +- 0.1 cores.
  6  the demo: b is deactivated (gracefully, through its agent) and
     activated again while a burns; a's delivered CPU, sampled each second,
     does not drop. b comes back with its changed profile (no burn: a
     profile edit and SIGHUP) and stays idle from then on.
  7  crash safety: kill -9 partd; the guests keep running and printing;
     partd restarted on the same directory adopts them and reports the same
     state; acknowledged running and profile changes are all still there.
Phase 2, partd restarted with host_reserved_cpus 0 (a pool of two CPUs):
     the adopted partitions follow the new pool (vcpupin, emulatorpin).
  5  rebalancing with a test policy (balanced, 1 s interval): a burning,
     b idle: a gains processors and weight, b drops toward its minimums,
     partctl events shows the actions and their reasons (by policy), and
     a's measured share of the pool rises.
  2  partctl resize --cpus: down through the guest agent (vary offline:
     the vCPU stays plugged), up again (online through the agent, or by
     hot-plug when check 5's policy did not plug one already), down; the
     guest's own count follows within 10 s, and partd's status agrees with
     the guest agent whenever partd says "applied"; partd's utilisation is
     per processor online. (The pool rule, a shared partition has no more
     logical processors than the pool has CPUs, makes 2 the most on a
     2-CPU host: --cpus 3 is refused in check 8.)
  3  partctl resize --memory below the current target: the balloon reaches
     it, the guest's MemTotal and MemAvailable drop; back up: they rise.
  8  bad requests (over reserved, over the pool, below min, weight out of
     bounds, scope running on an inactive partition) are refused with exit
     1 and the server's message, and nothing changed in the guests.

Measurements of delivered CPU report what other processes of the host used
of the pool's CPUs meanwhile; where that makes a check meaningless (a share
that cannot rise, seconds in which the pool CPU was not the guests'), it is
reported SKIP, neither passed nor failed.

At most two busy vCPUs run at once. Everything this run started is stopped
on exit, failure or not: partd by PID, the run's domains (destroyed and
undefined, by name), libvirtd/virtlogd if libvirtd-up.sh started them. A
run killed before its cleanup is cleaned up by the next one. One run at a
time on the machine: the lock of smoke.sh. Prints one line per check, the
time of each stage, and "N passed, M failed" last.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import (Partd, Results, check_stop, fast_policy, read_lines,  # noqa: E402
                       write_json)
from realguest import (Console, Domains, begin, end, cpu_times, measure, pool_busy, run, virsh)  # noqa: E402

BUDGET = 600          # seconds: abort what is left beyond this
BOOT_TIMEOUT = 90     # a TCG guest boots in 4-7 s alone, slower under load
CPUS_TIMEOUT = 10     # the guest shows a processor change within this
MEM_TIMEOUT = 45      # the balloon reaches its target within this (TCG under load: 18 s seen)
ITEST_POLICY = fast_policy("itest", "balanced, fast, for the real-guest integration test")

T0 = time.monotonic()


def now():
    return time.monotonic()


def out(msg=""):
    print(msg, flush=True)


class Abort(Exception):
    """Stops the run: what follows cannot be checked."""


# -- results -------------------------------------------------------------------

R = Results()


class Stage:
    """Times a stage: "time [N] what S.SSs"."""

    def __init__(self, num, what):
        self.num, self.what = num, what

    def __enter__(self):
        left = BUDGET - (now() - T0)
        if left <= 0:
            raise Abort("over the time budget of %d s before check %s" % (BUDGET, self.num))
        out("--- [%s] %s" % (self.num, self.what))
        self.t = now()
        return self

    def __exit__(self, *exc):
        d = now() - self.t
        R.timed(self.num, d)
        out("time [%s] %s %.2fs" % (self.num, self.what, d))
        return False


def wait_for(fn, timeout, interval=0.2):
    """Polls fn until it returns something true; returns that or None."""
    end = now() + timeout
    while True:
        v = fn()
        if v:
            return v
        if now() >= end:
            return None
        time.sleep(interval)


# -- libvirt and guest readings (and realguest's) ---------------------------------------------------

def schedinfo(dom):
    r = virsh("schedinfo", dom)
    res = {}
    for line in r.out.splitlines():
        m = re.match(r"\s*(\w+)\s*:\s*(\S+)", line)
        if m:
            res[m.group(1)] = m.group(2)
    return res


def vcpupins(dom):
    r = virsh("vcpupin", dom)
    return [l.split()[1] for l in r.out.splitlines() if re.match(r"\s*\d+\s+\S+", l)]


def emulatorpin(dom):
    r = virsh("emulatorpin", dom)  # -q leaves the bare CPU list
    m = re.search(r"\*:\s*(\S+)", r.out)
    return m.group(1) if m else (r.out.strip() or None)


def vcpus_plugged(dom):
    r = virsh("vcpucount", dom, "--live", "--current")
    return int(r.out.strip()) if r.rc == 0 and r.out.strip().isdigit() else None


def vcpus_guest(dom):
    r = virsh("vcpucount", dom, "--guest", timeout=20)
    return int(r.out.strip()) if r.rc == 0 and r.out.strip().isdigit() else None


def balloon_kib(dom):
    r = virsh("domstats", dom, "--balloon")
    m = re.search(r"balloon\.current=(\d+)", r.out)
    return int(m.group(1)) if m else None


def domstate(dom):
    return virsh("domstate", dom).out.strip()


def agent_up(dom):
    return virsh("qemu-agent-command", dom, '{"execute":"guest-ping"}', timeout=20).rc == 0


def fmt_line(ln):
    if not ln:
        return "(no line)"
    hog = "" if ln.get("hog") is None else " hog=%d/%d hogrc=%s oom=%s" % (
        ln["hog"] + (ln["hogrc"], ln["oom"]))
    return "cpus=%d memtotal=%d memfree=%d memavail=%d busy=%s t=%.1f%s" % (
        ln["cpus"], ln["memtotal"], ln["memfree"], ln["memavail"], ln["busy"], ln["t"], hog)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# -- the run ---------------------------------------------------------------------

class Run:
    """One run's set-up and clean-up, shared with partd-mempress.py: its
    directory is BUILD/tests/integration/NAME, its policies POLICIES (the
    fast test policy when none)."""

    def __init__(self, build, src, name="partd-guests", policies=None):
        self.build = build
        self.src = src
        self.policies = policies or [ITEST_POLICY]
        self.here = os.path.join(src, "tests", "integration")
        self.partd_bin = os.path.join(build, "partd", "partd")
        self.partctl_bin = os.path.join(build, "partctl", "partctl")
        self.root = os.path.join(build, "tests", "integration", name)
        self.domains = Domains(os.path.join(self.root, "domains"))
        # QEMU (libvirt-qemu) opens the kernel and the initramfs: they live
        # where it can reach them, not in the build tree (a clone in a 0700
        # home directory would hide them), shared by every build tree
        self.guest_cache = os.path.join(os.environ.get("PARTD_TEST_CACHE", "/var/cache/partd-test"),
                                        "guest")
        self.libvirt_state = os.path.join(self.root, "libvirtd")
        self.work = os.path.join(self.root, "run")
        self.cpc = os.path.join(self.work, "cpc")
        self.parts_dir = os.path.join(self.cpc, "partitions.d")
        self.prefix = "partd-it%d-" % os.getpid()
        self.A = self.prefix + "a"
        self.B = self.prefix + "b"
        self.doms = [self.A, self.B]
        self.partd = None
        self.defined = False
        self.libvirtd_up = False
        self.con = {}

    # -- set-up and clean-up --

    def stale_cleanup(self):
        """What a run of this build tree killed before its cleanup left."""
        pidf = os.path.join(self.root, "partd.pid")
        try:
            pid = int(open(pidf).read())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if self.work.encode() in f.read():
                    os.kill(pid, signal.SIGKILL)
                    out("stale partd (pid %d) of an earlier run killed" % pid)
        except (OSError, ValueError):
            pass
        names = self.domains.remove()
        if names:
            out("stale domains of an earlier run removed: %s" % " ".join(names))

    def setup(self):
        with Stage("0", "guest-build"):
            r = run(["bash", os.path.join(self.here, "guest-build.sh"), self.guest_cache],
                    timeout=600)
            sys.stdout.write(r.err)
            if r.rc != 0:
                raise Abort("guest-build.sh failed (exit %s)" % r.rc)
        with Stage("0", "libvirtd-up"):
            self.libvirtd_up = True  # down is safe after a failed up
            r = run(["bash", os.path.join(self.here, "libvirtd-up.sh"), self.libvirt_state],
                    timeout=600)
            sys.stdout.write(r.err)
            if r.rc != 0:
                raise Abort("libvirtd-up.sh failed (exit %s)" % r.rc)
        r = run(["sh", os.path.join(self.here, "accel.sh")])
        sys.stdout.write(r.err)
        self.accel = r.out.strip() or "qemu"
        out("accelerator: %s" % self.accel)
        self.stale_cleanup()
        for f in ("vmlinuz", "initrd.img"):
            r = run(["bash", os.path.join(self.here, "qemu-can-read.sh"),
                     os.path.join(self.guest_cache, f)])
            if r.rc != 0:
                raise Abort(r.err.strip())

        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        # the example, with our listeners, state and policies: the shipped
        # ones and a fast test policy
        self.partd = Partd(self.partd_bin, example="qemu-cpc", tmp=self.work, src=self.src,
                           interval=1, policies=self.policies,
                           pidfile=os.path.join(self.root, "partd.pid"))
        # paths.images is the guest cache itself (QEMU must reach it: not in
        # the build tree); paths.logs the example's: partd refuses to start
        # on directories that group or others may write (StrictModes)
        self.partd.edit_config(lambda cfg: cfg["paths"].update(images=self.guest_cache))
        os.makedirs(os.path.join(self.cpc, "log"))
        os.chmod(os.path.join(self.cpc, "log"), 0o755)
        # the profiles: this run's names, its accelerator, b burning for now
        for x in ("a", "b"):
            src = os.path.join(self.parts_dir, x + ".json")
            with open(src) as f:
                p = json.load(f)
            os.unlink(src)
            name = self.prefix + x
            p["name"] = name
            p["serial_log"] = "%s.log" % name  # in paths.logs, cpc/log
            p["machine"]["type"] = self.accel
            if x == "b":
                p["boot"]["cmdline"] += " burn=1"
            write_json(os.path.join(self.parts_dir, name + ".json"), p)
            self.con[name] = Console(os.path.join(self.cpc, "log", name + ".log"))
        # partd defines every profile's domain at start: from now on they are ours
        self.domains.record(self.doms)
        self.defined = True
        self.env = dict(os.environ, PARTD_SERVER="http://127.0.0.1:%d" % self.partd.port,
                        PARTD_TOKEN=self.partd.token)

    def set_reserved_cpus(self, n):
        def edit(cfg):
            cfg["cpc"]["host_reserved_cpus"] = n
        self.partd.edit_config(edit)

    def cleanup(self):
        out("--- cleanup")
        if self.partd and self.partd.running():
            check_stop(R, self.partd, "partd stops with status 0 at the end", group="-")
        if self.defined:
            self.domains.remove(self.doms)
        if self.libvirtd_up:
            r = run(["bash", os.path.join(self.here, "libvirtd-down.sh"), self.libvirt_state])
            sys.stdout.write(r.err)

    # -- partd --

    def start_partd(self, timeout=60):
        """Starts partd; returns the seconds it took to answer /v1/health."""
        t = now()
        err = self.partd.start(timeout=timeout)
        if err:
            raise Abort("partd did not start: %s" % err)
        return now() - t

    def partctl(self, *args, timeout=120):
        r = run([self.partctl_bin] + list(args), timeout=timeout, env=self.env)
        r.argv = ["partctl"] + list(args)
        return r

    def pjson(self, *args):
        r = self.partctl("-o", "json", *args)
        if r.rc != 0:
            return None
        try:
            return json.loads(r.out)
        except ValueError:
            return None

    def part(self, name):
        return self.pjson("show", name) or {}

    def parts(self):
        j = self.pjson("list") or {}
        return {p["name"]: p for p in j.get("partitions", [])}

    def resize(self, num, name, *args, expect_rc=0):
        r = self.partctl("resize", name, *args)
        ok = r.rc == expect_rc
        R.check("partctl resize %s %s -> exit %s (%.2fs)" % (
            name, " ".join(args), r.rc, r.secs), ok, "" if ok else repr(r), group=num)
        return r


def state_of(p):
    """What crash safety must keep of a partition's status."""
    return {"state": p.get("state"),
            "processors": (p.get("processors") or {}).get("online"),
            "weight": (p.get("weight") or {}).get("current"),
            "cap": (p.get("cap") or {}).get("current"),
            "memory": (p.get("memory") or {}).get("target"),
            "pending": p.get("pending")}


# -- the checks ---------------------------------------------------------------------

def check1_activate(t):
    A, B = t.A, t.B
    with Stage("1", "activate two partitions"):
        for d in t.doms:
            r = t.partctl("activate", d)
            R.check("partctl activate %s (%.2fs)" % (d, r.secs), r.rc == 0,
                    "" if r.rc == 0 else repr(r), group="1")
        if any(domstate(d) != "running" for d in t.doms):
            raise Abort("a domain is not running after activation: %s" %
                        {d: domstate(d) for d in t.doms})
        for d in t.doms:
            r = t.partctl("show", d)
            R.check("partctl show %s says active" % d,
                    re.search(r"^state:\s+active\b", r.out, re.M) is not None, r.out[:200],
                    group="1")
        t0 = now()
        for d in t.doms:
            ln = wait_for(lambda: t.con[d].last(), BOOT_TIMEOUT)
            R.check("%s console prints (%.1fs after activation)" % (d, now() - t0),
                    ln is not None, "" if ln else t.con[d].tail(), group="1")
            if not ln:
                raise Abort("%s did not boot" % d)
        for d in t.doms:
            ok = wait_for(lambda: agent_up(d), 30, 0.5)
            R.check("%s guest agent answers (%.1fs after activation)" % (d, now() - t0),
                    bool(ok), group="1")
        # partd's running memory is what the domain was started with
        # (the profile's initial, 512MiB), not the balloon on its way there
        time.sleep(1)
        for d in t.doms:
            p = t.part(d)
            mem = p.get("memory", {})
            bal = balloon_kib(d)
            R.check("%s memory target in partd is the profile's initial after activation"
                    % d, mem.get("target") == mem.get("initial"),
                    "partd memory %s (pending %s); libvirt balloon %s MiB [BUG: see report]"
                    % (mem, p.get("pending"), bal // 1024 if bal else None), group="1")


def check4_weights(t):
    A, B = t.A, t.B
    with Stage("4", "weights and caps reach the cgroups"):
        for d in t.doms:
            pins, emu = vcpupins(d), emulatorpin(d)
            R.check("%s pinned to the pool CPU 1: vcpupin %s, emulatorpin %s" % (d, pins, emu),
                    pins and all(x == "1" for x in pins) and emu == "1", group="4")
        t.resize("4", A, "--weight", "300", "--scope", "running")
        t.resize("4", B, "--weight", "100", "--scope", "running")
        for d, w in ((A, 300), (B, 100)):
            s = schedinfo(d)
            p = t.part(d)
            R.check("%s: virsh schedinfo cpu_shares %s = 10 x weight %d; partd weight %s %s"
                    % (d, s.get("cpu_shares"), w, p.get("weight", {}).get("current"),
                       p.get("backend", {}).get("weight", {}).get("status")),
                    s.get("cpu_shares") == str(10 * w) and
                    p.get("weight", {}).get("current") == w and
                    p.get("backend", {}).get("weight", {}).get("status") == "applied", group="4")
        la, lb = t.con[A].last(), t.con[B].last()
        R.check("both guests burn one vCPU: a busy=%s cpus=%s, b busy=%s cpus=%s" % (
            la and la["busy"], la and la["cpus"], lb and lb["busy"], lb and lb["cpus"]),
            la and lb and la["busy"] == 1 and lb["busy"] == 1 and la["cpus"] == lb["cpus"] == 1,
            group="4")
        time.sleep(2)
        m = measure(t.doms, 10, pool=[1])
        ratio = m[A] / m[B] if m[B] > 0 else float("inf")
        R.check("weights 300:100 deliver %.2f:%.2f cores = %.2f:1 (want >= 2:1; other "
                "processes on the pool CPU %.2f)" % (m[A], m[B], ratio, m["other"]),
                ratio >= 2.0, group="4")

        t.resize("4", A, "--cap", "0.5", "--scope", "running")
        s = schedinfo(A)
        p = t.part(A)
        R.check("%s cap 0.5: global_period %s global_quota %s; partd cap %s %s" % (
            A, s.get("global_period"), s.get("global_quota"), p.get("cap", {}).get("current"),
            p.get("backend", {}).get("cap", {}).get("status")),
            s.get("global_quota") == "50000" and s.get("global_period") == "100000" and
            p.get("cap", {}).get("current") == 0.5 and
            p.get("backend", {}).get("cap", {}).get("status") == "applied", group="4")
        time.sleep(1.5)
        m = measure(t.doms, 10, pool=[1])
        what = "cap 0.5 holds %s to %.2f cores (want 0.5 +- 0.1; %s %.2f; other %.2f)" % (
            A, m[A], B, m[B], m["other"])
        if m[A] < 0.4 and m["other"] > 0.15:
            R.skip(what, "other processes of the host took the pool CPU", group="4")
        else:
            R.check(what, abs(m[A] - 0.5) <= 0.1, group="4")
        t.resize("4", A, "--cap", "none", "--scope", "running")
        s = schedinfo(A)
        q = s.get("global_quota", "")
        R.check("cap removed: global_quota %s (no quota)" % q,
                re.fullmatch(r"-?\d+", q) is not None and
                (int(q) < 0 or int(q) >= 17592186044415), group="4")


def check6_demo(t):
    A, B = t.A, t.B
    with Stage("6", "b deactivated and activated again while a burns"):
        # the weights of check 4 in the profiles too: b comes back with them
        t.resize("6", A, "--weight", "300")
        t.resize("6", B, "--weight", "100")
        # b's next activation: the profile without burn=1, by edit and SIGHUP
        path = os.path.join(t.parts_dir, B + ".json")
        with open(path) as f:
            p = json.load(f)
        p["boot"]["cmdline"] = p["boot"]["cmdline"].replace(" burn=1", "")
        write_json(path, p)
        t.partd.signal(signal.SIGHUP)
        ok = wait_for(lambda: "%s: profile changed" % B in "".join(read_lines(t.partd.log)),
                      5)
        R.check("SIGHUP: partd took b's changed profile (pending until the next "
                "activation)", bool(ok), t.partd.log_tail(5), group="6")

        # Each second: the cores a used, and what everything else but the
        # two guests used of the pool CPU. A second in which other processes
        # of the host took more than QUIET of it says nothing about partd.
        QUIET = 0.15
        samples = []  # (monotonic, cores of a, cores of others on the pool CPU)
        stop = threading.Event()

        def reading():
            b = pool_busy([1])
            tt, c = cpu_times([A, B])
            return tt, c, b

        def sampler():
            tp, cp, bp = reading()
            while not stop.wait(1.0):
                tn, cn, bn = reading()
                dt = tn - tp
                if A in cn and A in cp:
                    a = (cn[A] - cp[A]) / 1e9 / dt
                    b = (cn.get(B, 0) - cp.get(B, 0)) / 1e9 / dt if B in cn and B in cp else 0
                    samples.append((tn, a, max(0.0, (bn - bp) / dt - a - max(b, 0))))
                tp, cp, bp = tn, cn, bn

        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        time.sleep(5.2)
        before = [a for _, a, o in samples if o < QUIET]
        base = sum(before) / len(before) if before else None
        t_down = now()
        r = t.partctl("deactivate", B, "--timeout", "30")
        graceful = "asked by the guest agent" in t.con[B].text()
        R.check("partctl deactivate %s (%.2fs; %s)" % (
            B, r.secs, "the guest powered off through its agent" if graceful else
            "not through the agent"), r.rc == 0 and domstate(B) == "shut off",
            "" if r.rc == 0 else repr(r), group="6")
        time.sleep(1)
        # partd's domains append to their serial log (a move's target does
        # too): emptied here, the first line seen is the new boot's
        open(t.con[B].path, "w").close()
        r = t.partctl("activate", B)
        t_up = now()
        R.check("partctl activate %s (%.2fs)" % (B, r.secs), r.rc == 0,
                "" if r.rc == 0 else repr(r), group="6")
        ln = wait_for(lambda: t.con[B].last(), BOOT_TIMEOUT)
        t_boot = now()
        time.sleep(3)
        stop.set()
        th.join()
        during = [(a, o) for ts, a, o in samples if ts > t_down]
        # the counters of a second are not read at one instant: a second next
        # to one where other processes held the pool CPU is not judged either
        quiet = [a for i, (a, o) in enumerate(during)
                 if all(q < QUIET for _, q in during[max(0, i - 1):i + 2])]
        # and a second is judged with the next one: the counters of one
        # second read late give a dip and a spike above what a can use
        # (0.31 then 2.48 cores of 2 vCPUs); starvation lasts the reboot
        judged = [(x + y) / 2 for x, y in zip(quiet, quiet[1:])] or quiet
        series = " ".join("%.2f%s" % (a, "" if o < QUIET else "(other %.2f)" % o)
                          for a, o in during)
        what = ("a's delivered CPU never drops while b reboots: before %s cores, during min %s "
                "over 2 s (want >= before - 0.1); a per second from deactivate (other processes' use of "
                "the pool CPU when over %.2f): %s" % (
                    "%.2f" % base if base is not None else "-",
                    "%.2f" % min(judged) if judged else "-", QUIET, series))
        if base is None or len(quiet) < len(during) / 2:
            R.skip(what, "other processes of the host used the pool CPU in most seconds", group="6")
        else:
            R.check(what, min(judged) >= base - 0.1, group="6")
        R.check("b back up: console %.1fs after activate, %.1fs down in all" % (
            t_boot - t_up, t_boot - t_down), ln is not None, t.con[B].tail(), group="6")
        ok = wait_for(lambda: t.con[B].fresh(pred=lambda l: l["t"] > 3), 10)
        R.check("b runs its changed profile: idle (%s)" % fmt_line(t.con[B].last()),
                ok and ok["busy"] == 0, group="6")
        wait_for(lambda: agent_up(B), 30, 0.5)


def check7_crash(t):
    A, B = t.A, t.B
    with Stage("7", "kill -9 partd, guests keep running, restart adopts them"):
        # acknowledged changes, running and profile, just before the crash
        t.resize("7", A, "--memory", "448MiB", "--cap", "0.9", "--scope", "running")
        t.resize("7", B, "--memory", "512MiB", "--scope", "running")
        t.resize("7", B, "--weight", "150", "--scope", "profile")
        before = {d: state_of(p) for d, p in t.parts().items()}
        profiles = {f: sha(os.path.join(t.parts_dir, f)) for f in os.listdir(t.parts_dir)}
        lines = {d: t.con[d].last() for d in t.doms}
        rc = t.partd.kill9()
        t_kill = now()
        R.check("partd killed with SIGKILL (exit %s)" % rc, rc == -signal.SIGKILL, group="7")
        time.sleep(3)
        for d in t.doms:
            ln = wait_for(lambda: t.con[d].fresh(after_t=lines[d]["t"] + 2), 5)
            R.check("%s keeps running without partd: %s, console t %.1f -> %s" % (
                d, domstate(d), lines[d]["t"], ln and "%.1f" % ln["t"]),
                ln is not None and domstate(d) == "running", group="7")
        secs = t.start_partd()
        R.check("partd restarted on the same directory, answering after %.2fs (%.1fs "
                "after the kill)" % (secs, now() - t_kill), True, group="7")
        after = {d: state_of(p) for d, p in t.parts().items()}
        for d in t.doms:
            R.check("%s adopted with the same state: %s" % (d, after.get(d)),
                    after.get(d) == before.get(d),
                    "before the crash: %s" % before.get(d), group="7")
        prof_after = {f: sha(os.path.join(t.parts_dir, f)) for f in os.listdir(t.parts_dir)}
        R.check("profiles unchanged by the crash (%d files)" % len(profiles),
                prof_after == profiles, group="7")
        pb = t.part(B)
        R.check("b's acknowledged profile change kept: weight.initial %s, pending %s" % (
            pb.get("weight", {}).get("initial"), pb.get("pending")),
            pb.get("weight", {}).get("initial") == 150, group="7")
        s = schedinfo(A)
        R.check("a's running weight and cap still in the cgroup: cpu_shares %s "
                "global_quota %s" % (s.get("cpu_shares"), s.get("global_quota")),
                s.get("cpu_shares") == "3000" and s.get("global_quota") == "90000", group="7")
        bal = balloon_kib(A)
        R.check("a's balloon still at its acknowledged 448MiB: %s KiB" % bal,
                bal == 448 * 1024, group="7")
        t.resize("7", A, "--cap", "none", "--scope", "running")


def phase2_switch(t):
    with Stage("P", "partd restarted with host_reserved_cpus 0 (pool of 2)"):
        check_stop(R, t.partd, "partd stopped by SIGTERM with status 0", group="P")
        t.set_reserved_cpus(0)
        secs = t.start_partd()
        cpc = t.pjson("cpc") or {}
        pool = cpc.get("processors", {}).get("pool_cpus")
        R.check("partd restarted (%.2fs): pool CPUs %s" % (secs, pool), pool == [0, 1], group="P")
        for d in t.doms:
            p = t.part(d)
            R.check("%s adopted, active" % d, p.get("state") == "active", group="P")
        repin = []
        for d in t.doms:
            pins, emu = vcpupins(d), emulatorpin(d)
            ok = R.check("%s follows the new pool: vcpupin %s, emulatorpin %s (want 0-1)" % (
                d, pins, emu), pins and all(x == "0-1" for x in pins) and emu == "0-1",
                "[BUG: adopted partitions are not re-pinned; see report]", group="P")
            if not ok:
                repin.append(d)
        for d in repin:
            # so that the checks below measure the policy, not this bug
            for v in range(len(vcpupins(d))):
                virsh("vcpupin", d, str(v), "0-1", "--live")
            virsh("emulatorpin", d, "0-1", "--live")
            out("WORKAROUND: %s re-pinned to 0-1 with virsh, not by partd: vcpupin %s, "
                "emulatorpin %s" % (d, vcpupins(d), emulatorpin(d)))


def check5_rebalance(t):
    A, B = t.A, t.B
    with Stage("5", "rebalancing: a burning, b idle, policy itest (balanced, 1 s)"):
        t.resize("5", A, "--weight", "100", "--scope", "running")
        t.resize("5", B, "--weight", "300", "--scope", "running")
        start = t.parts()
        sa, sb = start[A], start[B]
        la, lb = t.con[A].last(), t.con[B].last()
        out("start: a cpus %s weight %s memory %s (guest busy=%s); b cpus %s weight %s memory %s "
            "(guest busy=%s)" % (sa["processors"]["online"], sa["weight"]["current"],
                                 sa["memory"]["target"], la and la["busy"],
                                 sb["processors"]["online"], sb["weight"]["current"],
                                 sb["memory"]["target"], lb and lb["busy"]))
        m0 = measure(t.doms, 5, pool=[0, 1])
        share0 = m0[A] / 2
        out("before: a %.2f cores (%.0f%% of the pool), b %.2f, other processes %.2f" % (
            m0[A], 100 * share0, m0[B], m0["other"]))
        ev0 = (t.pjson("events") or {}).get("events", [])
        seq0 = max((e["seq"] for e in ev0), default=0)
        r = t.partctl("policy", "itest")
        R.check("partctl policy itest (%.2fs)" % r.secs, r.rc == 0,
                "" if r.rc == 0 else repr(r), group="5")
        t0 = now()
        seen = {}

        def progressed():
            ps = t.parts()
            if A not in ps or B not in ps:
                return None
            a, b = ps[A], ps[B]
            key = (a["processors"]["online"], a["weight"]["current"], a["memory"]["target"],
                   b["processors"]["online"], b["weight"]["current"], b["memory"]["target"])
            if key not in seen:
                seen[key] = now() - t0
                out("  %5.1fs a: cpus %s weight %s memory %s | b: cpus %s weight %s memory %s" % (
                    (seen[key],) + key))
            return (a["processors"]["online"] > sa["processors"]["online"] and
                    a["weight"]["current"] > sa["weight"]["current"] and
                    b["weight"]["current"] < sb["weight"]["current"]) and (a, b)

        wb0, (tw0, cw0) = pool_busy([0, 1]), cpu_times(t.doms)
        res = wait_for(progressed, 40, 0.5)
        wb1, (tw1, cw1) = pool_busy([0, 1]), cpu_times(t.doms)
        other = max(0.0, ((wb1 - wb0) - sum(cw1.get(d, 0) - cw0.get(d, 0)
                                            for d in t.doms) / 1e9) / (tw1 - tw0))
        a_used = (cw1.get(A, 0) - cw0.get(A, 0)) / 1e9 / (tw1 - tw0)
        out("meanwhile: a used %.2f cores, other processes of the host %.2f" % (a_used, other))
        busy = max(other, m0["other"]) > 0.5 and a_used < 0.8

        def verdict(name, ok):
            # a that other processes keep under the policy's threshold shows
            # no demand for more: the policy rightly does nothing
            if ok or not busy:
                R.check(name, ok, group="5")
            else:
                R.skip(name, "other processes of the host used %.2f of the pool's 2 CPUs, "
                       "a got %.2f: no demand for the policy to answer" % (other, a_used),
                       group="5")

        a, b = res if res else (t.part(A), t.part(B))
        verdict("a gains processors (%s -> %s) and weight (%s -> %s) in %.1fs" % (
            sa["processors"]["online"], a["processors"]["online"], sa["weight"]["current"],
            a["weight"]["current"], now() - t0), bool(res))
        verdict("b drops toward its minimums: weight %s -> %s (min %s), memory %s -> %s "
                "(min %s), cpus %s (min %s)" % (
                    sb["weight"]["current"], b["weight"]["current"], b["weight"]["min"],
                    sb["memory"]["target"], b["memory"]["target"], b["memory"]["min"],
                    b["processors"]["online"], b["processors"]["min"]),
                b["weight"]["current"] < sb["weight"]["current"] and
                b["weight"]["current"] >= b["weight"]["min"] and
                b["memory"]["target"] >= b["memory"]["min"] and
                b["processors"]["online"] >= b["processors"]["min"])
        n = a["processors"]["online"]
        ln = wait_for(lambda: t.con[A].fresh(pred=lambda l: l["cpus"] == n and l["busy"] == n),
                      CPUS_TIMEOUT)
        R.check("a's guest has the processors partd gave it: %s" % fmt_line(t.con[A].last()),
                ln is not None, group="5")
        time.sleep(1)
        m1 = measure(t.doms, 6, pool=[0, 1])
        share1 = m1[A] / 2
        what = ("a's measured share of the pool rises: %.0f%% -> %.0f%% (%.2f -> %.2f cores; "
                "b %.2f; other processes %.2f)" % (100 * share0, 100 * share1, m0[A], m1[A],
                                                   m1[B], m1["other"]))
        if max(m0["other"], m1["other"]) > 0.5:
            # the host's own busy processes compete with the whole of
            # libvirt's machine cgroup: what a could gain is theirs
            R.skip(what, "other processes on the host used up to %.2f of the pool's 2 "
                   "CPUs: no room to measure a rise" % max(m0["other"], m1["other"]), group="5")
        else:
            R.check(what, share1 >= share0 * 1.3 and m1[A] >= m0[A] + 0.3, group="5")
        r = t.partctl("policy", "static")
        R.check("partctl policy static (%.2fs)" % r.secs, r.rc == 0, group="5")
        ev = [e for e in (t.pjson("events") or {}).get("events", []) if e["seq"] > seq0]
        pol = [e for e in ev if e.get("kind") == "rebalanced" and e.get("by") == "policy"]
        for e in pol:
            out("  event %s %s by %s: %s" % (e["kind"], e["partition"], e["by"], e["message"]))
        kinds = {(e["partition"], w) for e in pol
                 for w in ("processors", "weight", "memory") if ("%s " % w) in e["message"]}
        verdict("partctl events: %d actions by policy, with reasons, on a's processors "
                "and weight and on b" % len(pol),
                (A, "processors") in kinds and (A, "weight") in kinds and
                any(p == B for p, _ in kinds) and
                all("[applied" in e["message"] or "[unconfirmed" in e["message"] for e in pol))
        r = t.partctl("events")
        verdict("partctl events (table) lists them by policy",
                r.rc == 0 and re.search(r"policy\s+rebalanced\s+%s" % re.escape(A), r.out)
                is not None)


def check2_cpus(t):
    A = t.A
    with Stage("2", "processors: hot-plug up, vary offline through the agent"):
        disagree = []

        def agree(n):
            """partd's status against the guest agent's count, and the
            console. Returns the line once everything says n, applied."""
            p = t.part(A)
            online = p.get("processors", {}).get("online")
            status = p.get("backend", {}).get("processors", {}).get("status")
            g = vcpus_guest(A)
            if status == "applied" and online != g:
                disagree.append("partd says %s applied, the guest agent %s" % (online, g))
            if status not in ("applied", "unconfirmed"):
                disagree.append("partd status %s: %s" % (status, p.get("backend")))
            ln = t.con[A].last()
            if online == n and status == "applied" and g == n and ln and ln["cpus"] == n:
                return ln
            return None

        cur = t.part(A).get("processors", {}).get("online")
        steps = ([1] if cur != 1 else []) + [2, 1]
        for n in steps:
            plugged0 = vcpus_plugged(A)
            t0 = now()
            r = t.partctl("resize", A, "--cpus", str(n), "--scope", "running")
            status = re.search(r"processors\s+running\s+\d+\s+\d+\s+(\S+)", r.out)
            R.check("partctl resize %s --cpus %d -> exit %s, %s (%.2fs)" % (
                A, n, r.rc, status and status.group(1), r.secs), r.rc == 0,
                "" if r.rc == 0 else repr(r), group="2")
            ln = wait_for(lambda: agree(n), CPUS_TIMEOUT, 0.3)
            plugged = vcpus_plugged(A) or 0
            plugged0 = plugged0 or 0
            how = ("hot-plug" if plugged > plugged0 else
                   "the guest agent (vCPUs plugged %d, %d online)" % (plugged, n))
            R.check("guest reports cpus=%d %.1fs after the request, through %s; partd "
                    "says %d applied" % (n, now() - t0, how, n), ln is not None,
                    "guest %s; partd %s" % (fmt_line(t.con[A].last()),
                                            t.part(A).get("processors")), group="2")
            if n < plugged0:
                R.check("a removal went through the agent: still %s vCPUs plugged" % plugged,
                        plugged == plugged0, group="2")
        R.check("partd's status agreed with the guest at every poll",
                not disagree, "; ".join(disagree[:5]), group="2")
        # utilisation is per processor online in the guest, not per vCPU
        # plugged: judged on a fresh sample of a busy guest
        t_req = time.time()

        def busy_sample():
            p = t.part(A)
            u = p.get("utilisation") or {}
            return (u.get("at", 0) > t_req + 1.5 and u.get("used", 0) >= 0.3) and p
        p = wait_for(busy_sample, 10, 0.5) or t.part(A)
        u = p.get("utilisation") or {}
        online = p.get("processors", {}).get("online")
        what = ("utilisation per online processor: used %.2f, of_online %.2f with %s online "
                "(%s vCPUs plugged)" % (u.get("used", -1), u.get("of_online", -1), online,
                                        vcpus_plugged(A)))
        if u.get("used", 0) < 0.3:
            R.skip(what, "a got too little CPU to tell", group="2")
        else:
            R.check(what, online and abs(u["of_online"] - u["used"] / online) < 0.05,
                    "[BUG: of_online divides by the plugged vCPUs; see report]", group="2")


def check3_memory(t):
    A = t.A
    with Stage("3", "memory: balloon down and up"):
        cur = t.part(A).get("memory", {}).get("target")
        if cur is None or cur < 576:
            first = t.con[A].last()
            t.resize("3", A, "--memory", "768MiB", "--scope", "running")
            wait_for(lambda: balloon_kib(A) == 768 * 1024, MEM_TIMEOUT)
            # the guest must show the larger size before it is the baseline
            grown = (768 - (cur or 512)) * 1024 * 0.8
            wait_for(lambda: t.con[A].fresh(
                after_t=first["t"] if first else 0,
                pred=lambda l: first is None or l["memtotal"] >= first["memtotal"] + grown),
                MEM_TIMEOUT)
            cur = 768
        for target, down in ((320, True), (768, False)):
            before = wait_for(lambda: t.con[A].fresh(), 3) or t.con[A].last()
            t0 = now()
            r = t.partctl("resize", A, "--memory", "%dMiB" % target, "--scope", "running")
            R.check("partctl resize %s --memory %dMiB -> exit %s (%.2fs)" % (
                A, target, r.rc, r.secs), r.rc == 0, "" if r.rc == 0 else repr(r), group="3")
            ok = wait_for(lambda: balloon_kib(A) == target * 1024, MEM_TIMEOUT)
            R.check("balloon at %dMiB after %.1fs (domstats balloon.current %s KiB)" % (
                target, now() - t0, balloon_kib(A)), bool(ok), group="3")
            diff = abs(cur - target) * 1024

            def moved(l):
                if down:
                    return (l["memtotal"] <= before["memtotal"] - 0.8 * diff and
                            l["memavail"] < before["memavail"])
                return (l["memtotal"] >= before["memtotal"] + 0.8 * diff and
                        l["memavail"] > before["memavail"])
            ln = wait_for(lambda: t.con[A].fresh(after_t=before["t"], pred=moved), MEM_TIMEOUT)
            R.check("guest memory %s: memtotal %d -> %s KiB, memavail %d -> %s KiB "
                    "(%.1fs)" % ("drops" if down else "rises", before["memtotal"],
                                 ln and ln["memtotal"], before["memavail"],
                                 ln and ln["memavail"], now() - t0), ln is not None,
                    fmt_line(t.con[A].last()), group="3")
            ok = wait_for(lambda: (lambda m: m.get("target") == target and
                                   t.part(A)["backend"]["memory"]["status"] == "applied" and m)(
                                       t.part(A).get("memory", {})), 5, 0.5)
            R.check("partd: memory target %s applied, actual %s" % (
                target, ok and ok.get("actual")), bool(ok), str(t.part(A).get("memory")), group="3")
            cur = target


def check8_refused(t):
    A, B = t.A, t.B
    with Stage("8", "bad requests are refused before anything reaches a guest"):
        def snapshot():
            ln = t.con[A].last()
            return {"plugged": vcpus_plugged(A), "agent": vcpus_guest(A),
                    "console_cpus": ln and ln["cpus"], "balloon": balloon_kib(A),
                    "shares": schedinfo(A).get("cpu_shares"),
                    "partd": state_of(t.part(A)),
                    "profile": sha(os.path.join(t.parts_dir, A + ".json"))}
        s0 = snapshot()
        t_line = t.con[A].last()["t"]
        bad = [
            (["--cpus", "5"], "422", "exceeds processors.reserved", "over reserved"),
            (["--cpus", "3"], "409", "shared pool of 2 CPUs", "over the pool"),
            (["--memory", "128MiB"], "422", "below memory.min", "below min memory"),
            (["--memory", "2GiB"], "422", "exceeds memory.reserved", "over reserved memory"),
            (["--weight", "10"], "422", "outside", "weight below its minimum"),
            (["--cpus", "2", "--weight", "999"], "422", "outside",
             "valid processors with a bad weight: nothing applied"),
        ]
        for args, status, msg, what in bad:
            r = t.partctl("resize", A, *args)
            R.check("%s: partctl resize %s %s -> exit %s: %s" % (
                what, A, " ".join(args), r.rc, r.err.strip().splitlines()[0] if r.err else ""),
                r.rc == 1 and ("(HTTP %s)" % status) in r.err and msg in r.err, repr(r), group="8")
        # an inactive partition with scope running
        r = t.partctl("deactivate", B, "--timeout", "30")
        R.check("partctl deactivate %s (%.2fs)" % (B, r.secs),
                r.rc == 0 and domstate(B) == "shut off", "" if r.rc == 0 else repr(r), group="8")
        cfg0 = virsh("vcpucount", B, "--config", "--current").out.strip()
        prof0 = sha(os.path.join(t.parts_dir, B + ".json"))
        r = t.partctl("resize", B, "--cpus", "2", "--scope", "running")
        R.check("inactive, scope running: partctl resize %s --cpus 2 --scope running -> "
                "exit %s: %s" % (B, r.rc, r.err.strip().splitlines()[0] if r.err else ""),
                r.rc == 1 and "(HTTP 409)" in r.err and "inactive" in r.err, repr(r), group="8")
        cfg1 = virsh("vcpucount", B, "--config", "--current").out.strip()
        R.check("%s untouched: %s, config vCPUs %s -> %s, profile unchanged" % (
            B, domstate(B), cfg0, cfg1),
            domstate(B) == "shut off" and cfg0 == cfg1 and
            sha(os.path.join(t.parts_dir, B + ".json")) == prof0, group="8")
        ln = wait_for(lambda: t.con[A].fresh(after_t=t_line + 2), 5)
        s1 = snapshot()
        diff = {k: (s0[k], s1[k]) for k in s0 if s0[k] != s1[k]}
        R.check("%s untouched by the refused requests: libvirt vCPUs %s, agent %s, console "
                "cpus %s, balloon %s KiB, cpu_shares %s, partd and profile unchanged" % (
                    A, s1["plugged"], s1["agent"], s1["console_cpus"], s1["balloon"],
                    s1["shares"]), not diff and ln is not None, "changed: %s" % diff, group="8")


# -- main -----------------------------------------------------------------------------

def main():
    begun = begin(R, "partd-guests", __doc__)
    if isinstance(begun, int):
        return begun
    build, src, lockf = begun
    t = Run(build, src)
    os.makedirs(t.root, exist_ok=True)

    try:
        t.setup()
        with Stage("0", "partd start"):
            secs = t.start_partd()
            out("partd %s -c %s -f: answering after %.2fs" % (t.partd_bin, t.partd.config,
                                                                secs))
        check1_activate(t)
        for fn in (check4_weights, check6_demo, check7_crash, phase2_switch, check5_rebalance,
                   check2_cpus, check3_memory, check8_refused):
            try:
                fn(t)
            except Abort:
                raise
            except Exception as e:  # a broken check must not stop the others
                import traceback
                traceback.print_exc()
                R.check("%s raised %s: %s" % (fn.__name__, type(e).__name__, e), False,
                        group=fn.__name__[5:6] if fn.__name__.startswith("check") else "P")
            if not t.partd.running():
                raise Abort("partd exited (%s):\n%s" % (t.partd.proc.returncode,
                                                        t.partd.log_tail()))
    except Abort as e:
        R.check("aborted: %s" % e, False, group="-")
    except KeyboardInterrupt as e:
        R.check("interrupted (%s)" % e, False, group="-")
    finally:
        end(R, t.partd, [(d, t.con[d]) for d in t.doms if d in t.con], t.cleanup, 6)
    return R.finish("accelerator %s; total %.1fs; %d skipped" % (getattr(t, "accel", "?"),
                                                                now() - T0, R.skipped))


if __name__ == "__main__":
    sys.exit(main())
