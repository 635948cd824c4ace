#!/usr/bin/python3
"""Memory under pressure on a real guest: a memory-hungry process in a
ballooned-down guest gets its memory from partd in time, and is not
OOM-killed.

Usage: partd-mempress.py BUILD_DIR SOURCE_DIR   (exit 77: skipped, not root)

The set-up of partd-guests.py (its Run: examples/qemu-cpc, guest-build.sh,
libvirtd-up.sh, the accelerator of accel.sh) in
BUILD_DIR/tests/integration/partd-mempress, with one more policy,
"mempress": tests/lib/partdtest.py's fast_policy() with a headroom of 128
MiB, a floor of 64 MiB and steps of 32 MiB, so that the need rule alone
(need + headroom, 32 MiB a change) falls behind the hog: the pressure rule
(twice the headroom at once) must keep up.
Only partition a is activated.

  M1  a boots (policy static: nothing moves), its busy loops are stopped,
      and partctl resize --memory 256MiB (its minimum) balloons it down.
  M2  the policy becomes mempress, and the guest agent starts the hog
      (guest-hog.c, through /run/hog) asking for 160 MiB more than the
      guest has available, less than its maximum, at 10 MiB/s. Within
      HOG_TIMEOUT the hog has all of it and exits 0; the guest's kernel
      logged no OOM kill ("Out of memory", "Killed process"); partd's
      memory target grew; partctl events shows a "memory pressure" reason.
  M3  partctl show and GET /v1/partitions/a report the guest's unused
      memory and paging rates; GET /v1/cpc the host's free memory.

One run at a time on the machine (partd-guests.py's lock); everything it
started is stopped on exit. Prints one line per check and "N passed, M
failed" last.
"""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from partdtest import fast_policy  # noqa: E402

_spec = importlib.util.spec_from_file_location("partd_guests",
                                               os.path.join(HERE, "partd-guests.py"))
G = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(G)
R, Stage, Abort, out, now, wait_for = G.R, G.Stage, G.Abort, G.out, G.now, G.wait_for

MIN_MIB = 256         # examples/qemu-cpc a.json: memory.min
HOG_EXTRA = 160       # MiB the hog asks for beyond what the guest has available
HOG_RATE = (5, 500)   # MiB a step, ms between steps: 10 MiB/s
HOG_TIMEOUT = 90      # seconds for the hog to get all it asked for and end

POLICY = fast_policy("mempress", "fast, with small steps: memory moves under pressure")
POLICY["memory"] = {"headroom": "128MiB", "step": "32MiB", "deadband": "32MiB", "floor": "64MiB"}


def agent_sh(dom, script):
    """Runs script with the guest's /bin/sh through its agent; True if taken."""
    cmd = {"execute": "guest-exec", "arguments": {"path": "/bin/sh", "arg": ["-c", script]}}
    return G.virsh("qemu-agent-command", dom, json.dumps(cmd), timeout=20).rc == 0


def check_m1(t):
    A = t.A
    with Stage("M1", "a boots and is ballooned down to its minimum"):
        r = t.partctl("activate", A)
        R.check("partctl activate %s (%.2fs)" % (A, r.secs), r.rc == 0, repr(r), group="M1")
        t0 = now()
        ln = wait_for(lambda: t.con[A].last(), G.BOOT_TIMEOUT)
        if not ln:
            raise Abort("%s did not boot:\n%s" % (A, t.con[A].tail()))
        R.check("%s console prints (%.1fs after activation)" % (A, now() - t0), True, group="M1")
        if not wait_for(lambda: G.agent_up(A), 30, 0.5):
            raise Abort("%s: the guest agent does not answer" % A)
        R.check("%s guest agent answers, busy loops stopped" % A,
                agent_sh(A, "echo 0 >/run/burn"), group="M1")
        t.resize("M1", A, "--memory", "%dMiB" % MIN_MIB, "--scope", "running")
        ok = wait_for(lambda: G.balloon_kib(A) == MIN_MIB * 1024, G.MEM_TIMEOUT)
        R.check("balloon at %dMiB (balloon.current %s KiB)" % (MIN_MIB, G.balloon_kib(A)),
                bool(ok), group="M1")
        ln = wait_for(lambda: t.con[A].fresh(pred=lambda l: l["memtotal"] <= MIN_MIB * 1024),
                      G.MEM_TIMEOUT)
        if not ln:
            raise Abort("the guest does not show %d MiB: %s" % (MIN_MIB,
                                                               G.fmt_line(t.con[A].last())))
        R.check("the guest sees %d KiB, %d KiB available" % (ln["memtotal"], ln["memavail"]),
                ln["hog"] == (0, 0) and ln["oom"] == 0, G.fmt_line(ln), group="M1")
        return ln


def pressure_events(t):
    j = t.pjson("events") or {}
    return [e for e in j.get("events", []) if e.get("partition") == t.A and
            "memory pressure" in (e.get("message") or "")]


def check_m2(t, before):
    A = t.A
    with Stage("M2", "a memory hog in the ballooned-down guest gets its memory"):
        want = before["memavail"] // 1024 + HOG_EXTRA
        R.check("the hog's %d MiB: over the %d MiB available, under the 1 GiB maximum" % (
            want, before["memavail"] // 1024), want < 1024 - 128, group="M2")
        r = t.partctl("policy", "mempress")
        R.check("partctl policy mempress -> exit %s" % r.rc, r.rc == 0, repr(r), group="M2")
        t0 = now()
        ok = agent_sh(A, "echo '%d %d %d 5' >/run/hog" % ((want,) + HOG_RATE))
        R.check("the agent started the hog", ok, group="M2")
        grew = None
        trace = []

        def done():
            nonlocal grew
            ln = t.con[A].last()
            target = (t.part(A).get("memory") or {}).get("target")
            if target and target > MIN_MIB and grew is None:
                grew = now() - t0
            if ln and (not trace or trace[-1][1] != ln["hog"]):
                trace.append((round(now() - t0, 1), ln["hog"], target, ln["memfree"] // 1024))
            return ln if ln and ln["hogrc"] is not None else None
        ln = wait_for(done, HOG_TIMEOUT, 1)
        out("hog progress (s, got/want MiB, partd target MiB, guest memfree MiB): %s" % (
            " ".join("%s:%s/%s,%s,%s" % (s, h[0], h[1], tg, f) for s, h, tg, f in trace
                     if h)))
        last = ln or t.con[A].last()
        R.check("the hog got %s MiB of %d and exited %s within %.0fs" % (
            last and last["hog"] and last["hog"][0], want, last and last["hogrc"], now() - t0),
            bool(ln) and ln["hog"] == (want, want) and ln["hogrc"] == 0, G.fmt_line(last),
            group="M2")
        R.check("no OOM kill in the guest (dmesg: %s lines)" % (last and last["oom"]),
                bool(last) and last["oom"] == 0, t.con[A].tail(12), group="M2")
        target = (t.part(A).get("memory") or {}).get("target")
        R.check("partd grew the memory target %d -> %s MiB (first growth %s s after the hog "
                "started)" % (MIN_MIB, target, grew and "%.1f" % grew),
                bool(target) and target > MIN_MIB, group="M2")
        ev = pressure_events(t)
        R.check("%d rebalancer actions give memory pressure as the reason%s" % (
            len(ev), (": " + ev[0]["message"]) if ev else ""), len(ev) > 0, group="M2")


def check_m3(t):
    A = t.A
    with Stage("M3", "the guest's paging and the host's free memory are reported"):
        p = t.part(A)
        mem = p.get("memory") or {}
        pg = mem.get("paging") or {}
        R.check("GET partition: memory.unused %s MiB, paging %s" % (mem.get("unused"), pg),
                isinstance(mem.get("unused"), int) and
                all(isinstance(pg.get(k), (int, float)) for k in
                    ("major_faults", "swap_in", "swap_out")), json.dumps(mem), group="M3")
        r = t.partctl("show", A)
        R.check("partctl show prints the memory use line",
                "major faults/s" in r.out, r.out, group="M3")
        cpc = t.pjson("cpc") or {}
        free = (cpc.get("memory") or {}).get("host_free")
        R.check("GET cpc: memory.host_free %s MiB, host_pressure %s" % (
            free, (cpc.get("memory") or {}).get("host_pressure")),
            isinstance(free, int) and free > 0, json.dumps(cpc.get("memory")), group="M3")


def main():
    begun = G.begin(R, "partd-mempress", __doc__)
    if isinstance(begun, int):
        return begun
    build, src, lockf = begun
    t = G.Run(build, src, name="partd-mempress", policies=[POLICY])
    t.doms = [t.A, t.B]
    os.makedirs(t.root, exist_ok=True)
    try:
        t.setup()
        with Stage("0", "partd start"):
            out("partd answering after %.2fs" % t.start_partd())
        before = check_m1(t)
        check_m2(t, before)
        check_m3(t)
    except Abort as e:
        R.check("aborted: %s" % e, False, group="-")
    except KeyboardInterrupt as e:
        R.check("interrupted (%s)" % e, False, group="-")
    finally:
        G.end(R, t.partd, [(t.A, t.con[t.A])] if t.A in t.con else [], t.cleanup, 8)
    return R.finish("accelerator %s; total %.1fs" % (getattr(t, "accel", "?"), now() - G.T0))


if __name__ == "__main__":
    sys.exit(main())
