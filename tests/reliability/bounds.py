#!/usr/bin/python3
"""Bounds: a property test of partd's API and rebalancer.

Usage: bounds.py --partd PARTD --shim partd-demand.so [--steps N] [--seed S]

partd runs on a copy of examples/test-cpc (libvirt's test driver) with the
policy "fast" (every rule on, planned every 0.2 s, no cooldowns) and the
CPU-demand shim (demand-shim.c), so the rebalancer really moves weights,
processors and memory. Seeded random steps: resizes within and outside the
bounds (processors, memory, weight, cap, weight_min/weight_max) with every
scope, activations and deactivations, new demands, forced rebalances
(POST /v1/rebalance) and pauses for the background rebalancer. After each
step, from GET /v1/partitions and /v1/cpc:

  - no value left its bounds: weight current within [min, max], processors
    online within [min, reserved], memory target within [min, reserved],
    cap within [0.01, 255] or null; the profile's initial values within
    their bounds too;
  - group weight totals (and the total of the ungrouped partitions) are
    conserved across steps where only the rebalancer moved weights;
  - the sum of memory targets of active partitions <= (host - host reserve)
    x memory_overcommit, and online shared processors <= pool x
    cpu_overcommit; the CPC's totals add up;
  - a request outside the bounds is refused (4xx), one inside is applied as
    asked (the reply shows it).

Prints "N passed, M failed" (one check per property, failures listed).
"""

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdlib import FAST_POLICY, Partd, arg_parser, check_bounds, shim_env  # noqa: E402
from partdtest import Results, main_wrapper, session  # noqa: E402

EPS = 1e-6


class Checker:
    def __init__(self, R):
        self.R = R
        self.failures = {}
        self.counts = {}
        self.xfail = 0

    def expect(self, prop, ok, detail):
        self.counts[prop] = self.counts.get(prop, 0) + 1
        if not ok:
            self.failures.setdefault(prop, []).append(detail)

    def report(self):
        for prop in sorted(self.counts):
            f = self.failures.get(prop, [])
            self.R.check("%s (%d checks)" % (prop, self.counts[prop]), not f,
                         "%d failures, first: %s" % (len(f), "; ".join(f[:3])))


def group_totals(parts):
    """{group or "": sum of the weights of its active shared members}."""
    out = {}
    for p in parts.values():
        if p["state"] == "active" and p.get("weight"):
            g = p.get("group") or ""
            out[g] = out.get(g, 0) + p["weight"]["current"]
    return out


def weight_outside(p):
    w = p.get("weight")
    return (p["state"] == "active" and w is not None and
            not (w["min"] <= w["current"] <= w["max"]))


def check_state(C, step, parts, cpc, known=None):
    for p in parts.values():
        for b in check_bounds(p):
            if known is not None and p["name"] in known and " weight " in b:
                C.xfail += 1  # the known bug below (--known-weight-bounds-bug)
                continue
            C.expect("every value within its bounds", False, "step %d: %s" % (step, b))
        C.expect("every value within its bounds", True, "")
        if known is not None and p["name"] in known and not weight_outside(p):
            known.discard(p["name"])
    active = [p for p in parts.values() if p["state"] == "active"]
    mem = sum(p["memory"]["target"] for p in active)
    m = cpc["memory"]
    limit = (m["host"] - m["host_reserved"]) * m["memory_overcommit"]
    C.expect("sum of memory targets <= (host - reserve) x overcommit", mem <= limit + EPS,
             "step %d: %d > %d" % (step, mem, limit))
    C.expect("the CPC's memory total is the sum of the targets", m["active"] == mem,
             "step %d: cpc says %s, partitions add to %s" % (step, m["active"], mem))
    pr = cpc["processors"]
    online = sum(p["processors"]["online"] for p in active if p["mode"] == "shared")
    C.expect("online shared processors <= pool x cpu_overcommit",
             online <= pr["pool"] * pr["cpu_overcommit"] + EPS,
             "step %d: %d > %d x %s" % (step, online, pr["pool"], pr["cpu_overcommit"]))
    wt = sum(p["weight"]["current"] for p in active if p.get("weight"))
    C.expect("the CPC's weight total is the sum of the weights", pr["weight_total"] == wt,
             "step %d: cpc says %s, partitions add to %s" % (step, pr["weight_total"], wt))


def observe(partd):
    # partitions and CPC from one snapshot would be best; two GETs may see
    # two snapshots, so retry until the totals agree twice in a row
    for _ in range(5):
        parts = partd.partitions()
        cpc = partd.get("/v1/cpc")
        again = partd.partitions()
        if json.dumps(parts, sort_keys=True) == json.dumps(again, sort_keys=True):
            return parts, cpc
    return again, partd.get("/v1/cpc")


def random_resize(rng, p, inside):
    """A PATCH body for p within (inside) or outside its bounds, and what a
    200 must show."""
    shared = p["mode"] == "shared"
    active = p["state"] == "active"
    scope = rng.choice(["running", "both", "profile"] if active else ["profile", "both"])
    body = {"scope": scope}
    fields = ["processors", "memory"] + (["weight", "cap"] if shared else [])
    if shared and scope == "profile":
        fields.append("weight_bounds")
    field = rng.choice(fields)
    pr, mem, w = p["processors"], p["memory"], p.get("weight")
    if field == "processors":
        body["processors"] = (rng.randint(pr["min"], pr["reserved"]) if inside else
                              rng.choice([0, pr["min"] - 1, pr["reserved"] + 1, 1000]))
        if body["processors"] == 0 and pr["min"] == 1 and not inside:
            body["processors"] = pr["reserved"] + 1
    elif field == "memory":
        if inside:
            body["memory"] = mem["min"] + 256 * rng.randint(0, (mem["reserved"] - mem["min"]) // 256)
        else:
            body["memory"] = rng.choice([mem["min"] - 256, mem["reserved"] + 256,
                                         "%dGiB" % (mem["reserved"] // 1024 + 1)])
            if body["memory"] == 0 or (isinstance(body["memory"], int) and body["memory"] < 0):
                body["memory"] = mem["reserved"] + 256
    elif field == "weight":
        body["weight"] = (rng.randint(w["min"], w["max"]) if inside else
                          rng.choice([0, 1000, w["max"] + 1] + ([w["min"] - 1] if w["min"] > 1
                                                                 else [])))
    elif field == "cap":
        body["cap"] = (rng.choice([None, 0.5, 1.5, 2.25, 8, 255]) if inside else
                       rng.choice([0, 0.001, 255.5, 300, -1]))
    else:
        lo = rng.randint(1, w["initial"])
        hi = rng.randint(w["initial"], 999)
        if inside:
            body["weight_min"], body["weight_max"] = lo, hi
        else:
            body["weight_min"], body["weight_max"] = hi + 1, max(1, lo - 1)
            if body["weight_min"] > 999:
                body["weight_min"] = 1000
    return body


def run(args):
    R = Results("bounds")
    C = Checker(R)
    rng = random.Random(args.seed)
    partd = Partd(args.partd, policy="fast", interval=0.2, policies=[FAST_POLICY])
    demand = os.path.join(partd.tmp, "demand")
    names = ["batch", "db", "dev", "prod", "web"]

    def new_demand():
        with open(demand, "w") as f:
            for n in names:
                f.write("%s %.2f %d\n" % (n, rng.uniform(0, 10), rng.choice([512, 1024, 3000, 9000])))

    new_demand()
    known = set() if args.known_weight_bounds_bug else None
    stats = {"steps": 0, "refused": 0, "applied": 0, "rebalances": 0, "rebalancer_actions": 0}

    def body():
        parts, cpc = observe(partd)
        check_state(C, 0, parts, cpc)
        events0 = partd.get("/v1/cpc")["rebalancer"]["actions_applied"]
        for step in range(1, args.steps + 1):
            stats["steps"] += 1
            kind = rng.choice(["resize-in"] * 4 + ["resize-out"] * 3 +
                              ["rebalance"] * 3 + ["wait", "demand", "activate", "deactivate"])
            only_rebalancer = kind in ("rebalance", "wait", "demand")
            before = group_totals(parts)
            if kind in ("resize-in", "resize-out"):
                p = parts[rng.choice(sorted(parts))]
                body = random_resize(rng, p, kind == "resize-in")
                rep = partd.request("PATCH", "/v1/partitions/" + p["name"], body)
                label = "PATCH %s %s" % (p["name"], json.dumps(body))
                if kind == "resize-out":
                    C.expect("a resize outside the bounds is refused (4xx)",
                             400 <= rep.status < 500, "step %d: %s -> %r" % (step, label, rep))
                    stats["refused"] += 1
                elif rep.status == 200:
                    stats["applied"] += 1
                    got = rep.json["partition"]
                    bad = []
                    running = body["scope"] != "profile" and got["state"] == "active"
                    for field, v in body.items():
                        if field == "scope":
                            continue
                        if field == "processors":
                            have = got["processors"]["online" if running else "initial"]
                        elif field == "memory":
                            have = got["memory"]["target" if running else "initial"]
                        elif field == "weight":
                            have = got["weight"]["current" if running else "initial"]
                        elif field == "cap":
                            have = got["cap"]["current" if running else "initial"]
                        elif field == "weight_min":
                            have = got["weight"]["min"]
                        else:
                            have = got["weight"]["max"]
                        if have != v and not (isinstance(v, (int, float)) and
                                              isinstance(have, (int, float)) and
                                              abs(have - v) < EPS):
                            bad.append("%s is %r, asked %r" % (field, have, v))
                    C.expect("a resize within the bounds shows the values asked", not bad,
                             "step %d: %s: %s" % (step, label, ", ".join(bad)))
                    if ("weight_min" in body or "weight_max" in body) and weight_outside(got):
                        # partd checks new weight bounds against the profile's
                        # initial weight only, not the running one
                        if known is not None:
                            print("XFAIL step %d: %s -> 200 leaves the running weight %s "
                                  "outside [%s, %s]" % (step, label, got["weight"]["current"],
                                                        got["weight"]["min"],
                                                        got["weight"]["max"]))
                            known.add(p["name"])
                        else:
                            C.expect("new weight bounds leave the running weight inside them",
                                     False, "step %d: %s -> running weight %s outside [%s, %s]"
                                     % (step, label, got["weight"]["current"],
                                        got["weight"]["min"], got["weight"]["max"]))
                else:
                    # inside the bounds but refused: capacity (409), a
                    # weight_max under the running weight (422), an inactive
                    # partition with scope running (409)
                    C.expect("a resize within the bounds gets 200, 409 or 422",
                             rep.status in (409, 422), "step %d: %s -> %r" % (step, label, rep))
            elif kind == "rebalance":
                rep = partd.request("POST", "/v1/rebalance")
                C.expect("POST /v1/rebalance answers 200", rep.status == 200,
                         "step %d: %r" % (step, rep))
                stats["rebalances"] += 1
                for a in (rep.json or {}).get("actions", []):
                    C.expect("every applied rebalancer action is applied or unsupported",
                             a.get("status") in ("applied", "unsupported"),
                             "step %d: %s" % (step, json.dumps(a)))
            elif kind == "wait":
                time.sleep(0.3)
            elif kind == "demand":
                new_demand()
            elif kind == "activate":
                inactive = [n for n in sorted(parts) if parts[n]["state"] == "inactive"]
                if inactive:
                    rep = partd.request("POST", "/v1/partitions/%s/activate" % rng.choice(inactive))
                    C.expect("activation answers 200 or 409", rep.status in (200, 409),
                             "step %d: %r" % (step, rep))
            elif kind == "deactivate":
                active = [n for n in sorted(parts) if parts[n]["state"] == "active"]
                if len(active) > 2:
                    rep = partd.request("POST", "/v1/partitions/%s/deactivate" % rng.choice(active),
                                        {"force": True, "timeout": 0})
                    C.expect("deactivation answers 200", rep.status == 200,
                             "step %d: %r" % (step, rep))
            parts, cpc = observe(partd)
            check_state(C, step, parts, cpc, known)
            if only_rebalancer:
                after = group_totals(parts)
                C.expect("group weight totals conserved when only the rebalancer moved weights",
                         after == before, "step %d (%s): %s -> %s" % (step, kind, before, after))
        stats["rebalancer_actions"] = partd.get("/v1/cpc")["rebalancer"]["actions_applied"] - events0
        C.report()
        if C.xfail:
            R.note("known bug: %d weight-bound violations after accepted weight_min/weight_max "
                   "changes (XFAIL above)" % C.xfail)
        R.note("%(steps)d steps: %(applied)d resizes applied, %(refused)d refused as out of "
               "bounds, %(rebalances)d forced rebalances; %(rebalancer_actions)d rebalancer "
               "actions applied in all" % stats)
        R.check("the rebalancer acted (the demand shim works)", stats["rebalancer_actions"] > 0,
                "no rebalancer action in %d steps" % args.steps)

    return session(R, partd, body, "partd starts (policy fast, demand shim)",
                   env=shim_env(args.shim, demand, args.sanitized), timeout=60)


def main():
    ap = arg_parser(__doc__, shim_required=True)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--known-weight-bounds-bug", action="store_true",
                    help="report, without failing, a running weight left outside new "
                    "weight_min/weight_max that partd accepted (it checks them against the "
                    "profile's initial weight only): a partd bug, to drop once fixed")
    ap.add_argument("--seed", type=int, default=6)
    return run(ap.parse_args())


if __name__ == "__main__":
    main_wrapper(main)
