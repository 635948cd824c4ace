#!/usr/bin/python3
"""Host files through a profile (docs/security.md, issue 10): which host
files a guest may have is the administrator's decision, never the API
caller's.

partd runs on libvirt's test driver with the example CPC, whose partd.json
names paths.images, paths.templates and paths.logs inside the copy
(images/, templates/, logs/: made here, 0755, as an administrator would).
From a client with the token, POST /v1/partitions tries:

- attacks: host files outside those directories by every key that names
  one (boot.kernel, boot.initrd, boot.disk, domain.template, serial_log):
  absolute paths (/etc/shadow, /dev/sda, /dev/zero, serial_log
  /etc/passwd), "../" escapes, a template under /tmp handing the guest the
  host's disk, links in the directories pointing out, a FIFO, a device
  node and a 2 MiB template inside them. Each is 422 naming the field,
  the path as given and the directory; a path outside gets the same
  detail whether or not it exists; nothing changes (partitions, profiles,
  the files named: /etc/passwd is not truncated);
- hang: a FIFO template is refused at once, and GET /v1/health and a
  partition's GET (which takes the manager's lock) answer within 1 s
  while it is tried;
- good: a template and a kernel of the directories are taken, named
  relative to them; partd creates the serial log (a regular file, 0640);
- qemu: with "qemu_user": "nobody" (standing in for libvirt-qemu; the
  check runs on the test driver because the key is given), a kernel in a
  directory closed to that user is refused at definition (422 naming
  boot.kernel, the file, the directory and the user) and, closed after
  the definition, at activation; an open one is taken;
- files: a profile file naming /etc/passwd as its serial log is left out at
  start, /etc/passwd untouched; partd refuses to start on an images or
  templates directory its group may write, one another user owns, or
  below a directory others may write, and says which and why.

Prints "N passed, N failed"; exit 1 on any failure."""

import hashlib
import json
import os
import pwd
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from partdtest import Partd, Results, main_wrapper, session  # noqa: E402
from attack import TOKEN, problem, refused_start, state  # noqa: E402

TEMPLATE = ("<domain type='test'><name>x</name><memory>524288</memory>"
            "<os><type>hvm</type></os></domain>\n")
# the example: a template that hands the guest the host's disk
EVIL = ("<domain type='kvm'><name>x</name><memory>524288</memory><os><type>hvm</type></os>"
        "<devices><disk type='block' device='disk'><source dev='/dev/sda'/>"
        "<target dev='vda' bus='virtio'/></disk></devices></domain>\n")
KIND_DIRS = ("images", "templates", "logs")


def dirs(p):
    """The example's paths.* in the copy p runs on, made as an administrator
    would: root's (partd's user's), 0755."""
    out = {}
    for d in KIND_DIRS:
        path = os.path.join(p.cpc, d)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)
        out[d] = path
    return out


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def digest(path):
    """What must not change of a file outside: its bytes, size and time."""
    st = os.stat(path)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest(), st.st_size, st.st_mtime_ns


def prepare(p, tmp_evil):
    """The directories, their good files, and what an attacker hopes to use
    (the files inside are the administrator's mistakes, or a link placed
    before partd was told about the directory)."""
    d = dirs(p)
    write(os.path.join(d["images"], "vmlinuz"), "not a kernel: the test driver boots nothing\n")
    write(os.path.join(d["templates"], "t.xml"), TEMPLATE)
    os.symlink("/etc/passwd", os.path.join(d["images"], "passwd-link"))
    os.symlink("/dev/zero", os.path.join(d["templates"], "zero-link.xml"))
    os.symlink(tmp_evil, os.path.join(d["templates"], "evil-link.xml"))
    os.symlink("/etc/passwd", os.path.join(d["logs"], "passwd.log"))
    os.mkfifo(os.path.join(d["templates"], "fifo.xml"))
    os.mkdir(os.path.join(d["templates"], "dir.xml"))
    write(os.path.join(d["templates"], "big.xml"),
          TEMPLATE[:-1] + " " * (2 * 1024 * 1024) + "\n")
    if os.geteuid() == 0:  # a device node: only root makes one
        os.mknod(os.path.join(d["templates"], "zero.xml"), stat.S_IFCHR | 0o600,
                 os.makedev(1, 5))
    return d


def profile(name, **keys):
    p = {"name": name, "processors": {"initial": 1, "reserved": 2},
         "memory": {"initial": 512}}
    p.update(keys)
    return p


def kernel(path, **more):
    return dict(boot=dict({"kernel": path}, **more))


def refused(R, partd, label, body, field, want, group="attacks"):
    """POST body: 422 naming field, with want in the detail; returns the
    detail."""
    rep = partd.request("POST", "/v1/partitions", body)
    j = rep.json or {}
    ok = problem(R, label, rep, 422, "validation", group=group)
    if ok:
        R.check("%s: names %s and says %r" % (label, field, want),
                j.get("field") == field and want in j.get("detail", ""),
                repr(j)[:400], group=group)
    return j.get("detail", "")


def attacks(R, partd, d, tmp_evil):
    before = state(partd)
    passwd = digest("/etc/passwd")
    rss = partd.rss_kib()
    images, templates, logs = d["images"], d["templates"], d["logs"]

    # a path outside: one answer, whether or not it exists
    pairs = [
        ("boot.kernel", "/etc/shadow", "/etc/no-such-shadow", kernel, "paths.images", images),
        ("boot.kernel", "../../../../../../../../etc/passwd",
         "../../../../../../../../etc/no-such-passwd", kernel, "paths.images", images),
        ("boot.initrd", "/etc/shadow", "/etc/no-such-shadow",
         lambda x: kernel("vmlinuz", initrd=x), "paths.images", images),
        ("boot.disk", "/dev/sda", "/dev/no-such-disk",
         lambda x: dict(boot={"disk": x, "format": "raw"}), "paths.images", images),
        ("domain.template", tmp_evil, tmp_evil + ".missing",
         lambda x: dict(domain={"template": x}), "paths.templates", templates),
        ("domain.template", "/dev/zero", "/dev/no-such-zero",
         lambda x: dict(domain={"template": x}), "paths.templates", templates),
        ("domain.template", "../images/vmlinuz", "../images/no-such",
         lambda x: dict(domain={"template": x}), "paths.templates", templates),
        ("serial_log", "/etc/passwd", "/etc/no-such-passwd",
         lambda x: dict(kernel("vmlinuz"), serial_log=x), "paths.logs", logs),
        ("serial_log", "../../../../../../../../etc/passwd",
         "../../../../../../../../etc/no-such", lambda x: dict(kernel("vmlinuz"), serial_log=x),
         "paths.logs", logs),
    ]
    for field, there, missing, keys, key, where in pairs:
        details = []
        for path in (there, missing):
            label = "%s %s" % (field, path)
            want = "%s: %s is not inside %s (%s)" % (field, path, key, where)
            details.append(refused(R, partd, label, profile("x", **keys(path)), field, want)
                           .replace(path, "PATH"))
        R.check("%s: the same detail for %s (exists) and %s (does not)" % (field, there, missing),
                details[0] == details[1] and details[0], repr(details), group="attacks")

    # inside the directories, by name: links out, what is not a regular file
    inside = [
        ("a link in paths.images to /etc/passwd", "boot.kernel", kernel("passwd-link"),
         "passwd-link leads out of paths.images"),
        ("a link in paths.templates to /dev/zero", "domain.template",
         dict(domain={"template": "zero-link.xml"}), "zero-link.xml leads out of paths.templates"),
        ("a link in paths.templates to the template under /tmp", "domain.template",
         dict(domain={"template": "evil-link.xml"}), "evil-link.xml leads out of paths.templates"),
        ("a link in paths.logs to /etc/passwd", "serial_log",
         dict(kernel("vmlinuz"), serial_log="passwd.log"),
         "passwd.log is a symbolic link, not a regular file"),
        ("a FIFO template", "domain.template", dict(domain={"template": "fifo.xml"}),
         "fifo.xml is a FIFO, not a regular file"),
        ("a directory as template", "domain.template", dict(domain={"template": "dir.xml"}),
         "dir.xml is a directory, not a regular file"),
        ("a 2 MiB template", "domain.template", dict(domain={"template": "big.xml"}),
         "big.xml is larger than 1024 KiB"),
    ]
    if os.geteuid() == 0:
        inside.append(("a device node (/dev/zero's) as template", "domain.template",
                       dict(domain={"template": "zero.xml"}),
                       "zero.xml is a character device, not a regular file"))
    for label, field, keys, want in inside:
        refused(R, partd, label, profile("x", **keys), field, want)

    R.check("nothing changed: partitions and profiles", state(partd) == before,
            group="attacks")
    R.check("/etc/passwd untouched (not truncated, not written)",
            digest("/etc/passwd") == passwd, group="attacks")
    R.check("no serial log created for a refused profile",
            sorted(os.listdir(logs)) == ["passwd.log"], repr(os.listdir(logs)), group="attacks")
    grown = partd.rss_kib() - rss
    R.check("partd read neither /dev/zero nor 2 MiB (RSS grew %d KiB)" % grown,
            grown < 16 * 1024, group="attacks")


def hang(R, partd):
    """A FIFO template: partd used to open it under the manager's lock and
    wait for a writer forever."""
    result = {}

    def define():
        t = time.monotonic()
        result["rep"] = partd.request("POST", "/v1/partitions",
                                      profile("fifo", domain={"template": "fifo.xml"}),
                                      timeout=10)
        result["t"] = time.monotonic() - t

    th = threading.Thread(target=define)
    th.start()
    for path, auth in (("/v1/health", None), ("/v1/partitions/prod", True)):
        t = time.monotonic()
        try:
            status = partd.request("GET", path, auth=auth, timeout=5).status
        except OSError as e:
            status = repr(e)
        t = time.monotonic() - t
        R.check("GET %s answers within 1 s while a FIFO template is tried (%.2f s)" % (path, t),
                status == 200 and t < 1.0, "status %s" % status, group="hang")
    th.join(15)
    rep = result.get("rep")
    R.check("the FIFO template is refused at once: 422 (%.2f s)" % result.get("t", -1),
            rep is not None and rep.status == 422 and result["t"] < 1.0,
            repr(rep), group="hang")


def good(R, partd, d):
    """What the administrator put there is taken, named relative to it."""
    rep = partd.request("POST", "/v1/partitions",
                        profile("tmpl", domain={"template": "t.xml"}))
    R.check("a template of paths.templates, named relative to it: 201", rep.status == 201,
            repr(rep), group="good")
    rep = partd.request("POST", "/v1/partitions",
                        profile("kern", **dict(kernel("vmlinuz"), serial_log="kern.log")))
    R.check("a kernel of paths.images and a serial log of paths.logs: 201", rep.status == 201,
            repr(rep), group="good")
    log = os.path.join(d["logs"], "kern.log")
    st = os.lstat(log) if os.path.lexists(log) else None
    R.check("partd created the serial log: a regular file, mode 0640",
            st is not None and stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o640,
            repr(st), group="good")
    with open(os.path.join(partd.parts_dir, "kern.json")) as f:
        written = json.load(f)
    want = os.path.join(os.path.realpath(d["images"]), "vmlinuz")
    R.check("the profile written names the kernel resolved",
            written.get("boot", {}).get("kernel") == want, repr(written.get("boot")),
            group="good")
    for name in ("tmpl", "kern"):
        rep = partd.request("DELETE", "/v1/partitions/" + name)
        R.check("DELETE %s: 204" % name, rep.status == 204, repr(rep), group="good")


def qemu(R, binary):
    """QEMU's user must reach the directories above a guest's files: partd
    says which blocks it, at definition and at activation."""
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        R.skip("QEMU's user", "no user nobody to stand in for it", group="qemu")
        return
    p = Partd(binary, token=TOKEN)
    try:
        images = dirs(p)["images"]
        os.chmod(p.tmp, 0o755)  # mkdtemp's 0700 would close everything
        for sub, m in (("closed", 0o700), ("later", 0o755)):
            os.mkdir(os.path.join(images, sub))
            write(os.path.join(images, sub, "vmlinuz"), "not a kernel\n")
            os.chmod(os.path.join(images, sub), m)
        p.edit_config(lambda cfg: cfg.update(qemu_user="nobody"))
        why = p.start(timeout=20)
        R.check("partd starts with qemu_user nobody", why is None, why, group="qemu")
        if why is not None:
            return
        closed = os.path.join(os.path.realpath(images), "closed")
        want = ("boot.kernel: QEMU's user nobody cannot reach %s/vmlinuz: %s (drwx------ "
                % (closed, closed))
        refused(R, p, "a kernel in a directory closed to QEMU's user",
                profile("x", **kernel("closed/vmlinuz")), "boot.kernel", want, group="qemu")
        rep = p.request("POST", "/v1/partitions", profile("later", **kernel("later/vmlinuz")))
        R.check("a kernel QEMU's user can reach: 201", rep.status == 201, repr(rep),
                group="qemu")
        os.chmod(os.path.join(images, "later"), 0o700)
        rep = p.request("POST", "/v1/partitions/later/activate")
        j = rep.json or {}
        if problem(R, "closed after the definition: activation refused", rep, 422, "validation",
                   group="qemu"):
            R.check("activation names boot.kernel and the directory",
                    j.get("field") == "boot.kernel" and "/later (drwx------ " in j.get("detail", ""),
                    repr(j)[:400], group="qemu")
        R.check("partd stops", p.stop() == 0, group="qemu")
    finally:
        p.cleanup()


def files(R, binary, tmp_evil):
    # a profile file naming /etc/passwd: left out at start, never truncated
    passwd = digest("/etc/passwd")
    p = Partd(binary, token=TOKEN)
    try:
        dirs(p)
        with open(os.path.join(p.parts_dir, "evil.json"), "w") as f:
            json.dump(profile("evil", **dict(kernel("/vmlinuz"), serial_log="/etc/passwd")), f)
        why = p.start(timeout=20)
        R.check("partd starts with a profile file naming host files outside", why is None, why,
                group="files")
        if why is None:
            R.check("that partition is left out", "evil" not in p.partitions(), group="files")
            log = open(p.log, errors="replace").read()
            R.check("the log says why", "boot.kernel: /vmlinuz is not inside paths.images" in log,
                    log[-600:], group="files")
    finally:
        p.cleanup()
    R.check("/etc/passwd untouched", digest("/etc/passwd") == passwd, group="files")

    def mode(kind, m):
        def prep(p):
            os.chmod(dirs(p)[kind], m)
        return prep

    def owner(kind):
        def prep(p):
            os.chown(dirs(p)[kind], 65534, 65534)
        return prep

    def parent_writable(p):
        dirs(p)
        os.chmod(p.cpc, 0o777)

    refused_start(R, binary, "paths.images mode 0775", mode("images", 0o775),
                  "/cpc/images: mode 0775 gives its group write access")
    refused_start(R, binary, "paths.templates mode 0770", mode("templates", 0o770),
                  "/cpc/templates: mode 0770 gives its group write access")
    refused_start(R, binary, "a parent of the paths writable by others", parent_writable,
                  "/cpc: mode 0777 gives others write access")
    if os.geteuid() == 0:  # only root can give a directory away
        refused_start(R, binary, "paths.templates owned by uid 65534", owner("templates"),
                      "owned by uid 65534, not by root or partd's user")


def main():
    if len(sys.argv) < 2:
        print("usage: paths.py PARTD [PARTCTL]", file=sys.stderr)
        return 2
    binary = sys.argv[1]
    R = Results("paths")
    partd = Partd(binary, token=TOKEN)
    # outside every directory of the example: where a local user could write
    tmp_evil = os.path.join(partd.tmp, "evil.xml")
    write(tmp_evil, EVIL)
    files(R, binary, tmp_evil)
    qemu(R, binary)
    d = prepare(partd, tmp_evil)

    def body():
        attacks(R, partd, d, tmp_evil)
        hang(R, partd)
        good(R, partd, d)

    return session(R, partd, body, "partd starts", "partd stops with status 0")


if __name__ == "__main__":
    sys.exit(main_wrapper(main))
