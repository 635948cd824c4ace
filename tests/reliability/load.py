#!/usr/bin/python3
"""Load: wrk at saturation on the status routes, concurrent PATCHes, and the
rebalancer on.

Usage: load.py --partd PARTD --shim partd-demand.so [--seconds 60] [--warmup 10]
               [--connections 64] [--threads 2] [--sanitized]

partd runs on a copy of examples/test-cpc (libvirt's test driver) with the
policy "balanced" and the CPU-demand shim (demand-shim.c), so the rebalancer
acts while the load runs. wrk (tests/reliability/status.lua) rotates over
GET /v1/partitions, /v1/partitions/prod and /v1/cpc on 127.0.0.1 while a
thread PATCHes running (and now and then profile) values of the shared
partitions within their bounds, without pause. After a warm-up under the
same load, VmRSS is read before and after the measured run. Checks:

  - 0 5xx replies (wrk and the PATCH loop), every status GET is a 2xx, no
    socket error;
  - partd is alive at the end and stops with status 0 on SIGTERM;
  - RSS growth < 1 MiB (not with --sanitized: ASan's quarantine grows RSS):
    VmRSS is sampled every 0.25 s during the measured run, after the
    warm-up; the median of its last quarter may exceed that of its first
    quarter by less than 1 MiB. (VmRSS of the idle daemon before and after
    the run is printed too, but moves by a few MiB either way with when
    glibc returns freed memory and libmicrohttpd's connection pools to the
    system.)

Prints req/s, latencies, PATCH rate, RSS, and "N passed, M failed". Exits
77 (skipped) when wrk is not installed.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from partdlib import Partd, arg_parser, shim_env  # noqa: E402
from partdtest import Results, main_wrapper, session, skip  # noqa: E402


class Patcher(threading.Thread):
    """PATCHes the shared partitions' running values within their bounds."""

    def __init__(self, partd, seed):
        super().__init__(daemon=True)
        self.partd = partd
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.counts = {}
        self.bad = []

    def run(self):
        parts = self.partd.partitions()
        shared = [p for p in parts.values() if p["mode"] == "shared" and p["state"] == "active"]
        conn = self.partd.connection(timeout=30)
        while not self.stop.is_set():
            p = self.rng.choice(shared)
            pr, w = p["processors"], p["weight"]
            body = {"scope": "running" if self.rng.random() < 0.9 else "both"}
            body["processors"] = self.rng.randint(pr["min"], pr["reserved"])
            if self.rng.random() < 0.5:
                body["weight"] = self.rng.randint(w["min"], w["max"])
            try:
                rep = self.partd.request("PATCH", "/v1/partitions/" + p["name"], body, conn=conn)
            except OSError as e:
                self.bad.append("PATCH: %s" % e)
                conn.close()
                conn = self.partd.connection(timeout=30)
                continue
            self.counts[rep.status] = self.counts.get(rep.status, 0) + 1
            if rep.status >= 500 or rep.status not in (200, 409):
                self.bad.append("PATCH %s %s -> %r" % (p["name"], body, rep))
        conn.close()


def wrk(args, partd, seconds):
    cmd = ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % seconds,
           "--latency", "-s", os.path.join(HERE, "status.lua"),
           "http://127.0.0.1:%d/" % partd.port]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                       env=dict(os.environ, PARTD_TOKEN=partd.token))
    out = r.stdout
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    s = re.search(r"STATUS 2xx=(\d+) 4xx=(\d+) 5xx=(\d+) other=(\d+) errors=(\d+) "
                  r"p50_us=(\d+) p99_us=(\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {
        "rc": r.returncode,
        "rps": float(m.group(1)) if m else None,
        "2xx": int(s.group(1)) if s else None,
        "4xx": int(s.group(2)) if s else None,
        "5xx": int(s.group(3)) if s else None,
        "other": int(s.group(4)) if s else None,
        "p50_us": int(s.group(6)) if s else None,
        "p99_us": int(s.group(7)) if s else None,
        "socket_errors": sock.group(1) if sock else "",
        "out": out + r.stderr,
    }


def run(args):
    R = Results("load")
    if not shutil.which("wrk"):
        return skip("wrk is not installed (Debian package wrk): skipped")
    partd = Partd(args.partd, policy="balanced")
    demand = os.path.join(partd.tmp, "demand")
    with open(demand, "w") as f:
        f.write("prod 7.5 3000\nweb 0.3 1000\nbatch 2.5 2000\n")

    def body():
        actions0 = partd.get("/v1/cpc")["rebalancer"]["actions_applied"]
        patcher = Patcher(partd, args.seed)
        patcher.start()
        try:
            measure(R, args, partd, patcher, actions0)
        finally:
            patcher.stop.set()

    return session(R, partd, body, "partd starts (policy balanced, demand shim)",
                   env=shim_env(args.shim, demand, args.sanitized), timeout=60)


def measure(R, args, partd, patcher, actions0):
    """The measured run, after a warm-up, and its checks."""
    warm = wrk(args, partd, args.warmup)
    R.note("warm-up %ds: %s req/s" % (args.warmup, warm["rps"]))
    rss0 = partd.rss_kib()
    samples = []
    sampling = threading.Event()

    def sampler():
        while not sampling.wait(0.25):
            try:
                samples.append(partd.rss_kib())
            except OSError:
                break

    st = threading.Thread(target=sampler, daemon=True)
    st.start()
    n0 = sum(patcher.counts.values())
    t0 = time.monotonic()
    res = wrk(args, partd, args.seconds)
    elapsed = time.monotonic() - t0
    n1 = sum(patcher.counts.values())
    sampling.set()
    st.join()
    rss1 = partd.rss_kib() if partd.running() else None
    patcher.stop.set()
    patcher.join(30)
    actions = partd.get("/v1/cpc")["rebalancer"]["actions_applied"] - actions0 \
        if partd.running() else 0
    R.note("wrk -t%d -c%d %ds: %s req/s, p50 %s us, p99 %s us, 2xx %s, 4xx %s, 5xx %s" %
           (args.threads, args.connections, args.seconds, res["rps"], res["p50_us"],
            res["p99_us"], res["2xx"], res["4xx"], res["5xx"]))
    R.note("PATCH loop: %.0f PATCH/s during the run, statuses %s" %
           ((n1 - n0) / elapsed, dict(sorted(patcher.counts.items()))))
    R.note("rebalancer: %d actions applied during warm-up and run" % actions)
    R.note("VmRSS: %s KiB after warm-up, %s KiB after the run (%+d KiB); during the run "
           "(every 0.25 s): min %s, max %s KiB" %
           (rss0, rss1, (rss1 or 0) - (rss0 or 0), min(samples or [0]), max(samples or [0])))
    q = max(1, len(samples) // 4)
    first = sorted(samples[:q])[q // 2] if samples else None
    last = sorted(samples[-q:])[q // 2] if samples else None
    R.note("VmRSS trend: median of the first quarter %s KiB, of the last quarter %s KiB" %
           (first, last))
    if os.environ.get("PARTD_LOAD_RSS_SERIES"):
        R.note("series: %s" % " ".join(map(str, samples)))
    R.check("wrk ran", res["rc"] == 0 and res["rps"] is not None and res["2xx"] is not None,
            res["out"][-800:])
    R.check("0 5xx from the status routes", res["5xx"] == 0, res["5xx"])
    R.check("every status GET is a 2xx", res["4xx"] == 0 and res["other"] == 0,
            "4xx %s, other %s" % (res["4xx"], res["other"]))
    R.check("no socket errors", not res["socket_errors"], res["socket_errors"])
    R.check("0 5xx and no failure in the PATCH loop", not patcher.bad,
            "%d: %s" % (len(patcher.bad), "; ".join(patcher.bad[:3])))
    R.check("the PATCH loop ran (> 10 PATCH/s)", (n1 - n0) / elapsed > 10, n1 - n0)
    R.check("partd is alive after the load", partd.running(), partd.log_tail())
    if args.sanitized:
        R.note("RSS growth not checked: sanitized build")
    else:
        # Under load, from the first to the last quarter of the run: idle
        # figures move by a few MiB with when glibc gives memory back
        R.check("RSS growth < 1 MiB under load (first to last quarter of the run)",
                first is not None and last - first < 1024,
                "%s -> %s KiB" % (first, last))


def main():
    ap = arg_parser(__doc__, shim_required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=6)
    return run(ap.parse_args())


if __name__ == "__main__":
    main_wrapper(main)
