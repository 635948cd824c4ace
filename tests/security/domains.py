#!/usr/bin/python3
"""Domains partd does not own (docs/security.md): partd must neither
redefine nor undefine a libvirt domain it did not define, whatever a caller
names; adopting one is the definition route's (admin's) decision alone.

partd runs on libvirt's test driver with the example CPC, whose node XML
gets three domains partd did not define: "legacy", running with 1 of 4
processors and 1 GiB, for which the partitions directory holds a profile
that asks partd to define it (as an earlier partd, without marks, would
have left it); "guest", running; and "spare", shut off with 3 of 6
processors and 3 GiB.
The test driver lives inside partd's process, so a domain is seen only
through partd; what a redefinition would have done shows in what partd can
still do with the domain afterwards:

- define: POST /v1/partitions named like spare or guest is 409 conflict,
  naming the domain and domain.adopt; nothing changes;
- start: "legacy" is reported (managed_domain "foreign", an event), not
  taken over as it runs, and its activation is 409;
- routes: adopting is the admin's: a viewer's or an operator's define
  with domain.adopt is 403 forbidden-role, and no other route adopts a
  domain, whatever its body says, not even with the admin's token;
- adopt: "spare" adopted by an explicit domain.adopt has its 6 processors
  and 3 GiB still (the refused define asked for 1 and 512 MiB); DELETE
  releases it: it can be adopted again, and a define by its name is still
  409 (neither undefined nor marked);
- release: DELETE of the "foreign" legacy partition leaves the domain
  defined (adopting it again works);
- marked: a partition partd defined ("dev") is redefined at activation and
  undefined by DELETE (adopting its domain afterwards is 422: none).

Prints "N passed, N failed"; exit 1 on any failure."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, main_wrapper, session  # noqa: E402
from attack import TOKEN, problem, routes, state  # noqa: E402

FOREIGN = """
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>legacy</name>
    <memory unit='GiB'>1</memory>
    <vcpu placement='static' current='1'>4</vcpu>
    <os><type>hvm</type></os>
  </domain>
  <domain type='test'>
    <name>guest</name>
    <memory unit='GiB'>1</memory>
    <vcpu placement='static'>2</vcpu>
    <os><type>hvm</type></os>
  </domain>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>spare</name>
    <memory unit='GiB'>3</memory>
    <vcpu placement='static' current='3'>6</vcpu>
    <os><type>hvm</type></os>
    <test:runstate>5</test:runstate>
  </domain>
"""

# what partd would have shrunk "spare" to, had it redefined it
OVER = {"processors": {"initial": 1, "reserved": 1},
        "memory": {"initial": 512, "reserved": 512}}
ADOPT_SPARE = {"name": "spare", "domain": {"adopt": "spare"},
               "processors": {"initial": 3, "reserved": 6},
               "memory": {"initial": "3GiB", "reserved": "3GiB"}}


def prepare(partd):
    """The foreign domains in the test driver's node XML, and the
    profile an earlier partd left for "legacy"."""
    node = os.path.join(partd.cpc, "cpc.xml")
    with open(node) as f:
        text = f.read()
    with open(node, "w") as f:
        f.write(text.replace("</node>", FOREIGN + "</node>"))
    os.chmod(partd.parts_dir, 0o755)
    with open(os.path.join(partd.parts_dir, "legacy.json"), "w") as f:
        json.dump({"name": "legacy", "processors": {"initial": 2, "reserved": 2},
                   "memory": {"initial": "1GiB"}, "autostart": True}, f)


def event_seen(partd, kind, text):
    return any(e["kind"] == kind and text in e["message"]
               for e in partd.get("/v1/events")["events"])


def conflict(R, partd, label, rep, domain, group):
    """A 409 conflict whose detail names domain and the way to adopt it."""
    problem(R, label, rep, 409, "conflict", group=group)
    detail = (rep.json or {}).get("detail", "")
    R.check("%s: the detail names %s and domain.adopt" % (label, domain),
            domain in detail and "domain.adopt" in detail, detail, group=group)


def define(R, partd):
    before = state(partd)
    for name in ("spare", "guest"):
        rep = partd.request("POST", "/v1/partitions", dict(OVER, name=name))
        conflict(R, partd, "POST /v1/partitions named like the foreign domain %s" % name, rep,
                 name, "define")
    rep = partd.request("GET", "/v1/partitions/spare")
    R.check("no partition spare: 404", rep.status == 404, repr(rep), group="define")
    R.check("nothing changed: partitions and profile files as before", state(partd) == before,
            group="define")


def start(R, partd):
    legacy = partd.get("/v1/partitions/legacy")
    R.check("legacy's profile at start: managed_domain foreign, inactive (not taken as it runs)",
            legacy["managed_domain"] == "foreign" and legacy["state"] == "inactive",
            "%s %s" % (legacy["managed_domain"], legacy["state"]), group="start")
    R.check("an event says legacy's domain is not partd's",
            event_seen(partd, "foreign", "domain legacy exists and partd did not define it"),
            group="start")
    rep = partd.request("POST", "/v1/partitions/legacy/activate")
    conflict(R, partd, "activating legacy (a redefinition)", rep, "legacy", "start")
    R.check("legacy is still inactive and foreign",
            partd.get("/v1/partitions/legacy")["managed_domain"] == "foreign", group="start")


def other_routes(R, partd):
    """Only POST /v1/partitions takes a profile, and only from an admin: a
    domain.adopt anywhere else is refused or ignored (a route without a
    body), and adopts nothing."""
    before = state(partd)
    for role in ("viewer", "operator"):
        rep = partd.as_role(role).request("POST", "/v1/partitions", ADOPT_SPARE)
        problem(R, "adopting spare with the %s role's token" % role, rep, 403, "forbidden-role",
                group="routes")
    body = {"domain": {"adopt": "spare"}, "name": "spare", "scope": "profile"}
    for method, path in routes():
        if method not in ("POST", "PATCH", "PUT") or (method, path) == ("POST", "/v1/partitions"):
            continue
        rep = partd.request(method, path, body)
        R.check("%s %s with domain.adopt: %d, not 201" % (method, path, rep.status),
                rep.status != 201 and not (rep.json or {}).get("domain"), repr(rep),
                group="routes")
    adopted = [p["name"] for p in partd.partitions().values() if p["domain"] == "spare"]
    R.check("no partition has the domain spare", not adopted, repr(adopted), group="routes")
    R.check("nothing changed: partitions and profile files as before", state(partd) == before,
            group="routes")


def adopt(R, partd):
    rep = partd.request("POST", "/v1/partitions", ADOPT_SPARE)
    R.check("adopting spare explicitly (domain.adopt): 201", rep.status == 201, repr(rep),
            group="adopt")
    rep = partd.request("POST", "/v1/partitions/spare/activate")
    j = rep.json or {}
    R.check("spare activates with 3 processors and 3 GiB: its 6 and 3 GiB are intact",
            rep.status == 200 and j.get("processors", {}).get("online") == 3 and
            j.get("memory", {}).get("target") == 3072, repr(rep), group="adopt")
    rep = partd.request("POST", "/v1/partitions/spare/deactivate", {"force": True, "timeout": 0})
    R.check("spare deactivates: 200", rep.status == 200, repr(rep), group="adopt")
    rep = partd.request("DELETE", "/v1/partitions/spare")
    R.check("DELETE of the adopted spare: 204", rep.status == 204, repr(rep), group="adopt")
    R.check("an event says spare's domain was released",
            event_seen(partd, "undefined", "domain spare released, left as it is"),
            group="adopt")
    rep = partd.request("POST", "/v1/partitions", dict(OVER, name="spare"))
    conflict(R, partd, "released, spare is neither undefined nor marked: a define by its name",
             rep, "spare", "adopt")
    rep = partd.request("POST", "/v1/partitions", ADOPT_SPARE)
    R.check("released, spare is still defined: adopting it again is 201", rep.status == 201,
            repr(rep), group="adopt")
    partd.request("DELETE", "/v1/partitions/spare")


def release(R, partd):
    rep = partd.request("DELETE", "/v1/partitions/legacy")
    R.check("DELETE of the foreign legacy partition: 204", rep.status == 204, repr(rep),
            group="release")
    R.check("an event says legacy's domain was released",
            event_seen(partd, "undefined", "domain legacy released, left as it is"),
            group="release")
    rep = partd.request("POST", "/v1/partitions",
                        {"name": "legacy", "domain": {"adopt": "legacy"},
                         "processors": {"initial": 1, "reserved": 4},
                         "memory": {"initial": "1GiB"}})
    R.check("legacy is still defined: adopting it is 201", rep.status == 201, repr(rep),
            group="release")
    partd.request("DELETE", "/v1/partitions/legacy")


def marked(R, partd):
    for method, path, body, want in [
            ("POST", "/v1/partitions/dev/activate", None, 200),
            ("POST", "/v1/partitions/dev/deactivate", {"force": True, "timeout": 0}, 200),
            ("DELETE", "/v1/partitions/dev", None, 204)]:
        rep = partd.request(method, path, body)
        R.check("dev, defined by partd: %s %s: %d" % (method, path, want), rep.status == want,
                repr(rep), group="marked")
    R.check("an event says dev was undefined with its domain",
            event_seen(partd, "undefined", "undefined with its domain"), group="marked")
    rep = partd.request("POST", "/v1/partitions",
                        {"name": "dev2", "domain": {"adopt": "dev"},
                         "processors": {"initial": 1}, "memory": {"initial": 512}})
    problem(R, "dev's domain is gone: adopting it", rep, 422, "validation", group="marked")


def main():
    if len(sys.argv) < 2:
        print("usage: domains.py PARTD [PARTCTL]", file=sys.stderr)
        return 2
    R = Results("domains")
    partd = Partd(sys.argv[1], token=TOKEN)
    prepare(partd)

    def body():
        define(R, partd)
        start(R, partd)
        other_routes(R, partd)
        adopt(R, partd)
        release(R, partd)
        marked(R, partd)

    return session(R, partd, body, "partd starts", "partd stops with status 0")


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
