/* Whether QEMU, run by libvirt as its own user (qemu.conf's "user", Debian's
 * libvirt-qemu), can reach a guest's files. With dynamic_ownership libvirt
 * gives the file itself to that user while the guest runs, but not the
 * directories above it: a kernel under /root (0700) fails with QEMU's bare
 * "Permission denied". partd says instead which path, which directory and
 * which user, at define and at activation. */
#pragma once

#include <sys/types.h>

#include "part/error.h"
#include "part/profile.h"

/* The user QEMU runs as, looked up once. */
struct part_qemu_user {
    char *name;
    uid_t uid;
    gid_t *groups; /* its primary group and supplementary groups */
    int n_groups;
};

/* Looks up the user called name (getpwnam_r(), getgrouplist()) into a new
 * *ret the caller frees with part_qemu_user_free(). Returns 1, 0 when the
 * host has no such user (*ret NULL: nothing can be judged), or a negative
 * errno with err saying why. */
int part_qemu_user_lookup(const char *name, struct part_qemu_user **ret, struct part_error *err);

/* Frees u (which may be NULL) and returns NULL. */
struct part_qemu_user *part_qemu_user_free(struct part_qemu_user *u);

/* Checks that u may search every directory above p's boot.kernel,
 * boot.initrd and boot.disk (absolute paths, as part_hostpath_load() leaves
 * them), judged from each directory's owner, group and mode as the kernel
 * does (uid 0 passes everywhere; ACLs are not read). The files themselves
 * are not checked (libvirt hands them to u), nor serial_log (libvirt opens
 * it and passes QEMU the descriptor). Returns 0, or -EACCES with err naming
 * the field, e.g. "boot.kernel: QEMU's user libvirt-qemu cannot reach
 * /root/x/vmlinuz: /root (drwx------ root:root) is closed to it", or
 * another -errno when a directory cannot be looked at. */
int part_qemu_access_check(const struct part_qemu_user *u, const struct part_profile *p,
                           struct part_error *err);
