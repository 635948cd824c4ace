#!/usr/bin/python3
"""The console's files as partd serves them (partd/api-console.c): GET /
and /console/BUNDLE/NAME without a token, their headers (CSP, nosniff,
no-referrer, caching), ETag revalidation (304), gzip when asked, 404 for
what is not compiled in, the Host and Origin checks still in front, and
the page's own origin let through to /v1.

Usage: test_console.py PARTD [PROJECT_SOURCE_DIR]"""

import gzip
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, session  # noqa: E402

TOKEN = "console-test-token-77a1c3"
SRC_DIR = None  # the project's directory (main)
R = Results()


def security_headers(label, rep):
    h = rep.headers
    csp = h.get("content-security-policy", "")
    R.check("%s: Content-Security-Policy default-src 'self', frame-ancestors 'none', no inline"
            % label, "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and
            "unsafe-inline" not in csp, csp)
    R.check("%s: X-Content-Type-Options nosniff, Referrer-Policy no-referrer" % label,
            h.get("x-content-type-options") == "nosniff" and
            h.get("referrer-policy") == "no-referrer", repr(h))


def index(partd):
    rep = partd.request("GET", "/", auth=None)
    R.check("GET / without a token: 200 text/html", rep.status == 200 and
            rep.headers.get("content-type", "").startswith("text/html"), repr(rep))
    security_headers("GET /", rep)
    R.check("GET /: Cache-Control no-cache, an ETag, Vary Accept-Encoding",
            rep.headers.get("cache-control") == "no-cache" and rep.headers.get("etag") and
            rep.headers.get("vary") == "Accept-Encoding", repr(rep.headers))
    page = rep.body.decode()
    refs = re.findall(r'(?:src|href)="(/console/[^"]+)"', page)
    R.check("GET /: the page names its files under /console/BUNDLE/", len(refs) >= 2 and
            "@BUNDLE@" not in page, repr(refs))
    R.check("GET /: no inline script", not re.search(r"<script(?![^>]*\bsrc=)", page), page)
    etag = rep.headers.get("etag")
    rep = partd.request("GET", "/", auth=None, headers={"If-None-Match": etag})
    R.check("GET / with If-None-Match: 304, no body, the same ETag",
            rep.status == 304 and not rep.body and rep.headers.get("etag") == etag, repr(rep))
    rep = partd.request("GET", "/", auth=None, headers={"If-None-Match": '"other", ' + etag})
    R.check("GET / with the ETag second in If-None-Match: 304", rep.status == 304, repr(rep))
    rep = partd.request("GET", "/", auth=None, headers={"If-None-Match": '"other"'})
    R.check("GET / with another ETag: 200", rep.status == 200, repr(rep))
    rep = partd.request("GET", "/", auth=None, headers={"Accept-Encoding": "br, gzip"})
    R.check("GET / with Accept-Encoding gzip: gzipped, the same page",
            rep.headers.get("content-encoding") == "gzip" and
            gzip.decompress(rep.body).decode() == page, repr(rep.headers))
    rep = partd.request("GET", "/", auth=None, headers={"Accept-Encoding": "gzip;q=0"})
    R.check("GET / with gzip;q=0: not gzipped", "content-encoding" not in rep.headers and
            rep.body.decode() == page, repr(rep.headers))
    return refs


def assets(partd, refs):
    for ref in refs:
        rep = partd.request("GET", ref, auth=None, headers={"Accept-Encoding": "gzip"})
        body = gzip.decompress(rep.body) if rep.headers.get("content-encoding") == "gzip" \
            else rep.body
        R.check("GET %s without a token: 200, cached for a year, immutable" % ref,
                rep.status == 200 and body and
                rep.headers.get("cache-control") == "public, max-age=31536000, immutable",
                repr(rep))
        security_headers("GET %s" % ref, rep)
        rep2 = partd.request("GET", ref, auth=None, headers={"If-None-Match": rep.headers["etag"]})
        R.check("GET %s with its ETag: 304" % ref, rep2.status == 304, repr(rep2))
    bundle = refs[0].split("/")[2]
    rep = partd.request("GET", "/console/%s/vendor/uplot/uPlot.esm.js" % bundle, auth=None)
    R.check("the vendored uPlot is served as a JavaScript module",
            rep.status == 200 and rep.headers.get("content-type", "").startswith(
                "text/javascript") and b"export" in rep.body and b"uPlot" in rep.body, repr(rep))
    rep = partd.request("GET", "/console/%s/schemas/profile.schema.json" % bundle, auth=None)
    with open(os.path.join(SRC_DIR, "schemas", "profile.schema.json"), "rb") as f:
        schema = f.read()
    R.check("the profile schema is served with the console, as application/json, the "
            "same bytes as schemas/profile.schema.json", rep.status == 200 and
            rep.headers.get("content-type") == "application/json" and rep.body == schema,
            repr(rep))
    rep = partd.request("GET", "/console/%s/vendor/json-schema/index.js" % bundle, auth=None)
    R.check("the vendored @cfworker/json-schema is served as a JavaScript module",
            rep.status == 200 and b"export" in rep.body, repr(rep))
    for path in ["/console/%s/nothing.js" % bundle, "/console/000000000000/app.js",
                 "/console/%s/index.html" % bundle, "/console/%s/../app.js" % bundle,
                 "/console/", "/index.html", "/console/%s/vendor/fetch.sh" % bundle]:
        rep = partd.request("GET", path, auth=None)
        R.check("GET %s: 404 problem" % path, rep.status == 404 and
                rep.headers.get("content-type") == "application/problem+json", repr(rep))
    rep = partd.request("POST", "/", b"{}", auth=None)
    R.check("POST /: 405", rep.status == 405, repr(rep))


def browsers(partd):
    own = "http://127.0.0.1:%d" % partd.port
    rep = partd.request("GET", "/", auth=None, headers={"Origin": "https://evil.example"})
    R.check("GET / from a foreign Origin: 403", rep.status == 403, repr(rep))
    rep = partd.request("GET", "/", auth=None, headers={"Host": "evil.example:%d" % partd.port})
    R.check("GET / with Host evil.example: 421", rep.status == 421, repr(rep))
    rep = partd.request("GET", "/v1/cpc", headers={"Origin": own})
    R.check("GET /v1/cpc from the page's own origin (%s): 200" % own, rep.status == 200,
            repr(rep))
    rep = partd.request("GET", "/v1/cpc", headers={"Origin": "http://127.0.0.1:%d" %
                                                   (partd.port + 1)})
    R.check("GET /v1/cpc from another port's origin: 403", rep.status == 403, repr(rep))
    rep = partd.request("GET", "/v1/cpc", auth=None, headers={"Origin": own})
    R.check("GET /v1/cpc from the page's own origin without a token: 401", rep.status == 401,
            repr(rep))


def main():
    if len(sys.argv) < 2:
        print("usage: test_console.py PARTD [PROJECT_SOURCE_DIR]", file=sys.stderr)
        return 2
    global SRC_DIR
    src = SRC_DIR = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    partd = Partd(os.path.abspath(sys.argv[1]), src=src, token=TOKEN)

    def sections():
        refs = index(partd)
        if refs:
            assets(partd, refs)
        browsers(partd)

    return session(R, partd, sections, "partd starts and answers /v1/health",
                   "partd stops with status 0 at the end", timeout=15)


if __name__ == "__main__":
    sys.exit(main())
