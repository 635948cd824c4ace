#!/usr/bin/python3
"""The web console in a browser: headless Chromium driven by Selenium
against partd on the test driver with the example CPC (tests/lib/partdtest.py),
signed in with a viewer's, an operator's and an admin's token in turn. The
CPU-demand shim of the reliability tests (tests/reliability/demand-shim.c)
gives the partitions a use: prod busy, web a little, batch idle, so that the
use bar, the sparklines and the charts have numbers and balanced a plan.

- viewer: the CPC overview and the partitions table show what
  `partctl -o json cpc` and `partctl -o json list` say; no action button on
  any view; the table sorts from the keyboard;
- operator: a resize of prod's processors in the form is shown per field,
  then the table, the partition's page and `partctl show prod` agree; a
  value over the bound shows partd's problem detail beside the field; the
  event reaches the live list within two intervals; a profile-scope resize
  (the scope offered removed by hand) shows partd's 403 naming the admin
  role; the policy is chosen from partd's list (GET /v1/policies), its
  preview (non-empty) is `partctl -o json plan --policy balanced`'s at the
  same monitor sample, and after the switch the plan shown is `partctl -o
  json plan`'s at the same sample;
- admin: the profile editor refuses a profile that breaks
  schemas/profile.schema.json before sending it, and defines a good one;
- everywhere: no console error (goog:loggingPrefs), no request to another
  origin (performance log and resource timing), the history charts have
  points after a few intervals, use among them, and follow the window's
  width when it is resized; a phone-wide window scrolls nowhere but
  inside the table.
Screenshots go to OUTDIR (console-*.png).

Usage: console.py PARTD PARTCTL DEMAND_SHIM [PROJECT_SOURCE_DIR] [OUTDIR]"""

import json
import math
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "reliability"))
from partdtest import Partd, Results, main_wrapper, session, skip  # noqa: E402
from partdlib import shim_env  # noqa: E402

CHROMEDRIVER = "/usr/bin/chromedriver"
INTERVAL = 1  # partd's: samples, and history points every 5 s


def demand(t):
    """What each partition uses t seconds into the test (demand-shim.c's
    file: NAME PROCESSORS MIB): prod busy (4 to 7 processors, in waves of
    30 s, for the sparklines and charts to have a shape), web a little,
    batch idle; balanced then has a plan (batch's cap leaves it processors
    it cannot use, the guests' memory is less than their targets)."""
    wave = math.sin(2 * math.pi * t / 30)
    return "prod %.2f 3072\nweb %.2f 1536\nbatch 0.1 512\n" % (5.5 + 1.5 * wave, 1.2 + 0.4 * wave)


class Demand(threading.Thread):
    """Rewrites the demand file every half second (atomically: the shim
    reads it at every sample) until stopped."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.start_t = time.monotonic()
        self.done = threading.Event()
        self.write()

    def write(self):
        with open(self.path + ".tmp", "w") as f:
            f.write(demand(time.monotonic() - self.start_t))
        os.replace(self.path + ".tmp", self.path)

    def run(self):
        while not self.done.wait(0.5):
            self.write()
R = Results("console")

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    webdriver = None


def browser():
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--window-size=1280,1000",
              "--disable-gpu", "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=o, service=Service(CHROMEDRIVER))


class Console:
    """The browser on partd's console, and partctl beside it."""

    def __init__(self, partd, partctl, outdir):
        self.partd = partd
        self.partctl_bin = partctl
        self.outdir = outdir
        self.base = "http://127.0.0.1:%d" % partd.port
        self.d = browser()
        self.logs = []  # browser log entries, read as we go (reading empties it)
        self.requests = []  # URLs the page asked for

    def close(self):
        self.d.quit()

    def partctl(self, *args, role="admin"):
        env = dict(os.environ, PARTD_SERVER=self.base, PARTD_TOKEN=self.partd.tokens[role])
        r = subprocess.run([self.partctl_bin, "-o", "json"] + list(args), capture_output=True,
                           text=True, env=env, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("partctl %s: %s" % (" ".join(args), r.stderr))
        return json.loads(r.stdout)

    def drain_logs(self):
        self.logs += self.d.get_log("browser")
        for e in self.d.get_log("performance"):
            m = json.loads(e["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                self.requests.append(m["params"]["request"]["url"])

    def wait(self, fn, timeout=10, what="the page"):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda d: fn())
        except TimeoutException:
            return None

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def go(self, hash_, view):
        self.js("document.body.dataset.loaded = ''; location.hash = arguments[0]", hash_)
        return self.wait(lambda: self.js("return document.body.dataset.loaded") == view)

    def sign_in(self, role):
        self.d.get(self.base + "/")
        # the page signs in again with the tab's token, if it has one
        self.wait(lambda: self.js("return document.body.dataset.loaded || "
                                  "!document.getElementById('signin').hidden"))
        if self.js("return !document.getElementById('signout').hidden"):
            self.d.find_element(By.ID, "signout").click()
        self.d.find_element(By.ID, "token").send_keys(self.partd.tokens[role])
        self.d.find_element(By.ID, "token").send_keys(Keys.ENTER)  # the keyboard signs in
        ok = self.wait(lambda: self.js("return document.body.dataset.loaded") == "view-overview"
                       and self.js("return document.getElementById('who').textContent") == role)
        R.check("%s: signs in with the token; the page shows the role" % role, ok,
                self.js("return document.body.innerText")[:300])

    def text(self, css):
        """The rendered text of css's first match (None when none), read in
        one script: the page redraws under the test every refresh."""
        return self.js("const e = document.querySelector(arguments[0]);"
                       "return e ? e.innerText.replace(/\\s+/g, ' ').trim() : null", css)

    def shot(self, name):
        path = os.path.join(self.outdir, "console-%s.png" % name)
        self.d.save_screenshot(path)
        R.note("screenshot %s" % path)

    def action_buttons(self):
        """Buttons of the views but the table's sort buttons."""
        return self.js("return [...document.querySelectorAll('main button')]"
                       ".filter(b => !b.dataset.sort && b.offsetParent !== null)"
                       ".map(b => b.id || b.textContent)")


def fixed(x):
    return "–" if x is None else "%.2f" % x


def mib(x):
    if x is None:
        return "–"
    if x >= 1024:
        return ("%.1f GiB" % (x / 1024)) if x % 1024 else "%d GiB" % (x // 1024)
    return "%d MiB" % x


def expected_row(p):
    run = p["state"] == "active"
    return {"state": p["state"], "mode": p["mode"],
            "online": str(p["processors"]["online"]) if run else "–",
            "weight": str(p["weight"]["current"]) if p["weight"] and run else "–",
            "entitlement": fixed(p["entitlement"]),
            "memory": mib(p["memory"]["target"]), "group": p["group"] or "–"}


def table_rows(c):
    return c.js("""const out = {};
        for (const tr of document.querySelectorAll('#partition-rows tr')) {
          const r = {};
          for (const td of tr.querySelectorAll('td[data-col]')) r[td.dataset.col] = td.textContent;
          out[tr.dataset.name] = r;
        }
        return out;""")


def refused(c):
    c.d.get(c.base + "/")
    c.d.find_element(By.ID, "token").send_keys("not-a-token" + Keys.ENTER)
    ok = c.wait(lambda: "401" in (c.text("#signin-error") or ""))
    R.check("a wrong token: the sign-in form again, saying it was refused (401)",
            ok and c.js("return !document.getElementById('signin').hidden && "
                        "sessionStorage.getItem('partd.token') === null"),
            c.text("#signin-error"))


def viewer(c):
    c.sign_in("viewer")
    listed = {p["name"]: p for p in c.partctl("list", role="viewer")["partitions"]}
    cpc = c.partctl("cpc", role="viewer")
    rows = table_rows(c)
    R.check("viewer: the table has partctl list's partitions", set(rows) == set(listed),
            "%r / %r" % (sorted(rows), sorted(listed)))
    bad = []
    for name, p in listed.items():
        want, got = expected_row(p), rows.get(name, {})
        bad += ["%s.%s: %r, partctl %r" % (name, k, got.get(k), v) for k, v in want.items()
                if got.get(k) != v]
    R.check("viewer: each row shows partctl list's state, mode, processors, weight, "
            "entitlement, memory, group", not bad, "; ".join(bad))
    shared = [p for p in listed.values() if p["state"] == "active" and p["mode"] == "shared"]
    pool = cpc["processors"]["pool"]
    want = "%.2f / %d" % (sum(p["entitlement"] for p in shared), pool)
    R.check("viewer: the pool bar's entitlement is partctl's (%s)" % want,
            c.text("#pool-entitled") == want, c.text("#pool-entitled"))
    segs = c.js("return document.querySelectorAll('#pool .bar')[0].children.length")
    R.check("viewer: the pool bar has a segment per active shared partition",
            segs == len(shared), "%r / %d" % (segs, len(shared)))
    pr = cpc["processors"]
    R.check("viewer: processors, memory, partitions, backend as partctl cpc says",
            c.text("#cpc-processors") == "%d (host %d, pool %d, dedicated %d)" % (
                pr["host"], pr["host_reserved"], pool, pr["dedicated"]) and
            c.text("#cpc-memory") == "assigned %s, free %s, host %s" % (
                mib(cpc["memory"]["active"]), mib(cpc["memory"]["free"]),
                mib(cpc["memory"]["host_reserved"])) and
            c.text("#cpc-partitions") == "%d of %d active" % (
                cpc["partitions"]["active"], cpc["partitions"]["defined"]) and
            c.text("#cpc-backend") == cpc["backend"],
            [c.text(x) for x in ("#cpc-processors", "#cpc-memory", "#cpc-partitions",
                                 "#cpc-backend")])
    g = cpc["groups"][0]
    R.check("viewer: the group %s with its cap and members" % g["name"],
            c.text('tr[data-group="%s"]' % g["name"]) ==
            "%s %s %.2f %d %s" % (g["name"], fixed(g["cap"]), sum(
                listed[m]["entitlement"] for m in g["members"]), g["weight_total"],
                ", ".join(g["members"])), c.text('tr[data-group="%s"]' % g["name"]))
    # sorting from the keyboard: Enter on the Entitled header, twice
    b = c.d.find_element(By.CSS_SELECTOR, 'button[data-sort="entitlement"]')
    b.send_keys(Keys.ENTER)
    order = c.js("return [...document.querySelectorAll('#partition-rows tr')]"
                 ".map(t => t.dataset.name)")
    want = [p["name"] for p in sorted(listed.values(), key=lambda p: p["entitlement"])]
    R.check("viewer: Enter on a header sorts the table by it", order == want,
            "%r / %r" % (order, want))
    c.d.find_element(By.CSS_SELECTOR, 'button[data-sort="entitlement"]').send_keys(Keys.ENTER)
    order = c.js("return [...document.querySelectorAll('#partition-rows tr')]"
                 ".map(t => t.dataset.name)")
    R.check("viewer: again, in the other order", order == want[::-1], repr(order))
    found = {"overview": c.action_buttons()}
    c.go("#/partition/prod", "view-partition")
    found["partition"] = c.action_buttons()
    c.go("#/policy", "view-policy")
    found["policy"] = c.action_buttons()
    R.check("viewer: no action button on any view", not any(found.values()), repr(found))
    c.go("#/", "view-overview")


def resize(c):
    c.sign_in("operator")
    c.go("#/partition/prod", "view-partition")
    before = c.partctl("show", "prod")["processors"]["online"]
    to = before + 2
    box = c.d.find_element(By.ID, "in-processors")
    box.clear()
    box.send_keys(str(to))
    c.d.find_element(By.ID, "resize-submit").click()
    c.wait(lambda: c.text('#changes tr[data-field="processors"]'))
    done = time.monotonic()
    row = c.text('#changes tr[data-field="processors"]')
    R.check("operator: the reply shows processors running %d -> %d applied" % (before, to),
            row == "processors running %d %d applied" % (before, to), row)
    shown = c.partctl("show", "prod")
    R.check("operator: partctl show prod has %d processors online" % to,
            shown["processors"]["online"] == to, shown["processors"])
    ok = c.wait(lambda: c.text('#bounds tr[data-field="processors"] td') == str(to))
    R.check("operator: the partition's page shows %d running" % to, ok,
            c.text('#bounds tr[data-field="processors"]'))
    # the event, on the page's live list, within two intervals of the reply
    seen = c.wait(lambda: "processors" in (c.text('#part-events li[data-kind="resized"]') or ""),
                  timeout=10)
    late = time.monotonic() - done
    R.check("operator: the resize reaches the live event list within two intervals "
            "(%.1f s)" % late, seen and late <= 2 * INTERVAL,
            c.text("#part-events"))
    # over the bound: partd's problem, beside the field it names
    over = shown["processors"]["reserved"] + 1
    rep = c.partd.as_role("operator").request("PATCH", "/v1/partitions/prod",
                                              {"processors": over, "scope": "running"})
    box = c.d.find_element(By.ID, "in-processors")
    box.clear()
    box.send_keys(str(over))
    c.d.find_element(By.ID, "resize-submit").click()
    c.wait(lambda: c.text("#err-processors"))
    R.check("operator: %d processors (over reserved) shows partd's 422 detail beside the "
            "field" % over, rep.status == 422 and
            c.text("#err-processors") == rep.json.get("detail"),
            "%r / %r" % (c.text("#err-processors"), rep))
    c.go("#/", "view-overview")
    R.check("operator: the table shows %d processors for prod" % to,
            table_rows(c).get("prod", {}).get("online") == str(to), table_rows(c).get("prod"))
    c.go("#/partition/prod", "view-partition")
    scopes = c.js("return [...document.querySelectorAll('#in-scope option')].map(o => o.value)")
    R.check("operator: the scope offered is running only", scopes == ["running"], repr(scopes))
    # activate and deactivate dev with the buttons
    c.go("#/partition/dev", "view-partition")
    for button, state in (("activate", "active"), ("deactivate", "inactive")):
        c.wait(lambda: c.js("const b = document.getElementById(arguments[0]);"
                            "return b && !b.disabled", button))
        c.d.find_element(By.ID, button).click()
        ok = c.wait(lambda: (c.text("#part-state") or "").startswith(state + " "), timeout=15)
        got = c.partctl("show", "dev")["state"]
        R.check("operator: %s dev with its button: the page and partctl show dev %s"
                % (button, state), ok and got == state, "%r / partctl %r%s" % (
                    c.text("#part-state"), got, c.text("#resize-error") or ""))


def forbidden(c):
    """An operator's page asks for what needs admin (the scope the page does
    not offer, put back by hand as a stale or edited page would): partd
    refuses and the page says which role it takes."""
    c.go("#/partition/prod", "view-partition")
    # the form of prod (a refresh of dev's page may have answered the go)
    c.wait(lambda: c.text("#part-title") == "prod" and
           c.js("const w = document.getElementById('in-weight'); return w && w.value !== ''"))
    c.js("const s = document.getElementById('in-scope');"
         "s.append(new Option('profile', 'profile')); s.value = 'profile'")
    box = c.d.find_element(By.ID, "in-weight")
    weight = int(box.get_attribute("value"))
    box.clear()
    box.send_keys(str(weight + 1))
    c.d.find_element(By.ID, "resize-submit").click()
    c.wait(lambda: c.text("#resize-error"))
    shown = c.text("#resize-error") or ""
    R.check("operator: a profile-scope resize shows partd's 403, naming the admin role",
            shown.startswith("needs the admin role (this token's is operator): ") and
            "needs the admin role; this token's role is operator" in shown, shown)


def same_sample(c, page, args):
    """The plan the page shows (page(): its JSON) and partctl's, read at the
    same monitor sample; page() is called again after each try (it may ask
    partd again). None, None when no try met."""
    for _ in range(20):
        shown = page()
        cli = c.partctl(*args)
        if shown and shown.get("sample") == cli.get("sample"):
            return shown, cli
        time.sleep(0.2)
    return None, None


def preview_shown(c):
    """Clicks Preview and returns the plan the page shows (None if none)."""
    c.js("delete document.getElementById('policy-preview').dataset.plan")
    c.d.find_element(By.ID, "policy-preview-btn").click()
    c.wait(lambda: c.js("return document.getElementById('policy-preview').dataset.plan"))
    text = c.js("return document.getElementById('policy-preview').dataset.plan")
    return json.loads(text) if text else None


def policy(c):
    c.go("#/policy", "view-policy")
    listed = c.partctl("policy", "--list", role="operator")
    options = c.js("return [...document.querySelectorAll('#policy-select option')]"
                   ".map(o => [o.value, o.dataset.active === '1'])")
    R.check("operator: the switch offers partd's policies (GET /v1/policies), static in force",
            options == [[p["name"], p["active"]] for p in listed["policies"]] and
            ["static", True] in options and ["balanced", False] in options, repr(options))
    Select(c.d.find_element(By.ID, "policy-select")).select_by_value("balanced")
    preview, cli = same_sample(c, lambda: preview_shown(c), ("plan", "--policy", "balanced"))
    rows = c.js("return document.querySelectorAll('#policy-preview tbody tr').length")
    R.check("operator: the preview is balanced's, a row per action (%d)" % rows,
            preview and preview.get("policy") == "balanced" and rows == len(preview["actions"]),
            "%r rows %r" % (preview, rows))
    R.check("operator: the preview (%d actions) is partctl plan --policy balanced's at the "
            "same sample (%s)" % (len(preview["actions"]) if preview else 0,
                                  preview and preview.get("sample")),
            preview and preview["actions"] and preview == cli, "%r / %r" % (preview, cli))
    R.check("operator: previewing switched nothing",
            c.partd.get("/v1/policy")["name"] != "balanced", "")
    c.d.find_element(By.ID, "policy-apply").click()
    c.wait(lambda: c.text("#policy-switched"))
    R.check("operator: switched", c.partd.get("/v1/policy")["name"] == "balanced",
            c.text("#policy-error"))
    c.wait(lambda: c.text("#policy-name") == "balanced")
    R.check("operator: the page shows balanced in force", c.text("#policy-name") == "balanced",
            c.text("#policy-name"))

    def plan_now():
        text = c.js("return document.getElementById('plan-now').dataset.plan")
        return json.loads(text) if text else None
    shown, cli = same_sample(c, plan_now, ("plan",))
    R.check("operator: the plan shown in force (%s actions) is partctl -o json plan's at the "
            "same sample" % (len(shown["actions"]) if shown else "no"),
            shown and shown["policy"] == "balanced" and shown == cli, "%r / %r" % (shown, cli))
    ok = c.wait(lambda: "static -> balanced" in (c.text('#events li[data-kind="policy"]') or ""))
    R.check("operator: the switch is on the live event list", ok, c.text("#events"))


def define(c):
    c.sign_in("admin")
    area = c.d.find_element(By.ID, "profile")
    area.clear()
    area.send_keys('{"name": "new1", "processors": {"initial": 1}}')
    c.d.find_element(By.ID, "define-submit").click()
    c.wait(lambda: c.text("#define-errors"))
    errs = c.text("#define-errors") or ""
    listed = {p["name"] for p in c.partctl("list")["partitions"]}
    R.check("admin: a profile without memory is refused in the page, naming it, not sent",
            "memory" in errs and "new1" not in listed, errs)
    area.clear()
    area.send_keys(json.dumps({"name": "new1", "processors": {"initial": 1, "reserved": 2},
                               "weight": {"initial": 100},
                               "memory": {"initial": "1GiB", "reserved": "2GiB"}}))
    c.d.find_element(By.ID, "define-submit").click()
    c.wait(lambda: c.text("#define-result"))
    listed = {p["name"] for p in c.partctl("list")["partitions"]}
    R.check("admin: a good profile is defined", "new1" in listed and
            "defined new1" in (c.text("#define-result") or ""), c.text("#define-result"))
    ok = c.wait(lambda: "new1" in table_rows(c))
    R.check("admin: it appears in the table", ok, repr(table_rows(c).keys()))
    scopes = c.go("#/partition/prod", "view-partition") and c.js(
        "return [...document.querySelectorAll('#in-scope option')].map(o => o.value)")
    R.check("admin: scopes running, both, profile offered",
            scopes == ["running", "both", "profile"], repr(scopes))


def used_points(c):
    """prod's history's points with a use (the first has none: a rate
    needs two samples)."""
    return [u for u in c.partd.get("/v1/partitions/prod/history")["samples"]["used"] if u]


def charts_and_narrow(c):
    c.go("#/partition/prod", "view-partition")
    # three points of use, each shown (a point every 5 s)
    c.wait(lambda: len(used_points(c)) >= 3, timeout=25)
    ok = c.wait(lambda: int(c.js("return document.getElementById('charts').dataset.points || 0"))
                >= 4, timeout=10)
    R.check("the partition's charts have points after a few intervals (%s)" %
            c.js("return document.getElementById('charts').dataset.points"), ok and
            c.js("return document.querySelectorAll('#charts canvas').length") == 3, "")
    used = used_points(c)
    R.check("prod's history has its use (%d samples, the last %.2f processors)" % (
        len(used), used[-1] if used else 0), len(used) >= 3 and min(used) > 3, repr(used))
    c.shot("partition")
    wide = int(c.js("return document.getElementById('charts').dataset.width"))
    c.d.set_window_size(800, 1000)
    ok = c.wait(lambda: int(c.js("return document.getElementById('charts').dataset.width"))
                < wide, timeout=5)
    fits = c.js("return [...document.querySelectorAll('#charts .chart')].every(d => "
                "d.querySelector('.uplot').offsetWidth <= d.clientWidth)")
    R.check("the window resized (1280 -> 800 px): the charts redraw to their columns "
            "(%s -> %s px)" % (wide, c.js("return document.getElementById('charts').dataset.width")),
            ok and fits, "")
    c.d.set_window_size(390, 844)
    c.go("#/", "view-overview")
    time.sleep(0.3)
    over = c.js("return document.documentElement.scrollWidth - window.innerWidth")
    R.check("a phone-wide window (390 px): nothing scrolls sideways but the table",
            over <= 0, "%s px too wide" % over)
    c.shot("narrow")
    c.d.set_window_size(1280, 1000)
    c.sign_in("viewer")  # the overview again, with a few intervals of history
    c.wait(lambda: c.js("return document.querySelectorAll('#partition-rows svg polyline').length")
           >= 4)
    listed = {p["name"]: p for p in c.partctl("list", role="viewer")["partitions"]}
    pool = c.partctl("cpc", role="viewer")["processors"]["pool"]
    rows = table_rows(c)
    R.check("the use bar and the Use column show the demand (prod busy, batch idle): %s" %
            c.text("#pool-used"), (c.text("#pool-used") or "–").split(" / ")[0] != "–" and
            c.text("#pool-used").endswith(" / %d" % pool) and
            float(rows["prod"]["used"]) > 3 and float(rows["batch"]["used"]) < 0.5 and
            abs(float(rows["prod"]["used"]) - listed["prod"]["utilisation"]["used"]) < 1.5,
            "%r %r" % (c.text("#pool-used"), {n: r.get("used") for n, r in rows.items()}))
    c.shot("overview")


def hygiene(c):
    c.drain_logs()
    # Chromium logs every 4xx reply as a network error: the wrong token's 401
    # the 422 and the 403 the test asked for are expected, nothing else
    provoked = ["%s%s - Failed to load resource: the server responded with a status of %d"
                % (c.base, path, status) for path, status in (
                    ("/v1/whoami", 401), ("/v1/partitions/prod", 422),
                    ("/v1/partitions/prod", 403))]
    errors = [e for e in c.logs if e["level"] in ("SEVERE", "WARNING") and not (
        e["source"] == "network" and any(e["message"].startswith(p) for p in provoked))]
    R.check("no error or warning in the browser's console (%d entries, %d of them the "
            "test's 401, 422 and 403)" % (len(c.logs), sum(1 for e in c.logs if e["source"] == "network")),
            not errors, json.dumps(errors)[:800])
    timing = c.js("return performance.getEntriesByType('resource').map(e => e.name)")
    others = [u for u in c.requests + timing if not u.startswith(c.base + "/")]
    R.check("no request to another origin (%d requests seen)" % len(c.requests + timing),
            c.requests and not others, repr(others[:10]))


def reconnect(c):
    """partd restarts under an open console: the stream breaks, the page
    reconnects, and partd's new events (seqs from 1 again) reach the list."""
    c.go("#/policy", "view-policy")
    c.partd.stop()
    err = c.partd.start(env=c.partd.env)
    if not R.check("partd restarts on the same port", err is None, err):
        return
    c.partd.request("PATCH", "/v1/partitions/dev", {"memory": "3GiB", "scope": "profile"})
    ok = c.wait(lambda: "dev" in (c.text('#events li[data-kind="resized"]') or "") and
                "3072" in (c.text('#events li[data-kind="resized"]') or ""), timeout=15)
    R.check("after the restart the page reconnects and the new event reaches the list", ok,
            c.text("#events")[:300] if c.text("#events") else "")
    c.drain_logs()
    again = [u for u in c.requests if "/v1/events?follow=1&since=" in u]
    R.check("the page reconnected with since= (%d times)" % len(again), again, "")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if webdriver is None:
        return skip("needs python3-selenium")
    if not os.path.exists(CHROMEDRIVER):
        return skip("needs %s (chromium-driver)" % CHROMEDRIVER)
    binary, partctl, shim = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    src = os.path.abspath(sys.argv[4]) if len(sys.argv) > 4 else None
    outdir = os.path.abspath(sys.argv[5] if len(sys.argv) > 5 else ".")
    os.makedirs(outdir, exist_ok=True)
    partd = Partd(binary, interval=INTERVAL, **({"src": src} if src else {}))
    load = Demand(os.path.join(partd.tmp, "demand"))
    # sanitized: in an ASan build the shim comes before libasan (harmless
    # in the others)
    partd.env = shim_env(shim, load.path, sanitized=True)

    def body():
        try:
            c = Console(partd, partctl, outdir)
        except WebDriverException as e:
            R.check("Chromium starts", False, str(e))
            return
        load.start()
        try:
            # hygiene before the restart: the page's requests fail while partd is down
            for step in (refused, viewer, resize, forbidden, policy, define, charts_and_narrow,
                         hygiene, reconnect):
                step(c)
                c.drain_logs()
        finally:
            load.done.set()
            c.close()

    return session(R, partd, body, env=partd.env)


if __name__ == "__main__":
    main_wrapper(main)
