#!/usr/bin/python3
"""A stuck backend never takes the API with it (docs/security.md, issue 10).

Usage: stuck.py PARTD PARTCTL DEAF_SHIM

The attack: changes that hang in the backend (a FIFO template did it once)
occupied every HTTP thread, and then even GET /v1/health stopped
answering; a deactivation held the manager's lock for up to an hour; one
local client holding 128 TCP connections locked every other one out.

- stall: a private, unprivileged libvirtd serves the test driver to partd,
  and is stopped (SIGSTOP): every libvirt call hangs, the honest stalled
  backend. While six changes (PATCHes, a rebalance, a deactivation; three
  times the HTTP threads of a listener) hang, health, the partitions, a
  partition, the CPC, the metrics, the plan, the policy and the events (as
  JSON and followed) answer within 1 s on TCP and on the UNIX socket; 70
  more changes fill the mutation queue (64): the rest get 503
  too-many-mutations with Retry-After at once. After SIGCONT every change
  completes, and nothing is shown applied that was not: the weight is one
  that a 200 asked for, never one that got 503, and each 200 is one
  "resized" event. Skipped without root or /usr/sbin/libvirtd.
- deactivate: a guest that ignores shutdown (deaf-shim.c preloaded into
  partd): a timeout over 600 s is 422 naming timeout; while partd waits for
  the guest, the partition says deactivating, its changes get 409, other
  partitions are resized within 1 s; without force the wait ends in 409 and
  the partition stays active; with force it is destroyed at the deadline,
  after more than libmicrohttpd's 30 s connection timeout, and the reply
  still comes, its event naming the caller (found on the HTTP thread, the
  wait on a thread of its own); partd stopping ends a wait at once (503), and the state file
  keeps the partition down.
- limits: one client holds the TCP per-address limit's worth of
  connections (limits.tcp_per_ip): another TCP connection is refused, the
  UNIX socket still answers health and GETs; a limit of 0 in partd.json is
  refused at start.

Prints "N passed, N failed"; exit 1 on any failure."""

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import (Libvirtd, Partd, Results, check_start, check_stop,  # noqa: E402
                       host_header, log_if_failed, main_wrapper)
from attack import TOKEN, problem, refused_start  # noqa: E402

# what partd's readers get while a change hangs: a normal GET takes
# milliseconds; sanitizers (build-asan) make some take up to 2 s
QUICK = 1.0
# how long the six changes are left hanging before the flood: well within
# libvirt's keepalive (about 20 s), after which the calls would fail
STALL_HOLD = 3.0
READS = ["/v1/health", "/v1/partitions", "/v1/partitions/prod", "/v1/cpc", "/metrics",
         "/v1/plan", "/v1/policy", "/v1/events"]


def frame(R, partd, body, name, **start):
    """Starts partd (check), runs body(), stops it (check: status 0, no
    sanitizer report), prints its log when a check failed, removes it."""
    failed = R.failed
    try:
        if check_start(R, partd, "%s: partd starts" % name, group=name, **start):
            try:
                body()
            except Exception:  # noqa: BLE001 - a crash of the test is a failure
                R.check("%s: the test ran to the end" % name, False, traceback.format_exc(),
                        group=name)
            check_stop(R, partd, "%s: partd stops with status 0" % name, group=name)
    finally:
        if R.failed > failed:
            log_if_failed(R, partd, 40)
        partd.cleanup()


def sanitized(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


class Async:
    """One request on a connection of its own, in a thread: rep (a Reply)
    or err once done; seconds it took."""

    def __init__(self, partd, method, path, body=None, unix=False, timeout=90):
        self.label = "%s %s %s" % (method, path, json.dumps(body) if body else "")
        self.body = body
        self.rep = self.err = None
        self.seconds = None
        self.thread = threading.Thread(target=self._run,
                                       args=(partd, method, path, body, unix, timeout))
        self.thread.daemon = True
        self.thread.start()

    def _run(self, partd, method, path, body, unix, timeout):
        t = time.monotonic()
        conn = partd.connection(timeout, unix)
        try:
            self.rep = partd.request(method, path, body, conn=conn)
        except Exception as e:  # noqa: BLE001 - reported by the checks
            self.err = e
        finally:
            conn.close()
            self.seconds = time.monotonic() - t

    def done(self):
        return not self.thread.is_alive()

    def join(self, timeout):
        self.thread.join(timeout)
        return self.done()

    def status(self):
        return self.rep.status if self.rep else None


def follow_answers(partd, unix, limit):
    """Whether an events follower gets its headers and a first event within
    limit seconds; returns (ok, seconds, detail)."""
    t = time.monotonic()
    conn = partd.connection(limit + 2, unix)
    try:
        conn.request("GET", "/v1/events?follow=1&since=0",
                     headers={"Authorization": "Bearer " + partd.token,
                              "Accept": "text/event-stream"})
        r = conn.getresponse()
        first = r.read1(4096) if r.status == 200 else r.read()
        dt = time.monotonic() - t
        return r.status == 200 and b"data:" in first and dt <= limit, dt, first[:120]
    except OSError as e:
        return False, time.monotonic() - t, str(e)
    finally:
        conn.close()


def reads_answer(R, partd, when, limit, group):
    """Every read, on TCP and on the UNIX socket, answers 200 within limit."""
    for unix in (False, True):
        where = "UNIX socket" if unix else "TCP"
        slow = []
        for path in READS:
            t = time.monotonic()
            try:
                rep = partd.request("GET", path, conn=partd.connection(limit + 2, unix))
                got = rep.status
            except OSError as e:
                got = str(e)
            dt = time.monotonic() - t
            if got != 200 or dt > limit:
                slow.append("%s -> %s in %.2f s" % (path, got, dt))
        R.check("%s, on %s: %s answer 200 within %g s" % (when, where, ", ".join(READS), limit),
                not slow, "; ".join(slow), group=group)
        ok, dt, detail = follow_answers(partd, unix, limit)
        R.check("%s, on %s: an events follower gets its first event within %g s" %
                (when, where, limit), ok, "%.2f s: %r" % (dt, detail), group=group)


# -- stall ---------------------------------------------------------------------

def stall_changes(partd):
    """Six changes (PATCHes of three partitions, a rebalance, a deactivation
    on a thread of its own), alternately on TCP and the UNIX socket, with
    values that differ from the running ones."""
    parts = partd.partitions()
    out = []
    for i, name in enumerate(["prod", "web", "batch"]):
        w = parts[name]["weight"]
        to = w["current"] + 1 if w["current"] < w["max"] else w["current"] - 1
        out.append(("PATCH", "/v1/partitions/" + name, {"weight": to, "scope": "running"},
                    i % 2 == 1))
    pr = parts["web"]["processors"]
    out.append(("PATCH", "/v1/partitions/web",
                {"processors": pr["online"] + 1 if pr["online"] < pr["reserved"]
                 else pr["online"] - 1, "scope": "running"}, False))
    out.append(("POST", "/v1/rebalance", None, True))
    out.append(("POST", "/v1/partitions/db/deactivate", {"timeout": 30}, False))
    return out


def stall(R, partd, lv, group="stall"):
    """The backend stopped under six hanging changes and 70 more."""
    before = partd.partitions()
    seq0 = max([e["seq"] for e in partd.get("/v1/events")["events"]] or [0])
    lv.pause()
    t_stall = time.monotonic()
    try:
        hanging = [Async(partd, m, p, b, unix) for m, p, b, unix in stall_changes(partd)]
        time.sleep(0.5)
        reads_answer(R, partd, "6 changes hanging", QUICK, group)
        time.sleep(max(0.0, t_stall + STALL_HOLD - time.monotonic()))
        R.check("the six changes really hang (none answered in the %g s libvirtd is stopped)"
                % STALL_HOLD,
                not any(a.done() for a in hanging),
                "; ".join("%s -> %s" % (a.label, a.status()) for a in hanging if a.done()),
                group=group)
        flood = queue_fills(R, partd, before, group)
        reads_answer(R, partd, "the mutation queue full", QUICK, group)
    finally:
        R.note("libvirtd stopped for %.1f s" % (time.monotonic() - t_stall))
        lv.resume()
    done = all(a.join(60) for a in hanging + flood)
    R.check("after SIGCONT every change completes within 60 s", done,
            "; ".join(a.label for a in hanging + flood if not a.done()), group=group)
    not_ok = ["%s -> %s %s" % (a.label, a.status(), a.err or (a.rep.body or b"")[:150])
              for a in hanging if a.status() != 200]
    R.check("the six hanging changes got 200", not not_ok, "; ".join(not_ok), group=group)
    applied(R, partd, hanging, flood, seq0, group)


def queue_fills(R, partd, before, group):
    """70 more PATCHes of prod's weight, each its own value, on the UNIX
    socket (TCP's per-address limit would refuse some connections first):
    the queue takes 64 behind the running change, the others get 503."""
    w = before["prod"]["weight"]
    values = [v for v in range(w["min"], w["max"] + 1) if v != w["current"]][:70]
    flood = [Async(partd, "PATCH", "/v1/partitions/prod", {"weight": v, "scope": "running"},
                   unix=True) for v in values]
    deadline = time.monotonic() + 5
    # the five serial changes of the six and the flood: one runs, 64 wait
    expect = len(values) + 5 - 65
    while time.monotonic() < deadline and sum(a.done() for a in flood) < expect:
        time.sleep(0.05)
    busy = [a for a in flood if a.done()]
    R.check("%d changes over the queue's 64 (and the one running) get an answer at once" % expect,
            len(busy) == expect, "%d answered within 5 s" % len(busy), group=group)
    bad = [a for a in busy if not (a.status() == 503 and a.rep.json and
                                   a.rep.json.get("type", "").endswith("/too-many-mutations") and
                                   a.rep.headers.get("retry-after"))]
    R.check("they are 503 too-many-mutations with Retry-After", busy and not bad,
            repr(bad[0].rep if bad and bad[0].rep else bad[:1])[:300], group=group)
    return flood


def applied(R, partd, hanging, flood, seq0, group):
    """Nothing is shown applied that was not."""
    prod = partd.get("/v1/partitions/prod")
    ok_values = {a.body["weight"] for a in flood if a.status() == 200}
    ok_values |= {a.body["weight"] for a in hanging
                  if a.status() == 200 and a.label.startswith("PATCH /v1/partitions/prod ")}
    refused = {a.body["weight"] for a in flood if a.status() == 503}
    cur = prod["weight"]["current"]
    R.check("prod's weight (%s) is one that a 200 asked for, never one that got 503" % cur,
            cur in ok_values and cur not in refused, "200: %s" % sorted(ok_values)[:10],
            group=group)
    bad = []
    for a in hanging + flood:
        if a.status() == 200 and a.label.startswith("PATCH"):
            for c in a.rep.json.get("changes", []):
                if c.get("status") not in ("applied", "unsupported", "unconfirmed"):
                    bad.append("%s: %s" % (a.label, c))
    R.check("every 200 lists its changes as applied (or unsupported by the test driver)",
            not bad, "; ".join(bad[:3]), group=group)
    events = [e for e in partd.get("/v1/events?since=%d" % seq0)["events"]
              if e["kind"] == "resized" and e.get("partition") == "prod"]
    n_ok = sum(1 for a in hanging + flood
               if a.status() == 200 and a.label.startswith("PATCH /v1/partitions/prod "))
    R.check("one 'resized' event of prod per 200 (%d), none for a 503" % n_ok,
            len(events) == n_ok, "%d events" % len(events), group=group)
    R.check("db, deactivated during the stall, is inactive",
            partd.get("/v1/partitions/db")["state"] == "inactive", group=group)
    R.check("the backend is connected again", partd.get("/v1/health")["backend"] == "connected",
            group=group)


def run_stall(R, binary):
    why = Libvirtd.available()
    if why:
        R.skip("a stalled backend (a private libvirtd stopped)", why, group="stall")
        return
    tmp = tempfile.mkdtemp(prefix="partd-stuck-", dir="/tmp")
    lv = Libvirtd(tmp)
    uri = lv.test_uri()
    try:
        err = lv.start()
        if not R.check("a private libvirtd serves the test driver", err is None, err,
                       group="stall"):
            return
        partd = Partd(binary, token=TOKEN, interval=1, extra={"uri": uri})
        frame(R, partd, lambda: stall(R, partd, lv), "stall", timeout=60)
    finally:
        lv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# -- deactivate ----------------------------------------------------------------

def deaf_env(shim):
    env = dict(os.environ)
    env["LD_PRELOAD"] = os.path.abspath(shim)
    env["PARTD_DEAF_DOMAINS"] = "prod,web"
    # the shim comes before libasan in the library list: allowed here
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "verify_asan_link_order=0"
    return env


def deactivate(R, partd, group="deactivate"):
    for t in (601, 3600):
        rep = partd.request("POST", "/v1/partitions/prod/deactivate", {"timeout": t})
        problem(R, "deactivate with timeout %d" % t, rep, 422, "validation", group=group)
        R.check("  ... naming the field timeout", (rep.json or {}).get("field") == "timeout",
                repr(rep), group=group)

    wait = Async(partd, "POST", "/v1/partitions/prod/deactivate", {"timeout": 3})
    time.sleep(0.5)
    t = time.monotonic()
    prod = partd.get("/v1/partitions/prod")
    R.check("while partd waits for the guest, prod is active and deactivating",
            prod["state"] == "active" and prod.get("deactivating") is True,
            "state %s, deactivating %s" % (prod["state"], prod.get("deactivating")), group=group)
    rep = partd.request("PATCH", "/v1/partitions/prod", {"weight": 400, "scope": "running"})
    problem(R, "a change of prod meanwhile", rep, 409, "conflict", group=group)
    rep = partd.request("POST", "/v1/partitions/prod/deactivate", {"timeout": 1})
    problem(R, "a second deactivation of prod meanwhile", rep, 409, "conflict", group=group)
    web = partd.get("/v1/partitions/batch")["weight"]
    to = web["current"] + 1 if web["current"] < web["max"] else web["current"] - 1
    rep = partd.request("PATCH", "/v1/partitions/batch", {"weight": to, "scope": "running"})
    dt = time.monotonic() - t
    R.check("another partition is resized meanwhile (all of the above within %g s)" % QUICK,
            rep.status == 200 and dt <= QUICK and not wait.done(),
            "%r in %.2f s" % (rep, dt), group=group)
    wait.join(20)
    problem(R, "without force, a guest that does not stop", wait.rep, 409, "conflict",
            group=group)
    R.check("  ... after the 3 s asked for", wait.seconds is not None and wait.seconds >= 2.9,
            "%.2f s" % (wait.seconds or -1), group=group)
    prod = partd.get("/v1/partitions/prod")
    R.check("  ... and prod stays active, no longer deactivating",
            prod["state"] == "active" and prod.get("deactivating") is False, group=group)

    # longer than libmicrohttpd's 30 s connection timeout: a suspended
    # connection does not time out, and its timer restarts when resumed
    forced = Async(partd, "POST", "/v1/partitions/prod/deactivate", {"timeout": 31, "force": True})
    forced.join(60)
    R.check("with force, the guest is destroyed at the deadline, 31 s later: 200",
            forced.status() == 200 and forced.seconds >= 30.9 and
            forced.rep.json.get("state") == "inactive",
            "%s in %.1f s" % (forced.rep or forced.err, forced.seconds or -1), group=group)
    ev = [e for e in partd.get("/v1/events")["events"]
          if e["kind"] == "deactivated" and e.get("partition") == "prod"]
    R.check("  ... and the event says forced", ev and "forced" in ev[-1]["message"], repr(ev),
            group=group)
    # the caller found on the HTTP thread reaches the deactivation's own thread
    R.check("  ... and names its caller (the admin's token, on TCP: no uid)",
            ev and ev[-1].get("caller") == {"role": "admin"}, repr(ev[-1:]), group=group)
    stop_while_waiting(R, partd, group)


def stop_while_waiting(R, partd, group):
    """partd stopping ends a wait at once; the state file keeps web down."""
    wait = Async(partd, "POST", "/v1/partitions/web/deactivate", {"timeout": 60})
    time.sleep(0.5)
    t = time.monotonic()
    partd.stop(timeout=15)
    R.check("partd stops within 5 s while a deactivation waits",
            time.monotonic() - t < 5 and not partd.running(), group=group)
    wait.join(5)
    if wait.rep:
        problem(R, "  ... and the deactivation is told partd is stopping", wait.rep, 503,
                "backend-unavailable", group=group)
    else:
        R.check("  ... and the deactivation is told partd is stopping", False, repr(wait.err),
                group=group)
    with open(os.path.join(partd.state_dir, "state.json")) as f:
        st = json.load(f)
    R.check("  ... and the state file has web down (a restart does not start it again)",
            st["partitions"]["web"]["active"] is False, repr(st["partitions"]["web"]),
            group=group)


def run_deactivate(R, binary, shim):
    partd = Partd(binary, token=TOKEN, interval=1)
    frame(R, partd, lambda: deactivate(R, partd), "deactivate", env=deaf_env(shim))


# -- limits --------------------------------------------------------------------

def limits(R, partd, per_ip, group="limits"):
    socks = []
    try:
        # each answered once, so that partd surely counts it, then kept open
        held = 0
        for _ in range(per_ip):
            s = socket.create_connection(("127.0.0.1", partd.port), timeout=5)
            socks.append(s)
            s.sendall(b"GET /v1/health HTTP/1.1\r\n" + host_header(partd.port) + b"\r\n")
            held += s.recv(4096).startswith(b"HTTP/1.1 200")
        R.check("one client opens %d TCP connections (kept alive)" % per_ip, held == per_ip,
                "%d answered" % held, group=group)
        refused = False
        try:
            with socket.create_connection(("127.0.0.1", partd.port), timeout=3) as s:
                s.sendall(b"GET /v1/health HTTP/1.1\r\n" + host_header(partd.port) + b"\r\n")
                refused = not s.recv(100).startswith(b"HTTP/1.1 200")
        except OSError:
            refused = True
        R.check("one client holds %d TCP connections: another TCP client is refused" % per_ip,
                refused, group=group)
        slow = []
        for path in ("/v1/health", "/v1/partitions", "/v1/partitions/prod"):
            t = time.monotonic()
            rep = partd.request("GET", path, conn=partd.connection(3, unix=True))
            dt = time.monotonic() - t
            if rep.status != 200 or dt > QUICK:
                slow.append("%s -> %d in %.2f s" % (path, rep.status, dt))
        R.check("  ... and the UNIX socket still answers health and GETs within %g s" % QUICK,
                not slow, "; ".join(slow), group=group)
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not partd.client.healthy(timeout=1):
        time.sleep(0.1)
    R.check("once they are closed, TCP answers again", partd.client.healthy(), group=group)


def run_limits(R, binary):
    per_ip = 16
    partd = Partd(binary, token=TOKEN, extra={"limits": {
        "tcp_per_ip": per_ip, "tcp_connections": 64, "unix_connections": 32}})
    frame(R, partd, lambda: limits(R, partd, per_ip), "limits")

    def zero(p):
        p.edit_config(lambda c: c.update({"limits": {"tcp_per_ip": 0}}))
    refused_start(R, binary, "a connection limit of 0", zero, "limits.tcp_per_ip",
                  group="limits")


def main():
    if len(sys.argv) < 4:
        print("usage: stuck.py PARTD PARTCTL DEAF_SHIM", file=sys.stderr)
        return 2
    binary, shim = sys.argv[1], sys.argv[3]
    global QUICK
    if sanitized(binary):
        QUICK = 2.0
    R = Results("stuck")
    run_limits(R, binary)
    run_deactivate(R, binary, shim)
    run_stall(R, binary)
    return R.finish()


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
