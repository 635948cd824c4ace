#!/usr/bin/python3
"""Attacks on partd from outside, each of which must fail (docs/security.md).

partd runs on libvirt's test driver with the example CPC, a token, and one
allowed origin and host name. From a client on loopback:

- tokens: every guarded route of the router (read from partd/api.c with
  its role, so a new route cannot escape) answers 401 to no token, a wrong
  token and another scheme, 403 naming both roles to a token of a lower
  role than its own, and lets its role and higher ones in; a PATCH of the
  profile needs admin, of the running values operator;
- socket: the UNIX socket is 0660 in socket_group, whose members may
  connect (others may not), a token is still needed there, and events and
  log lines name the caller's role and uid;
- browsers (a web page the administrator visits, DNS rebinding): bodies
  that are not application/json (form-encoded, text/plain, none, even
  empty) are 415; a foreign Origin is 403 and a Host that names another
  host is 421, on every route of the router (read from partd/api.c, so a
  new route cannot escape); nothing changes;
- limits: 70 event followers: 64 stream, the others get 503 with
  Retry-After, and other requests are answered meanwhile;
- output: control characters from outside (a profile's key, a request's
  policy name) reach partd's log and partctl's output escaped;
- files: partd refuses to start on a state or partitions directory that
  others may write, that another user owns, or that is a link, on a token
  file that others may read, that another user owns, or whose token is too
  long (refused, not cut), empty or not visible ASCII, on a TCP listener
  with no role's token, two roles with one token, an unknown role or
  socket_group, and a socket_group without tokens; it says which file and
  why.

Prints "N passed, N failed"; exit 1 on any failure."""

import grp
import json
import os
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, host_header, main_wrapper, session  # noqa: E402
from attack import (HOST_NAME, ORIGIN, ROLES, TOKEN, problem, refused_start,  # noqa: E402
                    route_roles, routes, state)

# A body per route that a caller of the right role gets past the role check
# with, but that changes nothing: refused for its content, or for the
# partition's state (prod is active).
HARMLESS = {
    ("POST", "/v1/partitions"): {},
    ("PATCH", "/v1/partitions/prod"): {"processors": 3, "scope": "running", "memory": "1TiB"},
    ("POST", "/v1/partitions/prod/deactivate"): {"force": 1},
    ("PUT", "/v1/policy"): {},
}


def tokens(R, partd):
    """No token, a wrong one, or another scheme: 401 on every guarded route;
    a token of a role below the route's: 403 naming both roles; the route's
    role or a higher one: neither."""
    before = state(partd)
    guarded = [(m, p, role) for m, p, role in route_roles() if role != "none"]
    R.check("the router has guarded routes", len(guarded) > 10, repr(guarded), group="tokens")
    for method, path, need in guarded:
        body = b"{}" if method in ("POST", "PATCH", "PUT") else None
        for label, auth in [("no token", None), ("a wrong token", "Bearer " + "x" * 30),
                            ("the token as Basic", "Basic " + TOKEN)]:
            rep = partd.request(method, path, body, auth=auth)
            problem(R, "%s %s with %s" % (method, path, label), rep, 401, "unauthorized",
                    group="tokens")
        for role in ROLES:
            rep = partd.as_role(role).request(method, path, HARMLESS.get((method, path), body))
            # a peer's routes (another partd's, /v1/moves) are no other role's
            if need not in ROLES or ROLES.index(role) < ROLES.index(need):
                j = rep.json or {}
                ok = problem(R, "%s %s needs %s: a %s's token" % (method, path, need, role), rep,
                             403, "forbidden-role", group="tokens")
                R.check("%s %s: the 403 names the role needed (%s) and the caller's (%s)" %
                        (method, path, need, role),
                        not ok or ("needs the %s role; this token's role is %s" %
                                   (need, role) in j.get("detail", "") and
                                   j.get("role_needed") == need and j.get("role") == role),
                        repr(j), group="tokens")
            else:
                R.check("%s %s needs %s: a %s's token is let in (not 401, 403)" %
                        (method, path, need, role), rep.status not in (401, 403), repr(rep),
                        group="tokens")
    R.check("nothing changed", state(partd) == before, group="tokens")
    # refused before a byte of the body: a client announcing 64 KiB and
    # sending none gets its 401 at once, not when partd gave up waiting
    with socket.create_connection(("127.0.0.1", partd.port), timeout=3) as sock:
        sock.sendall(b"PATCH /v1/partitions/prod HTTP/1.1\r\n" + host_header(partd.port) +
                     b"Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n")
        t = time.monotonic()
        try:
            head = sock.recv(200)
        except socket.timeout:
            head = b""
        R.check("a body announced without a token: 401 before any byte of it (%.2f s)" %
                (time.monotonic() - t), head.startswith(b"HTTP/1.1 401"), repr(head[:80]),
                group="tokens")


def patch_roles(R, partd):
    """What a PATCH may change by role: the running values within the
    profile's bounds are an operator's; the profile (scope profile, or both,
    the default) an admin's."""
    op, admin = partd.as_role("operator"), partd.as_role("admin")
    P = "/v1/partitions/prod"
    files = state(partd)[1]
    rep = op.request("PATCH", P, {"processors": 6, "scope": "running"})
    R.check("an operator changes the running processors (scope running): 200",
            rep.status == 200, repr(rep), group="tokens")
    for label, body in [("scope both, the default", {"processors": 5}),
                        ("scope profile", {"processors": 5, "scope": "profile"}),
                        ("the weight bounds", {"weight_max": 700, "scope": "profile"})]:
        rep = op.request("PATCH", P, body)
        problem(R, "an operator's PATCH of the profile (%s)" % label, rep, 403, "forbidden-role",
                group="tokens")
    R.check("the operator changed no profile file", state(partd)[1] == files, group="tokens")
    rep = admin.request("PATCH", P, {"processors": 5})
    R.check("an admin changes the profile (scope both): 200", rep.status == 200, repr(rep),
            group="tokens")


def socket_group(R, partd, group):
    """The UNIX socket: mode 0660 in socket_group; its group's members may
    connect, others not; the caller's uid is in the events and the log."""
    st = os.stat(partd.sock)
    R.check("the UNIX socket is mode 0660", stat.S_IMODE(st.st_mode) == 0o660,
            oct(stat.S_IMODE(st.st_mode)), group="socket")
    R.check("the UNIX socket's group is socket_group (%s)" % group.gr_name,
            st.st_gid == group.gr_gid, "gid %d" % st.st_gid, group="socket")
    unix = partd.as_role("operator")
    conn = unix.connection(unix=True)
    rep = unix.request("GET", "/v1/cpc", auth=None, conn=conn)
    R.check("the UNIX socket needs a token too: 401", rep.status == 401, repr(rep),
            group="socket")
    rep = unix.request("PATCH", "/v1/partitions/web", {"processors": 3, "scope": "running"},
                       conn=conn)
    conn.close()
    R.check("an operator's PATCH over the UNIX socket: 200", rep.status == 200, repr(rep),
            group="socket")
    ev = [e for e in partd.get("/v1/events")["events"] if e["kind"] == "resized" and
          e.get("partition") == "web"]
    want = {"role": "operator", "uid": os.geteuid()}
    R.check("its event names the caller: %r" % want, ev and ev[-1].get("caller") == want,
            repr(ev[-1:]), group="socket")
    log = open(partd.log, errors="replace").read()
    R.check("partd's log line of the change names the caller",
            "web: running processors 4->3 applied (by api: operator, uid %d)" % os.geteuid()
            in log, log[-600:], group="socket")
    rep = partd.as_role("operator").request("PATCH", "/v1/partitions/web",
                                            {"processors": 4, "scope": "running"})
    ev = [e for e in partd.get("/v1/events")["events"] if e["kind"] == "resized"]
    R.check("over TCP the event names the role, and no uid",
            rep.status == 200 and ev[-1].get("caller") == {"role": "operator"},
            repr(ev[-1:]), group="socket")
    if os.geteuid() == 0:
        socket_members(R, partd, group)


def as_uid(uid, groups, fn):
    """fn() in a child process with uid, gid uid and the supplementary
    groups; returns what it returns (a str), or why it failed. A fork, not
    an exec: the interpreter may live where uid cannot read."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(rd)
        try:
            os.setgroups(groups)
            os.setgid(uid)
            os.setuid(uid)
            out = fn()
        except BaseException as e:  # noqa: B902 (everything goes back to the parent)
            out = "%s: %s" % (type(e).__name__, e)
        os.write(wr, out.encode())
        os._exit(0)
    os.close(wr)
    with os.fdopen(rd, "rb") as f:
        out = f.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return out


def patch_over_unix(path, token, body):
    """PATCH /v1/partitions/web on the UNIX socket path: the status line, or
    why connect() failed."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    try:
        s.connect(path)
    except OSError as e:
        return e.strerror
    body = json.dumps(body).encode()
    s.sendall(("PATCH /v1/partitions/web HTTP/1.0\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" %
               (token, len(body))).encode() + body)
    head = s.recv(100).decode(errors="replace")
    s.close()
    return head.split("\r\n")[0]


def socket_members(R, partd, group):
    """As uid 65534: without the group the socket refuses to connect; with
    it as a supplementary group, an operator's token is served, and the
    change's event names uid 65534 (SO_PEERCRED: the caller, not partd)."""
    os.chmod(partd.tmp, 0o711)  # the way to the socket (tokens and state stay closed)
    body = {"processors": 2, "scope": "running"}
    for label, groups, want in [("not in socket_group: connect() is refused", [],
                                 "Permission denied"),
                                ("in socket_group: connects and is served", [group.gr_gid],
                                 " 200 OK")]:
        out = as_uid(65534, groups,
                     lambda: patch_over_unix(partd.sock, partd.tokens["operator"], body))
        R.check("uid 65534 %s" % label, want in out, out, group="socket")
    ev = [e for e in partd.get("/v1/events")["events"] if e["kind"] == "resized"]
    R.check("its change's event names uid 65534",
            ev and ev[-1].get("caller") == {"role": "operator", "uid": 65534}, repr(ev[-1:]),
            group="socket")


def followers(R, partd, n=70, cap=64):
    """n event followers: cap of them stream, the others get 503 with
    Retry-After (not a silent stream that never moves), and partd answers
    everyone else meanwhile."""
    socks, statuses = [], []
    try:
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", partd.port), timeout=5)
            sock.sendall(b"GET /v1/events?follow=1 HTTP/1.1\r\n" + host_header(partd.port) +
                         ("Authorization: Bearer %s\r\n\r\n" % partd.token).encode())
            socks.append(sock)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                head += chunk
            statuses.append(head)
        ok = sum(h.startswith(b"HTTP/1.1 200") for h in statuses)
        busy = [h for h in statuses if h.startswith(b"HTTP/1.1 503")]
        R.check("%d followers: %d stream, %d get 503" % (n, cap, n - cap),
                ok == cap and len(busy) == n - cap, "200: %d, 503: %d" % (ok, len(busy)),
                group="limits")
        R.check("the 503s say Retry-After and too-many-followers",
                busy and all(b"Retry-After: " in h and b"too-many-followers" in h for h in busy),
                repr(busy[:1])[:300], group="limits")
        rep = partd.request("GET", "/v1/partitions/prod")
        R.check("with every follower's place taken, GETs still answer: 200", rep.status == 200,
                "got %d" % rep.status, group="limits")
    finally:
        for sock in socks:
            sock.close()


ESC = "\x1b[2J\x1b]0;owned\x07\u009b1m"  # clear screen, set title, C1 CSI


def output(R, partd, partctl):
    """Text from outside reaches terminals and logs with its control
    characters escaped: partd's log of a profile that has them, and
    partctl's printing of a problem that echoes them."""
    log = open(partd.log, encoding="utf-8", errors="replace").read()
    R.check("partd's log: the bad profile's key is logged escaped (\\x1b[2J...)",
            "\\x1b[2J" in log and "\x1b" not in log and "\x07" not in log, log[-400:],
            group="output")
    env = dict(os.environ, PARTD_SERVER="http://127.0.0.1:%d" % partd.port,
               PARTD_TOKEN=partd.token)
    r = subprocess.run([partctl, "policy", "p" + ESC], capture_output=True, env=env, timeout=30)
    err = r.stderr.decode("utf-8", "replace")
    R.check("partctl: a problem echoing the request's control characters is printed escaped",
            r.returncode != 0 and "\\x1b[2J" in err and "\x1b" not in err and
            "\u009b" not in err and "\x07" not in err, repr(err)[:300], group="output")


def browsers(R, partd):
    before = state(partd)
    patch = b'{"processors": 3}'
    for label, ctype, body in [
        ("form-encoded PATCH", "application/x-www-form-urlencoded", patch),
        ("text/plain PATCH", "text/plain", patch),
        ("PATCH without a Content-Type", None, patch),
        ("text/plain deactivate with an empty body", "text/plain", b""),
        ("form-encoded deactivate with an empty body", "application/x-www-form-urlencoded", b""),
        ("multipart define", "multipart/form-data; boundary=x", b'{"name": "x"}'),
    ]:
        path = "/v1/partitions/prod" + ("/deactivate" if "deactivate" in label else "")
        method = "POST" if "deactivate" in label or "define" in label else "PATCH"
        if "define" in label:
            path = "/v1/partitions"
        rep = partd.request(method, path, body, ctype=ctype)
        problem(R, label, rep, 415, "unsupported-media-type")
    evil = {"Origin": "https://evil.example"}
    rebound = {"Host": "evil.example:%d" % partd.port}
    for method, path in routes():
        body = b"{}" if method in ("POST", "PATCH", "PUT") else None
        rep = partd.request(method, path, body, headers=evil)
        problem(R, "%s %s from a foreign Origin" % (method, path), rep, 403, "forbidden-origin")
        rep = partd.request(method, path, body, headers=rebound)
        problem(R, "%s %s with Host evil.example (DNS rebinding)" % (method, path), rep, 421,
                "misdirected-request")
    R.check("nothing changed: partitions and profile files as before", state(partd) == before,
            group="browsers")
    # what is allowed still works
    for label, headers in [
        ("the allowed Origin", {"Origin": ORIGIN}),
        ("Host localhost:PORT on loopback", {"Host": "localhost:%d" % partd.port}),
        ("Host from host_names, with the port", {"Host": "%s:%d" % (HOST_NAME, partd.port)}),
        ("Host from host_names, without the port", {"Host": HOST_NAME}),
    ]:
        rep = partd.request("GET", "/v1/partitions/prod", headers=headers)
        R.check("%s is served: 200" % label, rep.status == 200, "got %d" % rep.status,
                group="browsers")
    conn = partd.connection(unix=True)
    rep = partd.request("GET", "/v1/cpc", headers={"Host": "evil.example"}, conn=conn)
    conn.close()
    R.check("the UNIX socket (no browser reaches it) does not check Host: 200",
            rep.status == 200, "got %d" % rep.status, group="browsers")


def files(R, binary):
    def state_world_writable(p):
        os.makedirs(p.state_dir)
        os.chmod(p.state_dir, 0o777)

    def parts_group_writable(p):
        os.chmod(p.parts_dir, 0o775)

    def state_other_owner(p):
        os.makedirs(p.state_dir)
        os.chown(p.state_dir, 65534, 65534)

    def state_is_link(p):
        real = os.path.join(p.tmp, "elsewhere")
        os.makedirs(real, mode=0o700)
        os.symlink(real, p.state_dir)

    refused_start(R, binary, "state directory mode 0777", state_world_writable,
                  "mode 0777 gives others write access")
    refused_start(R, binary, "partitions directory mode 0775", parts_group_writable,
                  "mode 0775 gives its group write access")
    if os.geteuid() == 0:
        refused_start(R, binary, "state directory owned by uid 65534", state_other_owner,
                      "owned by uid 65534")
    refused_start(R, binary, "state directory is a symbolic link", state_is_link,
                  "not a directory (a symbolic link?)")

    def token(text, mode=0o600, owner=None):
        def prepare(p):
            tf = os.path.join(p.tmp, "token")
            with open(tf, "w") as f:
                f.write(text)
            os.chmod(tf, mode)
            if owner is not None:
                os.chown(tf, owner, owner)
        return prepare

    refused_start(R, binary, "token file readable by others (0644)", token(TOKEN + "\n", 0o644),
                  "mode 0644 gives others read access: refused; chmod 0600 it")
    refused_start(R, binary, "token file writable by its group (0660)", token(TOKEN, 0o660),
                  "mode 0660 gives its group write access")
    refused_start(R, binary, "a token of 300 bytes (refused, not cut)", token("t" * 300),
                  "the token is longer than 255 bytes")
    refused_start(R, binary, "an empty token file", token(""), "empty: the first line")
    refused_start(R, binary, "a token with a space", token("two words\n"),
                  "not visible ASCII at byte 4")
    if os.geteuid() == 0:
        refused_start(R, binary, "token file owned by uid 65534", token(TOKEN, 0o600, 65534),
                      "owned by uid 65534")

    def no_token(p):
        p.edit_config(lambda cfg: cfg.pop("tokens"))

    def edit(fn):
        return lambda p: p.edit_config(lambda cfg: fn(p, cfg))

    refused_start(R, binary, "a loopback TCP listener without a token", no_token,
                  "a TCP listener needs a token, on loopback too")
    refused_start(R, binary, "a loopback TCP listener with no role's token (tokens {})",
                  edit(lambda p, cfg: cfg.update(tokens={})),
                  "a TCP listener needs a token, on loopback too")
    refused_start(R, binary, "two roles with the same token",
                  edit(lambda p, cfg: cfg["tokens"].update(operator=cfg["tokens"]["admin"])),
                  "the same token as tokens.operator's")
    refused_start(R, binary, "a viewer's token file readable by others (0604)",
                  lambda p: os.chmod(p.token_file("viewer"), 0o604),
                  "mode 0604 gives others read access")
    refused_start(R, binary, "a role that does not exist",
                  edit(lambda p, cfg: cfg["tokens"].update(root=cfg["tokens"]["admin"])),
                  "tokens.root: unknown field (expected one of: admin, operator, viewer, peer)")
    refused_start(R, binary, "the old token_file key",
                  edit(lambda p, cfg: cfg.update(token_file=cfg["tokens"]["admin"])),
                  "token_file: unknown field")
    refused_start(R, binary, "a socket_group that does not exist",
                  edit(lambda p, cfg: cfg.update(socket_group="no-such-group-partd")),
                  "error: socket_group: no-such-group-partd: no such group")

    def group_without_tokens(p, cfg):
        cfg.pop("tokens")
        cfg.update(listen=["unix:" + p.sock], socket_group="users")

    refused_start(R, binary, "a socket_group without tokens (everyone in it would be admin)",
                  edit(group_without_tokens), "error: socket_group: users: with no tokens")


def test_group():
    """An existing group for socket_group (no group is created)."""
    for name in ("users", "adm", "staff"):
        try:
            return grp.getgrnam(name)
        except KeyError:
            continue
    return None


def main():
    if len(sys.argv) < 3:
        print("usage: security.py PARTD PARTCTL", file=sys.stderr)
        return 2
    binary, partctl = sys.argv[1], sys.argv[2]
    R = Results("security")
    files(R, binary)
    group = test_group()
    extra = {"allowed_origins": [ORIGIN], "host_names": [HOST_NAME]}
    if group:
        extra["socket_group"] = group.gr_name
    partd = Partd(binary, token=TOKEN, extra=extra)
    os.chmod(partd.parts_dir, 0o755)
    with open(os.path.join(partd.parts_dir, "evil.json"), "w") as f:
        json.dump({"name": "evil", ESC: 1, "processors": {"initial": 1},
                   "memory": {"initial": 512}}, f)

    def body():
        tokens(R, partd)
        if group:
            socket_group(R, partd, group)
        else:
            R.skip("the UNIX socket's group", "no group users, adm or staff", group="socket")
        patch_roles(R, partd)
        browsers(R, partd)
        followers(R, partd)
        output(R, partd, partctl)

    return session(R, partd, body, "partd starts", "partd stops with status 0")


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
