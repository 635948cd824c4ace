#!/usr/bin/python3
"""Hostile clients: partd keeps serving others while clients misbehave.

Usage: hostile.py --partd PARTD [--slow-seconds 10] [--idle-wait 32] [--long]

partd runs on a copy of examples/test-cpc (libvirt's test driver). All
traffic goes to 127.0.0.1; the attackers connect from 127.0.0.3 (per-IP
cap), 127.0.0.9 (slowloris) and 127.0.0.12-18 (idle), since libmicrohttpd
limits connections per IP; the well-behaved prober from 127.0.0.1. During each attack a normal GET
/v1/partitions/prod is made every 0.25 s on a new connection and must
answer 200 within 1 s (2 s under sanitizers). Attacks, with bounded counts and durations:

  per-IP cap  300 connections from one address: past partd's per-IP limit
              (128) they are refused (closed at once)
  idle        700 idle connections from seven addresses and one upload
              announced as 1 GiB that stalls after 1 KiB, opened next and
              left alone while the attacks below run (with them the total
              stays under partd's limit of 1024); within --idle-wait seconds
              of opening (partd's connection timeout is 30 s) partd must
              have closed them all (skipped when --idle-wait is 0)
  slowloris   200 connections send a request's headers one byte per second
              for --slow-seconds; they must not hold partd's threads
  headers     a 16 KiB header (accepted), 200 KiB of headers and a 200 KiB
              URL (over the 32 KiB connection memory: refused with a 4xx or
              closed), 4,000 small headers
  bodies      a 70 KiB body (413), an 8 MiB body sent at full speed (413)

Prints the worst normal-GET latency per attack and "N passed, M failed".
"""

import http.client
import os
import resource
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdlib import Partd, arg_parser  # noqa: E402
from partdtest import Results, host_header, main_wrapper, session, skip  # noqa: E402

GOOD_SRC = "127.0.0.2"
IDLE_ADDRS = tuple("127.0.0.%d" % i for i in range(12, 19))
IDLE_PER_ADDR = 100  # under partd's 128 per address; 700 idle + 200 slowloris stay under select()'s 1024 descriptors


def connect(port, src="127.0.0.1", timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


class Prober(threading.Thread):
    """A well-behaved client: GET every 0.25 s, records the latencies."""

    def __init__(self, partd):
        super().__init__(daemon=True)
        self.partd = partd
        self.stop = threading.Event()
        self.latencies = []
        self.failures = []

    def probe(self):
        t = time.monotonic()
        try:
            s = connect(self.partd.port, GOOD_SRC, timeout=LATENCY)
            c = http.client.HTTPConnection("127.0.0.1", self.partd.port, timeout=LATENCY)
            c.sock = s
            c.request("GET", "/v1/partitions/prod",
                      headers={"Authorization": "Bearer " + self.partd.token})
            r = c.getresponse()
            r.read()
            c.close()
            dt = time.monotonic() - t
            self.latencies.append(dt)
            if r.status != 200:
                self.failures.append("status %d" % r.status)
        except OSError as e:
            self.latencies.append(time.monotonic() - t)
            self.failures.append("%s after %.2f s" % (e, time.monotonic() - t))

    def run(self):
        while not self.stop.is_set():
            self.probe()
            self.stop.wait(0.25)

    def result(self):
        self.stop.set()
        self.join(5)
        worst = max(self.latencies) if self.latencies else None
        return worst, len(self.latencies), self.failures


# How long a normal GET may take while an attack runs: 1 s, twice that in
# a build with sanitizers, which run everything slower (run() sets it).
LATENCY = 1.0


def during(R, partd, label, attack):
    """Runs attack() while a prober measures; checks the prober's results."""
    p = Prober(partd)
    p.start()
    try:
        detail = attack()
    finally:
        worst, n, failures = p.result()
    R.note("%s: %s; normal GETs: %d, worst %.0f ms" %
           (label, detail, n, (worst or 0) * 1000))
    R.check("%s: a normal GET answers 200 within %g s throughout" % (label, LATENCY),
            n > 0 and not failures and worst < LATENCY,
            "%d probes, worst %s s, failures: %s" % (n, worst, "; ".join(failures[:3])))
    R.check("%s: partd is still running" % label, partd.running(), partd.log_tail())


def closed_by_peer(socks, wait):
    """How many of socks the server closed within wait seconds."""
    deadline = time.monotonic() + wait
    closed = set()
    while time.monotonic() < deadline and len(closed) < len(socks):
        live = [s for s in socks if s.fileno() not in closed]
        r, _, _ = select.select(live[:1000], [], [], 0.2)
        for s in r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                closed.add(s.fileno())
    return len(closed)


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def slowloris(R, partd, args):
    socks = []
    header = b"GET /v1/partitions HTTP/1.1\r\n" + host(partd) + b"X-Slow: " + b"a" * 4096

    def attack():
        # from another address than the probe's: "others" keep being served
        for _ in range(200):
            socks.append(connect(partd.port, "127.0.0.9"))
        for s in socks:
            s.setblocking(False)
        sent_errors = 0
        for i in range(args.slow_seconds):
            for s in socks:
                try:
                    s.send(header[i:i + 1])
                except OSError:
                    sent_errors += 1
            time.sleep(1)
        alive = len(socks) - closed_by_peer(socks, 0.1)
        return "200 connections, one header byte per second for %d s; %d still open" % (
            args.slow_seconds, alive)

    try:
        during(R, partd, "slowloris", attack)
    finally:
        close_all(socks)


def per_ip_limit(R, partd, args):
    socks = []
    result = {}

    def attack():
        for _ in range(300):
            try:
                socks.append(connect(partd.port, "127.0.0.3"))
            except OSError:
                result["refused_connect"] = result.get("refused_connect", 0) + 1
        result["closed"] = closed_by_peer(socks, 2.0)
        return "300 connections from 127.0.0.3: %d closed by partd at once" % result["closed"]

    try:
        during(R, partd, "per-IP limit", attack)
        refused = result.get("closed", 0) + result.get("refused_connect", 0)
        R.check("per-IP limit: connections past 128 from one address are refused",
                refused >= 300 - 128, "%d of 300 refused" % refused)
    finally:
        close_all(socks)


class Idle:
    """Idle connections (IDLE_ADDRS x IDLE_PER_ADDR) and one stalled upload
    (a body announced as 1 GiB, 1 KiB sent, then silence), opened first and
    left alone while the other attacks run; partd must time them all out."""

    def __init__(self, partd):
        self.partd = partd
        self.socks = []
        self.stalled = None
        self.opened = None

    def open(self):
        for src in IDLE_ADDRS:
            for _ in range(IDLE_PER_ADDR):
                self.socks.append(connect(self.partd.port, src))
        self.stalled = connect(self.partd.port, "127.0.0.8")
        self.stalled.sendall(b"PATCH /v1/partitions/prod HTTP/1.1\r\n" + host(self.partd) + b"Content-Type: "
                             b"application/json\r\nContent-Length: 1073741824\r\n\r\n" +
                             b" " * 1024)
        self.opened = time.monotonic()

    def check(self, R, args):
        n = len(self.socks)
        res = {}

        def attack():
            left = max(1.0, args.idle_wait - (time.monotonic() - self.opened))
            res["closed"] = closed_by_peer(self.socks + [self.stalled], left)
            res["after"] = time.monotonic() - self.opened
            return "%d idle connections and a stalled upload, open %.0f s" % (n, res["after"])

        during(R, self.partd, "idle", attack)
        R.note("idle: %d of %d closed by partd within %.0f s of opening" %
               (res["closed"], n + 1, res["after"]))
        R.check("idle: partd times out idle connections and a stalled upload "
                "(all closed within %d s)" % args.idle_wait, res["closed"] == n + 1,
                "%d of %d closed" % (res["closed"], n + 1))

    def close(self):
        close_all(self.socks + ([self.stalled] if self.stalled else []))


def raw_request(partd, data, src="127.0.0.1", timeout=10, chunk=65536):
    """Sends data, returns (status or None, seconds, how it ended)."""
    t = time.monotonic()
    s = connect(partd.port, src, timeout=timeout)
    how = "reply"
    try:
        for i in range(0, len(data), chunk):
            s.sendall(data[i:i + chunk])
    except OSError as e:
        how = "send failed: %s" % e.__class__.__name__
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError as e:
        how = "recv failed: %s" % e.__class__.__name__
    s.close()
    status = None
    if buf.startswith(b"HTTP/1."):
        try:
            status = int(buf.split(b" ", 2)[1])
        except (ValueError, IndexError):
            pass
    if status is None and how == "reply":
        how = "closed without a reply"
    return status, time.monotonic() - t, how


def host(partd):
    return host_header(partd.port)


def auth(partd):
    return ("Authorization: Bearer %s\r\n" % partd.token).encode() if partd.token else b""


def headers(R, partd, args):
    res = {}

    def attack():
        big = b"X-Big: " + b"a" * 16384 + b"\r\n"
        res["16k"] = raw_request(partd, b"GET /v1/partitions/prod HTTP/1.1\r\n" + host(partd) +
                                 auth(partd) + big + b"Connection: close\r\n\r\n")
        huge = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 8000) for i in range(25))
        res["200k"] = raw_request(partd, b"GET /v1/partitions/prod HTTP/1.1\r\n" + host(partd) +
                                  huge + b"Connection: close\r\n\r\n")
        res["url"] = raw_request(partd, b"GET /v1/partitions/" + b"p" * 200000 +
                                 b" HTTP/1.1\r\n" + host(partd) + b"Connection: close\r\n\r\n")
        many = b"".join(b"X-M%d: v\r\n" % i for i in range(4000))
        res["many"] = raw_request(partd, b"GET /v1/partitions/prod HTTP/1.1\r\n" + host(partd) +
                                  many + b"Connection: close\r\n\r\n")
        return ", ".join("%s -> %s (%s, %.2f s)" % (k, v[0], v[2], v[1]) for k, v in res.items())

    during(R, partd, "headers", attack)
    R.check("headers: a 16 KiB header is accepted (200)", res["16k"][0] == 200, res["16k"])
    for k, label in (("200k", "200 KiB of headers"), ("url", "a 200 KiB URL")):
        st = res[k][0]
        R.check("headers: %s is refused (4xx or closed), quickly" % label,
                (st is None or 400 <= st < 500) and res[k][1] < 5, res[k])
    st = res["many"][0]
    R.check("headers: 4,000 small headers get an answer or are refused (no 5xx, no hang)",
            (st is None or st < 500) and res["many"][1] < 5, res["many"])


def bodies(R, partd, args):
    res = {}

    def patch(body_len, send_len=None, src="127.0.0.1", timeout=20):
        send_len = body_len if send_len is None else send_len
        head = (b"PATCH /v1/partitions/prod HTTP/1.1\r\n" + host(partd) + auth(partd) +
                b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n" % body_len)
        return raw_request(partd, head + b" " * send_len, src=src, timeout=timeout)

    def attack():
        res["70k"] = patch(70 * 1024)
        res["8m"] = patch(8 * 1024 * 1024)
        return ", ".join("%s -> %s" % (k, v) for k, v in res.items())

    during(R, partd, "bodies", attack)
    R.check("bodies: a 70 KiB body is refused with 413", res["70k"][0] == 413, res["70k"])
    R.check("bodies: an 8 MiB body is refused with 413 (or closed)",
            res["8m"][0] in (413, None) and res["8m"][1] < 15, res["8m"])
    R.note("bodies: partd answered the 8 MiB body after %.2f s (%s)" % (res["8m"][1], res["8m"][2]))


def run(args):
    global LATENCY
    LATENCY = 2.0 if args.sanitized else 1.0
    R = Results("hostile")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # partd inherits it
    if min(want, hard) < 2400:
        return skip("the open-file limit (%d) is too low for 900 idle connections: skipped"
                    % hard)
    partd = Partd(args.partd)

    def body():
        per_ip_limit(R, partd, args)
        idle = Idle(partd)
        try:
            if args.idle_wait > 0:
                idle.open()  # left alone while the rest runs (the total stays < 1024)
            slowloris(R, partd, args)
            headers(R, partd, args)
            bodies(R, partd, args)
            if args.idle_wait > 0:
                idle.check(R, args)
        finally:
            idle.close()

    return session(R, partd, body, timeout=60)


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--slow-seconds", type=int, default=8)
    ap.add_argument("--idle-wait", type=int, default=32)
    return run(ap.parse_args())


if __name__ == "__main__":
    main_wrapper(main)
