/* Host paths a profile may name. domain.template, boot.kernel, boot.initrd,
 * boot.disk and serial_log name host files that libvirt opens as root for
 * a guest, so which of them a guest may have is the host administrator's
 * decision, never the API caller's: each must lie in the directory of its
 * kind that partd.json's "paths" gives (docs/security.md). */
#pragma once

#include "part/error.h"
#include "part/profile.h"

#define PART_TEMPLATE_MAX (1024 * 1024) /* bytes of a domain template, at most */

/* part_hostpath_load(): create serial_log (mode 0640) when it is missing,
 * as partd does before libvirt may open it; without it nothing is created
 * (partd --check). */
#define PART_HOSTPATH_CREATE_LOG 0x1u

/* partd.json's "paths": absolute and normalised once loaded. */
struct part_paths {
    char *images;    /* boot.kernel, boot.initrd, boot.disk */
    char *templates; /* domain.template */
    char *logs;      /* serial_log */
};

/* Checks each directory of paths that exists, and its parents up to "/",
 * as part_dir_check_trusted() does (owned by root or partd's user, not
 * writable by group or others). A missing directory is no error: no
 * profile can name a file in it. Returns 0, or -EPERM (or -errno) with err
 * naming the key ("paths.images"), the directory and why. */
int part_hostpath_check_dirs(const struct part_paths *paths, struct part_error *err);

/* Confines p's host paths to paths and reads its template. Each path, as
 * the profile gives it, is taken relative to the directory of its kind
 * (kernel, initrd and disk: images; template: templates; serial_log: logs)
 * when it is relative; it must then lie inside that directory, lexically
 * (checked before anything but the directory itself is looked up, so that
 * the answer for a path outside is the same whether or not it exists) and
 * once links are resolved; the directories between it and "/" must pass
 * part_dir_check_trusted(). The file is opened with O_NOFOLLOW, never
 * blocking, and must be a regular file: a template also owned by root or
 * partd's user, not writable by group or others, and at most
 * PART_TEMPLATE_MAX bytes; a serial log with one link only, created when
 * missing with PART_HOSTPATH_CREATE_LOG (else it may be missing).
 *
 * On success every path of p is replaced by its resolved absolute path and
 * p->domain_template_xml holds the template's text (what part_domxml_build()
 * parses; the file is not opened again). On failure p is unchanged and err
 * names the field, the path as given and the directory, e.g.
 * "boot.kernel: /etc/shadow is not inside paths.images (/var/lib/partd/images)".
 * Returns 0, -EINVAL (outside, not a regular file, bad flags), -ENOENT
 * (missing), -EFBIG (a template too large), -EPERM (untrusted owner or
 * mode), -ENOMEM or another -errno. */
int part_hostpath_load(const struct part_paths *paths, struct part_profile *p, unsigned flags,
                       struct part_error *err);
