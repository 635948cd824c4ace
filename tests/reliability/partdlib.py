"""Shared helpers of the reliability tests (python3 standard library only).

Partd runs partd on a private copy of examples/test-cpc (libvirt's test
driver) in a temporary directory, on a free loopback port, with a private
policies directory; Results counts checks and prints "N passed, M failed".
Every process started here is stopped by its PID when the test ends.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))


# -- results -----------------------------------------------------------------

class Results:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.start = time.monotonic()

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok   %s" % label)
        else:
            self.failed += 1
            print("FAIL %s%s" % (label, (": " + str(detail)) if detail else ""))
        sys.stdout.flush()
        return ok

    def note(self, text):
        print("#    %s" % text)
        sys.stdout.flush()

    def finish(self):
        print("%s: %.1f s" % (self.name, time.monotonic() - self.start))
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.stdout.flush()
        return 1 if self.failed else 0


# -- HTTP --------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:300].decode("utf-8", "replace"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- partd -------------------------------------------------------------------

WATCH_POLICY = {
    "name": "watch",
    "description": "Observe only, like static (a second do-nothing policy to switch to).",
    "manage": {"weights": False, "processors": False, "memory": False,
               "defined_capacity": False},
    "interval": 2,
    "samples": 3,
}


class Partd:
    """partd on a copy of examples/test-cpc in tmp (made when None)."""

    def __init__(self, binary, tmp=None, policy=None, interval=None, token=None, extra=None,
                 policies=None):
        self.binary = os.path.abspath(binary)
        self.own_tmp = tmp is None
        # a short directory: the UNIX socket path must fit in 107 bytes
        self.tmp = tmp or tempfile.mkdtemp(prefix="partd-rel-", dir="/tmp")
        self.cpc = os.path.join(self.tmp, "cpc")
        self.parts_dir = os.path.join(self.cpc, "partitions.d")
        self.state_dir = os.path.join(self.tmp, "state")
        self.policies = os.path.join(self.tmp, "policies")
        self.log = os.path.join(self.tmp, "partd.log")
        self.config = os.path.join(self.cpc, "partd.json")
        self.port = free_port()
        self.sock = os.path.join(self.tmp, "partd.sock")
        self.token = token
        self.proc = None
        shutil.copytree(os.path.join(SRC, "examples", "test-cpc"), self.cpc)
        shutil.copytree(os.path.join(SRC, "policies"), self.policies)
        for pol in [WATCH_POLICY] + list(policies or []):
            with open(os.path.join(self.policies, pol["name"] + ".json"), "w") as f:
                json.dump(pol, f, indent=2)
        with open(self.config) as f:
            cfg = json.load(f)
        cfg.update({
            "uri": "test://" + os.path.join(self.cpc, "cpc.xml"),
            "listen": ["127.0.0.1:%d" % self.port, "unix:" + self.sock],
            "state_dir": self.state_dir,
            "policies_dir": self.policies,
        })
        if policy:
            cfg["policy"] = policy
        if interval:
            cfg["interval"] = interval
        if token:
            tf = os.path.join(self.tmp, "token")
            with open(tf, "w") as f:
                f.write(token + "\n")
            os.chmod(tf, 0o600)
            cfg["token_file"] = tf
        cfg.update(extra or {})
        with open(self.config, "w") as f:
            json.dump(cfg, f, indent=2)

    # -- process

    def start(self, wrapper=(), timeout=20, env=None):
        """Starts partd (under wrapper, e.g. valgrind) and waits for
        /v1/health; returns None or why it did not start."""
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(list(wrapper) + [self.binary, "-c", self.config, "-f"],
                                         stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "partd exited with %d\n%s" % (self.proc.returncode, self.log_tail())
            try:
                if self.request("GET", "/v1/health", timeout=2).status == 200:
                    return None
            except OSError:
                pass
            time.sleep(0.05)
        return "no 200 from /v1/health within %ds\n%s" % (timeout, self.log_tail())

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after timeout; returns the exit status
        (None when it had to be killed)."""
        if not self.proc:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def cleanup(self):
        self.stop()
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def log_tail(self, n=20):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def sanitizer_report(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return ""
        for i, line in enumerate(lines):
            if ("ERROR: AddressSanitizer" in line or "runtime error:" in line or
                    "ERROR: LeakSanitizer" in line):
                return "".join(lines[i:i + n])
        return ""

    # -- HTTP

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, timeout=30, conn=None, headers=None):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return Reply(r.status, r.getheaders(), r.read())
        finally:
            if own:
                c.close()

    def get(self, path, **kw):
        r = self.request("GET", path, **kw)
        if r.status != 200 or r.json is None:
            raise RuntimeError("GET %s: %r" % (path, r))
        return r.json

    def partitions(self):
        return {p["name"]: p for p in self.get("/v1/partitions")["partitions"]}


def check_bounds(p, cpc=None):
    """The list of bound violations of one Partition object (docs/api.md)."""
    bad = []
    name = p["name"]
    pr, mem, w, cap = p["processors"], p["memory"], p.get("weight"), p.get("cap")
    active = p["state"] == "active"
    if active:
        if not (pr["min"] <= pr["online"] <= pr["reserved"]):
            bad.append("%s: processors online %s outside [%s, %s]" %
                       (name, pr["online"], pr["min"], pr["reserved"]))
        if not (mem["min"] <= mem["target"] <= mem["reserved"]):
            bad.append("%s: memory target %s outside [%s, %s]" %
                       (name, mem["target"], mem["min"], mem["reserved"]))
        if w is not None and not (w["min"] <= w["current"] <= w["max"]):
            bad.append("%s: weight %s outside [%s, %s]" %
                       (name, w["current"], w["min"], w["max"]))
        if cap is not None and cap["current"] is not None and not (
                0.01 <= cap["current"] <= 255):
            bad.append("%s: cap %s outside [0.01, 255]" % (name, cap["current"]))
    # the profile's own rules hold whatever the state
    if not (pr["min"] <= pr["initial"] <= pr["reserved"]):
        bad.append("%s: processors initial %s outside [%s, %s]" %
                   (name, pr["initial"], pr["min"], pr["reserved"]))
    if not (mem["min"] <= mem["initial"] <= mem["reserved"]):
        bad.append("%s: memory initial %s outside [%s, %s]" %
                   (name, mem["initial"], mem["min"], mem["reserved"]))
    if w is not None and not (1 <= w["min"] <= w["initial"] <= w["max"] <= 999):
        bad.append("%s: weight initial %s outside [%s, %s]" %
                   (name, w["initial"], w["min"], w["max"]))
    return bad


def arg_parser(doc, shim_required=False, partctl_required=False):
    """The command line every reliability test takes (CMakeLists.txt passes
    --partd, --partctl, --shim and, in a sanitized build, --sanitized); the
    test adds its own options."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--partd", required=True)
    ap.add_argument("--partctl", required=partctl_required)
    ap.add_argument("--shim", required=shim_required)
    ap.add_argument("--sanitized", action="store_true")
    return ap


def skip(reason):
    """Prints why the test is skipped and returns 77 (ctest's SKIP_RETURN_CODE)."""
    print(reason)
    print("0 passed, 0 failed, 1 skipped")
    sys.stdout.flush()
    return 77


def check_start(R, partd, label="partd starts", **kw):
    """Starts partd (Partd.start's keywords) as check LABEL; True when it did."""
    err = partd.start(**kw)
    return R.check(label, err is None, err)


def check_stop(R, partd, label="partd stops with status 0"):
    """Stops partd as check LABEL: it must exit with status 0."""
    code = partd.stop()
    return R.check(label, code == 0,
                   "status %s\n%s" % (code, partd.sanitizer_report() or partd.log_tail()))


def log_if_failed(R, partd, n=30):
    """Prints the last N lines of partd's log when a check failed."""
    if R.failed:
        print("--- partd log (last lines) ---")
        print(partd.log_tail(n), end="")


def main_wrapper(fn):
    """Runs fn() and exits with its status; a crash of the test itself is a
    failure with a traceback, never a pass."""
    try:
        sys.exit(fn())
    except SystemExit:
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        print("0 passed, 1 failed")
        sys.exit(1)


def shim_env(shim, demand_file, sanitized=False, base=None):
    """The environment that preloads the CPU-demand shim (demand-shim.c)."""
    env = dict(base or os.environ)
    env["LD_PRELOAD"] = os.path.abspath(shim)
    env["PARTD_DEMAND_FILE"] = demand_file
    if sanitized:
        # the shim comes before libasan in the library list: allowed here
        opts = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "verify_asan_link_order=0"
    return env


# A policy that acts at once: every rule on, short interval, no cooldowns.
FAST_POLICY = {
    "name": "fast",
    "description": "Every rule, planned every 0.2 s, no cooldowns (reliability tests).",
    "manage": {"weights": True, "processors": True, "memory": True, "defined_capacity": True},
    "interval": 0.2,
    "samples": 2,
    "deadband": 0.1,
    "weight_step": 50,
    "cooldown": {"weight": 0, "processors": 0, "memory": 0},
    "processors": {"high": 0.9, "low": 0.3},
    "memory": {"headroom": "256MiB", "step": "512MiB", "deadband": "64MiB"},
}
