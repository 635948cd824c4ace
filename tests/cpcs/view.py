#!/usr/bin/python3
"""One view of several CPCs in partctl: the list of CPCs (cpcs.json),
--cpc, `partctl cpcs`, `list --all` and `plan --all`.

Usage: view.py PARTD PARTCTL DEMAND_SHIM

Starts two partds on libvirt's test driver: "a" on examples/test-cpc with
the CPU-demand shim (tests/reliability/demand-shim.c) making its shared
partitions busy past its pool, "b" on the same host description with two
small partitions of other names. The list also names "gone" (a socket that
does not exist), "closed" (a loopback port nothing listens on) and, where
said, "stuck" (a port that accepts connections and never replies). Checks:

  select    --cpc and $PARTCTL_CPC pick an entry (its URL, token, CA);
            --server still works alone; unknown names and --cpc with
            --server are refused; the file is found by $PARTCTL_CPCS,
            $XDG_CONFIG_HOME and HOME; bash completes --cpc with its names
  cpcs      every CPC's row, the unreachable ones marked so, never hiding
            the others; -o json; exit 0 when all answer, 3 when some do not
  parallel  three stuck CPCs cost one timeout, not three (libcurl's multi)
  list      list --all: a CPC column, rows of a and b, the unreachable ones
            on stderr and as entries of -o json
  plan      plan --all: a over its pool, b within, a move of a's from a to
            b suggested, nothing moved
  config    a bad cpcs.json is refused with FILE:LINE:COLUMN: FIELD; a
            token file others may read, or missing, is refused, naming the
            file and why; a token is never sent in clear off loopback; a
            wrong token is partd's refusal (401); each is its CPC's state

Prints one line per check and "N passed, M failed" last; both partds are
stopped by their PIDs whatever happens.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, check_start, check_stop, free_port, load_json, main_wrapper, write_json  # noqa: E402,E501

R = Results("cpcs view")
PARTIAL = 3  # partctl's exit status when some CPCs did not answer

# b's partitions: small, named unlike a's
B_PARTS = {
    "b1": {"name": "b1", "processors": {"initial": 2, "reserved": 4},
           "weight": {"initial": 100}, "memory": {"initial": "2GiB", "reserved": "4GiB"}},
    "b2": {"name": "b2", "processors": {"initial": 1, "reserved": 2},
           "weight": {"initial": 100}, "memory": {"initial": "1GiB", "reserved": "2GiB"}},
}
# a's shared partitions, each as busy as its online processors: a demand of
# prod 8 + web 4 + batch 2.5 (its cap: the test driver does not enforce
# it, the demand counts it) = 14.5 on a pool of 16 - 2 reserved - 2
# dedicated = 12
A_DEMAND = "prod 8\nweb 4\nbatch 6\n"


class Partctl:
    def __init__(self, binary, env):
        self.binary = binary
        self.env = env

    def run(self, *args, env=None, timeout=60):
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.run([self.binary] + list(args), capture_output=True, text=True, env=e,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def json(self, *args, **kw):
        code, out, err = self.run("-o", "json", *args, **kw)
        try:
            return code, json.loads(out), err
        except ValueError:
            return code, None, "not JSON: %r %s" % (out, err)


def make_b(partd_bin, tmp):
    b = Partd(partd_bin, tmp=os.path.join(tmp, "b"), interval=1)
    parts = b.parts_dir
    for f in os.listdir(parts):
        os.unlink(os.path.join(parts, f))
    for name, prof in B_PARTS.items():
        write_json(os.path.join(parts, name + ".json"), prof)
    return b


def activate_all(partd, names):
    for n in names:
        r = partd.request("POST", "/v1/partitions/%s/activate" % n)
        if r.status not in (200, 409):
            return "%s: %s %s" % (n, r.status, r.body)
    return None


def wait_measured(partd, names, timeout=30):
    """Waits until the monitor reports a use for each of names."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = partd.partitions()
        if all(parts[n].get("utilisation") for n in names):
            return True
        time.sleep(0.2)
    return False


def stuck_listener():
    """A loopback port that accepts connections (the kernel's backlog) and
    never answers: a partd that hangs."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


def check_select(pc, a, b, cfg_path, tmp):
    code, out, err = pc.run("--cpc", "b", "list")
    R.check("--cpc b lists b's partitions", code == 0 and "b1" in out and "prod" not in out,
            "%d %s %s" % (code, out, err))
    code, out, err = pc.run("list", env={"PARTCTL_CPC": "a"})
    R.check("PARTCTL_CPC=a lists a's partitions", code == 0 and "prod" in out and "b1" not in out,
            "%d %s %s" % (code, out, err))
    code, out, err = pc.run("--server", "unix:" + b.sock, "--token-file", b.token_file(), "list",
                            env={"PARTCTL_CPC": "a"})
    R.check("--server alone wins over PARTCTL_CPC", code == 0 and "b1" in out,
            "%d %s %s" % (code, out, err))
    code, out, err = pc.run("--server", "unix:" + b.sock, "--token-file", b.token_file(), "list",
                            env={"PARTCTL_CPCS": os.path.join(tmp, "nothing.json")})
    R.check("--server works without a list", code == 0 and "b1" in out, err)
    code, out, err = pc.run("--cpc", "nosuch", "list")
    R.check("--cpc of an unknown name: refused, the known ones named",
            code == 1 and "no CPC named 'nosuch'" in err and "known: a, b" in err, err)
    code, out, err = pc.run("--cpc", "a", "--server", "unix:" + b.sock, "list")
    R.check("--cpc with --server: a usage error", code == 2 and "give one" in err, err)
    code, out, err = pc.run("--cpc", "gone", "list")
    R.check("--cpc of an unreachable CPC fails naming it", code == 1 and "cannot reach" in err, err)
    # the file where XDG says, or under HOME
    xdg = os.path.join(tmp, "xdg")
    os.makedirs(os.path.join(xdg, "partctl"))
    shutil.copy(cfg_path, os.path.join(xdg, "partctl", "cpcs.json"))
    env = {"PARTCTL_CPCS": "", "XDG_CONFIG_HOME": xdg}
    code, out, err = pc.run("--cpc", "b", "list", env=env)
    R.check("the list is found in $XDG_CONFIG_HOME/partctl", code == 0 and "b1" in out, err)
    env = {"PARTCTL_CPCS": "", "XDG_CONFIG_HOME": "", "HOME": os.path.join(tmp, "home")}
    os.makedirs(os.path.join(tmp, "home", ".config"))
    os.symlink(xdg + "/partctl", os.path.join(tmp, "home", ".config", "partctl"))
    code, out, err = pc.run("cpcs", "--list", env=env)
    R.check("cpcs --list: the entries of ~/.config/partctl/cpcs.json, nothing asked",
            code == 0 and out.splitlines()[0].split()[:2] == ["NAME", "URL"] and
            [ln.split()[0] for ln in out.splitlines()[1:]] == ["a", "b", "gone", "closed"],
            "%d %s %s" % (code, out, err))
    # bash completion of --cpc: the list's names
    script = os.path.join(tmp, "completion.bash")
    with open(script, "w") as f:
        f.write(pc.run("completion", "bash")[1])
    p = subprocess.run(["bash", "-c", 'source "$1"; COMP_WORDS=("$2" --cpc ""); COMP_CWORD=2; '
                        '_partctl; echo "${COMPREPLY[*]}"', "-", script, pc.binary],
                       capture_output=True, text=True, env=pc.env)
    R.check("completion: --cpc completes the list's names",
            p.stdout.split() == ["a", "b", "gone", "closed"], p.stdout + p.stderr)


def check_cpcs(pc, a, b):
    code, out, err = pc.run("cpcs")
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines()[1:] if ln.strip()}
    R.check("cpcs: a row per CPC, in the list's order",
            [ln.split()[0] for ln in out.splitlines()[1:]] == ["a", "b", "gone", "closed"],
            out + err)
    R.check("cpcs: a and b ok with their pool, partitions and policy",
            rows.get("a", [])[2:4] == ["ok", "12"] and rows["a"][-2:] == ["4/5", "static"] and
            rows.get("b", [])[2:4] == ["ok", "14"] and rows["b"][-2:] == ["2/2", "static"],
            out)
    R.check("cpcs: gone and closed unreachable, with why on stderr",
            rows.get("gone", [])[2:3] == ["unreachable"] and rows.get("closed", [])[2:3] ==
            ["unreachable"] and "partctl: gone: cannot reach partd" in err and
            "partctl: closed: cannot reach partd" in err, out + err)
    R.check("cpcs: exit status 3 when some are unreachable", code == PARTIAL, code)
    code, doc, err = pc.json("cpcs")
    cpcs = {c["name"]: c for c in (doc or {}).get("cpcs", [])}
    R.check("cpcs -o json: a's /v1/cpc, its use, the others' state and why",
            cpcs.get("a", {}).get("state") == "ok" and
            cpcs["a"]["cpc"]["processors"]["pool"] == 12 and cpcs["a"]["used"] >= 17 and
            cpcs.get("gone", {}).get("state") == "unreachable" and
            "detail" in cpcs["gone"] and "cpc" not in cpcs["gone"] and code == PARTIAL,
            "%s %s" % (doc, err))
    code, out, err = pc.run("cpcs", env={"PARTCTL_CPCS": pc.reachable})
    R.check("cpcs: exit status 0 when all answer", code == 0 and not err, "%d %s" % (code, err))


def check_parallel(pc, tmp, a):
    stuck = [stuck_listener() for _ in range(3)]
    try:
        path = os.path.join(tmp, "stuck.json")
        write_json(path, {"timeout": 1.5, "cpcs": [
            {"name": "a", "url": "unix:" + a.sock, "token_file": a.token_file()}] + [
            {"name": "s%d" % i, "url": "http://127.0.0.1:%d" % s.getsockname()[1]}
            for i, s in enumerate(stuck)]})
        t0 = time.monotonic()
        code, out, err = pc.run("cpcs", env={"PARTCTL_CPCS": path})
        took = time.monotonic() - t0
        R.check("three stuck CPCs: all time out, a still shown",
                code == PARTIAL and "no reply from partd at http://127.0.0.1" in err and
                err.count("within 1.5 s") == 3 and " ok " in out, "%d %s %s" % (code, out, err))
        # asked one after the other they would take 3 x 1.5 s; at once, one
        # 1.5 s and partctl's own time, well under two
        R.check("three stuck CPCs cost one timeout, not three (%.1f s for 1.5 s each)" % took,
                took < 3.0, took)
    finally:
        for s in stuck:
            s.close()


def check_list(pc):
    code, out, err = pc.run("list", "--all")
    lines = out.splitlines()
    head = lines[0].split() if lines else []
    cpc_of = {ln.split()[1]: ln.split()[0] for ln in lines[1:] if ln.strip()}
    R.check("list --all: a CPC column first, then list's", head[:3] == ["CPC", "NAME", "STATE"],
            out)
    R.check("list --all: a's and b's partitions",
            cpc_of.get("prod") == "a" and cpc_of.get("db") == "a" and cpc_of.get("b1") == "b" and
            cpc_of.get("b2") == "b" and len(cpc_of) == 7, out)
    R.check("list --all: the unreachable on stderr, exit 3",
            code == PARTIAL and "partctl: gone:" in err and "partctl: closed:" in err,
            "%d %s" % (code, err))
    code, doc, err = pc.json("list", "--all")
    parts = (doc or {}).get("partitions", [])
    states = {c["name"]: c["state"] for c in (doc or {}).get("cpcs", [])}
    R.check("list --all -o json: partitions with their cpc, every CPC's state",
            sorted((p["cpc"], p["name"]) for p in parts) ==
            [("a", "batch"), ("a", "db"), ("a", "dev"), ("a", "prod"), ("a", "web"), ("b", "b1"),
             ("b", "b2")] and
            states == {"a": "ok", "b": "ok", "gone": "unreachable", "closed": "unreachable"} and
            code == PARTIAL, "%s %s" % (doc, err))


def check_plan(pc, a, b):
    before = {n: p["state"] for n, p in a.partitions().items()}
    code, doc, err = pc.json("plan", "--all")
    cpcs = {c["name"]: c for c in (doc or {}).get("cpcs", [])}
    moves = (doc or {}).get("moves", [])
    ca, cb = cpcs.get("a", {}), cpcs.get("b", {})
    R.check("plan --all: a over its pool of 12 (demand 14.5), b within",
            ca.get("over") is True and ca.get("pool") == 12 and ca.get("demand") == 14.5 and
            cb.get("over") is False and code == PARTIAL, "%s %s" % (doc, err))
    R.check("plan --all: a partition of a's suggested to b, bringing a within its pool",
            len(moves) >= 1 and all(m["from"] == "a" and m["to"] == "b" for m in moves) and
            ca.get("demand_after", 99) <= ca.get("pool_after", 0) and
            cb.get("demand_after", 99) <= cb.get("pool_after", 0), json.dumps(doc))
    R.check("plan --all: the smallest partition that is enough (batch, demand 2.5)",
            [(m["partition"], m["demand"]) for m in moves] == [("batch", 2.5)], moves)
    R.check("plan --all: unreachable CPCs listed as such",
            cpcs.get("gone", {}).get("state") == "unreachable" and "pool" not in cpcs["gone"],
            cpcs.get("gone"))
    code, out, err = pc.run("plan", "--all")
    R.check("plan --all: the table and the suggestion, nothing moved",
            "over its pool" in out and "Suggested moves" in out and
            any(ln.split()[:3] == ["batch", "a", "b"] for ln in out.splitlines()) and
            {n: p["state"] for n, p in a.partitions().items()} == before and
            "batch" not in b.partitions(), out + err)
    code, out, err = pc.run("plan", "--all", env={"PARTCTL_CPCS": pc.reachable})
    R.check("plan --all: exit 0 when all answer", code == 0, "%d %s" % (code, err))
    code, out, err = pc.run("--cpc", "a", "plan", "--all")
    R.check("plan --all with --cpc: a usage error", code == 2 and "--cpc is for one partd" in err,
            err)


def check_config(pc, tmp, a):
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{\n  "cpcs": [\n    {"name": "a", "url": "unix:/x"},\n'
                '    {"name": "b", "url": "ftp://b.example"}\n  ]\n}\n')
    code, out, err = pc.run("cpcs", env={"PARTCTL_CPCS": bad})
    R.check("a bad list: FILE:LINE:COLUMN: FIELD: why, exit 1",
            code == 1 and err.startswith("partctl: %s:4:26: cpcs[1].url: \"ftp://b.example\" is "
                                         "not a partd address" % bad), err)
    code, out, err = pc.run("cpcs", env={"PARTCTL_CPCS": os.path.join(tmp, "none.json")})
    R.check("no list: said so, exit 1", code == 1 and "does not exist" in err, err)
    # a token file others may read
    open_token = os.path.join(tmp, "open.token")
    shutil.copy(a.token_file(), open_token)
    os.chmod(open_token, 0o644)
    path = os.path.join(tmp, "open.json")
    write_json(path, {"cpcs": [{"name": "a", "url": "unix:" + a.sock, "token_file": open_token},
                               {"name": "a2", "url": "unix:" + a.sock,
                                "token_file": a.token_file()}]})
    code, out, err = pc.run("--cpc", "a", "list", env={"PARTCTL_CPCS": path})
    R.check("--cpc with a token file others may read: refused, naming the file and why",
            code == 1 and open_token in err and "others read access" in err and
            "chmod 0600" in err, err)
    code, out, err = pc.run("cpcs", env={"PARTCTL_CPCS": path})
    R.check("cpcs: that CPC shown as refused locally, the other one ok, exit 3",
            code == PARTIAL and "partctl: a: token file %s" % open_token in err and
            any(ln.split()[:3] == ["a2", "unix:" + a.sock, "ok"] for ln in out.splitlines()),
            out + err)
    # a wrong token (partd refuses: 401), a missing token file, and a token
    # that would go in clear off loopback: each its CPC's state, a2 still ok
    wrong = os.path.join(tmp, "wrong.token")
    with open(wrong, "w") as f:
        f.write("not-the-token\n")
    os.chmod(wrong, 0o600)
    write_json(path, {"cpcs": [
        {"name": "wrong", "url": "unix:" + a.sock, "token_file": wrong},
        {"name": "missing", "url": "unix:" + a.sock, "token_file": os.path.join(tmp, "no.token")},
        {"name": "clear", "url": "http://192.0.2.1:7480", "token_file": a.token_file()},
        {"name": "a2", "url": "unix:" + a.sock, "token_file": a.token_file()}]})
    code, doc, err = pc.json("cpcs", env={"PARTCTL_CPCS": path})
    st = {c["name"]: c for c in (doc or {}).get("cpcs", [])}
    R.check("cpcs: a wrong token is partd's refusal (HTTP 401), shown as such",
            st.get("wrong", {}).get("state") == "error" and st["wrong"].get("status") == 401 and
            "(HTTP 401)" in st["wrong"].get("detail", ""), st.get("wrong"))
    R.check("cpcs: a missing token file is named, nothing sent",
            st.get("missing", {}).get("state") == "error" and
            "no.token: cannot read: No such file" in st["missing"].get("detail", ""),
            st.get("missing"))
    R.check("cpcs: no token in clear off loopback, nothing sent",
            st.get("clear", {}).get("state") == "error" and
            "refusing to send the token in clear" in st["clear"].get("detail", ""),
            st.get("clear"))
    R.check("cpcs: the others' failures hide nothing (a2 ok), exit 3",
            st.get("a2", {}).get("state") == "ok" and code == PARTIAL, "%s %s" % (doc, err))
    code, out, err = pc.run("cpcs", env={"PARTCTL_CPCS": path})
    R.check("cpcs: the refusal's row says refused",
            any(ln.split()[:3] == ["wrong", "unix:" + a.sock, "refused"]
                for ln in out.splitlines()), out)


def run(partd_bin, partctl_bin, shim):
    tmp = tempfile.mkdtemp(prefix="partd-cpcs-", dir="/tmp")
    a = Partd(partd_bin, tmp=os.path.join(tmp, "a"), interval=1)
    b = make_b(partd_bin, tmp)
    demand = os.path.join(tmp, "demand")
    with open(demand, "w") as f:
        f.write(A_DEMAND)
    env_a = dict(os.environ, LD_PRELOAD=os.path.abspath(shim), PARTD_DEMAND_FILE=demand)
    # in the sanitized tree the shim comes before libasan: allowed here (as
    # tests/reliability/partdlib.py's shim_env() does)
    asan = env_a.get("ASAN_OPTIONS", "")
    env_a["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    cfg = {"cpcs": [
        {"name": "a", "url": "http://127.0.0.1:%d" % a.port, "token_file": a.token_file()},
        {"name": "b", "url": "unix:" + b.sock, "token_file": b.token_file()},
        {"name": "gone", "url": "unix:" + os.path.join(tmp, "missing.sock")},
        {"name": "closed", "url": "http://127.0.0.1:%d" % free_port()}]}
    cfg_path = os.path.join(tmp, "cpcs.json")
    write_json(cfg_path, cfg)
    reachable = os.path.join(tmp, "reachable.json")
    write_json(reachable, {"cpcs": cfg["cpcs"][:2]})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTD_", "PARTCTL_"))}
    env["PARTCTL_CPCS"] = cfg_path
    pc = Partctl(partctl_bin, env)
    pc.reachable = reachable
    try:
        if not (check_start(R, a, "partd a starts (with the demand shim)", env=env_a) and
                check_start(R, b, "partd b starts")):
            return R.finish()
        R.check("a's shared partitions and db, b's two, activated",
                activate_all(a, ["prod", "web", "batch", "db"]) is None and
                activate_all(b, ["b1", "b2"]) is None)
        R.check("a's use measured", wait_measured(a, ["prod", "web", "batch"]))
        check_select(pc, a, b, cfg_path, tmp)
        check_cpcs(pc, a, b)
        check_parallel(pc, tmp, a)
        check_list(pc)
        check_plan(pc, a, b)
        check_config(pc, tmp, a)
        check_stop(R, a, "partd a stops with status 0")
        check_stop(R, b, "partd b stops with status 0")
    finally:
        for p in (a, b):
            p.stop()
        if R.failed:
            for name, p in (("a", a), ("b", b)):
                print("--- partd %s's log, last lines ---\n%s" % (name, p.log_tail(15)), end="")
        shutil.rmtree(tmp, ignore_errors=True)
    return R.finish()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main_wrapper(lambda: run(*sys.argv[1:4]))
