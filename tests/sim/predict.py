#!/usr/bin/python3
"""partd-sim --predict: the dispatcher's split of one configuration held
still (tests/sim/predict.c), on cases whose split follows from PR/SM's rules
by hand, and bad input refused with the file, line and field.

Usage: predict.py PARTD_SIM      (prints "N passed, M failed" last)
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Results, main_wrapper  # noqa: E402

R = Results("sim-predict")


def part(name, weight, processors, demand, **kw):
    return dict(name=name, weight=weight, processors=processors, demand=demand, **kw)


# (what, input, {name: delivered processors}): each split worked out from
# the rules (weighted max-min fair, each partition limited by its demand,
# processors online and cap; groups first, then their members)
CASES = [
    ("weights 3:1, both busy, pool 2: 1.5 and 0.5",
     {"pool": 2, "partitions": [part("a", 300, 2, 2), part("b", 100, 2, 2)]},
     {"a": 1.5, "b": 0.5}),
    ("a capped at 0.5: b gets the rest",
     {"pool": 2, "partitions": [part("a", 300, 2, 2, cap=0.5), part("b", 100, 2, 2)]},
     {"a": 0.5, "b": 1.5}),
    ("a with 1 processor online of its 1.5: b gets the other CPU",
     {"pool": 2, "partitions": [part("a", 300, 1, 2), part("b", 100, 2, 2)]},
     {"a": 1.0, "b": 1.0}),
    ("b idle: a takes the pool (work-conserving)",
     {"pool": 2, "partitions": [part("a", 100, 2, 2), part("b", 300, 2, 0)]},
     {"a": 2.0, "b": 0.0}),
    ("weights 1:2:4 on 1 processor each: c's 8/7 limited to 1, the rest 1:2",
     {"pool": 2, "partitions": [part("a", 100, 1, 1), part("b", 200, 1, 1),
                                part("c", 400, 1, 1)]},
     {"a": 1 / 3, "b": 2 / 3, "c": 1.0}),
    ("steal 0.5 of 2: 3:1 of the 1.5 left",
     {"pool": 2, "steal": 0.5, "partitions": [part("a", 300, 2, 2), part("b", 100, 2, 2)]},
     {"a": 1.125, "b": 0.375}),
    ("group g (a, b) capped at 1 against c of the same weight",
     {"pool": 3, "groups": {"g": {"cap": 1}},
      "partitions": [part("a", 100, 2, 2, group="g"), part("b", 100, 2, 2, group="g"),
                     part("c", 200, 3, 3)]},
     {"a": 0.5, "b": 0.5, "c": 2.0}),
]

# (what, input text, what stderr must hold)
BAD = [
    ("weight out of range", '{"pool": 2,\n "partitions": [{"name": "a", "weight": 0, '
     '"processors": 1, "demand": 1}]}', ":2:", "partitions[0].weight: 0 is out of range"),
    ("unknown field", '{"pool": 2, "partitions": [{"name": "a", "weight": 1, "processors": 1, '
     '"demand": 1, "x": 1}]}', ":1:", "partitions[0].x: unknown field"),
    ("more processors than the pool", '{"pool": 2, "partitions": [{"name": "a", "weight": 1, '
     '"processors": 3, "demand": 1}]}', ":1:", "shared pool of 2 CPUs"),
    ("a group not in groups", '{"pool": 2, "partitions": [{"name": "a", "weight": 1, '
     '"processors": 1, "demand": 1, "group": "x"}]}', ":1:", '"x" is not in groups'),
    ("demand missing", '{"pool": 2, "partitions": [{"name": "a", "weight": 1, '
     '"processors": 1}]}', ":1:", "partitions[0].demand: required field missing"),
    ("steal of the whole pool", '{"pool": 2, "steal": 2, "partitions": [{"name": "a", '
     '"weight": 1, "processors": 1, "demand": 1}]}', ":1:", "steal: 2 leaves nothing"),
]


def run(sim, d, text):
    path = os.path.join(d, "in.json")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([sim, "--predict", path], capture_output=True, text=True, timeout=30)
    return p, path


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    sim = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        for what, doc, want in CASES:
            p, _ = run(sim, d, json.dumps(doc))
            got = {}
            if p.returncode == 0:
                out = json.loads(p.stdout)
                got = {q["name"]: q["delivered"] for q in out["partitions"]}
                shares = all(abs(q["share"] - q["delivered"] / doc["pool"]) < 1e-5
                             for q in out["partitions"])
            R.check("%s: %s" % (what, " ".join("%s %.3f" % kv for kv in got.items())),
                    p.returncode == 0 and shares and set(got) == set(want) and
                    all(abs(got[n] - want[n]) < 1e-5 for n in want),
                    "want %s; exit %d %s" % (want, p.returncode, p.stderr.strip()))
        for what, text, line, msg in BAD:
            p, path = run(sim, d, text)
            err = p.stderr.strip()
            R.check("refused, %s: %s" % (what, err), p.returncode == 2 and
                    err.startswith("partd-sim: %s%s" % (path, line)) and msg in err and
                    not p.stdout, "exit %d, stdout %r" % (p.returncode, p.stdout[:200]))
    return R.finish()


if __name__ == "__main__":
    main_wrapper(main)
