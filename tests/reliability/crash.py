#!/usr/bin/python3
"""Crash safety: kill -9 partd at random moments during a stream of mutations.

Usage: crash.py --partd PARTD [--rounds N] [--seed S] [--sanitized] [...]

partd runs on a copy of examples/test-cpc (libvirt's test driver). Each round
streams seeded random mutations -- PATCH with scope running, profile and
both; define and undefine; activate and deactivate; policy switches -- and
kills partd with SIGKILL after a seeded random delay, then checks before the
restart:

  - every file the loader sees in partitions.d (NAME.json) is JSON, a profile
    named after its file, and partd --check on the whole directory (which
    loads and validates every profile) finds nothing wrong but admission
    (which profile-scope changes may legitimately break for the autostart
    set);
  - the state file is valid JSON (never half-written);
  - the profile values in the files are the acknowledged ones;

and after the restart (GET /v1/partitions, /v1/policy):

  - every acknowledged change (a 2xx reply received before the kill) is there:
    profile values, running values (with the test driver they live only in
    the state file and are re-applied at start), definitions, policy;
  - no partition that was active is inactive unless its deactivation was
    acknowledged, and none is active that was deactivated.

The one request in flight at the kill may or may not have taken effect, field
by field. Temporary files left by a kill (NAME.json.tmp.PID, invisible to the
loader) are counted and reported. Prints "N passed, M failed".
"""

import glob
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdlib import Partd, arg_parser  # noqa: E402
from partdtest import Results, main_wrapper, session  # noqa: E402

SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(MiB|GiB|TiB)?\s*$")


def size_mib(v):
    if isinstance(v, int):
        return v
    m = SIZE_RE.match(v)
    if not m:
        raise ValueError("not a size: %r" % v)
    return int(float(m.group(1)) * {"MiB": 1, "GiB": 1024, "TiB": 1048576}[m.group(2) or "MiB"])


# -- the model: field -> value, observed from partd ------------------------

PROFILE_FIELDS = ("p.proc", "p.mem", "p.weight", "p.wmin", "p.wmax", "p.cap")
RUNNING_FIELDS = ("r.proc", "r.mem", "r.weight", "r.cap")


def observe(partd):
    """The model as partd shows it: {(name, field): value}."""
    m = {("", "policy"): partd.get("/v1/policy")["name"]}
    for name, p in partd.partitions().items():
        m[(name, "defined")] = True
        m[(name, "active")] = p["state"] == "active"
        w, cap = p.get("weight"), p.get("cap")
        m[(name, "p.proc")] = p["processors"]["initial"]
        m[(name, "p.mem")] = p["memory"]["initial"]
        m[(name, "p.weight")] = w["initial"] if w else None
        m[(name, "p.wmin")] = w["min"] if w else None
        m[(name, "p.wmax")] = w["max"] if w else None
        m[(name, "p.cap")] = cap["initial"] if cap else None
        if p["state"] == "active":
            m[(name, "r.proc")] = p["processors"]["online"]
            m[(name, "r.mem")] = p["memory"]["target"]
            m[(name, "r.weight")] = w["current"] if w else None
            m[(name, "r.cap")] = cap["current"] if cap else None
    return m


def info(partd):
    """Static facts of each partition: mode and bounds."""
    out = {}
    for name, p in partd.partitions().items():
        out[name] = {
            "mode": p["mode"],
            "proc": (p["processors"]["min"], p["processors"]["reserved"]),
            "mem": (p["memory"]["min"], p["memory"]["reserved"]),
        }
    return out


def names(model, **want):
    out = []
    for (n, f), v in model.items():
        if f == "defined" and v and n:
            if all(model.get((n, k)) == x for k, x in want.items()):
                out.append(n)
    return sorted(out)


class Mutation:
    def __init__(self, label, method, path, body, effect):
        self.label = label
        self.method = method
        self.path = path
        self.body = body
        self.effect = effect  # {(name, field): new value} when acknowledged


def extra_profile(name, rng):
    proc = rng.randint(1, 2)
    mem = rng.choice((1024, 2048))
    return {
        "name": name,
        "processors": {"initial": proc, "min": 1, "reserved": 4},
        "weight": {"initial": 100, "min": 50, "max": 300},
        "memory": {"initial": "%dMiB" % mem, "min": "512MiB", "reserved": "4GiB"},
        "autostart": False,
    }, proc, mem


def pick_mutation(rng, model, facts, counter):
    defined = names(model)
    active = names(model, active=True)
    inactive = names(model, active=False)
    extras = [n for n in defined if n.startswith("x")]
    kinds = ["patch-running"] * 4 + ["patch-profile"] * 3 + ["patch-both"] * 3 + \
        ["activate", "deactivate", "policy", "define", "undefine"]
    kind = rng.choice(kinds)
    if kind in ("patch-running", "patch-both", "patch-profile"):
        pool = active if kind == "patch-running" else defined
        if not pool:
            kind = "define"
        else:
            name = rng.choice(pool)
            f = facts[name]
            scope = kind.split("-")[1]
            body, eff = {"scope": scope}, {}
            run = scope in ("running", "both") and model.get((name, "active"))
            prof = scope in ("profile", "both")
            choices = ["processors", "memory"]
            if f["mode"] == "shared":
                choices += ["weight", "cap"]
            for field in rng.sample(choices, rng.randint(1, len(choices))):
                if field == "processors":
                    v = rng.randint(f["proc"][0], f["proc"][1])
                    key = "proc"
                elif field == "memory":
                    lo, hi = f["mem"]
                    v = lo + 256 * rng.randint(0, (hi - lo) // 256)
                    key = "mem"
                elif field == "weight":
                    lo, hi = model[(name, "p.wmin")], model[(name, "p.wmax")]
                    v = rng.randint(lo, hi)
                    key = "weight"
                else:
                    v = rng.choice((None, 1.5, 2.0, 3.25, 6))
                    key = "cap"
                body[field] = v
                if run:
                    eff[(name, "r." + key)] = float(v) if key == "cap" and v is not None else v
                if prof:
                    eff[(name, "p." + key)] = float(v) if key == "cap" and v is not None else v
            return Mutation("PATCH %s %s" % (name, json.dumps(body)), "PATCH",
                            "/v1/partitions/" + name, body, eff)
    if kind == "activate" and inactive:
        name = rng.choice(inactive)
        eff = {(name, "active"): True}
        for k in ("proc", "mem", "weight", "cap"):
            eff[(name, "r." + k)] = model.get((name, "p." + k))
        return Mutation("activate " + name, "POST", "/v1/partitions/%s/activate" % name, None, eff)
    if kind == "deactivate" and active:
        name = rng.choice(active)
        eff = {(name, "active"): False}
        for k in RUNNING_FIELDS:
            eff[(name, k)] = None
        return Mutation("deactivate " + name, "POST", "/v1/partitions/%s/deactivate" % name,
                        {"force": True, "timeout": 0}, eff)
    if kind == "undefine" and [n for n in extras if n in inactive]:
        name = rng.choice([n for n in extras if n in inactive])
        eff = {(name, "defined"): None}
        for k in PROFILE_FIELDS + ("active",):
            eff[(name, k)] = None
        return Mutation("undefine " + name, "DELETE", "/v1/partitions/" + name, None, eff)
    if kind == "policy":
        cur = model[("", "policy")]
        new = "watch" if cur == "static" else "static"
        return Mutation("policy " + new, "PUT", "/v1/policy", {"name": new}, {("", "policy"): new})
    if len(extras) >= 3:  # define, unless there are enough already
        name = rng.choice(extras)
        if name in inactive:
            eff = {(name, "active"): True}
            eff.update({(name, "r." + k): model.get((name, "p." + k))
                        for k in ("proc", "mem", "weight", "cap")})
            return Mutation("activate " + name, "POST", "/v1/partitions/%s/activate" % name, None,
                            eff)
        eff = {(name, "active"): False}
        eff.update({(name, k): None for k in RUNNING_FIELDS})
        return Mutation("deactivate " + name, "POST", "/v1/partitions/%s/deactivate" % name,
                        {"force": True, "timeout": 0}, eff)
    counter[0] += 1
    name = "x%d" % counter[0]
    body, proc, mem = extra_profile(name, rng)
    eff = {(name, "defined"): True, (name, "active"): False, (name, "p.proc"): proc,
           (name, "p.mem"): mem, (name, "p.weight"): 100, (name, "p.wmin"): 50,
           (name, "p.wmax"): 300, (name, "p.cap"): None}
    facts[name] = {"mode": "shared", "proc": (1, 4), "mem": (512, 4096)}
    return Mutation("define " + name, "POST", "/v1/partitions", body, eff)


def apply(model, effect):
    for k, v in effect.items():
        if v is None and k[1] in ("defined",) + PROFILE_FIELDS + RUNNING_FIELDS + ("active",):
            model.pop(k, None)
        else:
            model[k] = v


def normal(model):
    """The model with None values dropped (absent == null)."""
    return {k: v for k, v in model.items() if v is not None}


# -- checks on the files (partd is dead) -----------------------------------

def check_files(R, partd, args, rnd, expected_alts):
    bad, stray = [], []
    for path in sorted(glob.glob(os.path.join(partd.parts_dir, "*"))):
        base = os.path.basename(path)
        if not base.endswith(".json") or base.startswith("."):
            stray.append(base)
            continue
        try:
            with open(path) as f:
                doc = json.load(f)
        except ValueError as e:
            bad.append("%s: not JSON: %s" % (base, e))
            continue
        name = base[:-5]
        if doc.get("name") != name:
            bad.append("%s: names %r" % (base, doc.get("name")))
            continue
        got = {
            "p.proc": doc["processors"]["initial"],
            "p.mem": size_mib(doc["memory"]["initial"]),
        }
        if doc.get("weight"):
            w = doc["weight"]
            got["p.weight"] = w.get("initial")
        cap = doc.get("cap")
        got["p.cap"] = float(cap) if cap is not None else None
        for field, v in got.items():
            allowed = expected_alts.get((name, field))
            if allowed is not None and v not in allowed:
                bad.append("%s: %s is %r in the file, expected one of %r" %
                           (base, field, v, sorted(allowed, key=str)))
    for (name, field), allowed in expected_alts.items():
        if field == "defined" and name and True in allowed and None not in allowed:
            if not os.path.exists(os.path.join(partd.parts_dir, name + ".json")):
                bad.append("%s.json is missing: its definition was acknowledged" % name)
        if field == "defined" and name and None in allowed and True not in allowed:
            if os.path.exists(os.path.join(partd.parts_dir, name + ".json")):
                bad.append("%s.json is still there: its undefinition was acknowledged" % name)
    R.check("round %d: every profile file is valid and holds the acknowledged values" % rnd,
            not bad, "; ".join(bad))
    r = subprocess.run([args.partd, "--check", partd.cpc], capture_output=True, text=True)
    other = [l for l in r.stderr.splitlines()
             if l.strip() and "autostart: cannot activate" not in l]
    R.check("round %d: partd --check on the directory (admission aside)" % rnd,
            r.returncode == 0 or not other, "\n".join(other[:5]))
    state = os.path.join(partd.state_dir, "state.json")
    ok, why = True, ""
    if os.path.exists(state):
        try:
            with open(state) as f:
                json.load(f)
        except ValueError as e:
            ok, why = False, "state.json is not JSON: %s" % e
    for path in glob.glob(os.path.join(partd.state_dir, "*")):
        base = os.path.basename(path)
        if base != "state.json":
            stray.append("state/" + base)
    R.check("round %d: the state file is whole (valid JSON)" % rnd, ok, why)
    return stray


# -- the test ----------------------------------------------------------------

def run(args):
    R = Results("crash")
    partd = Partd(args.partd)

    def body():
        rng = random.Random(args.seed)
        stray_total = set()
        kills_in_flight = 0
        acked = 0
        known_restore = 0
        model = normal(observe(partd))
        facts = info(partd)
        counter = [0]
        for rnd in range(1, args.rounds + 1):
            delay = rng.uniform(args.min_delay, args.max_delay)
            killed = threading.Event()

            def killer():
                time.sleep(delay)
                partd.kill9()
                killed.set()

            t = threading.Thread(target=killer, daemon=True)
            t.start()
            alts = {k: {v} for k, v in model.items()}
            in_flight = None
            n_acked = 0
            while not killed.is_set():
                m = pick_mutation(rng, model, facts, counter)
                try:
                    rep = partd.request(m.method, m.path, m.body, timeout=10)
                except (OSError, http.client.HTTPException):
                    in_flight = m
                    break
                if 200 <= rep.status < 300:
                    apply(model, m.effect)
                    n_acked += 1
                elif rep.status >= 500 and rep.status not in (501,):
                    in_flight = m  # partly applied, maybe
                    R.check("round %d: %s answers without a 5xx" % (rnd, m.label), False,
                            repr(rep))
            t.join()
            acked += n_acked
            alts = {k: {v} for k, v in model.items()}
            if in_flight:
                kills_in_flight += 1
                for k, v in in_flight.effect.items():
                    alts.setdefault(k, {None}).add(v)
                    if k not in model:
                        alts[k].add(None)
            # keys absent from the model may be absent (None)
            stray = check_files(R, partd, args, rnd, alts)
            stray_total.update(stray)
            err = partd.start(timeout=60)
            if not R.check("round %d: partd restarts after kill -9 (%d acknowledged, %s)" %
                           (rnd, n_acked, "one in flight: " + in_flight.label if in_flight
                            else "none in flight"), err is None, err):
                break
            seen = normal(observe(partd))
            bad = []
            for k in sorted(set(alts) | set(seen), key=str):
                allowed = alts.get(k, {None})
                v = seen.get(k)
                if k[1] in RUNNING_FIELDS and not seen.get((k[0], "active")):
                    continue  # inactive: no running values (checked via "active")
                if v not in allowed:
                    bad.append("%s %s is %r, expected %s" % (k[0] or "cpc", k[1], v,
                                                            " or ".join(map(repr, allowed))))
            if args.known_restore_bug and bad:
                # partd re-activates a partition with its profile's initial
                # values, then restores the saved running ones: admission of
                # the initial values can refuse a partition whose running
                # values fitted (reported; see the option's help)
                log = partd.log_tail(400)
                log = log[log.rfind("starting on"):]  # this start only
                known = [b for b in bad if re.match(r"(\S+) active is False, expected True$", b)
                         and re.search(r"%s: cannot activate: cannot activate %s: " %
                                       ((re.escape(b.split()[0]),) * 2), log)]
                for b in known:
                    print("XFAIL round %d: %s (partd refused to restore it: admission of its "
                          "pending profile values)" % (rnd, b))
                    known_restore += 1
                bad = [b for b in bad if b not in known]
                # the partition left inactive has no running values to compare
            if not R.check("round %d: every acknowledged change survived; no partition stopped" %
                           rnd, not bad, "; ".join(bad[:8]) + (" (in flight: %s)" % in_flight.label
                                                               if in_flight else "")):
                log = partd.log_tail(400)
                print("--- partd log since the restart ---")
                print(log[log.rfind("starting on"):][:3000])
            model = seen
            facts = info(partd)
            rep = partd.sanitizer_report()
            if rep:
                R.check("round %d: no sanitizer report in partd's log" % rnd, False, rep)
        R.note("%d rounds, %d acknowledged mutations, %d kills with a request in flight" %
               (args.rounds, acked, kills_in_flight))
        if known_restore:
            R.note("known bug: %d partitions not restored after a restart (XFAIL above)" %
                   known_restore)
        R.note("temporary files left by kills (invisible to the loader): %d %s" %
               (len(stray_total), " ".join(sorted(stray_total))[:300]))

    return session(R, partd, body, stop_label="partd stops with status 0 at the end",
                   keep=args.keep, timeout=60)


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--min-delay", type=float, default=0.01)
    ap.add_argument("--max-delay", type=float, default=0.4)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--known-restore-bug", action="store_true",
                    help="report, without failing, a partition left inactive at restart "
                    "because partd re-activates it with its profile's initial values "
                    "(pending profile changes) before restoring the saved running values, "
                    "and admission refuses them: a partd bug, to drop once fixed")
    args = ap.parse_args()
    return run(args)


if __name__ == "__main__":
    main_wrapper(main)
