#!/usr/bin/python3
"""partd moves a running partition between the two CPCs of the two-host
harness (tests/cpcs/twohost.py): a real QEMU guest, libvirt's live
migration peer to peer, partd on each host over TLS with peer tokens.

Usage: move.py PARTD BUILD_DIR SOURCE_DIR     (exit 77: skipped, not root)

1. not admitted: B keeps all but 384 MiB for its host, so partition a
   (512 MiB) is refused at validation with the numbers that do not fit;
   nothing changes on either side. B is restarted with room for it.
2. the move A -> B (partctl move): the guest's counter keeps rising (no
   reboot), its processors and memory are what they were; partd on B
   shows it active with the same weight, cap, processors and memory, its
   cgroup on B carries the weight (cpu_shares = 10 x weight), partd on A
   no longer lists it, and both event streams show the move. Measured: the
   move's time (partctl's request to move-done) and the console gap,
   against libvirt's own virsh migrate of the same guest in the same run
   (BUILD_DIR/tests/cpcs/baseline.json, written by cpcs-baseline).
3. kill -9 mid-move: partd on B is killed while it moves a back to A,
   then restarted: within a minute the guest is on exactly one CPC and
   listed by exactly one partd.
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from partdtest import Results, load_json, main_wrapper, skip, write_json  # noqa: E402
import partdtest as pt  # noqa: E402
import twohost  # noqa: E402

BOOT_TIMEOUT = 90
MOVE_TIMEOUT = 240
NAME = "a"


def events(d, since=0):
    return d.get("/v1/events?since=%d" % since)["events"]


def kinds(d, since=0):
    return [e["kind"] for e in events(d, since)
            if e.get("partition") == NAME and e["kind"].startswith("move-")]


def last_seq(d):
    evs = events(d)
    return evs[-1]["seq"] if evs else 0


def wait_event(d, wanted, since, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            for e in events(d, since):
                if e.get("partition") == NAME and e["kind"] in wanted:
                    return e
        except Exception:  # noqa: BLE001 (a partd restarting)
            pass
        time.sleep(0.2)
    return None


def listed(d):
    try:
        return NAME in d.partitions()
    except Exception:  # noqa: BLE001
        return None


def make_partds(h, partd, kind):
    """partd on each host, each the other's peer; only partition a, on A."""
    tokens = {x.name: pt.secrets.token_hex(16) for x in h.hosts}
    ds = {}
    for x in h.hosts:
        ds[x.name] = x.partd(partd, tokens={"peer": tokens[x.name]}, interval=1)
    for x, other in ((h.a, h.b), (h.b, h.a)):
        d, od = ds[x.name], ds[other.name]
        for f in os.listdir(d.parts_dir):
            if x is h.b or f != NAME + ".json":
                os.unlink(os.path.join(d.parts_dir, f))

        def cfg(c, other=other, od=od):
            # the pool is every CPU, as for the baseline's guest: partd pins
            # a shared partition's emulator (QEMU's migration thread too) to
            # the pool, and a pool of one CPU doubled the move's time
            c["cpc"]["host_reserved_cpus"] = 0
            c["peers"] = {other.name: {
                "url": "https://%s:%d" % (other.addr, od.port),
                "token": od.token_file("peer"), "cacert": od.cacert,
                "libvirt_uri": other.uri_remote,
                "migration": {"uri": "tcp://%s" % other.addr, "max_downtime_ms": 300,
                              "timeout_s": 120}}}
        d.edit_config(cfg)
    prof = os.path.join(ds["a"].parts_dir, NAME + ".json")
    p = load_json(prof)
    p["machine"]["type"] = kind
    p["boot"]["cmdline"] = "console=ttyS0 quiet panic=-1"  # idle: the machine is shared
    write_json(prof, p)
    return ds


def set_b_reserve(pb, reserve):
    pb.edit_config(lambda c: c["cpc"].update(host_reserved_memory=reserve))


def host_mib(h):
    r = h.b.virsh("nodeinfo")
    for line in r.stdout.splitlines():
        if line.startswith("Memory size"):
            return int(line.split(":")[1].split()[0]) // 1024
    return None


def placement(h, dom):
    where = {}
    for x in h.hosts:
        doms = x.domains() or {}
        if dom in doms:
            where[x.name] = doms[dom]
    return where


def check_refused(R, h, pa, pb):
    sa, sb = last_seq(pa), last_seq(pb)
    r = pa.request("POST", "/v1/partitions/%s/move" % NAME, {"to": "b", "validate_only": True})
    detail = (r.json or {}).get("detail", "")
    R.check("1 not admitted: 409 naming the memory that does not fit",
            r.status == 409 and "memory" in detail and "512MiB" in detail, r)
    R.note(detail)
    R.check("1 nothing changed on B", not listed(pb) and "move-reserve" not in kinds(pb, sb))
    R.check("1 nothing changed on A", pa.partitions()[NAME]["state"] == "active" and
            "move-reserve" not in kinds(pa, sa))


def check_moved(R, h, pa, pb, con, before, partctl, sa, sb, t0, t1):
    dom = before["domain"]
    where = placement(h, dom)
    R.check("2 the guest runs on B only", where == {"b": "running"}, where)
    line = con.wait_line(t1, 15)
    g = con.gap(t0, t1)
    R.check("2 the guest's counter keeps rising across the move (no reboot): t %s -> %s" % (
        g and g["t_before"], g and g["t_after"]), g is not None and g["t_after"] > g["t_before"],
        g)
    last_before = [s for s in con.stamped if s[0] <= t0][-1][1]
    R.check("2 the guest's processors and memory are what they were",
            line is not None and line[1]["cpus"] == last_before["cpus"] and
            line[1]["memtotal"] == last_before["memtotal"], (last_before, line))
    after = pb.partitions().get(NAME, {})
    same = {k: (before[k], after.get(k)) for k in ("state", "weight", "cap", "processors",
                                                  "memory")}
    R.check("2 partd on B shows it active with the same weight, cap, processors, memory",
            after.get("state") == "active" and
            after["weight"]["current"] == before["weight"]["current"] and
            after["cap"]["current"] == before["cap"]["current"] and
            after["processors"]["online"] == before["processors"]["online"] and
            after["memory"]["target"] == before["memory"]["target"], same)
    r = h.b.virsh("schedinfo", dom)
    shares = [ln.split(":")[1].strip() for ln in r.stdout.splitlines()
              if ln.startswith("cpu_shares")]
    R.check("2 its cgroup on B carries the weight (cpu_shares %s = 10 x %d)" % (
        shares, before["weight"]["current"]),
        shares == [str(10 * before["weight"]["current"])], r.stdout)
    R.check("2 partd on A no longer lists it", listed(pa) is False)
    ka, kb = kinds(pa, sa), kinds(pb, sb)
    R.check("2 A's events show the move",
            all(k in ka for k in ("move-validate", "move-reserve", "move-migrate", "move-adopt",
                                  "move-done")), ka)
    R.check("2 B's events show the move",
            all(k in kb for k in ("move-validate", "move-reserve", "move-adopt")), kb)
    return g


def compare(R, build, move_s, gap):
    path = os.path.join(build, "tests", "cpcs", "baseline.json")
    try:
        base = load_json(path)
    except (OSError, ValueError):
        R.note("no %s (run cpcs-baseline first): no comparison" % path)
        return None
    bw = base["summary"]["wall_s"]["median"]
    bg = base["summary"]["gap_s"]["median"]
    R.note("move: %.2f s, console gap %.2f s; virsh migrate (median of %d): %.2f s, gap %.2f s;"
           " ratios %.2f and %.2f" % (move_s, gap, len(base["moves"]), bw, bg, move_s / bw,
                                      gap / bg))
    return {"baseline_wall_s": bw, "baseline_gap_s": bg, "ratio_time": move_s / bw,
            "ratio_gap": gap / bg}


def check_kill(R, h, pa, pb):
    sb = last_seq(pb)
    r = pb.request("POST", "/v1/partitions/%s/move" % NAME, {"to": "a"})
    if not R.check("3 the move back is accepted (202)", r.status == 202, r):
        return
    e = wait_event(pb, ("move-migrate",), sb, 60)
    R.check("3 the migration started", e is not None)
    pb.kill9()
    R.note("partd on B killed (kill -9) during the migration")
    err = h.b.start_partd(pb, timeout=60)
    R.check("3 partd on B restarts", err is None, err)
    dom = pa.partitions().get(NAME, {}).get("domain") or NAME
    end, state = time.monotonic() + 90, None
    while time.monotonic() < end:
        where = placement(h, dom)
        state = (where, listed(pa), listed(pb))
        if len(where) == 1 and list(where.values()) == ["running"] and \
                (state[1], state[2]) == ((True, False) if "a" in where else (False, True)):
            break
        time.sleep(1)
    R.note("after the restart: domain on %s; listed by A %s, by B %s; B's move events %s" % (
        state[0], state[1], state[2], kinds(pb, 0) if listed(pb) is not None else "?"))
    R.check("3 consistent: the guest on exactly one CPC, listed by exactly that partd",
            len(state[0]) == 1 and (state[1], state[2]) in ((True, False), (False, True)) and
            state[1] == ("a" in state[0]), state)


def run(R, partd, partctl, build):
    out = os.path.join(build, "tests", "cpcs")
    twohost.guest_files()
    kind = twohost.accel()
    with twohost.TwoHosts(os.path.join(out, "move")) as h:
        ds = make_partds(h, partd, kind)
        pa, pb = ds["a"], ds["b"]
        hm = host_mib(h)
        set_b_reserve(pb, "%dMiB" % (hm - 384))
        for x, d in ((h.a, pa), (h.b, pb)):
            err = x.start_partd(d)
            if not R.check("partd starts on %s" % x.name, err is None, err):
                return
        r = pa.request("POST", "/v1/partitions/%s/activate" % NAME, timeout=120)
        if not R.check("partition a activates on A", r.status == 200, r):
            return
        console = os.path.join(h.console_dir, NAME + ".log")
        with twohost.ConsoleFollower(console) as con:
            t = time.monotonic()
            if not R.check("its console prints", con.wait_line(t - 60, BOOT_TIMEOUT)
                           is not None):
                return
            # the balloon done (the profile's 512 MiB of a 1 GiB maximum): the
            # guest's memory the same on its last 3 lines
            end = time.monotonic() + BOOT_TIMEOUT
            while time.monotonic() < end and not (
                    len(con.stamped) >= 3 and
                    len({ln["memtotal"] for _, ln in con.stamped[-3:]}) == 1 and
                    con.stamped[-1][1]["memtotal"] <= 512 * 1024):
                time.sleep(0.2)
            R.note("guest memory settled at %d KiB (t %.1f)" % (
                con.stamped[-1][1]["memtotal"], con.stamped[-1][1]["t"]))
            check_refused(R, h, pa, pb)
            pb.stop()
            set_b_reserve(pb, "1GiB")
            err = h.b.start_partd(pb)
            if not R.check("partd on B restarts with room", err is None, err):
                return
            before = pa.partitions()[NAME]
            sa, sb = last_seq(pa), last_seq(pb)
            t0 = time.monotonic()
            p = subprocess.run([partctl, "--server", "unix:" + pa.sock, "--token-file",
                                pa.token_file(), "move", NAME, "--to", "b"],
                               capture_output=True, text=True, timeout=MOVE_TIMEOUT)
            t1 = time.monotonic()
            R.note(p.stdout.strip())
            if not R.check("2 partctl move: exit 0 (%.2f s)" % (t1 - t0), p.returncode == 0,
                           p.stdout + p.stderr):
                return
            g = check_moved(R, h, pa, pb, con, before, partctl, sa, sb, t0, t1)
            result = {"move_s": round(t1 - t0, 3), "gap_s": g and round(g["gap_s"], 3)}
            if g:
                result.update(compare(R, build, t1 - t0, g["gap_s"]) or {})
            write_json(os.path.join(out, "move.json"), result)
            R.note("written to %s" % os.path.join(out, "move.json"))
            check_kill(R, h, pa, pb)


def main():
    sys.stdout.reconfigure(line_buffering=True)
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    why = twohost.why_not()
    if why:
        return skip("cpcs-move: %s: skipped" % why)
    partd, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    partctl = os.path.join(os.path.dirname(os.path.dirname(partd)), "partctl", "partctl")

    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    R = Results("cpcs-move")
    try:
        run(R, partd, partctl, build)
    except twohost.SetupError as e:
        R.check("the two hosts are set up", False, e)
    return R.finish()


if __name__ == "__main__":
    main_wrapper(main)
