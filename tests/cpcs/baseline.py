#!/usr/bin/python3
"""libvirt's own live migration between the two hosts of the two-host
harness (tests/cpcs/twohost.py): the baseline partd's move is compared
with (docs/cpcs.md).

Usage: baseline.py BUILD_DIR SOURCE_DIR      (exit 77: skipped, not root)

Defines and starts the real-guest harness's test guest on host a with
virsh, its console in a file both hosts see, then moves it a -> b -> a ...
(PARTD_BASELINE_MOVES, 4 unless given, 2 to 6) with

    virsh migrate --live --p2p --persistent --undefinesource DOM qemu+tcp://B/system

run on the source. Checked for each move: virsh succeeds; the guest is then
listed on exactly one host, the destination, running; its console prints
again and its uptime t (printed once a second) keeps rising across the
move: no reboot. Measured for each move: the wall time of virsh migrate,
the console gap (the longest interval between two consecutive console
lines around the move, against the guest's own interval of about 1 s),
and libvirt's reported downtime and total time (virsh domjobinfo
--completed on the destination). Prints a table and writes it as JSON to
BUILD_DIR/tests/cpcs/baseline.json. Everything started is stopped, and the
namespaces removed, failure or not.
"""

import os
import re
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from partdtest import Results, main_wrapper, skip, write_json  # noqa: E402
import twohost  # noqa: E402

BOOT_TIMEOUT = 90      # a TCG guest prints its first line after 4-7 s alone
LINE_TIMEOUT = 15      # after a move, the console prints again within this
SETTLE_LINES = 3       # lines on the destination before the next move
# The guest as partd defines partition a of examples/qemu-cpc, which partd's
# move test moves: its reserved maximum of memory and processors, its
# initial values in use (the balloon, processors online). QEMU migrates the
# whole of the maximum.
GUEST = {"memory_mib": 1024, "current_mib": 512, "vcpus": 4, "vcpus_current": 1}
MIGRATE = ["migrate", "--live", "--p2p", "--persistent", "--undefinesource"]


def jobinfo(host, dom):
    """{field: value} of virsh domjobinfo --completed on host ("Total
    downtime": "212 ms", ...)."""
    r = host.virsh("domjobinfo", dom, "--completed", timeout=30)
    info = {}
    for line in r.stdout.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            info[k.strip()] = v.strip()
    return info


def number(info, key, unit):
    """The number of field key of jobinfo() in unit ("ms", "MiB/s"...),
    None when absent or in another unit."""
    m = re.fullmatch(r"([\d.]+)\s+" + re.escape(unit), info.get(key, ""))
    return float(m.group(1)) if m else None


def placement(h, dom):
    """{host name: domain state} of the hosts that list dom."""
    where = {}
    for x in h.hosts:
        doms = x.domains()
        if doms is None:
            where[x.name] = "(libvirtd does not answer)"
        elif dom in doms:
            where[x.name] = doms[dom]
    return where


def move(R, h, con, dom, src, dst, n):
    """One live migration src -> dst; the row of the table, or None when it
    failed (the guest may be anywhere: the caller stops)."""
    label = "move %d %s->%s" % (n, src.name, dst.name)
    t0 = time.monotonic()
    r = src.virsh(*MIGRATE, dom, dst.uri_remote, timeout=180)
    t1 = time.monotonic()
    if not R.check("%s: virsh migrate succeeds (%.2f s)" % (label, t1 - t0), r.returncode == 0,
                   r.stderr.strip()):
        return None
    where = placement(h, dom)
    R.check("%s: listed on %s only, running" % (label, dst.name),
            where == {dst.name: "running"}, where)
    info = jobinfo(dst, dom)
    first = con.wait_line(t1, LINE_TIMEOUT)
    if not R.check("%s: the console prints on %s" % (label, dst.name), first is not None,
                   "nothing within %d s" % LINE_TIMEOUT):
        return None
    g = con.gap(t0, t1)
    R.check("%s: the guest's uptime keeps rising (t %.1f -> %.1f, no reboot)" % (
        label, g["t_before"], g["t_after"]), g["t_after"] > g["t_before"], g)
    end = time.monotonic() + LINE_TIMEOUT
    while len(con.since(t1)) < SETTLE_LINES and time.monotonic() < end:
        time.sleep(0.1)
    return {"move": n, "from": src.name, "to": dst.name, "wall_s": round(t1 - t0, 3),
            "gap_s": round(g["gap_s"], 3), "interval_s": g["interval_s"] and
            round(g["interval_s"], 3), "t_before": g["t_before"], "t_after": g["t_after"],
            "downtime_ms": number(info, "Total downtime", "ms"),
            "libvirt_total_ms": number(info, "Time elapsed", "ms"),
            "data_mib": number(info, "Data processed", "MiB"),
            "bandwidth_mib_s": number(info, "Memory bandwidth", "MiB/s")}


def summary(rows, key):
    vals = [r[key] for r in rows if r[key] is not None]
    if not vals:
        return None
    return {"min": min(vals), "median": round(statistics.median(vals), 3), "max": max(vals)}


def report(R, rows, path, meta):
    print("%-5s %-5s %7s %12s %6s %9s %9s %9s" % (
        "move", "hosts", "wall s", "downtime ms", "gap s", "t before", "t after", "MiB/s"))
    for r in rows:
        print("%-5d %-5s %7.2f %12s %6.2f %9.1f %9.1f %9s" % (
            r["move"], r["from"] + "->" + r["to"], r["wall_s"], r["downtime_ms"], r["gap_s"],
            r["t_before"], r["t_after"], r["bandwidth_mib_s"]))
    doc = dict(meta, moves=rows, summary={k: summary(rows, k) for k in (
        "wall_s", "gap_s", "downtime_ms", "libvirt_total_ms")})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, doc)
    R.note("written to %s" % path)


def run(R, build, moves):
    out = os.path.join(build, "tests", "cpcs")
    dom = "partd2h-guest"
    kernel_initrd = twohost.guest_files()
    kind = twohost.accel()
    with twohost.TwoHosts(os.path.join(out, "baseline")) as h:
        R.note("hosts up: a %s, b %s (%.1f s waiting for the machine's lock, %.1f s set-up)"
               % (h.a.addr, h.b.addr, h.times["lock_s"], h.times["setup_s"]))
        console = h.console_path(dom)
        xml = os.path.join(h.workdir, dom + ".xml")
        with open(xml, "w") as f:
            f.write(twohost.guest_xml(dom, console, kind, **GUEST))
        r = h.a.virsh("define", xml)
        if not R.check("the guest is defined on a", r.returncode == 0, r.stderr.strip()):
            return
        with twohost.ConsoleFollower(console) as con:
            t0 = time.monotonic()
            r = h.a.virsh("start", dom, timeout=120)
            if not R.check("the guest starts on a", r.returncode == 0, r.stderr.strip()):
                return
            boot = con.wait_line(t0, BOOT_TIMEOUT)
            if not R.check("its console prints (%s)" % kernel_initrd[0], boot is not None,
                           "nothing within %d s" % BOOT_TIMEOUT):
                return
            R.note("first console line %.1f s after start" % (boot[0] - t0))
            while len(con.since(t0)) < SETTLE_LINES:
                time.sleep(0.1)
            rows = []
            for n in range(1, moves + 1):
                src, dst = (h.a, h.b) if n % 2 else (h.b, h.a)
                row = move(R, h, con, dom, src, dst, n)
                if row is None:
                    break
                rows.append(row)
        version = h.a.run(["virsh", "-c", "qemu:///system", "version"]).stdout
        meta = {"accel": kind, "guest": GUEST,
                "versions": dict(re.findall(r"(?:Using library|Running hypervisor): (\S+) (\S+)",
                                            version))}
        report(R, rows, os.path.join(out, "baseline.json"), meta)
        R.check("%d moves measured" % moves, len(rows) == moves, "%d" % len(rows))
    left = twohost.leftovers(h)
    R.check("the harness left nothing behind (processes, cgroups, namespaces, veth)", not left,
            ", ".join(left))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    why = twohost.why_not()
    if why:
        return skip("cpcs-baseline: %s: skipped" % why)
    moves = int(os.environ.get("PARTD_BASELINE_MOVES", "4"))
    if not 2 <= moves <= 6:
        print("PARTD_BASELINE_MOVES: 2 to 6, not %d" % moves)
        return 2

    def on_signal(sig, frame):  # the harness's clean-up runs on the way out
        raise KeyboardInterrupt("signal %d" % sig)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    R = Results("cpcs-baseline")
    try:
        run(R, os.path.abspath(sys.argv[1]), moves)
    except twohost.SetupError as e:
        R.check("the two hosts are set up", False, e)
    return R.finish()


if __name__ == "__main__":
    main_wrapper(main)
