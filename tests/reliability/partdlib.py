"""The reliability tests' own helpers (tests/lib/partdtest.py holds what
they share with the other suites): their command line, partd with the
reliability policies, the CPU-demand shim and the bound rules of a
partition.
"""

import argparse
import os

import partdtest

WATCH_POLICY = {
    "name": "watch",
    "description": "Observe only, like static (a second do-nothing policy to switch to).",
    "manage": {"weights": False, "processors": False, "memory": False,
               "defined_capacity": False},
    "interval": 2,
    "samples": 3,
}


class Partd(partdtest.Partd):
    """partdtest.Partd on examples/test-cpc, with the policy "watch" beside
    the shipped ones (and the documents of policies)."""

    def __init__(self, binary, policies=(), **kw):
        super().__init__(binary, policies=[WATCH_POLICY, *policies], **kw)


def check_bounds(p):
    """The list of bound violations of one Partition object (docs/api.md)."""
    bad = []
    name = p["name"]
    pr, mem, w, cap = p["processors"], p["memory"], p.get("weight"), p.get("cap")

    def within(what, v, lo, hi):
        if not (lo <= v <= hi):
            bad.append("%s: %s %s outside [%s, %s]" % (name, what, v, lo, hi))

    if p["state"] == "active":
        within("processors online", pr["online"], pr["min"], pr["reserved"])
        within("memory target", mem["target"], mem["min"], mem["reserved"])
        if w is not None:
            within("weight", w["current"], w["min"], w["max"])
        if cap is not None and cap["current"] is not None:
            within("cap", cap["current"], 0.01, 255)
    # the profile's own rules hold whatever the state
    within("processors initial", pr["initial"], pr["min"], pr["reserved"])
    within("memory initial", mem["initial"], mem["min"], mem["reserved"])
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
