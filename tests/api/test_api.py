#!/usr/bin/python3
"""End-to-end checks of partd's HTTP API against docs/api.md and
schemas/openapi.json.

Usage: test_api.py PARTD [PROJECT_SOURCE_DIR]

Copies examples/test-cpc to a temporary directory, starts PARTD there (libvirt's
test driver, a TCP listener on a free loopback port and a UNIX socket, a bearer
token per role) and checks:

  openapi   schemas/openapi.json is sound, and its paths and methods are
            exactly the route table of partd/api.c (both ways)
  good      a good request for every route; every reply validates against
            the schema the OpenAPI document gives for its status, and every
            request body against the request schema
  bad       a table of bad requests, each with the expected status, problem
            type and field; every problem is application/problem+json and
            validates against the Problem schema; nothing changed after it
  keepalive several requests (good and bad) on one HTTP/1.1 connection
  unix      the API over the UNIX socket, created 0660
  rebalancer the policy, the plan, rebalancing, events (JSON and server-sent
            events) and /metrics
  history   a partition's samples appear every step, as equal columns,
            bounded by the capacity, from ?since= on
  restart   running and profile changes survive a SIGTERM and a restart;
            SIGHUP defines a profile added to the partitions directory

Needs only the standard library and Debian's python3-jsonschema. Prints one
line per check and "N passed, M failed" last; exits 1 when anything failed.
partd is stopped (by its PID) whatever happens.
"""

import glob
import json
import os
import re
import signal
import stat
import sys
import time
import traceback
import urllib.parse

import jsonschema

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import ANY, Partd, Results, check_stop, session  # noqa: E402

TOKEN = "api-test-token-5f1c9e0a"
PROBLEM_BASE = "https://partd.dev/problems/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

R = Results()


# -- OpenAPI -------------------------------------------------------------------

class OpenAPI:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        with open(self.path) as f:
            self.doc = json.load(f)
        base = "file://" + self.path
        store = {}
        for p in glob.glob(os.path.join(os.path.dirname(self.path), "*.json")):
            with open(p) as f:
                s = json.load(f)
            # Sibling schemas (profile.schema.json) are known by their file
            # URL, the base openapi.json's relative $refs resolve against.
            # Their "$id" (a urn:) is dropped: RefResolver cannot join a
            # fragment ("#/$defs/name") to a urn: scope.
            if isinstance(s, dict):
                s = {k: v for k, v in s.items() if k != "$id"}
            store["file://" + os.path.abspath(p)] = s
        store[base] = self.doc
        self.resolver = jsonschema.RefResolver(base, self.doc, store=store)

    def deref(self, o):
        while isinstance(o, dict) and "$ref" in o and len(o) == 1:
            _, o = self.resolver.resolve(o["$ref"])
        return o

    def errors(self, schema, instance):
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        out = []
        for e in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(x) for x in e.absolute_path) or "(root)"
            out.append("%s: %s" % (where, e.message[:200]))
        return out

    def schema(self, name):
        return {"$ref": "#/components/schemas/" + name}

    def template(self, path):
        """The OpenAPI path template a concrete path matches, or None."""
        path = urllib.parse.urlsplit(path).path
        for t in self.doc["paths"]:
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"
            if re.match(rx, path):
                return t
        return None

    def operation(self, method, path):
        t = self.template(path)
        if t is None:
            return None, None
        return t, self.doc["paths"][t].get(method.lower())

    def reply_schema(self, method, path, status, ctype):
        """(schema, error): the schema of a reply, or why there is none."""
        t, op = self.operation(method, path)
        if op is None:
            return None, "%s %s is not in openapi.json" % (method, path)
        resp = op["responses"].get(str(status))
        if resp is None:
            return None, "openapi.json: %s %s has no %d reply" % (method, t, status)
        resp = self.deref(resp)
        content = resp.get("content")
        if not content:
            return None, None  # no body expected
        media = content.get(ctype)
        if media is None:
            return None, "openapi.json: %s %s %d has no %s content (has %s)" % (
                method, t, status, ctype, ", ".join(content))
        return media["schema"], None

    def request_schema(self, method, path):
        t, op = self.operation(method, path)
        if op is None or "requestBody" not in op:
            return None
        return self.deref(op["requestBody"])["content"]["application/json"]["schema"]

    def validate_reply(self, method, path, rep):
        """A list of problems of rep as a reply to method path."""
        ctype = rep.headers.get("content-type", "")
        probs = []
        if rep.status == 204:
            if rep.body:
                probs.append("204 with a body")
        elif not rep.body:
            probs.append("empty body")
        media = ctype.split(";")[0].strip()
        schema, err = self.reply_schema(method, path, rep.status, media)
        if err:
            return probs + [err]
        if schema is None:
            return probs
        if not media.endswith("json"):
            return probs + self.errors(schema, rep.body.decode("utf-8", "replace"))
        if rep.json_error:
            return probs + ["reply is not JSON: " + rep.json_error]
        return probs + self.errors(schema, rep.json)


# -- checks ------------------------------------------------------------------

class Env:
    """What every section needs."""

    def __init__(self, src, api, partd):
        self.src = src
        self.api = api
        self.partd = partd
        self.client = partd.client
        self.parts_dir = partd.parts_dir
        self.state_dir = partd.state_dir
        self.templates = os.path.join(partd.cpc, "templates")  # the example's paths.templates

    def ok(self, label, method, path, status, body=None, **kw):
        """A good request: status as given, reply valid against openapi.json,
        request body valid against its request schema."""
        if body is not None and not isinstance(body, (str, bytes)):
            rs = self.api.request_schema(method, path)
            if rs is not None:
                errs = self.api.errors(rs, body)
                R.check("%s: request body matches openapi.json" % label, not errs,
                        "; ".join(errs))
        rep = self.client.request(method, path, body=body, **kw)
        probs = []
        if rep.status != status:
            probs.append("status %d, expected %d: %s" % (rep.status, status,
                                                         rep.body[:400].decode(errors="replace")))
        else:
            if (status != 204 and not path.startswith("/metrics") and
                    rep.headers.get("content-type") != "application/json"):
                probs.append("Content-Type %r" % rep.headers.get("content-type"))
            probs += self.api.validate_reply(method, path, rep)
        R.check(label, not probs, "; ".join(probs))
        return rep

    def problem(self, label, method, path, status, ptype, body=None, field=ANY, detail=None,
                allow=None, **kw):
        """A bad request: a problem reply of status and type (and field)."""
        rep = self.client.request(method, path, body=body, **kw)
        R.check(label, *problem_ok(self.api, method, path, rep, status, ptype, field, detail,
                                   allow))
        return rep

    def profiles(self):
        out = {}
        for p in sorted(glob.glob(os.path.join(self.parts_dir, "*.json"))):
            with open(p, "rb") as f:
                out[os.path.basename(p)] = f.read()
        return out

    def get(self, name):
        r = self.client.request("GET", "/v1/partitions/" + name)
        return r.json if r.status == 200 else None


def problem_ok(api, method, path, rep, status, ptype, field=ANY, detail=None, allow=None):
    """(ok, detail) of a problem reply."""
    probs = []
    if rep.status != status:
        probs.append("status %d, expected %d" % (rep.status, status))
    ctype = rep.headers.get("content-type")
    if ctype != "application/problem+json":
        probs.append("Content-Type %r" % ctype)
    p = rep.json
    if not isinstance(p, dict):
        probs.append("body is not a JSON object")
    else:
        errs = api.errors(api.schema("Problem"), p)
        probs += ["Problem schema: " + e for e in errs]
        if p.get("status") != rep.status:
            probs.append("status member %r" % p.get("status"))
        if p.get("type") != PROBLEM_BASE + ptype:
            probs.append("type %r, expected %s" % (p.get("type"), ptype))
        if field is not ANY and p.get("field") != field:
            probs.append("field %r, expected %r" % (p.get("field"), field))
        if detail and not re.search(detail, p.get("detail", "")):
            probs.append("detail %r does not match %r" % (p.get("detail"), detail))
    if rep.status == 401 and not rep.headers.get("www-authenticate", "").startswith("Bearer"):
        probs.append("no WWW-Authenticate: Bearer")
    if allow is not None:
        got = {m.strip() for m in rep.headers.get("allow", "").split(",") if m.strip()}
        if got != set(allow):
            probs.append("Allow %r, expected %s" % (rep.headers.get("allow"),
                                                     ", ".join(sorted(allow))))
    if probs and rep.body:
        probs.append("reply: " + rep.body[:300].decode(errors="replace"))
    return not probs, "; ".join(probs)


def walk_refs(o):
    if isinstance(o, dict):
        if isinstance(o.get("$ref"), str):
            yield o["$ref"]
        for v in o.values():
            yield from walk_refs(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk_refs(v)


def section_openapi(env):
    api = env.api
    doc = api.doc
    R.check("openapi: version 3.1", str(doc.get("openapi", "")).startswith("3.1"),
            repr(doc.get("openapi")))
    bad = []
    for name, s in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(s)
        except jsonschema.SchemaError as e:
            bad.append("%s: %s" % (name, e.message))
    R.check("openapi: components.schemas are valid JSON Schemas", not bad, "; ".join(bad))
    unresolved = []
    for ref in sorted(set(walk_refs(doc))):
        try:
            api.resolver.resolve(ref)
        except Exception as e:  # RefResolutionError and friends
            unresolved.append("%s (%s)" % (ref, e))
    R.check("openapi: every $ref resolves", not unresolved, "; ".join(unresolved))
    sec = doc.get("components", {}).get("securitySchemes", {}).get("bearer", {})
    R.check("openapi: bearer security scheme, required by default",
            sec.get("type") == "http" and sec.get("scheme") == "bearer" and
            doc.get("security") == [{"bearer": []}])
    R.check("openapi: GET /v1/health needs no token",
            doc["paths"].get("/v1/health", {}).get("get", {}).get("security") == [])
    missing = []
    for t, item in doc["paths"].items():
        for m, op in item.items():
            if m not in METHODS:
                continue
            codes = set(op.get("responses", {}))
            if not any(c.startswith("2") for c in codes):
                missing.append("%s %s: no 2xx reply" % (m.upper(), t))
            if op.get("security") != [] and "401" not in codes:
                missing.append("%s %s: no 401 reply" % (m.upper(), t))
            for c in codes:
                if c.startswith(("4", "5")):
                    r = api.deref(op["responses"][c])
                    if "application/problem+json" not in r.get("content", {}):
                        missing.append("%s %s %s: not a problem" % (m.upper(), t, c))
    R.check("openapi: every operation has a 2xx reply, 401 when guarded, problems for errors",
            not missing, "; ".join(missing))

    # the route table of partd/api.c against the paths of openapi.json, both ways
    with open(os.path.join(env.src, "partd", "api.c")) as f:
        text = f.read()
    routes = set(re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"', text))
    spec = {(m.upper(), t) for t, item in doc["paths"].items() for m in item if m in METHODS}
    R.check("routes: partd/api.c has a route table", len(routes) >= 10, "%d routes" % len(routes))
    only_c = sorted(routes - spec)
    only_spec = sorted(spec - routes)
    R.check("routes: every route of partd/api.c is in openapi.json", not only_c,
            ", ".join("%s %s" % r for r in only_c))
    R.check("routes: every operation of openapi.json is in partd/api.c", not only_spec,
            ", ".join("%s %s" % r for r in only_spec))
    roles = dict(((m, p), r.lower()) for m, p, r in re.findall(
        r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*\w+\s*,\s*PART_ROLE_([A-Z]+)\s*,', text))
    R.check("routes: every route of partd/api.c names its role (PART_ROLE_...)",
            set(roles) == routes, "without: %s" % sorted(routes - set(roles)))
    public = {r for r, role in roles.items() if role == "none"}
    spec_public = {(m.upper(), t) for t, item in doc["paths"].items() for m, op in item.items()
                   if m in METHODS and op.get("security") == []}
    R.check("routes: the public routes of partd/api.c are the ones without security",
            public == spec_public, "api.c %s, openapi %s" % (sorted(public), sorted(spec_public)))
    spec_roles = {(m.upper(), t): op.get("x-partd-role", "none") for t, item in doc["paths"].items()
                  for m, op in item.items() if m in METHODS}
    differ = sorted("%s %s: api.c %s, openapi %s" % (m, t, roles.get((m, t)), r)
                    for (m, t), r in spec_roles.items() if roles.get((m, t)) != r)
    R.check("routes: each route's role in partd/api.c is its x-partd-role in openapi.json",
            not differ, "; ".join(differ))

    # the shipped profiles against the profile schema the API uses
    bad = []
    for p in sorted(glob.glob(os.path.join(env.src, "examples", "*", "partitions.d", "*.json"))):
        with open(p) as f:
            errs = api.errors(api.schema("Profile"), json.load(f))
        bad += ["%s: %s" % (os.path.relpath(p, env.src), e) for e in errs]
    R.check("openapi: the example profiles match the Profile schema", not bad, "; ".join(bad))


def section_good(env):
    rep = env.ok("good: GET /v1/health without a token", "GET", "/v1/health", 200, auth=None)
    R.check("good: health says ok, backend connected",
            rep.json == {"status": "ok", "backend": "connected"}, repr(rep.json))
    rep = env.ok("good: GET /v1/health with a token", "GET", "/v1/health", 200)
    rep = env.ok("good: GET /v1/version", "GET", "/v1/version", 200)
    R.check("good: version is API v1 on the TEST driver",
            isinstance(rep.json, dict) and rep.json.get("api") == "v1" and
            rep.json.get("driver") == "TEST", repr(rep.json))
    rep = env.ok("good: GET /v1/cpc", "GET", "/v1/cpc", 200)
    cpc = rep.json or {}
    R.check("good: the CPC is the example's (16 CPUs, 2 reserved, 64 GiB, 5 partitions)",
            cpc.get("processors", {}).get("host") == 16 and
            cpc.get("processors", {}).get("host_reserved") == 2 and
            cpc.get("memory", {}).get("host") == 65536 and
            cpc.get("partitions") == {"defined": 5, "active": 4}, repr(cpc)[:300])
    rep = env.ok("good: GET /v1/partitions", "GET", "/v1/partitions", 200)
    names = [p.get("name") for p in (rep.json or {}).get("partitions", [])]
    R.check("good: the list holds the five example partitions, sorted",
            names == ["batch", "db", "dev", "prod", "web"], repr(names))
    for n in ("prod", "db", "dev"):
        env.ok("good: GET /v1/partitions/%s" % n, "GET", "/v1/partitions/" + n, 200)

    # define, activate, change, deactivate, undefine
    profile = {
        "name": "extra",
        "processors": {"mode": "shared", "initial": 1, "min": 1, "reserved": 4},
        "weight": {"initial": 100, "min": 50, "max": 200},
        "cap": 2,
        "memory": {"initial": "2GiB", "min": "1GiB", "reserved": "4GiB"},
        "group": "web",
        "autostart": False,
    }
    rep = env.ok("good: POST /v1/partitions defines extra", "POST", "/v1/partitions", 201,
                 body=profile)
    R.check("good: define replies with Location /v1/partitions/extra",
            rep.headers.get("location") == "/v1/partitions/extra", repr(rep.headers))
    j = rep.json or {}
    R.check("good: the defined partition is inactive, as profiled",
            j.get("state") == "inactive" and j.get("processors", {}).get("reserved") == 4 and
            j.get("memory", {}).get("initial") == 2048 and
            (j.get("cap") or {}).get("current") is None and
            (j.get("cap") or {}).get("initial") == 2.0, repr(j)[:300])
    path = os.path.join(env.parts_dir, "extra.json")
    try:
        with open(path) as f:
            written = json.load(f)
        errs = env.api.errors(env.api.schema("Profile"), written)
        R.check("good: define wrote partitions.d/extra.json, a valid profile", not errs,
                "; ".join(errs))
    except (OSError, ValueError) as e:
        R.check("good: define wrote partitions.d/extra.json, a valid profile", False, str(e))
    env.ok("good: GET /v1/partitions/extra", "GET", "/v1/partitions/extra", 200)
    rep = env.ok("good: POST activate extra", "POST", "/v1/partitions/extra/activate", 200)
    j = rep.json or {}
    R.check("good: extra is active with 1 processor and 2048 MiB",
            j.get("state") == "active" and j.get("processors", {}).get("online") == 1 and
            j.get("memory", {}).get("target") == 2048, repr(j)[:300])

    rep = env.ok("good: PATCH extra processors 2, scope running", "PATCH",
                 "/v1/partitions/extra", 200, body={"processors": 2, "scope": "running"})
    j = rep.json or {}
    R.check("good: running change: online 2, initial 1, pending processors 1, one change applied",
            j.get("partition", {}).get("processors", {}).get("online") == 2 and
            j.get("partition", {}).get("processors", {}).get("initial") == 1 and
            j.get("partition", {}).get("pending") == {"processors": 1} and
            j.get("changes") == [{"field": "processors", "scope": "running", "from": 1, "to": 2,
                                  "status": "applied"}], repr(j)[:500])
    rep = env.ok("good: PATCH extra memory \"3GiB\", scope profile", "PATCH",
                 "/v1/partitions/extra", 200, body={"memory": "3GiB", "scope": "profile"})
    j = rep.json or {}
    R.check("good: profile change: target 2048, initial 3072, saved",
            j.get("partition", {}).get("memory", {}).get("target") == 2048 and
            j.get("partition", {}).get("memory", {}).get("initial") == 3072 and
            [(x.get("field"), x.get("scope"), x.get("status")) for x in j.get("changes", [])] ==
            [("memory", "profile", "saved")], repr(j)[:500])
    rep = env.ok("good: PATCH extra weight, weight_max, cap (scope both)", "PATCH",
                 "/v1/partitions/extra", 200,
                 body={"weight": 150, "weight_max": 300, "cap": 1.5})
    j = rep.json or {}
    got = {(x.get("field"), x.get("scope")) for x in j.get("changes", [])}
    R.check("good: scope both changes running and profile",
            got == {("weight", "running"), ("cap", "running"), ("weight", "profile"),
                    ("weight_max", "profile"), ("cap", "profile")} and
            j.get("partition", {}).get("weight", {}).get("current") == 150 and
            j.get("partition", {}).get("weight", {}).get("max") == 300 and
            j.get("partition", {}).get("cap", {}).get("current") == 1.5, repr(j)[:600])
    rep = env.ok("good: PATCH extra cap null removes the cap", "PATCH", "/v1/partitions/extra",
                 200, body={"cap": None})
    j = rep.json or {}
    R.check("good: the cap is gone, running and profile",
            (j.get("partition", {}).get("cap") or {}).get("current", 0) is None and
            (j.get("partition", {}).get("cap") or {}).get("initial", 0) is None and
            all(x.get("to") is None for x in j.get("changes", [])), repr(j)[:500])
    rep = env.ok("good: PATCH extra memory as an integer of MiB", "PATCH",
                 "/v1/partitions/extra", 200, body={"memory": 3072, "scope": "running"})
    R.check("good: memory target 3072",
            (rep.json or {}).get("partition", {}).get("memory", {}).get("target") == 3072,
            repr(rep.json)[:300])
    rep = env.ok("good: POST deactivate extra {force, timeout}", "POST",
                 "/v1/partitions/extra/deactivate", 200, body={"force": True, "timeout": 10})
    j = rep.json or {}
    R.check("good: extra is inactive, running values null",
            j.get("state") == "inactive" and j.get("processors", {}).get("online") is None and
            j.get("memory", {}).get("target") is None, repr(j)[:300])
    rep = env.ok("good: PATCH inactive extra (scope both: profile only)", "PATCH",
                 "/v1/partitions/extra", 200, body={"processors": 3})
    R.check("good: only the profile changed",
            [(x.get("field"), x.get("scope")) for x in (rep.json or {}).get("changes", [])] ==
            [("processors", "profile")], repr(rep.json)[:400])
    rep = env.ok("good: POST activate extra again", "POST", "/v1/partitions/extra/activate", 200)
    R.check("good: activation uses the changed profile (3 processors, 3072 MiB)",
            (rep.json or {}).get("processors", {}).get("online") == 3 and
            (rep.json or {}).get("memory", {}).get("target") == 3072, repr(rep.json)[:300])
    env.ok("good: POST deactivate extra without a body", "POST",
           "/v1/partitions/extra/deactivate", 200)
    env.ok("good: POST deactivate needs no body: {} is fine too (after activate)", "POST",
           "/v1/partitions/extra/activate", 200)
    env.ok("good: POST deactivate extra with {}", "POST", "/v1/partitions/extra/deactivate", 200,
           body={})
    rep = env.ok("good: DELETE extra", "DELETE", "/v1/partitions/extra", 204)
    R.check("good: DELETE removed partitions.d/extra.json", not os.path.exists(path))
    env.problem("good: GET extra after DELETE is 404", "GET", "/v1/partitions/extra", 404,
                "not-found")

    # a dedicated partition, memory in MiB
    ded = {"name": "ded", "processors": {"mode": "dedicated", "initial": 1, "reserved": 2},
           "memory": {"initial": 1024}}
    rep = env.ok("good: POST /v1/partitions defines a dedicated partition", "POST",
                 "/v1/partitions", 201, body=ded)
    j = rep.json or {}
    R.check("good: a dedicated partition has no weight and no cap",
            j.get("mode") == "dedicated" and j.get("weight") is None and j.get("cap") is None,
            repr(j)[:300])
    rep = env.ok("good: POST activate ded", "POST", "/v1/partitions/ded/activate", 200)
    rep = env.ok("good: GET /v1/cpc with ded active", "GET", "/v1/cpc", 200)
    R.check("good: ded's CPU left the shared pool",
            (rep.json or {}).get("processors", {}).get("dedicated") == 3 and
            (rep.json or {}).get("processors", {}).get("pool") == 11, repr(rep.json)[:300])
    env.ok("good: PATCH ded processors 2", "PATCH", "/v1/partitions/ded", 200,
           body={"processors": 2})
    env.ok("good: POST deactivate ded", "POST", "/v1/partitions/ded/deactivate", 200,
           body={"force": True})
    env.ok("good: DELETE ded", "DELETE", "/v1/partitions/ded", 204)
    rep = env.ok("good: GET /v1/cpc after", "GET", "/v1/cpc", 200)
    R.check("good: back to 5 partitions, 4 active, pool 12",
            (rep.json or {}).get("partitions") == {"defined": 5, "active": 4} and
            (rep.json or {}).get("processors", {}).get("pool") == 12, repr(rep.json)[:300])

    # a domain from a template of paths.templates (main() put t.xml there),
    # named relative to it; the profile written names it resolved
    tmpl = {"name": "tmpl", "processors": {"initial": 1, "reserved": 2},
            "memory": {"initial": 512}, "domain": {"template": "t.xml"}}
    env.ok("good: POST /v1/partitions defines a partition from a template", "POST",
           "/v1/partitions", 201, body=tmpl)
    try:
        with open(os.path.join(env.parts_dir, "tmpl.json")) as f:
            written = json.load(f).get("domain", {}).get("template")
    except (OSError, ValueError) as e:
        written = repr(e)
    want = os.path.join(os.path.realpath(env.templates), "t.xml")
    R.check("good: the profile written names the template resolved", written == want,
            "%r, expected %r" % (written, want))
    env.ok("good: POST activate tmpl", "POST", "/v1/partitions/tmpl/activate", 200)
    env.ok("good: POST deactivate tmpl", "POST", "/v1/partitions/tmpl/deactivate", 200,
           body={"force": True})
    env.ok("good: DELETE tmpl", "DELETE", "/v1/partitions/tmpl", 204)


def read_sse_frame(resp):
    """The next server-sent event frame of resp as a dict of its fields
    (comments skipped), or None at the end of the stream."""
    frame = {}
    while True:
        line = resp.readline()
        if not line:
            return None
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if frame:
                return frame
            continue
        if line.startswith(":"):
            continue
        k, _, v = line.partition(":")
        frame[k] = v[1:] if v.startswith(" ") else v


def section_policies(env):
    """GET /v1/policies: the policies partd can switch to, an invalid file
    left out, the one in force marked, no paths."""
    pdir = env.partd.policies
    with open(os.path.join(pdir, "broken.json"), "w") as f:
        f.write('{"name": "broken", "interval": "often"}\n')
    with open(os.path.join(pdir, "notes.txt"), "w") as f:
        f.write("not a policy\n")
    try:
        rep = env.partd.as_role("viewer").request("GET", "/v1/policies")
        probs = env.api.validate_reply("GET", "/v1/policies", rep)
        got = [(p.get("name"), p.get("active")) for p in (rep.json or {}).get("policies", [])]
        want = sorted((f[:-5], f[:-5] == "static") for f in os.listdir(pdir)
                      if f.endswith(".json") and f != "broken.json")
        R.check("policies: a viewer gets every valid policy of the directory, sorted, static "
                "in force (%s)" % ", ".join(n for n, _ in got), rep.status == 200 and not probs
                and got == want and len(got) >= 3, "%r / %r %s" % (got, want, probs))
        R.check("policies: the invalid file and the other file are left out, no path shown",
                "broken" not in rep.body.decode() and "notes" not in rep.body.decode() and
                pdir not in rep.body.decode(), rep.body[:300])
        rep = env.ok("policies: PUT /v1/policy balanced", "PUT", "/v1/policy", 200,
                     body={"name": "balanced"})
        rep = env.ok("policies: GET /v1/policies", "GET", "/v1/policies", 200)
        active = [p["name"] for p in (rep.json or {}).get("policies", []) if p.get("active")]
        R.check("policies: balanced is now the one marked in force", active == ["balanced"],
                repr(active))
        rep = env.problem("policies: PUT /v1/policy broken (listed nowhere) is refused", "PUT",
                          "/v1/policy", 422, "validation", body={"name": "broken"})
    finally:
        os.unlink(os.path.join(pdir, "broken.json"))
        os.unlink(os.path.join(pdir, "notes.txt"))
        env.ok("policies: PUT /v1/policy static again", "PUT", "/v1/policy", 200,
               body={"name": "static"})


def section_rebalancer(env):
    c = env.client
    cpc = c.request("GET", "/v1/cpc").json or {}
    rep = env.ok("rebalancer: GET /v1/policy", "GET", "/v1/policy", 200)
    R.check("rebalancer: the policy is the CPC's", (rep.json or {}).get("name") ==
            cpc.get("rebalancer", {}).get("policy"), "%r / %r" % (
                (rep.json or {}).get("name"), cpc.get("rebalancer")))
    rep = env.ok("rebalancer: PUT /v1/policy static", "PUT", "/v1/policy", 200,
                 body={"name": "static"})
    R.check("rebalancer: static is in force", (rep.json or {}).get("name") == "static",
            repr(rep.json)[:200])
    rep = env.ok("rebalancer: GET /v1/plan", "GET", "/v1/plan", 200)
    sample = (rep.json or {}).get("sample", -1)
    deadline = time.monotonic() + 6  # the example's interval is 2 s
    while time.monotonic() < deadline and c.get("/v1/plan").get("sample", -1) <= sample:
        time.sleep(0.1)
    rep = env.ok("rebalancer: GET /v1/plan?policy=balanced (a preview)", "GET",
                 "/v1/plan?policy=balanced", 200)
    R.check("rebalancer: a plan names its monitor sample, a later one after an interval "
            "(%r -> %r)" % (sample, (rep.json or {}).get("sample")),
            isinstance(sample, int) and (rep.json or {}).get("sample", -1) > sample,
            repr(rep.json)[:200])
    R.check("rebalancer: the preview is balanced's, and static is still in force",
            (rep.json or {}).get("policy") == "balanced" and
            c.get("/v1/policy").get("name") == "static", repr(rep.json)[:200])
    section_policies(env)
    env.problem("rebalancer: GET /v1/plan?policy=nosuch is 422 naming policy", "GET",
                "/v1/plan?policy=nosuch", 422, "validation", field="policy")
    env.problem("rebalancer: GET /v1/plan?policy=../x is 422 naming policy", "GET",
                "/v1/plan?policy=../x", 422, "validation", field="policy")
    for role in ("viewer", "operator", "admin"):
        rep = env.partd.as_role(role).request("GET", "/v1/whoami")
        R.check("whoami: a %s's token gets {\"role\": \"%s\"}, valid per openapi.json"
                % (role, role), rep.status == 200 and rep.json == {"role": role} and
                not env.api.validate_reply("GET", "/v1/whoami", rep), repr(rep))
    rep = env.partd.as_role(None).request("GET", "/v1/whoami")
    R.check("whoami: without a token, 401", rep.status == 401, repr(rep))
    env.ok("rebalancer: POST /v1/rebalance", "POST", "/v1/rebalance", 200)

    rep = env.ok("rebalancer: GET /v1/events", "GET", "/v1/events", 200)
    events = (rep.json or {}).get("events", [])
    seqs = [e.get("seq") for e in events]
    R.check("rebalancer: events are kept, oldest first",
            len(events) > 0 and seqs == sorted(seqs) and len(set(seqs)) == len(seqs),
            repr(seqs[:20]))
    last = seqs[-1] if seqs else 0
    # a real change: a request that changes nothing makes no event
    env.ok("rebalancer: PATCH to make an event", "PATCH", "/v1/partitions/dev", 200,
           body={"memory": "3GiB", "scope": "profile"})
    rep = env.ok("rebalancer: GET /v1/events?since=N", "GET", "/v1/events?since=%d" % last, 200)
    new = (rep.json or {}).get("events", [])
    R.check("rebalancer: since=N gives only newer events, the PATCH among them",
            new and all(e.get("seq", 0) > last for e in new) and
            any(e.get("partition") == "dev" and e.get("by") == "api" for e in new),
            json.dumps(new)[:400])

    # the event stream: the events after since first, as SSE frames
    conn = c.connection(timeout=10)
    try:
        conn.request("GET", "/v1/events?follow=1&since=%d" % max(last - 1, 0),
                     headers={"Authorization": "Bearer " + TOKEN})
        resp = conn.getresponse()
        R.check("rebalancer: GET /v1/events?follow=1 streams text/event-stream",
                resp.status == 200 and
                resp.getheader("Content-Type", "").startswith("text/event-stream"),
                "%d %r" % (resp.status, resp.getheader("Content-Type")))
        frame = read_sse_frame(resp)
        errs = []
        if not frame:
            errs.append("no frame")
        else:
            try:
                data = json.loads(frame.get("data", ""))
                errs += env.api.errors(env.api.schema("Event"), data)
                if str(data.get("seq")) != frame.get("id") or data.get("kind") != frame.get(
                        "event"):
                    errs.append("id/event do not match the data: %r" % frame)
                if data.get("seq") != last:
                    errs.append("first frame is seq %r, expected %d" % (data.get("seq"), last))
            except ValueError as e:
                errs.append("data is not JSON: %s (%r)" % (e, frame))
        R.check("rebalancer: the stream starts after since, one Event per frame", not errs,
                "; ".join(errs))
    except OSError as e:
        R.check("rebalancer: GET /v1/events?follow=1 streams", False, str(e))
    finally:
        conn.close()

    rep = env.ok("rebalancer: GET /metrics", "GET", "/metrics", 200)
    text = rep.body.decode("utf-8", "replace")
    R.check("rebalancer: /metrics is Prometheus text with the CPC and the partitions",
            rep.headers.get("content-type", "").startswith("text/plain") and
            re.search(r"^partd_cpc_cpus 16$", text, re.M) and
            re.search(r'^partd_partition_active\{partition="prod"\} 1$', text, re.M),
            text[:300])


def section_bad(env):
    c = env.client
    api = env.api
    # partitions the table needs: one too big to activate beside the others,
    # one whose reserved processors exceed the shared pool
    env.ok("bad (setup): define bigmem (30 GiB: fits alone, not beside the others)", "POST",
           "/v1/partitions", 201, body={"name": "bigmem", "processors": {"initial": 1},
                                        "memory": {"initial": "30GiB"}})
    env.ok("bad (setup): define wide (20 processors reserved, pool 12)", "POST",
           "/v1/partitions", 201, body={"name": "wide", "processors": {"initial": 1,
                                                                       "reserved": 20},
                                        "memory": {"initial": "1GiB"}})
    before_list = c.request("GET", "/v1/partitions").json
    before_cpc = c.request("GET", "/v1/cpc").json
    before_files = env.profiles()

    big = b'{"processors": 2, "pad": "' + b"x" * (70 * 1024) + b'"}'
    at_limit = b'{"foo": 1}'.ljust(64 * 1024, b" ")
    over_limit = at_limit + b" "
    profile_multiline = ('{\n  "name": "bad1",\n  "processors": {"initial": 9, "reserved": 8},\n'
                         '  "memory": {"initial": "1GiB"}\n}\n')
    unknown_key = ('{\n  "name": "bad2",\n  "processors": {"initial": 1},\n'
                   '  "memroy": {"initial": "1GiB"}\n}\n')
    P = "/v1/partitions/prod"
    ok_patch = {"processors": 8}
    viewer = "Bearer " + env.partd.tokens["viewer"]
    operator = "Bearer " + env.partd.tokens["operator"]

    # (label, method, path, status, problem type, options)
    table = [
        # authentication
        ("no token", "GET", "/v1/cpc", 401, "unauthorized", dict(auth=None, field=None)),
        ("wrong token", "GET", "/v1/cpc", 401, "unauthorized", dict(auth="Bearer nope")),
        ("token of another scheme", "GET", "/v1/cpc", 401, "unauthorized",
         dict(auth="Basic " + TOKEN)),
        ("token without a scheme", "GET", "/v1/cpc", 401, "unauthorized", dict(auth=TOKEN)),
        ("token with a suffix", "GET", "/v1/partitions", 401, "unauthorized",
         dict(auth="Bearer " + TOKEN + "x")),
        ("a prefix of the token", "GET", "/v1/partitions", 401, "unauthorized",
         dict(auth="Bearer " + TOKEN[:-1])),
        ("empty bearer token", "GET", "/v1/version", 401, "unauthorized",
         dict(auth="Bearer ")),
        ("no token on PATCH (nothing applied)", "PATCH", P, 401, "unauthorized",
         dict(auth=None, body={"processors": 3})),
        ("no token on an unknown partition", "GET", "/v1/partitions/nope", 401, "unauthorized",
         dict(auth=None)),
        ("no token on a wrong method: 401 before 405", "PUT", P, 401, "unauthorized",
         dict(auth=None)),
        ("no token on DELETE", "DELETE", "/v1/partitions/dev", 401, "unauthorized",
         dict(auth=None)),
        # roles: a token below the role a request needs (docs/api.md)
        ("a viewer's PATCH", "PATCH", P, 403, "forbidden-role",
         dict(auth=viewer, body={"processors": 3, "scope": "running"}, field=None,
              detail="needs the operator role; this token's role is viewer")),
        ("an operator's PATCH of the profile (scope both, the default)", "PATCH", P, 403,
         "forbidden-role", dict(auth=operator, body={"processors": 3},
                                detail="needs the admin role; this token's role is operator")),
        ("an operator's PATCH of the weight bounds (scope profile)", "PATCH", P, 403,
         "forbidden-role", dict(auth=operator, body={"weight_min": 150, "scope": "profile"})),
        ("an operator's define", "POST", "/v1/partitions", 403, "forbidden-role",
         dict(auth=operator, body={"name": "x", "processors": {"initial": 1},
                                   "memory": {"initial": 1024}})),
        ("an operator's DELETE", "DELETE", "/v1/partitions/dev", 403, "forbidden-role",
         dict(auth=operator)),
        ("a viewer's activate", "POST", "/v1/partitions/dev/activate", 403, "forbidden-role",
         dict(auth=viewer)),
        ("a viewer's rebalance", "POST", "/v1/rebalance", 403, "forbidden-role",
         dict(auth=viewer)),
        ("a viewer's PUT policy", "PUT", "/v1/policy", 403, "forbidden-role",
         dict(auth=viewer, body={"name": "static"})),
        # routing
        ("unknown route", "GET", "/v1/nothing", 404, "not-found", dict(field=None)),
        ("unknown API version", "GET", "/v2/cpc", 404, "not-found", {}),
        ("trailing slash", "GET", "/v1/partitions/", 404, "not-found", {}),
        ("unknown partition action", "POST", "/v1/partitions/prod/reboot", 404, "not-found", {}),
        ("unknown partition: GET", "GET", "/v1/partitions/nope", 404, "not-found",
         dict(detail="nope")),
        ("unknown partition: PATCH", "PATCH", "/v1/partitions/nope", 404, "not-found",
         dict(body=ok_patch)),
        ("unknown partition: DELETE", "DELETE", "/v1/partitions/nope", 404, "not-found", {}),
        ("unknown partition: activate", "POST", "/v1/partitions/nope/activate", 404,
         "not-found", {}),
        ("unknown partition: deactivate", "POST", "/v1/partitions/nope/deactivate", 404,
         "not-found", {}),
        ("name longer than 63", "GET", "/v1/partitions/" + "a" * 80, 404, "not-found", {}),
        # body framing
        ("oversize PATCH body (70 KiB)", "PATCH", P, 413, "payload-too-large",
         dict(body=big)),
        ("oversize define body (70 KiB)", "POST", "/v1/partitions", 413, "payload-too-large",
         dict(body=big)),
        ("body of 64 KiB + 1", "PATCH", P, 413, "payload-too-large", dict(body=over_limit)),
        ("body of exactly 64 KiB is read (then refused for its content)", "PATCH", P, 422,
         "validation", dict(body=at_limit, field="foo")),
        ("text/plain PATCH", "PATCH", P, 415, "unsupported-media-type",
         dict(body=ok_patch, ctype="text/plain")),
        ("text/plain define", "POST", "/v1/partitions", 415, "unsupported-media-type",
         dict(body=b'{"name": "x"}', ctype="text/plain")),
        ("application/xml deactivate", "POST", "/v1/partitions/prod/deactivate", 415,
         "unsupported-media-type", dict(body=b"<force/>", ctype="application/xml")),
        ("malformed JSON PATCH", "PATCH", P, 400, "malformed-json",
         dict(body='{"processors": 3', detail=r"^body:1:\d+: ")),
        ("malformed JSON define", "POST", "/v1/partitions", 400, "malformed-json",
         dict(body='{"name": "x",,}', detail=r"^body:1:\d+: ")),
        ("malformed JSON deactivate", "POST", "/v1/partitions/prod/deactivate", 400,
         "malformed-json", dict(body="{force: true}")),
        ("duplicate key is not JSON partd accepts: malformed", "PATCH", P, 400,
         "malformed-json", dict(body='{"weight": 400, "weight": 500}')),
        ("define without a body", "POST", "/v1/partitions", 400, "bad-request", {}),
        ("PATCH without a body", "PATCH", P, 400, "bad-request", {}),
        # PATCH: types, ranges, fields
        ("empty PATCH", "PATCH", P, 422, "validation", dict(body={}, detail="nothing to change")),
        ("PATCH only a scope", "PATCH", P, 422, "validation", dict(body={"scope": "running"})),
        ("PATCH an array", "PATCH", P, 422, "validation", dict(body=[1])),
        ("unknown field", "PATCH", P, 422, "validation",
         dict(body={"processor": 3}, field="processor", detail=r"^body:1:\d+: ")),
        ("processors a string", "PATCH", P, 422, "validation",
         dict(body={"processors": "3"}, field="processors")),
        ("processors a fraction", "PATCH", P, 422, "validation",
         dict(body={"processors": 2.5}, field="processors")),
        ("processors 0", "PATCH", P, 422, "validation",
         dict(body={"processors": 0}, field="processors")),
        ("processors over reserved", "PATCH", P, 422, "validation",
         dict(body={"processors": 13}, field="processors", detail="reserved")),
        ("processors under min", "PATCH", P, 422, "validation",
         dict(body={"processors": 1}, field="processors", detail="min")),
        ("weight out of 1-999", "PATCH", P, 422, "validation",
         dict(body={"weight": 1000}, field="weight")),
        ("weight outside weight.min-max", "PATCH", P, 422, "validation",
         dict(body={"weight": 800}, field="weight")),
        ("weight a string", "PATCH", P, 422, "validation",
         dict(body={"weight": "500"}, field="weight")),
        ("weight_min with scope running", "PATCH", P, 422, "validation",
         dict(body={"weight_min": 200, "scope": "running"}, field="weight_min")),
        ("weight_max with scope running", "PATCH", P, 422, "validation",
         dict(body={"weight_max": 800, "scope": "running"}, field="weight_max")),
        ("weight_min over weight_max", "PATCH", P, 422, "validation",
         dict(body={"weight_min": 650, "weight_max": 600}, field="weight_min")),
        ("weight_max under the running weight", "PATCH", P, 422, "validation",
         dict(body={"weight_max": 400}, field="weight")),
        ("cap over 255", "PATCH", P, 422, "validation", dict(body={"cap": 300}, field="cap")),
        ("cap 0", "PATCH", P, 422, "validation", dict(body={"cap": 0}, field="cap")),
        ("cap a string", "PATCH", P, 422, "validation", dict(body={"cap": "2"}, field="cap")),
        ("memory with a bad unit", "PATCH", P, 422, "validation",
         dict(body={"memory": "4XB"}, field="memory")),
        ("memory without a unit", "PATCH", P, 422, "validation",
         dict(body={"memory": "4096"}, field="memory")),
        ("memory negative", "PATCH", P, 422, "validation",
         dict(body={"memory": -1}, field="memory")),
        ("memory a fraction of a MiB", "PATCH", P, 422, "validation",
         dict(body={"memory": 1.5}, field="memory")),
        ("memory over reserved", "PATCH", P, 422, "validation",
         dict(body={"memory": "64GiB"}, field="memory")),
        ("memory under min", "PATCH", P, 422, "validation",
         dict(body={"memory": "4GiB", "scope": "running"}, field="memory")),
        ("scope unknown", "PATCH", P, 422, "validation",
         dict(body={"processors": 3, "scope": "all"}, field="scope")),
        ("scope running on an inactive partition", "PATCH", "/v1/partitions/dev", 409,
         "conflict", dict(body={"processors": 2, "scope": "running"}, field="scope")),
        ("dedicated partition with a weight", "PATCH", "/v1/partitions/db", 422, "validation",
         dict(body={"weight": 200}, field="weight")),
        ("dedicated partition with a cap", "PATCH", "/v1/partitions/db", 422, "validation",
         dict(body={"cap": 1}, field="cap")),
        ("admission: memory beyond the CPC", "PATCH", P, 409, "conflict",
         dict(body={"memory": "32GiB", "scope": "running"}, field="memory")),
        ("admission: a profile that cannot run even alone", "PATCH", "/v1/partitions/wide",
         409, "conflict", dict(body={"processors": 20}, field="processors")),
        # lifecycle
        ("DELETE an active partition", "DELETE", P, 409, "conflict", {}),
        ("activate an active partition", "POST", "/v1/partitions/prod/activate", 409,
         "conflict", {}),
        ("deactivate an inactive partition", "POST", "/v1/partitions/dev/deactivate", 409,
         "conflict", {}),
        ("admission: activation beyond the CPC's memory", "POST",
         "/v1/partitions/bigmem/activate", 409, "conflict", dict(field="memory")),
        # deactivate body
        ("deactivate: force not a boolean", "POST", "/v1/partitions/prod/deactivate", 422,
         "validation", dict(body={"force": 1}, field="force")),
        ("deactivate: timeout over 600", "POST", "/v1/partitions/prod/deactivate", 422,
         "validation", dict(body={"timeout": 601}, field="timeout")),
        ("deactivate: timeout negative", "POST", "/v1/partitions/prod/deactivate", 422,
         "validation", dict(body={"timeout": -1}, field="timeout")),
        ("deactivate: unknown field", "POST", "/v1/partitions/prod/deactivate", 422,
         "validation", dict(body={"now": True}, field="now")),
        ("deactivate: not an object", "POST", "/v1/partitions/prod/deactivate", 422,
         "validation", dict(body=[True])),
        # policy
        ("PUT policy without a body", "PUT", "/v1/policy", 400, "bad-request", {}),
        ("PUT policy malformed", "PUT", "/v1/policy", 400, "malformed-json",
         dict(body='{"name": ')),
        ("PUT policy: name not a string", "PUT", "/v1/policy", 422, "validation",
         dict(body={"name": 1}, field="name")),
        ("PUT policy: unknown field", "PUT", "/v1/policy", 422, "validation",
         dict(body={"name": "static", "x": 1}, field="x")),
        ("PUT policy: not an object", "PUT", "/v1/policy", 422, "validation",
         dict(body=[1])),
        ("PUT policy: a path, not a name", "PUT", "/v1/policy", 422, "validation",
         dict(body={"name": "../etc"}, field="name")),
        ("PUT policy: no such policy", "PUT", "/v1/policy", 422, "validation",
         dict(body={"name": "no-such-policy"})),
        ("text/plain PUT policy", "PUT", "/v1/policy", 415, "unsupported-media-type",
         dict(body={"name": "static"}, ctype="text/plain")),
        ("no token on /metrics", "GET", "/metrics", 401, "unauthorized", dict(auth=None)),
        ("no token on /v1/events", "GET", "/v1/events", 401, "unauthorized", dict(auth=None)),
        # define
        ("define a duplicate", "POST", "/v1/partitions", 409, "conflict",
         dict(body={"name": "prod", "processors": {"initial": 1}, "memory": {"initial": 1024}},
              field="name")),
        ("define an invalid profile: line and column", "POST", "/v1/partitions", 422,
         "validation", dict(body=profile_multiline, field="processors.initial",
                            detail=r"^body:3:\d+: processors\.initial \(9\) exceeds")),
        ("define with an unknown key: line and column", "POST", "/v1/partitions", 422,
         "validation", dict(body=unknown_key, field="memroy", detail=r"^body:4:3: memroy")),
        ("define without a name", "POST", "/v1/partitions", 422, "validation",
         dict(body={"processors": {"initial": 1}, "memory": {"initial": 1024}}, field="name")),
        ("define with a bad name", "POST", "/v1/partitions", 422, "validation",
         dict(body={"name": "-x", "processors": {"initial": 1}, "memory": {"initial": 1024}},
              field="name")),
        ("define without processors", "POST", "/v1/partitions", 422, "validation",
         dict(body={"name": "x", "memory": {"initial": 1024}}, field="processors")),
        ("define a dedicated partition with a weight", "POST", "/v1/partitions", 422,
         "validation", dict(body={"name": "x", "processors": {"mode": "dedicated", "initial": 1},
                                  "weight": {"initial": 10}, "memory": {"initial": 1024}},
                            field="weight")),
        ("define with a bad size", "POST", "/v1/partitions", 422, "validation",
         dict(body={"name": "x", "processors": {"initial": 1}, "memory": {"initial": "1GB"}},
              field="memory.initial")),
        ("define: admission refuses what cannot fit", "POST", "/v1/partitions", 409,
         "conflict", dict(body={"name": "x", "processors": {"initial": 1},
                                "memory": {"initial": "100GiB", "reserved": "100GiB"}},
                          field="memory")),
        ("define adopting a domain that does not exist", "POST", "/v1/partitions", 422,
         "validation", dict(body={"name": "x", "processors": {"initial": 1},
                                  "memory": {"initial": 1024}, "domain": {"adopt": "nodomain"}},
                            field="domain.adopt")),
        ("define adopting another partition's domain", "POST", "/v1/partitions", 409,
         "conflict", dict(body={"name": "x", "processors": {"initial": 1},
                                "memory": {"initial": 1024}, "domain": {"adopt": "prod"}},
                          field="domain.adopt")),
        ("define with a template that does not exist", "POST", "/v1/partitions", 422,
         "validation", dict(body={"name": "x", "processors": {"initial": 1},
                                  "memory": {"initial": 1024},
                                  "domain": {"template": "no-such-template.xml"}},
                            field="domain.template",
                            detail=r"no-such-template\.xml: no such file in paths\.templates")),
        ("define with a template outside paths.templates", "POST", "/v1/partitions", 422,
         "validation", dict(body={"name": "x", "processors": {"initial": 1},
                                  "memory": {"initial": 1024},
                                  "domain": {"template": "/etc/passwd"}},
                            field="domain.template",
                            detail=r"^body:1:\d+: domain\.template: /etc/passwd is not inside "
                                   r"paths\.templates \(/")),
        ("define with a serial log outside paths.logs", "POST", "/v1/partitions", 422,
         "validation", dict(body={"name": "x", "processors": {"initial": 1},
                                  "memory": {"initial": 1024},
                                  "boot": {"kernel": "vmlinuz"},
                                  "serial_log": "../../etc/passwd"},
                            field="serial_log",
                            detail=r"serial_log: \.\./\.\./etc/passwd is not inside paths\.logs")),
        ("define booting a kernel missing from paths.images", "POST", "/v1/partitions", 422,
         "validation", dict(body={"name": "x", "processors": {"initial": 1},
                                  "memory": {"initial": 1024}, "boot": {"kernel": "bzImage"}},
                            field="boot.kernel",
                            detail=r"boot\.kernel: bzImage: no such file in paths\.images")),
    ]
    # 405 for every path, Allow as openapi.json has it
    samples = {"{name}": "prod"}
    for t, item in api.doc["paths"].items():
        path = t.replace("{name}", samples["{name}"])
        allowed = {m.upper() for m in item if m in METHODS}
        wrong = next(m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in allowed)
        table.append(("%s %s: 405 with Allow" % (wrong, t), wrong, path, 405,
                      "method-not-allowed", dict(allow=allowed, field=None)))

    # bodies that openapi.json's request schemas must refuse too (the others
    # break rules between values that JSON Schema cannot state)
    schema_refuses = {
        "empty PATCH", "PATCH only a scope", "PATCH an array", "unknown field",
        "processors a string", "processors a fraction", "processors 0", "weight out of 1-999",
        "weight a string", "cap over 255", "cap 0", "cap a string", "memory with a bad unit",
        "memory without a unit", "memory negative", "memory a fraction of a MiB",
        "scope unknown", "deactivate: force not a boolean", "deactivate: timeout over 600",
        "deactivate: timeout negative", "deactivate: unknown field",
        "deactivate: not an object", "define without a name", "define with a bad name",
        "define without processors", "define a dedicated partition with a weight",
        "define with a bad size", "PUT policy: name not a string", "PUT policy: unknown field",
        "PUT policy: not an object", "PUT policy: a path, not a name",
    }
    R.check("bad: the table has at least 40 requests", len(table) >= 40, str(len(table)))
    for label, method, path, status, ptype, opt in table:
        opt = dict(opt)
        field = opt.pop("field", ANY)
        detail = opt.pop("detail", None)
        allow = opt.pop("allow", None)
        body = opt.pop("body", None)
        if label in schema_refuses:
            schema = api.request_schema(method, path)
            R.check("bad: %s: openapi.json's request schema refuses it too" % label,
                    schema is not None and api.errors(schema, body), json.dumps(body))
        rep = c.request(method, path, body=body, **opt)
        R.check("bad: %s -> %d %s" % (label, status, ptype),
                *problem_ok(api, method, path, rep, status, ptype, field, detail, allow))
    missing = schema_refuses - {row[0] for row in table}
    R.check("bad: every schema-refused label is in the table", not missing, ", ".join(missing))

    # partd still serves, and nothing changed
    env.ok("bad: after the table, GET /v1/health", "GET", "/v1/health", 200, auth=None)
    rep = env.ok("bad: after the table, GET /v1/partitions", "GET", "/v1/partitions", 200)
    R.check("bad: no bad request changed a partition", rep.json == before_list,
            diff_partitions(before_list, rep.json))
    rep = c.request("GET", "/v1/cpc")
    R.check("bad: no bad request changed the CPC", rep.json == before_cpc)
    after_files = env.profiles()
    changed = sorted(k for k in set(before_files) | set(after_files)
                     if before_files.get(k) != after_files.get(k))
    R.check("bad: no bad request changed a profile file", not changed, ", ".join(changed))
    env.ok("bad (cleanup): DELETE bigmem", "DELETE", "/v1/partitions/bigmem", 204)
    env.ok("bad (cleanup): DELETE wide", "DELETE", "/v1/partitions/wide", 204)


def diff_partitions(a, b):
    try:
        pa = {p["name"]: p for p in a["partitions"]}
        pb = {p["name"]: p for p in b["partitions"]}
    except (TypeError, KeyError):
        return "%r / %r" % (a, b)
    out = []
    for n in sorted(set(pa) | set(pb)):
        if pa.get(n) != pb.get(n):
            out.append("%s: %s -> %s" % (n, json.dumps(pa.get(n))[:200],
                                         json.dumps(pb.get(n))[:200]))
    return "; ".join(out)


def section_keepalive(env):
    conn = env.client.connection()
    try:
        seq = [("GET", "/v1/cpc", None, True, 200), ("GET", "/v1/partitions", None, True, 200),
               ("GET", "/v1/nothing", None, True, 404), ("GET", "/v1/cpc", None, None, 401),
               ("PATCH", "/v1/partitions/prod", {"bogus": 1}, True, 422),
               ("PUT", "/v1/cpc", None, True, 405), ("GET", "/v1/health", None, None, 200)]
        local = None
        for i, (m, p, body, auth, status) in enumerate(seq):
            rep = env.client.request(m, p, body=body, auth=auth, conn=conn)
            name = conn.sock.getsockname() if conn.sock else None
            if i == 0:
                local = name
            R.check("keepalive: request %d (%s %s -> %d) on one connection" % (i + 1, m, p,
                                                                               status),
                    rep.status == status and
                    "close" not in rep.headers.get("connection", "").lower() and
                    name is not None and name == local,
                    "status %d, Connection %r, socket %r (first %r)" % (
                        rep.status, rep.headers.get("connection"), name, local))
    except OSError as e:
        R.check("keepalive: requests on one connection", False, str(e))
    finally:
        conn.close()


def section_unix(env):
    path = env.client.unix_path
    try:
        st = os.stat(path)
        R.check("unix: the socket exists and is a socket", stat.S_ISSOCK(st.st_mode))
        R.check("unix: the socket's mode is 0660 (its group may connect, with a token)",
                stat.S_IMODE(st.st_mode) == 0o660, oct(stat.S_IMODE(st.st_mode)))
    except OSError as e:
        R.check("unix: the socket exists", False, str(e))
        return
    conn = env.client.connection(unix=True)
    try:
        rep = env.client.request("GET", "/v1/cpc", conn=conn)
        probs = [] if rep.status == 200 else ["status %d" % rep.status]
        probs += env.api.validate_reply("GET", "/v1/cpc", rep)
        R.check("unix: GET /v1/cpc over the socket", not probs, "; ".join(probs))
        rep = env.client.request("GET", "/v1/partitions/prod", conn=conn)
        R.check("unix: a second request on the same connection",
                rep.status == 200 and (rep.json or {}).get("name") == "prod", repr(rep))
        rep = env.client.request("GET", "/v1/cpc", auth=None, conn=conn)
        R.check("unix: the socket needs the token too", rep.status == 401, repr(rep))
    except OSError as e:
        R.check("unix: GET /v1/cpc over the socket", False, str(e))
    finally:
        conn.close()


def section_restart(env):
    env.ok("restart: PATCH prod processors 10, weight 550, scope running", "PATCH",
           "/v1/partitions/prod", 200, body={"processors": 10, "weight": 550,
                                             "scope": "running"})
    env.ok("restart: PATCH batch cap 3, scope running", "PATCH", "/v1/partitions/batch", 200,
           body={"cap": 3, "scope": "running"})
    env.ok("restart: PATCH web processors 6, scope profile", "PATCH", "/v1/partitions/web", 200,
           body={"processors": 6, "scope": "profile"})
    state_path = os.path.join(env.state_dir, "state.json")
    try:
        with open(state_path) as f:
            state = json.load(f)
        R.check("restart: the state file is JSON with prod's running values",
                state.get("partitions", {}).get("prod", {}).get("processors") == 10 and
                state.get("partitions", {}).get("prod", {}).get("weight") == 550,
                json.dumps(state)[:300])
        R.check("restart: the state file is 0600",
                stat.S_IMODE(os.stat(state_path).st_mode) == 0o600,
                oct(stat.S_IMODE(os.stat(state_path).st_mode)))
    except (OSError, ValueError) as e:
        R.check("restart: the state file is JSON", False, str(e))

    check_stop(R, env.partd, "restart: SIGTERM stops partd with status 0")
    R.check("restart: the UNIX socket is removed at exit",
            not os.path.exists(env.client.unix_path))
    try:
        with open(state_path) as f:
            json.load(f)
        R.check("restart: the state file is valid JSON after the stop", True)
    except (OSError, ValueError) as e:
        R.check("restart: the state file is valid JSON after the stop", False, str(e))

    err = env.partd.start(timeout=15)
    if not R.check("restart: partd starts again on the same directory", err is None, err):
        return
    prod = env.get("prod") or {}
    R.check("restart: prod's running change is restored (online 10, weight 550)",
            prod.get("state") == "active" and
            prod.get("processors", {}).get("online") == 10 and
            (prod.get("weight") or {}).get("current") == 550, json.dumps(prod)[:400])
    R.check("restart: prod's profile is unchanged (initial 8, weight 500), pending says so",
            prod.get("processors", {}).get("initial") == 8 and
            (prod.get("weight") or {}).get("initial") == 500 and
            prod.get("pending") == {"processors": 8, "weight": 500}, json.dumps(prod)[:400])
    batch = env.get("batch") or {}
    R.check("restart: batch's running cap is restored (3)",
            (batch.get("cap") or {}).get("current") == 3 and
            (batch.get("cap") or {}).get("initial") == 2.5, json.dumps(batch)[:400])
    web = env.get("web") or {}
    R.check("restart: web's profile change persisted (initial 6, online 4, pending 6)",
            web.get("processors", {}).get("initial") == 6 and
            web.get("processors", {}).get("online") == 4 and
            web.get("pending") == {"processors": 6}, json.dumps(web)[:400])
    try:
        with open(os.path.join(env.parts_dir, "web.json")) as f:
            prof = json.load(f)
        R.check("restart: partitions.d/web.json says initial 6",
                prof.get("processors", {}).get("initial") == 6, json.dumps(prof))
    except (OSError, ValueError) as e:
        R.check("restart: partitions.d/web.json says initial 6", False, str(e))
    env.ok("restart: GET /v1/partitions validates after the restart", "GET", "/v1/partitions",
           200)

    # SIGHUP re-reads the partitions directory: a new profile file is defined
    hup = {"name": "hup", "processors": {"initial": 1}, "memory": {"initial": "1GiB"}}
    with open(os.path.join(env.parts_dir, "hup.json"), "w") as f:
        json.dump(hup, f)
    env.partd.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and env.get("hup") is None:
        time.sleep(0.1)
    env.ok("restart: SIGHUP defines a profile added to partitions.d", "GET",
           "/v1/partitions/hup", 200)
    R.check("restart: partd still runs after SIGHUP", env.partd.running())

    bad = []
    for name, text in env.profiles().items():
        try:
            bad += ["%s: %s" % (name, e) for e in
                    env.api.errors(env.api.schema("Profile"), json.loads(text))]
        except ValueError as e:
            bad.append("%s: %s" % (name, e))
    R.check("restart: every profile partd wrote matches the Profile schema", not bad,
            "; ".join(bad))


def section_history(env):
    """GET /v1/partitions/NAME/history: the test driver reports no CPU time,
    so the samples are counted, and their shape and steady fields checked."""
    path = "/v1/partitions/prod/history"
    deadline = time.monotonic() + 30
    while True:
        rep = env.ok("history: GET %s" % path, "GET", path, 200)
        h = rep.json or {}
        at = h.get("samples", {}).get("at", [])
        if len(at) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(h.get("step", 2))
    R.check("history: samples appear every step (3 within 30 s)", len(at) >= 3, repr(h)[:300])
    cols = h.get("samples", {})
    R.check("history: the columns have one value per sample",
            len({len(v) for v in cols.values()}) == 1, repr({k: len(v) for k, v in cols.items()}))
    step = h.get("step", 0)
    R.check("history: one sample per step (the interval's first multiple of 5 s or more), "
            "an hour's worth kept, bounding the samples",
            step >= 5 and step - h.get("interval", 0) < 5 and
            h.get("capacity") == -(-3600 // step) and len(at) <= h["capacity"],
            repr((h.get("interval"), step, h.get("capacity"), len(at))))
    R.check("history: oldest first, a step apart, recent",
            at == sorted(at) and all(b - a >= step - 1 for a, b in zip(at, at[1:])) and
            abs(at[-1] - time.time()) < 30, repr(at))
    R.check("history: first and last number the samples",
            h.get("first") is not None and h["last"] == h["first"] + len(at) - 1, repr(h)[:200])
    part = env.get("prod")
    R.check("history: the newest sample shows the partition's processors and memory target",
            cols["online"][-1] == part["processors"]["online"] and
            cols["memory_target"][-1] == part["memory"]["target"] and
            cols["weight"][-1] == part["weight"]["current"] and
            all(e > 0 for e in cols["entitlement"]),
            repr({k: v[-1] for k, v in cols.items()}))
    last = h["last"]
    rep = env.ok("history: ?since=LAST-1", "GET", "%s?since=%d" % (path, last - 1), 200)
    j = rep.json or {}
    R.check("history: since gives only the samples after it", j.get("first") == last and
            j["samples"]["at"][0] == at[-1], repr(j)[:300])
    rep = env.ok("history: ?since=10^12 (an earlier partd's seq)", "GET", path + "?since=" +
                 str(10**12), 200)
    R.check("history: a since beyond the newest gives every sample held",
            (rep.json or {}).get("first") == h["first"], repr(rep.json)[:200])
    env.problem("history: ?since=x", "GET", path + "?since=x", 422, "validation", field="since")
    env.problem("history: ?since=-1", "GET", path + "?since=-1", 422, "validation", field="since")
    env.problem("history: unknown partition", "GET", "/v1/partitions/nosuch/history", 404,
                "not-found")
    env.problem("history: without a token", "GET", path, 401, "unauthorized", auth=None)
    idle = [p["name"] for p in env.client.get("/v1/partitions")["partitions"]
            if p["state"] == "inactive"]
    if idle:
        rep = env.ok("history: an inactive partition", "GET",
                     "/v1/partitions/%s/history" % idle[0], 200)
        j = rep.json or {}
        R.check("history: an inactive partition never sampled has none",
                j.get("samples", {}).get("at") == [] and j.get("last") is None, repr(j)[:200])


def run_section(section, env):
    """Runs one section; a broken section is a failed check and must not
    hide the others."""
    try:
        section(env)
    except Exception:
        R.check("%s ran to the end" % section.__name__, False, traceback.format_exc(limit=-3))


def main():
    if len(sys.argv) < 2:
        print("usage: test_api.py PARTD [PROJECT_SOURCE_DIR]", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    src = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    api = OpenAPI(os.path.join(src, "schemas", "openapi.json"))
    partd = Partd(binary, src=src, token=TOKEN)
    env = Env(src, api, partd)
    os.mkdir(env.templates, 0o755)  # the administrator's: partd does not create it
    os.chmod(env.templates, 0o755)
    with open(os.path.join(env.templates, "t.xml"), "w") as f:
        f.write("<domain type='test'><name>x</name><memory>524288</memory>"
                "<os><type>hvm</type></os></domain>\n")
    os.chmod(os.path.join(env.templates, "t.xml"), 0o644)
    images = os.path.join(partd.cpc, "images")
    os.mkdir(images, 0o755)
    os.chmod(images, 0o755)
    with open(os.path.join(images, "vmlinuz"), "w") as f:
        f.write("not a kernel: the test driver boots nothing\n")
    run_section(section_openapi, env)

    def sections():
        for section in (section_good, section_rebalancer, section_bad, section_keepalive,
                        section_unix, section_history, section_restart):
            run_section(section, env)
            if not partd.running():
                R.check("partd is still running after %s" % section.__name__, False,
                        "exit status %s\n%s" % (partd.proc.returncode, partd.log_tail()))
                break

    return session(R, partd, sections, "partd starts and answers /v1/health",
                   "partd stops with status 0 at the end", timeout=15)


if __name__ == "__main__":
    sys.exit(main())
