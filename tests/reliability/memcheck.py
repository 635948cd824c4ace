#!/usr/bin/python3
"""valgrind memcheck on an end-to-end partd run.

Usage: memcheck.py --partd PARTD --partctl PARTCTL --shim partd-demand.so

partd runs under valgrind --leak-check=full --errors-for-leak-kinds=definite
--error-exitcode=99 on a copy of examples/test-cpc (libvirt's test driver),
with a bearer token, the policy "fast" and the CPU-demand shim (so the
monitor and the rebalancer really act). partctl and raw HTTP requests then
go through every route: health, version, cpc, list, show, a resize with each
scope, define, activate, deactivate, undefine, plan, rebalance, policy
switches, events (the list, and a server-sent-events follower still open at
the stop), metrics, top, SIGHUP, and the error paths (401, 404, 405, 400,
413, 415, 422, 409). Then SIGTERM. Checks: partd exits 0 (not valgrind's 99),
valgrind's leak summary says 0 bytes definitely lost, and its log has no
invalid read or write (nor any other memcheck error).

Exits 77 (skipped) when valgrind is not installed, and refuses (77) a
sanitized build, which valgrind cannot run.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdlib import FAST_POLICY, Partd, arg_parser, shim_env  # noqa: E402
from partdtest import Results, host_header, main_wrapper, session, skip  # noqa: E402

TOKEN = "memcheck-token-0b1d"


def run(args):
    R = Results("memcheck")
    if args.sanitized:
        return skip("a sanitized build cannot run under valgrind: skipped")
    if not shutil.which("valgrind"):
        return skip("valgrind is not installed (Debian package valgrind): skipped")
    partd = Partd(args.partd, policy="fast", interval=0.5, token=TOKEN, policies=[FAST_POLICY])
    vlog = os.path.join(partd.tmp, "valgrind.log")
    demand = os.path.join(partd.tmp, "demand")
    with open(demand, "w") as f:
        f.write("prod 7.5 3000\nweb 0.3 1000\nbatch 2.5 2000\nx1 1.5 500\n")
    wrapper = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
               "--error-exitcode=99", "--num-callers=30", "--log-file=" + vlog]
    if os.path.exists(args.suppressions):
        wrapper.append("--suppressions=" + args.suppressions)
    env = shim_env(args.shim, demand)
    env["PARTD_SERVER"] = "http://127.0.0.1:%d" % partd.port
    env.pop("PARTD_TOKEN", None)
    follower = []  # a server-sent-events follower, open until partd has stopped
    t = {"start": time.monotonic()}

    def body():
        R.note("start-up under valgrind: %.1f s" % (time.monotonic() - t["start"]))
        follower.append(follow_events(partd))
        every_route(R, args, partd, env)
        follower[0].settimeout(5)
        try:
            seen = follower[0].recv(65536)
        except OSError:
            seen = b""
        R.check("the events follower got events", b"event:" in seen, seen[:200])
        t["stop"] = time.monotonic()

    def after():
        for s in follower:
            s.close()
        if "stop" in t:
            R.note("stop under valgrind (leak check included): %.1f s" %
                   (time.monotonic() - t["stop"]))
        check_valgrind_log(R, vlog)

    return session(R, partd, body, "partd starts under valgrind",
                   "partd exits 0 under valgrind (99 = memcheck errors)", stop_timeout=120,
                   after=after, wrapper=wrapper, timeout=120, env=env)


def follow_events(partd):
    """A connection following GET /v1/events?follow=1 (read by the caller)."""
    s = socket.create_connection(("127.0.0.1", partd.port), timeout=30)
    s.sendall(b"GET /v1/events?follow=1 HTTP/1.1\r\n" + host_header(partd.port) +
              ("Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n" %
               TOKEN).encode())
    return s


def every_route(R, args, partd, env):
    """partctl and raw HTTP through every route, good and bad."""

    def ctl(label, *argv, rc=0):
        r = subprocess.run([args.partctl, "--token-file", os.path.join(partd.tmp, "token"),
                            "--timeout", "60"] + list(argv),
                           capture_output=True, text=True, env=env, timeout=120)
        R.check("partctl %s" % label, r.returncode == rc,
                "exit %d: %s" % (r.returncode, (r.stderr or r.stdout)[-400:]))
        return r

    def raw(label, method, path, status, body=None, headers=None, token=True):
        rep = partd.request(method, path, body, auth=True if token else None, headers=headers,
                            timeout=60)
        R.check("%s -> %d" % (label, status), rep.status == status, repr(rep))
        return rep

    ctl("health", "health")
    ctl("version", "version")
    ctl("cpc", "cpc")
    ctl("list", "list")
    ctl("show prod", "show", "prod")
    ctl("resize prod (both)", "resize", "prod", "--cpus", "10", "--memory", "20GiB",
        "--weight", "600")
    ctl("resize batch (running, cap none)", "resize", "batch", "--cap", "none",
        "--scope", "running")
    ctl("resize web (profile)", "resize", "web", "--cpus", "6", "--weight-min", "150",
        "--scope", "profile")
    prof = os.path.join(partd.tmp, "x1.json")
    with open(prof, "w") as f:
        json.dump({"name": "x1", "processors": {"initial": 2, "min": 1, "reserved": 4},
                   "weight": {"initial": 100, "min": 50, "max": 300},
                   "memory": {"initial": "2GiB", "min": "1GiB", "reserved": "4GiB"}}, f)
    ctl("validate", "validate", prof)
    ctl("define x1", "define", prof)
    ctl("activate x1", "activate", "x1")
    ctl("resize x1", "resize", "x1", "--cpus", "3", "--cap", "1.5")
    ctl("show x1 (json)", "-o", "json", "show", "x1")
    time.sleep(2)  # a few monitor cycles: the rebalancer acts
    ctl("plan", "plan")
    ctl("rebalance", "rebalance")
    ctl("policy", "policy")
    ctl("policy balanced", "policy", "balanced")
    ctl("policy ird", "policy", "ird")
    ctl("policy fast", "policy", "fast")
    ctl("deactivate x1", "deactivate", "x1", "--force", "--timeout", "0")
    ctl("undefine x1", "undefine", "x1")
    ctl("events", "events")
    ctl("events --since 3 (json)", "-o", "json", "events", "--since", "3")
    ctl("metrics", "metrics")
    ctl("top (2 frames)", "top", "--iterations", "2", "--interval", "0.3")
    ctl("show nope (fails)", "show", "nope", rc=1)
    raw("GET /v1/health without a token", "GET", "/v1/health", 200, token=False)
    raw("GET /v1/cpc without a token", "GET", "/v1/cpc", 401, token=False)
    raw("GET /v1/nope", "GET", "/v1/nope", 404)
    raw("PUT /v1/partitions/prod", "PUT", "/v1/partitions/prod", 405, body={})
    raw("malformed JSON", "PATCH", "/v1/partitions/prod", 400, body=b'{"processors": ')
    raw("70 KiB body", "PATCH", "/v1/partitions/prod", 413, body=b" " * (70 * 1024))
    raw("text/plain body", "PATCH", "/v1/partitions/prod", 415, body=b"{}",
        headers={"Content-Type": "text/plain"})
    raw("processors over reserved", "PATCH", "/v1/partitions/prod", 422,
        body={"processors": 99})
    raw("undefine an active partition", "DELETE", "/v1/partitions/prod", 409)
    raw("define a duplicate", "POST", "/v1/partitions", 409,
        body=open(os.path.join(partd.parts_dir, "prod.json")).read())
    raw("policy unknown", "PUT", "/v1/policy", 422, body={"name": "nope"})
    raw("deactivate with a bad body", "POST", "/v1/partitions/web/deactivate", 422,
        body={"bogus": 1})
    # SIGHUP: a profile added to partitions.d is defined
    with open(os.path.join(partd.parts_dir, "x2.json"), "w") as f:
        json.dump({"name": "x2", "processors": {"initial": 1, "reserved": 2},
                   "weight": {"initial": 10},
                   "memory": {"initial": "1GiB", "reserved": "2GiB"}}, f)
    partd.signal(signal.SIGHUP)
    for _ in range(100):
        if partd.request("GET", "/v1/partitions/x2", timeout=30).status == 200:
            break
        time.sleep(0.1)
    raw("SIGHUP defined x2", "GET", "/v1/partitions/x2", 200)


def check_valgrind_log(R, vlog):
    """valgrind's verdict on partd, from its log."""
    with open(vlog, errors="replace") as f:
        log = f.read()
    m = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", log)
    lost = int(m.group(1).replace(",", "")) if m else (0 if "All heap blocks were freed"
                                                         in log else None)
    invalid = len(re.findall(r"Invalid (read|write|free)", log))
    errors = re.search(r"ERROR SUMMARY: ([\d,]+) errors", log)
    summary = "\n".join(l for l in log.splitlines() if re.search(
        r"(lost|reachable|suppressed|ERROR SUMMARY):", l))
    R.note("valgrind:\n" + summary)
    R.check("0 bytes definitely lost", lost == 0, "%s bytes" % lost)
    R.check("0 invalid reads/writes/frees", invalid == 0, "%d" % invalid)
    R.check("memcheck's error summary is 0", errors and errors.group(1) == "0",
            errors.group(0) if errors else "no ERROR SUMMARY")
    if R.failed:
        print("--- valgrind log (first errors) ---")
        blocks = re.split(r"\n==\d+== \n", log)
        print("\n".join(b for b in blocks if "Invalid" in b or "definitely lost in" in b
                        or "uninitialised" in b)[:6000])


def main():
    ap = arg_parser(__doc__, shim_required=True, partctl_required=True)
    ap.add_argument("--suppressions",
                    default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "valgrind.supp"))
    return run(ap.parse_args())


if __name__ == "__main__":
    main_wrapper(main)
