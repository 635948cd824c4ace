#!/usr/bin/python3
"""Backend loss: libvirtd stops and comes back while partd runs.

Usage: backend.py --partd PARTD [--outage 3]

Starts a private, unprivileged libvirtd (as user nobody, HOME and
XDG_RUNTIME_DIR in a temporary directory: nothing of the system's libvirt is
touched) that serves libvirt's test driver with examples/test-cpc/cpc.xml,
and partd on test+unix:///.../cpc.xml?socket=... Then stops libvirtd
(SIGTERM) for --outage seconds and starts it again. Checks:

  - while libvirtd is down, GET /v1/partitions, /v1/partitions/prod and
    /v1/cpc keep answering 200 (within 1 s) from the last snapshot, and
    partd marks the backend "disconnected" (in /v1/cpc and /v1/health)
    within 2 monitor intervals;
  - once marked, mutations (PATCH, activate, define, rebalance) get 503
    backend-unavailable; a mutation made before partd noticed (502) is
    reported;
  - partd reconnects by itself (with its backoff) after libvirtd is back,
    marks the backend "connected", and mutations work again;
  - partd stops with status 0.

With the test driver, a restarted libvirtd has lost its domains (QEMU
guests would have kept running), so the partitions come back inactive: that
is not checked. Needs root and /usr/sbin/libvirtd; exits 77 (skipped)
without them.
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdlib import Partd, arg_parser  # noqa: E402
from partdtest import Libvirtd, Results, main_wrapper, session, skip  # noqa: E402

INTERVAL = 0.5  # partd's monitor interval, seconds


def run(args):
    R = Results("backend")
    why = Libvirtd.available()
    if why:
        return skip("%s: skipped" % why)
    tmp = tempfile.mkdtemp(prefix="partd-be-", dir="/tmp")
    lv = Libvirtd(tmp)
    uri = lv.test_uri()
    try:
        err = lv.start()
        if not R.check("a private libvirtd serves the test driver", err is None,
                       "%s\n%s" % (err, open(lv.log, errors="replace").read()[-1500:])):
            return R.finish()
        partd = Partd(args.partd, interval=INTERVAL, extra={"uri": uri})
        return session(R, partd, lambda: outage(R, args, partd, lv), "partd starts on %s" % uri,
                       timeout=60)
    finally:
        lv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def outage(R, args, partd, lv):
    """libvirtd stopped for args.outage seconds, then started again."""
    R.check("the backend is connected", partd.get("/v1/cpc")["backend"] == "connected")
    before = partd.get("/v1/partitions/prod")

    lv.stop()
    t_down = time.monotonic()
    reads, slow, marked_at, early_502, mut = 0, [], None, [], {}
    mutations = [
        ("PATCH", "/v1/partitions/prod", {"processors": 6}),
        ("POST", "/v1/partitions/dev/activate", None),
        ("POST", "/v1/rebalance", None),
        ("POST", "/v1/partitions", {"name": "x1", "processors": {"initial": 1},
                                    "weight": {"initial": 10},
                                    "memory": {"initial": "1GiB"}}),
    ]
    i = 0
    while time.monotonic() - t_down < args.outage:
        for path in ("/v1/partitions", "/v1/partitions/prod", "/v1/cpc"):
            t = time.monotonic()
            rep = partd.request("GET", path, timeout=5)
            dt = time.monotonic() - t
            reads += 1
            if rep.status != 200 or dt > 1.0:
                slow.append("%s -> %d in %.2f s" % (path, rep.status, dt))
        backend = partd.get("/v1/cpc")["backend"]
        if backend == "disconnected" and marked_at is None:
            marked_at = time.monotonic() - t_down
        m = mutations[i % len(mutations)]
        i += 1
        rep = partd.request(*m, timeout=10)
        if marked_at is None:
            if rep.status != 503:
                early_502.append("%s %s -> %d" % (m[0], m[1], rep.status))
        else:
            mut.setdefault(rep.status, []).append("%s %s" % (m[0], m[1]))
        time.sleep(0.1)
    R.check("while libvirtd is down, status GETs answer 200 within 1 s (%d made)" % reads,
            not slow, "; ".join(slow[:5]))
    R.check("partd marks the backend disconnected within 2 intervals",
            marked_at is not None and marked_at <= 2 * INTERVAL + 0.5,
            "after %s s" % marked_at)
    R.note("backend marked disconnected %.2f s after libvirtd stopped" % (marked_at or -1))
    health = partd.get("/v1/health")
    R.check("/v1/health says the backend is disconnected",
            health.get("backend") == "disconnected", health)
    R.check("GET /v1/partitions/prod serves the last snapshot",
            partd.get("/v1/partitions/prod")["name"] == before["name"])
    R.check("mutations get 503 once the backend is marked disconnected",
            list(mut) == [503], {k: v[:3] for k, v in mut.items()})
    if early_502:
        R.note("before partd noticed the loss: %s" % "; ".join(early_502))

    err = lv.start()
    R.check("libvirtd starts again", err is None, err)
    t_up = time.monotonic()
    back = None
    while time.monotonic() - t_up < 30:
        if partd.get("/v1/cpc")["backend"] == "connected":
            back = time.monotonic() - t_up
            break
        time.sleep(0.1)
    R.check("partd reconnects by itself", back is not None, "not within 30 s")
    R.note("reconnected %.2f s after libvirtd came back (outage %.1f s)" %
           (back or -1, args.outage))
    rep = partd.request("PATCH", "/v1/partitions/web", {"processors": 3, "scope": "profile"})
    R.check("a profile change works again", rep.status == 200, repr(rep))
    rep = partd.request("POST", "/v1/partitions/dev/activate")
    R.check("an activation works again", rep.status == 200, repr(rep))
    rep = partd.request("PATCH", "/v1/partitions/dev", {"processors": 2, "scope": "running"})
    R.check("a running change works again", rep.status == 200, repr(rep))
    R.check("partd is still running", partd.running(), partd.log_tail())


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--outage", type=float, default=3)
    return run(ap.parse_args())


if __name__ == "__main__":
    main_wrapper(main)
