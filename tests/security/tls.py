#!/usr/bin/python3
"""TLS off loopback, and partctl's side of it (docs/security.md): no token
crosses a network in clear.

- tls: partd with tls_cert and tls_key (a self-signed certificate made
  here with openssl, for 127.0.0.1) serves HTTPS on its TCP listener, and
  plain HTTP on its UNIX socket; partctl verifies the certificate with
  --cacert (or PARTD_CACERT) and fails without it (the system's CAs do not
  know it); partd refuses to start on a listener off loopback without TLS,
  before anything is bound (the port is held by this test: partd must say
  why, not "address in use"), and on a key others may read or that is not
  a key;
- partctl refuses to send a token over http:// to an address off
  loopback, before it connects (run in a network namespace of its own,
  where nothing could leave anyway).

Every connection goes to loopback. Prints "N passed, N failed"; exit 1 on
any failure."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, main_wrapper, make_cert, session, skip  # noqa: E402
from attack import TOKEN, refused_start  # noqa: E402


def partctl_run(partctl, partd, args, env=None):
    e = dict(os.environ, PARTD_TOKEN=partd.tokens["viewer"])
    e.pop("PARTD_CACERT", None)
    e.update(env or {})
    return subprocess.run([partctl] + args, capture_output=True, text=True, env=e, timeout=60)


def served(R, partd, partctl):
    https = "https://127.0.0.1:%d" % partd.port
    r = partctl_run(partctl, partd, ["--server", https, "--cacert", partd.cacert, "list"])
    R.check("partctl --cacert CERT over https: served", r.returncode == 0 and "prod" in r.stdout,
            r.stderr, group="tls")
    r = partctl_run(partctl, partd, ["--server", https, "list"], {"PARTD_CACERT": partd.cacert})
    R.check("partctl with PARTD_CACERT over https: served", r.returncode == 0, r.stderr,
            group="tls")
    r = partctl_run(partctl, partd, ["--server", https, "list"])
    R.check("partctl without the CA: fails verification (exit 1, says certificate)",
            r.returncode == 1 and "certificate" in r.stderr, r.stderr, group="tls")
    r = partctl_run(partctl, partd, ["--server", "https://localhost:%d" % partd.port,
                                     "--cacert", partd.cacert, "version"])
    R.check("the certificate's other name (localhost) is verified too", r.returncode == 0,
            r.stderr, group="tls")
    try:
        plain = socket.create_connection(("127.0.0.1", partd.port), timeout=5)
        plain.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        rep = plain.recv(100)
        plain.close()
    except OSError as e:
        rep = str(e).encode()
    R.check("plain HTTP to the TLS listener is not served", not rep.startswith(b"HTTP/1.1 200"),
            repr(rep), group="tls")
    r = partctl_run(partctl, partd, ["--server", "unix:" + partd.sock, "list"])
    R.check("the UNIX socket stays plain HTTP", r.returncode == 0, r.stderr, group="tls")


def refusals(R, binary, cert, key):
    """partd refuses to start on a listener off loopback without TLS, before
    it binds anything, and on a bad key."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # the port partd would take: bound (on loopback) and held
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        refused_start(R, binary, "a listener on 0.0.0.0 without tls_cert",
                      lambda p: p.edit_config(lambda cfg: cfg["listen"].append(
                          "0.0.0.0:%d" % port)),
                      "error: listen: 0.0.0.0:%d: not a loopback address: a TCP listener others "
                      "reach needs TLS" % port, group="tls")
    finally:
        holder.close()

    def tls(key_mode=0o600, key_text=None):
        def prepare(p):
            k = os.path.join(p.tmp, "key.pem")
            shutil.copy(key, k)
            if key_text is not None:
                with open(k, "w") as f:
                    f.write(key_text)
            os.chmod(k, key_mode)
            p.edit_config(lambda cfg: cfg.update(tls_cert=cert, tls_key=k))
        return prepare

    refused_start(R, binary, "a TLS key readable by others (0644)", tls(0o644),
                  "mode 0644 gives others read access", group="tls")
    refused_start(R, binary, "a TLS key that is not a key", tls(key_text="not a key\n"),
                  "error: tls_cert, tls_key: %s, " % cert, group="tls")
    other = os.path.join(os.path.dirname(key), "other-key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", other], check=True, capture_output=True,
                   timeout=60)
    with open(other) as f:
        other_text = f.read()
    refused_start(R, binary, "a TLS key that is not the certificate's",
                  tls(key_text=other_text), "not a PEM certificate and its private key",
                  group="tls")


def refuse_clear_token(R, partctl):
    """A token never goes over http:// off loopback; partctl says so before
    it connects. Run where nothing can leave: a network namespace of its
    own (then a connection attempt would say "Network is unreachable")."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        R.skip("partctl refuses http:// off loopback with a token", "needs root and unshare",
               group="partctl")
        return
    env = dict(os.environ, PARTD_TOKEN=TOKEN)
    for server in ("http://192.0.2.1:7480", "192.0.2.1:7480", "http://partd.example:7480"):
        r = subprocess.run(["unshare", "--net", partctl, "--server", server, "list"],
                           capture_output=True, text=True, env=env, timeout=60)
        R.check("partctl --server %s with a token: refused before connecting (exit 1)" % server,
                r.returncode == 1 and "refusing to send the token in clear" in r.stderr and
                "unreachable" not in r.stderr, r.stderr, group="partctl")


def main():
    if len(sys.argv) < 3:
        print("usage: tls.py PARTD PARTCTL", file=sys.stderr)
        return 2
    binary, partctl = sys.argv[1], sys.argv[2]
    if not shutil.which("openssl"):
        return skip("no openssl to make a certificate with (./build.sh test installs it)")
    R = Results("tls")
    d = tempfile.mkdtemp(prefix="partd-tls-", dir="/tmp")
    try:
        cert, key = make_cert(d)
        refuse_clear_token(R, partctl)
        refusals(R, binary, cert, key)
        partd = Partd(binary, token=TOKEN, cacert=cert, extra={"tls_cert": cert, "tls_key": key})
        return session(R, partd, lambda: served(R, partd, partctl), "partd starts with TLS",
                       "partd stops with status 0")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
