"""What every attack test of tests/security/ shares: the token, origin and
host name its partd is started with, the route list (and each route's
role) read from the router, what an attack must not change, and the checks
of a refusal."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import SRC, Partd  # noqa: E402

TOKEN = "security-test-token-0123456789"
ORIGIN = "https://console.example:7480"
HOST_NAME = "partd.example"


ROLES = ("viewer", "operator", "admin")  # each may do what the ones before it may


def route_roles():
    """(method, path, role) of every route of partd/api.c, {name} as prod;
    role is "none" for a route that needs no token. Every entry of the
    table must name its role (PART_ROLE_...): one the pattern misses is an
    error, so that a new route cannot escape the checks."""
    text = open(os.path.join(SRC, "partd", "api.c")).read()
    table = text[text.index("http_routes[]"):]
    table = table[:table.index("};")]
    found = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*\w+\s*,\s*PART_ROLE_([A-Z]+)\s*,',
                       table)
    entries = re.findall(r'\{\s*"', table)
    if len(found) != len(entries) or not found:
        raise RuntimeError("partd/api.c: %d routes, %d of them with a role I can read" %
                           (len(entries), len(found)))
    return [(m, p.replace("{name}", "prod").replace("{path}", "0/app.js"), r.lower())
            for m, p, r in found]


def routes(public=None):
    """(method, path) of every route of partd/api.c, {name} as prod; only
    the public (True) or the guarded (False) ones when public is given."""
    return [(m, p) for m, p, role in route_roles()
            if public is None or (role == "none") == public]


def state(partd):
    """What an attack must not change: the partitions as partd shows them
    and the files of the partitions directory."""
    parts = {n: (p["state"], p["processors"]["online"], p["weight"]) for n, p in
             partd.partitions().items()}
    files = {}
    for f in sorted(os.listdir(partd.parts_dir)):
        with open(os.path.join(partd.parts_dir, f), "rb") as fh:
            files[f] = fh.read()
    return parts, files


def problem(R, label, rep, status, ptype, group="browsers"):
    j = rep.json or {}
    return R.check("%s: %d %s" % (label, status, ptype),
                   rep.status == status and j.get("type", "").endswith("/" + ptype),
                   "got %d %s" % (rep.status, (rep.body or b"")[:200]), group=group)


def refused_start(R, binary, label, prepare, expect, group="files"):
    """partd must refuse to start on a configuration prepare(partd) left,
    exit non-zero, and say expect in its log."""
    partd = Partd(binary, token=TOKEN)
    try:
        prepare(partd)
        why = partd.start(timeout=10)
        log = partd.log_tail(40)
        R.check("%s: partd refuses to start" % label, why is not None and not partd.running(),
                why or "it started", group=group)
        R.check("%s: the log says %r" % (label, expect), expect in log, log[-600:],
                group=group)
    finally:
        partd.cleanup()


