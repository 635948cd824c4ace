#!/usr/bin/python3
"""The simulator's dispatcher against real guests: what QEMU guests under
libvirtd are delivered of the shared pool, and what `partd-sim --predict`
(tests/sim/dispatch.c, the split the closed loop uses) says they get, for
the same weights, caps, processors online and demand.

Usage: calibrate.py BUILD_DIR SOURCE_DIR      (exit 77: skipped, not root)

partd (policy `static`: nothing rebalances) runs on a copy of
examples/qemu-cpc with a pool of two CPUs (host_reserved_cpus 0) and three
partitions of group demo: a and b (two processors online), c (one). Each
case sets every partition's running weight, cap and processors with
partctl (scope running), makes each guest busy (a busy loop on every
online processor) or idle through its agent, waits until every guest's
console shows it, and measures for MEASURE seconds: the cores each domain
used (libvirt's cpu.time, the counter partd's monitor reads) and what
everything else used of the pool's CPUs ("other"). The prediction is
partd-sim --predict on what partd reports running, demand = the processors
online of a busy guest and, of an idle one, what the three idle guests used
on average in IDLE_MEASURE seconds at the end, all idle (a TCG guest is
never quite idle), and steal = other (the simulator's model of the host's
own use of the pool).

For each partition: measured and predicted share of the pool, and the
error in percentage points of the pool. A case fails when any partition's
error is over TOLERANCE points; a case in which other processes of the
host used more than OTHER_MAX of the pool (the guests then share less than
one CPU, and every error in points of the pool shrinks with it) is
skipped. Writes BUILD_DIR/tests/integration/
calibrate/calibration.json and calibration.md (the table of
docs/simulation.md). Everything started is stopped at the end, by PID and
by name; one run at a time (the real-guest lock).
"""

import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, check_stop, write_json  # noqa: E402
from realguest import (Console, Domains, begin, burn, end, guest_cache, host_down,  # noqa: E402
                       host_up, measure, now, run)

MEASURE = 15       # seconds of measurement per case
SETTLE = 2         # seconds after the guests show the case, before measuring
SHOW_TIMEOUT = 20  # the guests show a case's processors and load within this
BOOT_TIMEOUT = 90
TOLERANCE = 12.0   # percentage points of the pool (docs/simulation.md says why)
OTHER_MAX = 1.0    # cores of the pool's 2 that other processes may use in a case
IDLE_MEASURE = 8   # seconds of measuring the idle guests' own use, at the end
IDLE_SETTLED = 0.12  # cores: an idle guest using less is past its boot's work
SETTLE_BOOT = 45   # seconds to wait for that after the boot
POOL = [0, 1]

# (name, what, {partition: (weight, cap, processors, busy)})
CASES = [
    ("weights", "weights 3:1, both busy on 2 processors",
     {"a": (300, None, 2, True), "b": (100, None, 2, True), "c": (100, None, 1, False)}),
    ("cap", "a capped at 0.5, both busy",
     {"a": (300, 0.5, 2, True), "b": (100, None, 2, True), "c": (100, None, 1, False)}),
    ("processors", "weights 3:1, a on 1 processor, b on 2",
     {"a": (300, None, 1, True), "b": (100, None, 2, True), "c": (100, None, 1, False)}),
    ("idle", "a busy at weight 100, b idle at 300",
     {"a": (100, None, 2, True), "b": (300, None, 2, False), "c": (100, None, 1, False)}),
    ("three", "three busy, weights 1:2:4, 1 processor each",
     {"a": (100, None, 1, True), "b": (200, None, 1, True), "c": (400, None, 1, True)}),
]

R = Results("calibrate")


def out(msg=""):
    print(msg, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_for(fn, timeout, interval=0.5):
    end = now() + timeout
    while True:
        v = fn()
        if v or now() >= end:
            return v
        time.sleep(interval)


class Abort(Exception):
    """What follows cannot be measured."""


class Calibration:
    def __init__(self, build, src):
        self.src = src
        self.sim = os.path.join(build, "tests", "partd-sim")
        self.partctl_bin = os.path.join(build, "partctl", "partctl")
        self.partd_bin = os.path.join(build, "partd", "partd")
        self.root = os.path.join(build, "tests", "integration", "calibrate")
        self.domains = Domains(os.path.join(self.root, "domains"))
        self.state = os.path.join(self.root, "libvirtd")
        self.work = os.path.join(self.root, "run")
        self.names = {x: "partd-cal%d-%s" % (os.getpid(), x) for x in ("a", "b", "c")}
        self.partd = None
        self.host = False
        self.defined = False
        self.con = {}
        self.rows = []
        self.idle = 0.0  # cores an idle guest uses: its demand in the prediction

    # -- set-up and clean-up

    def stale_cleanup(self):
        names = self.domains.remove()
        if names:
            out("removed the domains an earlier run left: %s" % " ".join(names))

    def setup(self):
        self.host = True  # host_down is safe after a failed host_up
        accel, why = host_up(self.state)
        if why:
            raise Abort(why)
        out("accelerator: %s" % accel)
        self.stale_cleanup()
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        os.chmod(self.work, 0o755)
        self.partd = Partd(self.partd_bin, example="qemu-cpc", tmp=self.work, src=self.src,
                           policy="static", interval=1,
                           pidfile=os.path.join(self.root, "partd.pid"))

        def edit(cfg):
            cfg["paths"]["images"] = guest_cache()
            cfg["cpc"]["host_reserved_cpus"] = 0  # the pool: CPUs 0 and 1
        self.partd.edit_config(edit)
        logs = os.path.join(self.partd.cpc, "log")
        os.makedirs(logs)
        os.chmod(logs, 0o755)
        parts = self.partd.parts_dir
        with open(os.path.join(parts, "b.json")) as f:
            base = json.load(f)
        for x in ("a", "b"):
            os.unlink(os.path.join(parts, x + ".json"))
        for x, name in self.names.items():
            p = json.loads(json.dumps(base))
            p["name"] = name
            p["serial_log"] = name + ".log"
            p["machine"]["type"] = accel
            p["processors"]["initial"] = 1 if x == "c" else 2
            write_json(os.path.join(parts, name + ".json"), p)  # idle: no burn=1
            self.con[name] = Console(os.path.join(logs, name + ".log"))
        self.domains.record(self.names.values())
        self.defined = True
        self.env = dict(os.environ, PARTD_SERVER="http://127.0.0.1:%d" % self.partd.port,
                        PARTD_TOKEN=self.partd.token)
        err = self.partd.start(timeout=60)
        if err:
            raise Abort("partd did not start: %s" % err)

    def cleanup(self):
        if self.partd and self.partd.running():
            check_stop(R, self.partd, "partd stops with status 0")
        if self.defined:
            self.domains.remove(list(self.names.values()))
        if self.host:
            host_down(self.state)

    # -- partd

    def partctl(self, *args):
        return run([self.partctl_bin] + list(args), env=self.env)

    def running(self):
        """{partition: its status} from partd."""
        r = self.partctl("-o", "json", "list")
        if r.rc != 0:
            raise Abort("partctl list: %r" % r)
        return {p["name"]: p for p in json.loads(r.out).get("partitions", [])}

    def activate(self):
        for d in self.names.values():
            r = self.partctl("activate", d)
            if not R.check("partctl activate %s (%.1fs)" % (d, r.secs), r.rc == 0, repr(r)):
                raise Abort("%s not activated" % d)
        t0 = now()
        for d in self.names.values():
            if not wait_for(lambda: self.con[d].last(), BOOT_TIMEOUT):
                raise Abort("%s did not boot: %s" % (d, self.con[d].tail()))
            if not wait_for(lambda: burn(d, False), 30, 1):
                raise Abort("%s's guest agent does not answer" % d)
        out("guests up, agents answering, %.1fs after activation" % (now() - t0))

    def settle(self):
        """Waits until every guest, idle, uses less than IDLE_SETTLED cores
        (2 s windows, up to SETTLE_BOOT s): after the boot a guest's balloon
        still moves to its target and its use is several times an idle
        guest's (0.32 cores seen in the first case), which the idle demand
        measured at the end does not count."""
        t0, doms = now(), list(self.names.values())
        while True:
            m = measure(doms, 2, pool=POOL)
            if all(m[d] < IDLE_SETTLED for d in doms) or now() - t0 > SETTLE_BOOT:
                break
        out("guests idle at %s cores, %.1fs after their boot" % (
            ", ".join("%.3f" % m[d] for d in doms), now() - t0))

    # -- one case

    def apply(self, case):
        """Sets the case in partd and the guests; returns when every guest
        shows it (False if one does not within SHOW_TIMEOUT)."""
        # processors down first: the pool rule counts every partition's
        for down in (True, False):
            for x, (w, cap, cpus, _) in case.items():
                d = self.names[x]
                online = self.running()[d]["processors"]["online"]
                if (cpus < online) != down:
                    continue
                r = self.partctl("resize", d, "--weight", str(w), "--cap",
                                 "none" if cap is None else str(cap), "--cpus", str(cpus),
                                 "--scope", "running")
                if r.rc != 0:
                    raise Abort("partctl resize %s: %r" % (d, r))
        for x, (_, _, _, busy) in case.items():
            # a guest starved by a busy host answers late: its agent's 20 s
            # may pass once
            if not wait_for(lambda: burn(self.names[x], busy), 45, 1):
                raise Abort("%s's agent did not take burn=%d" % (x, busy))
        t0 = time.time()

        def shown():
            for x, (_, _, cpus, busy) in case.items():
                ln = self.con[self.names[x]].last()
                if not ln or ln["cpus"] != cpus or ln["busy"] != (cpus if busy else 0):
                    return False
            return True
        ok = wait_for(shown, SHOW_TIMEOUT)
        out("  guests show the case after %.1fs: %s" % (time.time() - t0, ", ".join(
            "%s cpus=%s busy=%s" % (x, (self.con[d].last() or {}).get("cpus"),
                                    (self.con[d].last() or {}).get("busy"))
            for x, d in self.names.items())))
        return ok

    def predict(self, parts, case, steal):
        doc = {"pool": len(POOL), "steal": steal, "groups": {"demo": {"cap": None}},
               "partitions": []}
        for x, (_, _, _, busy) in case.items():
            p = parts[self.names[x]]
            online = p["processors"]["online"]
            doc["partitions"].append({"name": x, "weight": p["weight"]["current"],
                                      "cap": p["cap"]["current"], "processors": online,
                                      "demand": online if busy else self.idle,
                                      "group": "demo"})
        path = os.path.join(self.root, "predict.json")
        write_json(path, doc)
        r = run([self.sim, "--predict", path])
        if r.rc != 0:
            raise Abort("partd-sim --predict: %r" % r)
        return {q["name"]: q["share"] for q in json.loads(r.out)["partitions"]}

    def run_case(self, name, what, case):
        """Sets the case and measures it: the measures, for judge()."""
        out("--- %s: %s" % (name, what))
        shown = self.apply(case)
        R.check("%s: the guests show the case (processors online, busy loops)" % name, shown)
        parts = self.running()
        applied = all(all(parts[self.names[x]]["backend"][s]["status"] == "applied"
                          for s in ("weight", "cap", "processors")) for x in case)
        R.check("%s: partd says weight, cap and processors applied" % name, applied,
                {x: parts[self.names[x]]["backend"] for x in case})
        time.sleep(SETTLE)
        load0 = loadavg()
        m = measure(list(self.names.values()), MEASURE, pool=POOL)
        out("  %s; other processes %.2f" % (", ".join(
            "%s %.2f cores" % (x, m[d]) for x, d in self.names.items()), m["other"]))
        return (name, what, case, parts, m, load0, loadavg())

    def idle_demand(self):
        """What an idle guest uses, measured with all three idle at the end
        (a TCG guest is never idle: its /init forks a grep a second, its
        agent polls; and after the boot its balloon is still moving, which
        is why this is not measured then)."""
        idle = {x: (100, None, cpus, False) for x, cpus in (("a", 1), ("b", 1), ("c", 1))}
        self.apply(idle)
        time.sleep(SETTLE)
        m = measure(list(self.names.values()), IDLE_MEASURE, pool=POOL)
        self.idle = sum(m[d] for d in self.names.values()) / len(self.names)
        out("--- idle guests use %s cores: an idle guest's demand is %.3f; other processes "
            "%.2f" % (", ".join("%.3f" % m[d] for d in self.names.values()), self.idle,
                      m["other"]))

    def judge(self, name, what, case, parts, m, load0, load1):
        """Predicts a measured case and checks the error."""
        other = m["other"]
        ideal = self.predict(parts, case, 0)
        pred = self.predict(parts, case, min(other, len(POOL) - 0.01))
        row = {"case": name, "what": what, "other": round(other, 3),
               "loadavg": [load0, load1], "partitions": {}}
        worst = 0
        for x, (w, cap, cpus, busy) in case.items():
            p = parts[self.names[x]]
            share = m[self.names[x]] / len(POOL)
            err = 100 * (share - pred[x])
            worst = max(worst, abs(err))
            row["partitions"][x] = {
                "weight": p["weight"]["current"], "cap": p["cap"]["current"],
                "processors": p["processors"]["online"], "busy": busy,
                "cores": round(m[self.names[x]], 3), "measured": round(share, 4),
                "predicted": round(pred[x], 4), "predicted_no_steal": round(ideal[x], 4),
                "error_pp": round(err, 2)}
            out("  %s: weight %s cap %s processors %s %s: measured %.1f%% of the pool "
                "(%.2f cores), predicted %.1f%% (%.1f%% without steal), error %+.1f pp" % (
                    x, p["weight"]["current"], p["cap"]["current"], p["processors"]["online"],
                    "busy" if busy else "idle", 100 * share, m[self.names[x]],
                    100 * pred[x], 100 * ideal[x], err))
        row["worst_pp"] = round(worst, 2)
        self.rows.append(row)
        label = ("%s: every partition within %.0f pp of the prediction (worst %.1f pp; other "
                 "processes %.2f cores; load %s -> %s)" % (name, TOLERANCE, worst, other,
                                                            load0, load1))
        if other > OTHER_MAX:
            row["skipped"] = True
            R.skip(label, "other processes of the host used %.2f of the pool's %d CPUs" % (
                other, len(POOL)))
        else:
            R.check(label, worst <= TOLERANCE)

    # -- the table

    def write(self):
        doc = {"tolerance_pp": TOLERANCE, "measure_s": MEASURE, "pool": len(POOL),
               "idle_demand": round(self.idle, 4), "cases": self.rows}
        write_json(os.path.join(self.root, "calibration.json"), doc)
        lines = ["| case | partition | weight | cap | processors | load | measured | predicted "
                 "(without steal) | error |", "|---|---|---:|---:|---:|---|---:|---:|---:|"]
        for row in self.rows:
            for x, p in row["partitions"].items():
                lines.append("| %s | %s | %s | %s | %s | %s | %.1f%% | %.1f%% (%.1f%%) | "
                             "%+.1f pp |" % (
                                 row["case"], x, p["weight"],
                                 "none" if p["cap"] is None else p["cap"], p["processors"],
                                 "busy" if p["busy"] else "idle", 100 * p["measured"],
                                 100 * p["predicted"], 100 * p["predicted_no_steal"],
                                 p["error_pp"]))
        lines.append("")
        lines.append("An idle guest's demand: %.3f cores, measured at the end. " % self.idle +
                     "Other processes on the pool's CPUs (cores), per case: " + ", ".join(
            "%s %.2f%s" % (r["case"], r["other"], " (skipped)" if r.get("skipped") else "")
            for r in self.rows) + "; load average at the start of each: " + ", ".join(
            r["loadavg"][0] for r in self.rows) + ".")
        with open(os.path.join(self.root, "calibration.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        out("\n".join(lines))
        out("written: %s/calibration.{json,md}" % self.root)


def main():
    begun = begin(R, "calibrate", __doc__)
    if isinstance(begun, int):
        return begun
    build, src, lockf = begun
    t = Calibration(build, src)
    os.makedirs(t.root, exist_ok=True)
    out("load average at the start: %s" % loadavg())
    try:
        t.setup()
        t.activate()
        t.settle()
        measured = [t.run_case(name, what, case) for name, what, case in CASES]
        t.idle_demand()
        for mc in measured:
            t.judge(*mc)
        t.write()
    except Abort as e:
        R.check("aborted: %s" % e, False)
    except KeyboardInterrupt as e:
        R.check("interrupted (%s)" % e, False)
    finally:
        end(R, t.partd, [(x, t.con[d]) for x, d in t.names.items() if d in t.con], t.cleanup, 4)
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())
