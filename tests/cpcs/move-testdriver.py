#!/usr/bin/env python3
"""Moving a partition between two partds on libvirt's test driver (no
guests, no libvirtd): what can be checked without a real migration.

- validation that changes nothing on either side, its checks listed;
- a move the target cannot admit (not enough memory), refused at
  validation with the numbers that do not fit, nothing changed;
- the peer role: viewer, operator, admin and no token are refused on
  /v1/moves, and the peer's token on everything else;
- a move that fails at the migrate step (the test driver cannot migrate):
  the target reserved and then released, the partition runs on at the
  source, not moving, and both event streams say so; no move record left;
- partctl move --validate-only and partctl move printing the failure,
  exit 1.

Usage: move-testdriver.py PARTD PARTCTL SRC"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import partdtest as pt  # noqa: E402


def events(d, since=0):
    return d.get("/v1/events?since=%d" % since)["events"]


def kinds(d, name, since=0):
    return [e["kind"] for e in events(d, since) if e.get("partition") == name]


def wait_event(d, name, wanted, since=0, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for e in events(d, since):
            if e.get("partition") == name and e["kind"] in wanted:
                return e
        time.sleep(0.2)
    return None


def last_seq(d):
    evs = events(d)
    return evs[-1]["seq"] if evs else 0


def start_pair(partd, src, res, b_extra=None):
    """Partd A (the example, its partitions autostarted) and B (the example
    with no partitions, a peer token), A knowing B as peer "b"."""
    b = pt.Partd(partd, src=src, tokens={"peer": None}, extra=b_extra or {})
    b.tokens["peer"] = pt.secrets.token_hex(16)
    tf = b.token_file("peer")
    with open(tf, "w") as f:
        f.write(b.tokens["peer"] + "\n")
    os.chmod(tf, 0o600)
    for f in os.listdir(b.parts_dir):
        os.unlink(os.path.join(b.parts_dir, f))

    def b_cfg(cfg):
        cfg["tokens"]["peer"] = tf
    b.edit_config(b_cfg)
    a = pt.Partd(partd, src=src, extra={"peers": {"b": {
        "url": "http://127.0.0.1:%d" % b.port, "token": tf,
        "libvirt_uri": "test:///default",
        "migration": {"max_downtime_ms": 200, "timeout_s": 5}}}})
    for d, name in ((b, "B"), (a, "A")):
        why = d.start()
        if why:
            res.check("partd %s starts" % name, False, why)
            return a, b, False
    return a, b, True


def check_roles(a, b, res):
    body = {"profile": {}, "running": {"processors": 1, "memory": 1024}, "guest": {"type": "x"}}
    for role in ("viewer", "operator", "admin"):
        r = b.as_role(role).request("POST", "/v1/moves", body)
        res.check("POST /v1/moves refused to %s (403)" % role, r.status == 403, r)
        r = b.as_role(role).request("DELETE", "/v1/moves/00112233aabbccdd")
        res.check("DELETE /v1/moves/ID refused to %s (403)" % role, r.status == 403, r)
    r = b.as_role(None).request("POST", "/v1/moves", body)
    res.check("POST /v1/moves without a token: 401", r.status == 401, r)
    peer = b.as_role("peer")
    for method, path in (("GET", "/v1/partitions"), ("GET", "/v1/events"),
                         ("POST", "/v1/partitions"), ("POST", "/v1/partitions/web/move")):
        r = peer.request(method, path, {} if method == "POST" else None)
        res.check("the peer token is refused on %s %s (403)" % (method, path),
                  r.status == 403, r)
    r = peer.request("POST", "/v1/moves", {"profile": {"name": "x"}})
    res.check("a peer's malformed request: 422 naming the field",
              r.status == 422 and (r.json or {}).get("field", "").startswith("profile."), r)
    r = a.as_role("operator").request("POST", "/v1/partitions/web/move", {"to": "b"})
    res.check("moving out needs admin: an operator gets 403", r.status == 403, r)


def check_validate(a, b, res, partctl):
    seq_b = last_seq(b)
    r = a.request("POST", "/v1/partitions/web/move", {"to": "b", "validate_only": True})
    j = r.json or {}
    res.check("validate-only: 200, admitted", r.status == 200 and j.get("admitted") is True, r)
    checks = {c["check"]: c for c in j.get("checks", [])}
    res.check("the target's checks: files, cpu, name, capacity, all ok",
              set(checks) == {"files", "cpu", "name", "capacity"} and
              all(c["ok"] for c in checks.values()), j.get("checks"))
    res.check("validation changed nothing on B", "web" not in b.partitions())
    res.check("validation changed nothing on A",
              a.partitions()["web"]["state"] == "active")
    res.check("B's events show the validation",
              "move-validate" in kinds(b, "web", seq_b), events(b, seq_b))
    res.check("A's events show the validation", "move-validate" in kinds(a, "web"))
    p = subprocess.run([partctl, "--server", "http://127.0.0.1:%d" % a.port, "--token-file", a.token_file(),
                        "move", "web", "--to", "b", "--validate-only"],
                       capture_output=True, text=True, timeout=60)
    res.check("partctl move --validate-only: exit 0, the checks printed",
              p.returncode == 0 and "capacity" in p.stdout, p.stdout + p.stderr)
    r = a.request("POST", "/v1/partitions/web/move", {"to": "nowhere"})
    res.check("an unknown peer: 422 naming to", r.status == 422 and
              (r.json or {}).get("field") == "to", r)


def check_refused(a, b, res, partctl):
    """B keeps 52 GiB of 64 for its host: prod (16 GiB) does not fit."""
    seq_a, seq_b = last_seq(a), last_seq(b)
    r = a.request("POST", "/v1/partitions/prod/move", {"to": "b", "validate_only": True})
    detail = (r.json or {}).get("detail", "")
    res.check("a move B cannot admit: 409 naming the memory that does not fit",
              r.status == 409 and "memory" in detail and "16GiB" in detail and
              "12GiB" in detail, r)
    checks = {c["check"]: c for c in (r.json or {}).get("checks", [])}
    res.check("its capacity check failed, with the numbers",
              checks.get("capacity", {}).get("ok") is False, checks)
    r = a.request("POST", "/v1/partitions/prod/move", {"to": "b"})
    res.check("the move itself is refused at validation (409)", r.status == 409, r)
    res.check("nothing changed on B", "prod" not in b.partitions() and
              "move-reserve" not in kinds(b, "prod", seq_b))
    res.check("nothing changed on A", a.partitions()["prod"]["state"] == "active" and
              "move-reserve" not in kinds(a, "prod", seq_a))
    p = subprocess.run([partctl, "--server", "http://127.0.0.1:%d" % a.port, "--token-file", a.token_file(),
                        "move", "prod", "--to", "b"], capture_output=True, text=True, timeout=60)
    res.check("partctl move: exit 1 with the numbers",
              p.returncode == 1 and "16GiB" in p.stderr, p.stdout + p.stderr)


def check_migrate_fails(a, b, res, partctl):
    seq_a, seq_b = last_seq(a), last_seq(b)
    r = a.request("POST", "/v1/partitions/web/move", {"to": "b"})
    res.check("the move is accepted: 202 with its id",
              r.status == 202 and len((r.json or {}).get("id", "")) == 32, r)
    e = wait_event(a, "web", ("move-failed", "move-done"), seq_a)
    res.check("A: the move failed at the migrate step",
              e is not None and e["kind"] == "move-failed" and "at migrate" in e["message"], e)
    ka, kb = kinds(a, "web", seq_a), kinds(b, "web", seq_b)
    res.check("A's events: validate, reserve, migrate, failed",
              ka[:1] == ["move-validate"] and "move-reserve" in ka and "move-migrate" in ka, ka)
    res.check("B's events: validate, reserve, release",
              ["move-validate", "move-reserve", "move-release"] == kb, kb)
    res.check("the partition runs on at A, not moving",
              a.partitions()["web"]["state"] == "active")
    res.check("nothing reserved or defined on B", "web" not in b.partitions())
    moves = os.path.join(a.state_dir, "moves")
    left = os.listdir(moves) if os.path.isdir(moves) else []
    res.check("no move record left on A", not left, left)
    p = subprocess.run([partctl, "--server", "http://127.0.0.1:%d" % a.port, "--token-file", a.token_file(),
                        "move", "web", "--to", "b"], capture_output=True, text=True, timeout=60)
    res.check("partctl move follows it to its failure: exit 1",
              p.returncode == 1 and "migrate" in (p.stdout + p.stderr), p.stdout + p.stderr)
    r = a.request("PATCH", "/v1/partitions/web", {"weight": 150, "scope": "running"})
    res.check("the partition is usable again (a resize)", r.status == 200, r)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    partd, partctl, src = sys.argv[1:]
    res = pt.Results("move-testdriver")
    a, b, ok = start_pair(partd, src, res, {"cpc": {"host_reserved_cpus": 2,
                                                    "host_reserved_memory": "52GiB",
                                                    "cpu_overcommit": 4,
                                                    "memory_overcommit": 1.0,
                                                    "groups": {"web": {"cap": 10}}}})
    crashed = True
    try:
        if ok:
            check_roles(a, b, res)
            check_validate(a, b, res, partctl)
            check_refused(a, b, res, partctl)
            check_migrate_fails(a, b, res, partctl)
        crashed = False
    finally:
        for d in (a, b):
            if res.failed or crashed:
                print("--- log of %s:\n%s" % (d.tmp, d.log_tail(30)))
            d.cleanup()
    return res.finish()


if __name__ == "__main__":
    pt.main_wrapper(main)
