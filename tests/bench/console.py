#!/usr/bin/python3
"""The console's costs (docs/BENCHMARKS.md, "Console"), each beside a
baseline measured in the same run, on loopback, against partd on the test
driver with the example CPC (tests/lib/partdtest.py):

1. bytes of a cold load: every URL headless Chromium fetched to render the
   table, fetched again with and without Accept-Encoding: gzip (bodies and
   headers), and Chromium's own count (encodedDataLength);
2. time to the first rendered table (the page's performance mark
   "partd-table", from navigation start), median of N cold loads (browser
   cache cleared), against the time to load GET /v1/health in the same tab;
3. partd's CPU (utime+stime from /proc/PID/stat) over DURATION seconds with
   one console open on the overview, against a second partd, started at the
   same time on its own copy of the CPC, with none.

Usage: console.py BUILD_DIR [--loads N] [--duration SECONDS]
(defaults: 9 loads, 600 s). Needs chromium, chromium-driver and
python3-selenium (/usr/bin/python3)."""

import argparse
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def browser():
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--window-size=1280,1000", "--disable-gpu",
              "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=o, service=Service("/usr/bin/chromedriver"))


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def table_ms(d):
    WebDriverWait(d, 20, poll_frequency=0.02).until(
        lambda d: d.execute_script("return performance.getEntriesByName('partd-table').length"))
    return d.execute_script("return performance.getEntriesByName('partd-table')[0].startTime")


def sign_in(d, base, token):
    d.get(base + "/v1/health")  # same origin: sessionStorage is the page's
    d.execute_script("sessionStorage.setItem('partd.token', arguments[0])", token)


def cold_load(d, base):
    """Loads the console with an empty cache; returns (ms to the table, URLs
    fetched, Chromium's byte count)."""
    d.get_log("performance")
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.clearBrowserCache", {})
    d.get(base + "/")
    ms = table_ms(d)
    urls, size = [], 0
    for e in d.get_log("performance"):
        m = json.loads(e["message"])["message"]
        if m["method"] == "Network.requestWillBeSent":
            urls.append(m["params"]["request"]["url"])
        elif m["method"] == "Network.loadingFinished":
            size += m["params"]["encodedDataLength"]
    return ms, urls, size


def health_ms(d, base):
    d.execute_cdp_cmd("Network.clearBrowserCache", {})
    d.get(base + "/v1/health")
    return d.execute_script("const n = performance.getEntriesByType('navigation')[0];"
                            "return n.responseEnd - n.startTime")


def refetch(port, token, urls, gz):
    """Bytes (status line and headers, body) of urls fetched again."""
    head = body = 0
    for u in urls:
        path = u.split(str(port), 1)[1]
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        h = {"Authorization": "Bearer " + token} if path.startswith("/v1/") else {}
        if gz:
            h["Accept-Encoding"] = "gzip"
        c.request("GET", path, headers=h)
        r = c.getresponse()
        data = r.read()
        head += len("HTTP/1.1 %d %s\r\n" % (r.status, r.reason)) + sum(
            len(k) + len(v) + 4 for k, v in r.getheaders()) + 2
        body += len(data)
        c.close()
    return head, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--loads", type=int, default=9)
    ap.add_argument("--duration", type=float, default=600)
    a = ap.parse_args()
    binary = os.path.join(a.build, "partd", "partd")
    with_console, without = Partd(binary), Partd(binary)
    for p in (with_console, without):
        err = p.start()
        if err:
            sys.exit(err)
    d = browser()
    try:
        base = "http://127.0.0.1:%d" % with_console.port
        token = with_console.tokens["viewer"]
        sign_in(d, base, token)
        loads = [cold_load(d, base) for _ in range(a.loads)]
        bases = [health_ms(d, base) for _ in range(a.loads)]
        # the event stream stays open: counted by Chromium, not fetched again
        urls = [u for u in loads[-1][1] if u.startswith(base) and "follow=1" not in u]
        plain = refetch(with_console.port, token, urls, False)
        gz = refetch(with_console.port, token, urls, True)
        t, b = statistics.median(x[0] for x in loads), statistics.median(bases)
        print("cold load: %d requests (and the event stream); bodies %d B plain, %d B gzip; with headers %d B plain, "
              "%d B gzip; Chromium counted %d B" % (len(urls), plain[1], gz[1], sum(plain),
                                                    sum(gz), loads[-1][2]))
        print("first rendered table: median %.1f ms of %d cold loads (min %.1f, max %.1f); "
              "GET /v1/health in the same tab: median %.1f ms; ratio %.1f" % (
                  t, a.loads, min(x[0] for x in loads), max(x[0] for x in loads), b, t / b))
        sys.stdout.flush()
        # the CPU: one console open on the overview beside a partd with none
        d.get(base + "/")
        table_ms(d)
        hz = os.sysconf("SC_CLK_TCK")
        t0 = time.monotonic()
        c0, n0 = cpu_ticks(with_console.proc.pid), cpu_ticks(without.proc.pid)
        time.sleep(a.duration)
        c1, n1 = cpu_ticks(with_console.proc.pid), cpu_ticks(without.proc.pid)
        secs = time.monotonic() - t0
        cw, cn = (c1 - c0) / hz, (n1 - n0) / hz
        print("partd CPU over %.0f s: %.2f s with one console open (%.3f %%), %.2f s with "
              "none (%.3f %%): +%.2f s, %.1fx" % (secs, cw, 100 * cw / secs, cn,
                                                   100 * cn / secs, cw - cn,
                                                   cw / cn if cn else float("inf")))
        rows = d.execute_script("return document.querySelectorAll('#partition-rows tr').length")
        print("the console still shows %d partitions" % rows)
    finally:
        d.quit()
        for p in (with_console, without):
            p.cleanup()


if __name__ == "__main__":
    main()
