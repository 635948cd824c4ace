"""What the Python test suites share (python3 standard library only): the
API tests (tests/api), the reliability tests (tests/reliability) and the
real-guest test (tests/integration).

A script finds this module through its own location:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "lib"))

Results counts checks and prints "N passed, M failed" last (CI reads that
line); Client speaks HTTP to partd over TCP or its UNIX socket; Partd runs
partd on a private copy of an example CPC and stops it by its PID, and
check_stop fails a test whose partd left an AddressSanitizer,
LeakSanitizer or UBSan report in its log.
"""

import fcntl
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROLES = ("viewer", "operator", "admin")  # each may do what the ones before it may
ANY = object()  # Client.request: "the default" where None means "none"
SKIP = 77       # ctest's SKIP_RETURN_CODE for every Python test


# -- results -------------------------------------------------------------------

class Results:
    """Counts checks. A check may belong to a group (the real-guest test's
    numbered checks): it is printed as "[group]" and counted per group as
    well. With a name, finish() prints the test's time too."""

    def __init__(self, name=None):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.groups = {}  # group -> [passed, failed, seconds]
        self.start = time.monotonic()

    def _group(self, group):
        return self.groups.setdefault(group, [0, 0, 0.0]) if group is not None else None

    @staticmethod
    def _tag(group):
        return "[%s] " % group if group is not None else ""

    def check(self, label, ok, detail="", group=None):
        """Counts and prints one check; detail is printed for a failure only.
        Returns ok, so that a caller can stop at a failed check."""
        if ok:
            self.passed += 1
            line = "ok   %s%s" % (self._tag(group), label)
        else:
            self.failed += 1
            line = "FAIL %s%s" % (self._tag(group), label)
            if detail not in ("", None):
                line += ": " + str(detail)
        g = self._group(group)
        if g is not None:
            g[0 if ok else 1] += 1
        print(line, flush=True)
        return ok

    def skip(self, label, why, group=None):
        """A check this machine cannot make now: neither passed nor failed."""
        self.skipped += 1
        self._group(group)
        print("SKIP %s%s: %s" % (self._tag(group), label, why), flush=True)

    def note(self, text):
        print("#    %s" % text, flush=True)

    def timed(self, group, seconds):
        self._group(group)[2] += seconds

    def finish(self, *lines):
        """Prints the closing lines: one per group, then lines (or the test's
        time, when it has a name), then "N passed, M failed". Returns the
        exit status: 1 when a check failed."""
        if self.groups:
            print("--- per check (passed/failed, seconds):")
            for group in sorted(self.groups):
                p, f, s = self.groups[group]
                print("  [%s] %d passed, %d failed, %.1fs" % (group, p, f, s))
        if not lines and self.name:
            lines = ("%s: %.1f s" % (self.name, time.monotonic() - self.start),)
        for line in lines:
            print(line)
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


def skip(reason):
    """Prints why the whole test is skipped; returns SKIP for its exit status."""
    print(reason)
    print("0 passed, 0 failed, 1 skipped", flush=True)
    return SKIP


def main_wrapper(fn):
    """Runs fn() and exits with its status; a crash of the test itself is a
    failure with a traceback, never a pass."""
    try:
        sys.exit(fn())
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        print("0 passed, 1 failed", flush=True)
        sys.exit(1)


# -- HTTP ----------------------------------------------------------------------

def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on now (another process may take it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def host_header(port, host="127.0.0.1"):
    """The Host header line a client of partd's TCP listener on host:port
    sends (partd answers 421 to any other name), for raw requests."""
    return ("Host: %s:%d\r\n" % (host, port)).encode()


class Reply:
    """An HTTP reply: status, headers (lower-case names; header_list as
    received), body (bytes) and json (None when the body is not JSON, with
    why in json_error)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.json = None
        self.json_error = None
        if body:
            try:
                self.json = json.loads(body)
            except ValueError as e:
                self.json_error = str(e)

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:300].decode("utf-8", "replace"))


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a UNIX stream socket."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Client:
    """partd's API on host:port (127.0.0.1 unless given) and, when given,
    its UNIX socket; over HTTPS when cacert (the CA file partd's
    certificate must chain to) is given. With via_unix every request goes
    to the UNIX socket unless told otherwise (a partd in a network
    namespace of its own, whose TCP listener the test cannot reach)."""

    def __init__(self, port, unix_path=None, token=None, host="127.0.0.1", cacert=None,
                 via_unix=False):
        self.host = host
        self.port = port
        self.unix_path = unix_path
        self.token = token
        self.cacert = cacert
        self.via_unix = via_unix

    def connection(self, timeout=30, unix=None):
        if unix is None:
            unix = self.via_unix
        if unix:
            return UnixHTTPConnection(self.unix_path, timeout=timeout)
        if self.cacert:
            ctx = ssl.create_default_context(cafile=self.cacert)
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, auth=True, ctype=ANY, headers=None, conn=None,
                timeout=30):
        """One request, on conn (left open) or on a connection of its own.
        body: bytes or str as they are, anything else as JSON. auth: True
        (the client's token, if it has one), None (no Authorization header)
        or the header's value. ctype: ANY (application/json when there is a
        body), None (no Content-Type) or the header's value. headers are
        added last and win."""
        h = {}
        if auth is True:
            if self.token:
                h["Authorization"] = "Bearer " + self.token
        elif auth is not None:
            h["Authorization"] = auth
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if ctype is ANY:
            if body is not None:
                h["Content-Type"] = "application/json"
        elif ctype is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        own = conn is None
        c = conn or self.connection(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return Reply(r.status, r.getheaders(), r.read())
        finally:
            if own:
                c.close()

    def get(self, path, **kw):
        """The JSON of a 200 reply to GET path; RuntimeError otherwise."""
        r = self.request("GET", path, **kw)
        if r.status != 200 or r.json is None:
            raise RuntimeError("GET %s: %r" % (path, r))
        return r.json

    def healthy(self, timeout=5):
        """True when GET /v1/health answers 200."""
        try:
            return self.request("GET", "/v1/health", auth=None, timeout=timeout).status == 200
        except (OSError, http.client.HTTPException):
            return False


def make_cert(d, ips=("127.0.0.1",), names=("localhost",)):
    """A self-signed certificate for the addresses ips and the names names,
    and its key (0600), in d: (cert, key). The certificate is its own CA:
    a client's cacert."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    san = ",".join(["IP:" + i for i in ips] + ["DNS:" + n for n in names])
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=partd-test", "-addext", "subjectAltName=" + san],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


# -- the machine's real-guest lock ------------------------------------------------

MACHINE_LOCK = "/run/lock/partd-integration.lock"


def machine_lock(timeout=300):
    """Waits up to timeout seconds for the lock that keeps the tests with
    real guests (QEMU under a real libvirtd: tests/integration,
    tests/cpcs) from running at once on this machine, whatever the build
    tree: they share the cores, /dev/kvm's mode and the system libvirtd.
    Returns the open file that holds it (the lock lasts as long as the file
    stays open; Python's files are close-on-exec, so no child inherits
    it), None when another run held it for timeout seconds."""
    f = open(MACHINE_LOCK, "a")
    end = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() >= end:
                f.close()
                return None
            time.sleep(1)


# -- partd ---------------------------------------------------------------------

def stop_process(proc, timeout=30):
    """Stops proc (a Popen, or None) by its PID: SIGTERM, then SIGKILL after
    timeout. Returns its exit status, None when it had to be killed."""
    if not proc:
        return None
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def read_lines(path):
    """The lines of a text file, [] when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return f.readlines()
    except OSError:
        return []


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Partd:
    """partd -c partd.json -f on a copy of examples/EXAMPLE in tmp (a new
    directory under /tmp when None, removed by cleanup()).

    The copy is tmp/cpc; partd.json there is the example's with listeners on
    a free loopback port and tmp/partd.sock, state in tmp/state, the
    policies in tmp/policies (the shipped ones and the documents of
    policies), a test-driver URI made absolute, other relative paths still
    pointing where the example's point, the given policy, interval and
    extra keys, and a token per role (ROLES): token is the admin's (written
    to tmp/token, 0600), tokens {role: token} the others' (tmp/token-ROLE;
    a role given None has none), each made up unless given. self.token is
    the admin's, which self.client and the request methods send;
    as_role(role) is a client with another role's. With cacert (when extra
    gives tls_cert and tls_key) clients speak HTTPS to the TCP listener,
    verifying partd's certificate against cacert. The TCP listener is on
    host (127.0.0.1 unless given); with via_unix the clients send every
    request to the UNIX socket (a partd in a network namespace the test
    cannot reach over TCP). partd's output goes to tmp/partd.log; its PID to
    pidfile when given."""

    def __init__(self, binary, example="test-cpc", tmp=None, src=SRC, policy=None,
                 interval=None, token=None, policies=(), extra=None, pidfile=None, tokens=None,
                 cacert=None, host="127.0.0.1", via_unix=False):
        self.binary = os.path.abspath(binary)
        self.own_tmp = tmp is None
        # a short directory: the UNIX socket path must fit in 107 bytes
        self.tmp = tmp or tempfile.mkdtemp(prefix="partd-test-", dir="/tmp")
        self.cpc = os.path.join(self.tmp, "cpc")
        self.parts_dir = os.path.join(self.cpc, "partitions.d")
        self.state_dir = os.path.join(self.tmp, "state")
        self.policies = os.path.join(self.tmp, "policies")
        self.log = os.path.join(self.tmp, "partd.log")
        self.config = os.path.join(self.cpc, "partd.json")
        self.pidfile = pidfile
        self.host = host
        self.via_unix = via_unix
        self.port = free_port()
        self.sock = os.path.join(self.tmp, "partd.sock")
        if len(self.sock) > 100:
            self.sock = "/tmp/partd-test-%d.sock" % self.port
        # every TCP listener needs a token: one per role, the test's own unless given
        self.tokens = {role: secrets.token_hex(16) for role in ROLES}
        self.tokens["admin"] = token or self.tokens["admin"]
        self.tokens.update(tokens or {})
        self.token = self.tokens["admin"]
        self.cacert = cacert
        self.client = self.as_role("admin")
        self.proc = None

        example_dir = os.path.join(src, "examples", example)
        shutil.copytree(example_dir, self.cpc)
        shutil.copytree(os.path.join(src, "policies"), self.policies)
        for pol in policies:
            with open(os.path.join(self.policies, pol["name"] + ".json"), "w") as f:
                json.dump(pol, f, indent=2)
        cfg = load_json(self.config)
        for k, v in cfg.items():
            if (k.endswith(("_dir", "_file")) and k != "partitions_dir" and
                    isinstance(v, str) and not os.path.isabs(v)):
                cfg[k] = os.path.normpath(os.path.join(example_dir, v))
        uri = cfg.get("uri", "")
        if uri.startswith("test:") and not uri.startswith("test:/"):
            cfg["uri"] = "test://" + os.path.join(self.cpc, uri[len("test:"):])
        cfg.update({
            "listen": ["%s:%d" % (host, self.port), "unix:" + self.sock],
            "state_dir": self.state_dir,
            "policies_dir": self.policies,
        })
        if policy:
            cfg["policy"] = policy
        if interval:
            cfg["interval"] = interval
        cfg["tokens"] = {}
        for role, tok in self.tokens.items():
            if tok is None:
                continue
            tf = self.token_file(role)
            with open(tf, "w") as f:  # as a user would: 0600
                f.write(tok + "\n")
            os.chmod(tf, 0o600)
            cfg["tokens"][role] = tf
        cfg.update(extra or {})
        write_json(self.config, cfg)

    def token_file(self, role="admin"):
        """Where the token of role is written: tmp/token for the admin's,
        tmp/token-ROLE for the others'."""
        return os.path.join(self.tmp, "token" if role == "admin" else "token-" + role)

    def as_role(self, role):
        """A Client of this partd (TCP and UNIX socket) sending the token of
        role (None: no token)."""
        return Client(self.port, self.sock, self.tokens.get(role) if role else None,
                      host=self.host, cacert=self.cacert, via_unix=self.via_unix)

    def edit_config(self, fn):
        """Calls fn(cfg) on partd.json's contents and writes them back (read
        by partd at its next start)."""
        cfg = load_json(self.config)
        fn(cfg)
        write_json(self.config, cfg)

    # -- process

    def start(self, wrapper=(), timeout=20, env=None):
        """Starts partd (under wrapper, e.g. valgrind) and waits for
        /v1/health; returns None, or why it did not start (with the end of
        its log)."""
        with open(self.log, "ab") as logf:
            logf.write(b"==== partd started by the test ====\n")
            logf.flush()
            try:
                self.proc = subprocess.Popen(
                    list(wrapper) + [self.binary, "-c", self.config, "-f"], stdout=logf,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            except OSError as e:
                return "cannot run %s: %s" % (self.binary, e)
        if self.pidfile:
            with open(self.pidfile, "w") as f:
                f.write("%d\n" % self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "partd exited with %d\n%s" % (self.proc.returncode, self.log_tail())
            if self.client.healthy():
                return None
            time.sleep(0.05)
        return "no 200 from /v1/health within %ds\n%s" % (timeout, self.log_tail())

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        """Sends sig to partd (by its PID) while it runs."""
        if self.running():
            self.proc.send_signal(sig)

    def kill9(self):
        """SIGKILL; returns the exit status."""
        self.signal(signal.SIGKILL)
        return self.proc.wait() if self.proc else None

    def stop(self, timeout=30):
        return stop_process(self.proc, timeout)

    def cleanup(self):
        """Stops partd; removes tmp when this object made it."""
        self.stop()
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def log_tail(self, n=20):
        return "".join(read_lines(self.log)[-n:])

    def sanitizer_report(self, n=40):
        """The first lines of the first AddressSanitizer, LeakSanitizer or
        UBSan report in partd's log, "" when there is none."""
        lines = read_lines(self.log)
        for i, line in enumerate(lines):
            if any(m in line for m in SANITIZER_MARKS):
                return "".join(lines[i:i + n])
        return ""

    # -- HTTP (Client's, with partd's token)

    def connection(self, timeout=30, unix=None):
        return self.client.connection(timeout, unix)

    def request(self, method, path, body=None, **kw):
        return self.client.request(method, path, body, **kw)

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def partitions(self):
        return {p["name"]: p for p in self.get("/v1/partitions")["partitions"]}


# -- a private libvirtd ----------------------------------------------------------

LIBVIRTD = "/usr/sbin/libvirtd"


class Libvirtd:
    """An unprivileged libvirtd in dir (as nobody: HOME and XDG_RUNTIME_DIR
    there, nothing of the system's libvirt touched). It serves libvirt's
    test driver to partd through test+unix:///NODE.xml?socket=SOCK
    (test_uri()). Stopped (SIGSTOP) it is a stalled backend: every call
    hangs until SIGCONT, or until libvirt's keepalive gives up (about 20 s
    with partd's 5 s x 3)."""

    def __init__(self, dir):
        self.dir = dir
        self.home = os.path.join(dir, "home")
        self.run = os.path.join(dir, "run")
        self.sock = os.path.join(self.run, "libvirt", "libvirt-sock")
        self.log = os.path.join(dir, "libvirtd.log")
        self.proc = None
        for d in (self.home, self.run):
            os.makedirs(d, exist_ok=True)
            os.chown(d, 65534, 65534)

    @staticmethod
    def available():
        """Why a private libvirtd cannot run here, None when it can."""
        if os.geteuid() != 0:
            return "needs root (to run libvirtd as nobody)"
        if not os.path.exists(LIBVIRTD):
            return "needs %s (package libvirt-daemon)" % LIBVIRTD
        return None

    def test_uri(self, example="test-cpc"):
        """Copies the example's cpc.xml into dir (readable by nobody) and
        returns the URI on which this libvirtd serves it."""
        os.chmod(self.dir, 0o755)
        node = os.path.join(self.dir, "cpc.xml")
        shutil.copy(os.path.join(SRC, "examples", example, "cpc.xml"), node)
        os.chmod(node, 0o644)
        return "test+unix://%s?socket=%s" % (node, self.sock)

    def start(self, timeout=20):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        env = {"HOME": self.home, "XDG_RUNTIME_DIR": self.run, "PATH": "/usr/sbin:/usr/bin"}

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([LIBVIRTD], env=env, preexec_fn=drop, stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "libvirtd exited with %d" % self.proc.returncode
            if os.path.exists(self.sock):
                return None
            time.sleep(0.05)
        return "libvirtd made no socket within %d s" % timeout

    def pause(self):
        """SIGSTOP by PID: the backend stalls."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        self.resume()  # a stopped process would ignore SIGTERM until continued
        stop_process(self.proc, 15)


def fast_policy(name, description):
    """balanced, but acting every second on two samples with short
    cooldowns, so that capacity moves within seconds on real guests (the
    real-guest test, examples/demo-guests.py). processors.high stays below
    0.9: other processes on a shared machine take their part."""
    return {
        "name": name,
        "description": description,
        "manage": {"weights": True, "processors": True, "memory": True,
                   "defined_capacity": True},
        "interval": 1, "samples": 2, "deadband": 0.1, "weight_step": 300,
        "cooldown": {"weight": 2, "processors": 3, "memory": 3},
        "processors": {"high": 0.8, "low": 0.3},
        "memory": {"headroom": "256MiB", "step": "512MiB", "deadband": "64MiB"},
        "defined_capacity_window": 14400}


# -- the test guest's console ----------------------------------------------------

GUEST_LINE = re.compile(r"partd-guest cpus=(\d+) memtotal=(\d+) memfree=(\d+) memavail=(\d+) "
                  r"t=([\d.]+)(?: busy=(\d+))?")


class Console:
    """The test guest's serial log (tests/integration/guest-init.sh): the
    line /init prints every second, parsed."""

    def __init__(self, path):
        self.path = path

    @staticmethod
    def parse(text):
        """The guest's lines in text, each a dict: cpus, memtotal, memfree,
        memavail (KiB), t (its uptime, seconds), busy (None when absent)."""
        return [{"cpus": int(m.group(1)), "memtotal": int(m.group(2)),
                 "memfree": int(m.group(3)), "memavail": int(m.group(4)),
                 "t": float(m.group(5)),
                 "busy": int(m.group(6)) if m.group(6) is not None else None}
                for m in GUEST_LINE.finditer(text)]

    def lines(self):
        return self.parse(self.text())

    def last(self):
        ls = self.lines()
        return ls[-1] if ls else None

    def text(self):
        try:
            with open(self.path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def fresh(self, after_t=None, pred=None):
        """The latest line, if printed after guest time after_t and pred holds."""
        ln = self.last()
        if not ln or (after_t is not None and ln["t"] <= after_t):
            return None
        return ln if (pred is None or pred(ln)) else None

    def tail(self, n=8):
        return "\n".join(self.text().replace("\r", "").splitlines()[-n:])


def load_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, obj):
    """Writes obj to path through a temporary file and a rename."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.rename(tmp, path)


# -- checks on partd -----------------------------------------------------------

def check_start(R, partd, label="partd starts", group=None, **kw):
    """Starts partd (Partd.start's keywords) as check label; True when it did."""
    err = partd.start(**kw)
    return R.check(label, err is None, err, group)


def check_stop(R, partd, label="partd stops with status 0", group=None, timeout=30):
    """Stops partd as check label: it must exit with status 0 and its log
    hold no sanitizer report. Returns the exit status."""
    code = partd.stop(timeout)
    report = partd.sanitizer_report()
    R.check(label, code == 0 and not report,
            "status %s\n%s" % (code, report or partd.log_tail()), group)
    return code


def log_if_failed(R, partd, n=30):
    """Prints the end of partd's log, and its sanitizer report, when a check
    failed."""
    if not R.failed:
        return
    print("--- partd's log (%s), last lines ---" % partd.log)
    print(partd.log_tail(n), end="")
    report = partd.sanitizer_report()
    if report:
        print("--- sanitizer report ---")
        print(report, end="")


def session(R, partd, body, start_label="partd starts", stop_label="partd stops with status 0",
            stop_timeout=30, after=None, keep=False, **start):
    """The frame of a test: starts partd as a check (Partd.start's keywords
    in start), runs body() while it runs, stops it as a check (check_stop),
    runs after() when given, prints partd's log when a check failed, and
    removes its directory (unless keep). A crash of body or after is a
    failed check, with its traceback. Returns R.finish()."""
    try:
        if check_start(R, partd, start_label, **start):
            try:
                body()
            except Exception:
                R.check("the test ran to the end", False, traceback.format_exc())
            check_stop(R, partd, stop_label, timeout=stop_timeout)
            if after:
                try:
                    after()
                except Exception:
                    R.check("the checks after the stop ran to the end", False,
                            traceback.format_exc())
    finally:
        log_if_failed(R, partd)
        if keep:
            partd.stop()
            print("kept %s" % partd.tmp)
        else:
            partd.cleanup()
    return R.finish()
