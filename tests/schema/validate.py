#!/usr/bin/python3
"""Checks schemas/*.schema.json against the configuration files and fixtures.

Usage: validate.py [PROJECT_SOURCE_DIR]

Must pass their schema:
  examples/**/partd.json               partd.schema.json
  dist/partd.json.in                   partd.schema.json (the host's default)
  examples/**/partitions.d/*.json      profile.schema.json
  tests/unit/config/daemon/pass-*.json partd.schema.json
  tests/unit/config/profile/pass-*.json profile.schema.json
  policies/*.json                      policy.schema.json
  examples/cpcs.json                   cpcs.schema.json (partctl's list of CPCs)
  tests/unit/cpcs/pass-*.json          cpcs.schema.json

Must fail their schema: every tests/unit/config/*/fail-*.json and
tests/unit/cpcs/fail-*.json, which the C
parser rejects (tests/unit/test-profile.c and test-config.c check that),
unless it is in NOT_EXPRESSIBLE below with the reason the schema cannot
catch it. An entry there whose file the schema does reject, or that no
longer exists, is an error too: the list must stay exact, so that the
schemas and the parser cannot drift apart unnoticed.

Needs Debian's python3-jsonschema (draft 2020-12). The last line printed is
"N passed, M failed"; the exit status is 1 when anything failed.
"""

import glob
import json
import os
import sys

import jsonschema

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Results  # noqa: E402

# Fixture directory under tests/unit/config (or tests/unit itself, for
# cpcs) -> schema file under schemas/.
FIXTURE_SCHEMAS = {
    "profile": "profile.schema.json",
    "daemon": "partd.schema.json",
    "cpcs": "cpcs.schema.json",
}

# fail-*.json fixtures the C parser rejects for reasons JSON Schema cannot
# express, as "DIR/FILE": reason.
NOT_EXPRESSIBLE = {
    # Not JSON at all (or not JSON the schema ever sees).
    "profile/fail-syntax.json": "not JSON: syntax error",
    "profile/fail-empty.json": "not JSON: empty file",
    "profile/fail-whitespace.json": "not JSON: only white space",
    "profile/fail-literal.json": "not JSON: True is no literal",
    "profile/fail-duplicate-key.json": "duplicate keys: a validator sees only one",
    "daemon/fail-syntax.json": "not JSON: syntax error",
    "daemon/fail-empty.json": "not JSON: empty file",
    "daemon/fail-truncated.json": "not JSON: ends inside an object",
    "daemon/fail-duplicate-key.json": "duplicate keys: a validator sees only one",
    # Rules between two fields: JSON Schema compares a value with constants only.
    "profile/fail-processors-initial-over-reserved.json":
        "processors.initial > processors.reserved",
    "profile/fail-processors-min-over-initial.json": "processors.min > processors.initial",
    "profile/fail-weight-min-over-initial.json": "weight.min > weight.initial",
    "profile/fail-weight-initial-over-max.json": "weight.initial > weight.max",
    "profile/fail-memory-min-over-initial.json": "memory.min > memory.initial",
    "profile/fail-memory-initial-over-reserved.json": "memory.initial > memory.reserved",
    "profile/fail-cap-below-min.json": "cap < 0.01 x processors.min",
    "cpcs/fail-syntax.json": "not JSON: syntax error",
    "cpcs/fail-empty.json": "not JSON: empty file",
    "cpcs/fail-name-twice.json": "names unique across the entries: a rule between two items",
    # Sizes: a pattern cannot bound a number of MiB to 64 bits.
    "profile/fail-size-huge.json": "size over 2^64 MiB",
}


class DuplicateKey(ValueError):
    pass


def strict_object(pairs):
    """Refuses duplicate keys, as the C parser (jansson) does."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def load_json(path):
    """Returns the JSON value in path, or raises ValueError."""
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=strict_object, parse_constant=refuse_constant)


def error_text(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    return f"{where}: {error.message}"


class Run:
    def __init__(self, root):
        self.root = root
        self.R = Results()
        self.validators = {}

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def validator(self, name):
        if name not in self.validators:
            with open(os.path.join(self.root, "schemas", name), encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            self.validators[name] = jsonschema.Draft202012Validator(schema)
        return self.validators[name]

    def ok(self, path):
        self.R.check(self.rel(path), True)

    def fail(self, path, why):
        self.R.check(self.rel(path), False, why)

    def must_pass(self, path, schema):
        try:
            value = load_json(path)
        except ValueError as e:
            self.fail(path, f"not valid JSON: {e}")
            return
        error = jsonschema.exceptions.best_match(self.validator(schema).iter_errors(value))
        if error:
            self.fail(path, f"rejected by {schema}: {error_text(error)}")
        else:
            self.ok(path)

    def must_fail(self, path, schema, key):
        reason = NOT_EXPRESSIBLE.get(key)
        try:
            value = load_json(path)
        except ValueError as e:
            if reason:
                self.ok(path)
            else:
                self.fail(path, f"not valid JSON ({e}); list it in NOT_EXPRESSIBLE")
            return
        valid = self.validator(schema).is_valid(value)
        if reason and not valid:
            self.fail(path, f"{schema} rejects it: remove it from NOT_EXPRESSIBLE ({reason})")
        elif not reason and valid:
            self.fail(path, f"{schema} accepts what the parser refuses "
                            "(fix the schema, or list it in NOT_EXPRESSIBLE with why)")
        else:
            self.ok(path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", ".."))
    run = Run(root)

    examples = os.path.join(root, "examples")
    for path in sorted(glob.glob(os.path.join(examples, "**", "partd.json"), recursive=True)):
        run.must_pass(path, "partd.schema.json")
    run.must_pass(os.path.join(root, "dist", "partd.json.in"), "partd.schema.json")
    for path in sorted(glob.glob(os.path.join(examples, "**", "partitions.d", "*.json"),
                                 recursive=True)):
        run.must_pass(path, "profile.schema.json")

    for path in sorted(glob.glob(os.path.join(root, "policies", "*.json"))):
        run.must_pass(path, "policy.schema.json")

    run.must_pass(os.path.join(examples, "cpcs.json"), "cpcs.schema.json")

    fixtures = os.path.join(root, "tests", "unit", "config")
    seen = set()
    for path in sorted(glob.glob(os.path.join(fixtures, "*", "*.json")) +
                       glob.glob(os.path.join(root, "tests", "unit", "cpcs", "*.json"))):
        kind, name = os.path.basename(os.path.dirname(path)), os.path.basename(path)
        if not name.startswith(("pass-", "fail-")):
            continue
        schema = FIXTURE_SCHEMAS.get(kind)
        if schema is None:
            run.fail(path, f"no schema for fixtures in {kind}/ (see FIXTURE_SCHEMAS)")
        elif name.startswith("pass-"):
            run.must_pass(path, schema)
        else:
            seen.add(f"{kind}/{name}")
            run.must_fail(path, schema, f"{kind}/{name}")

    for key in sorted(set(NOT_EXPRESSIBLE) - seen):
        run.fail(os.path.join(fixtures, key), "listed in NOT_EXPRESSIBLE but does not exist")

    if run.R.passed + run.R.failed == 0:
        run.fail(root, "nothing to check")
    return run.R.finish()


if __name__ == "__main__":
    sys.exit(main())
