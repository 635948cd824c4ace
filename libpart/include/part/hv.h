/* The hypervisor backend: one vtable (struct part_hv_ops) so that libpart's
 * callers do not know which hypervisor layer is behind it. libvirt
 * (hv-libvirt.c) is the implementation; tests may add a fake one. Every
 * call is synchronous. An operation a backend cannot do returns -ENOTSUP and
 * is reported as unsupported, never as applied. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/domxml.h"
#include "part/error.h"
#include "part/monitor.h"
#include "part/profile.h"

/* flags of the set_* operations and pin: where the change applies (at
 * least one of LIVE and CONFIG), and how */
enum {
    PART_HV_LIVE = 1u << 0,   /* the running domain */
    PART_HV_CONFIG = 1u << 1, /* the persistent definition (next start) */
    /* set_processors only: the guest runs the QEMU guest agent (profile
     * key guest_agent), so processors are varied offline and back online
     * by the guest itself. Without it, a live decrease is refused. */
    PART_HV_GUEST = 1u << 2,
};

struct part_hv_host {
    unsigned cpus;    /* host CPUs */
    uint64_t memory;  /* host memory, MiB */
    char driver[32];  /* "QEMU", "TEST", ... */
    char version[32]; /* the hypervisor library's version, "9.0.0" */
};

struct part_hv_domain {
    bool active;
    unsigned vcpus;      /* plugged now (live when active, else config) */
    unsigned vcpus_max;  /* maximum reachable live */
    uint64_t memory;     /* current target, MiB */
    uint64_t memory_max; /* maximum, MiB */
    /* online in the guest as its agent reports them, -1 when unknown (not
     * running, no agent, or it did not answer). After processors were
     * varied offline through the agent this is below vcpus: it is the
     * number the partition really has. */
    int vcpus_guest;
    /* the partition partd's mark names (PART_DOMXML_MARK_*, in the
     * persistent definition, else the running one): partd defined the
     * domain for it. "" when the domain has no mark (partd did not define
     * it, or an earlier partd without marks did) or it cannot be read. */
    char owner[PART_NAME_MAX];
};

/* One domain's sample from bulk stats. A field the backend did not report
 * has its has_* flag false. */
struct part_hv_stats {
    const char *name; /* domain name, valid during the callback */
    bool active;
    bool has_cpu_time;
    uint64_t cpu_time_ns; /* total CPU time used by the domain */
    unsigned vcpus;       /* online vCPUs, 0 when unknown */
    bool has_balloon;
    uint64_t balloon_current, balloon_maximum; /* KiB */
    bool has_balloon_guest;                    /* the guest reports these */
    bool has_balloon_usable;                   /* balloon_usable among them */
    uint64_t balloon_available, balloon_usable, balloon_unused, balloon_rss; /* KiB */
    /* the guest's paging, cumulative since it booted (hostile: they may
     * go backwards or jump) */
    bool has_major_fault, has_swap;
    uint64_t balloon_major_fault;               /* major page faults */
    uint64_t balloon_swap_in, balloon_swap_out; /* KiB */
};

enum part_hv_event {
    PART_HV_EVENT_STARTED,
    PART_HV_EVENT_STOPPED,
    PART_HV_EVENT_DEFINED,
    PART_HV_EVENT_UNDEFINED,
    PART_HV_EVENT_OTHER,
};

/* What a move's target checks the guest's processor against: the running
 * domain's type, architecture and machine, and its <cpu> element. */
struct part_hv_guest {
    char type[16];    /* "kvm", "qemu", "test" */
    char arch[32];    /* "x86_64"; "" when the domain does not say */
    char machine[64]; /* "pc-q35-7.2"; "" when the domain does not say */
    char cpu[4096];   /* the <cpu> element, "" when the domain has none (the default model) */
};

/* A live migration to another host's libvirtd. */
struct part_hv_migration {
    const char *dest_uri; /* the target's libvirtd, reached by the source's (peer to peer) */
    const char
        *data_uri; /* where the guest's memory goes ("tcp://10.0.0.2"), NULL: libvirt's choice */
    unsigned max_downtime_ms; /* the longest pause of the guest at the switch-over */
    unsigned timeout_s;       /* still running then: aborted, the guest stays where it was */
};

/* A running migration, as libvirt's job statistics say. */
struct part_hv_progress {
    double elapsed_s;
    uint64_t processed, remaining, total; /* bytes of memory (and disks) */
};

typedef void (*part_hv_progress_fn)(const struct part_hv_progress *p, void *opaque);

typedef void (*part_hv_stats_fn)(const struct part_hv_stats *stats, void *opaque);
typedef void (*part_hv_event_fn)(const char *domain, enum part_hv_event event, void *opaque);

struct part_hv; /* an open connection; starts with a pointer to its ops */

struct part_hv_ops {
    const char *name;
    int (*open)(const char *uri, bool read_only, struct part_hv **ret, struct part_error *err);
    void (*close)(struct part_hv *hv);
    int (*host)(struct part_hv *hv, struct part_hv_host *ret, struct part_error *err);
    /* The host's free memory and pressure now (what is unknown has its
     * has_* false). */
    int (*memory)(struct part_hv *hv, struct part_host_memory *ret, struct part_error *err);
    /* Looks the domain up: -ENOENT when there is none. */
    int (*lookup)(struct part_hv *hv, const char *domain, struct part_hv_domain *ret,
                  struct part_error *err);
    /* Defines the persistent domain from the profile, marked as p's
     * (part_domxml_build()), or redefines the one whose mark names p->name.
     * A domain of that name without that mark is not partd's to replace:
     * -EEXIST, and it is left untouched. */
    int (*define)(struct part_hv *hv, const struct part_profile *p,
                  const struct part_placement *placement, struct part_error *err);
    /* Undefines the domain, with its NVRAM and snapshot metadata, when its
     * mark names a partition of the domain's name (partd defined it);
     * -EEXIST, touching nothing, for any other; -ENOENT when there is none. */
    int (*undefine)(struct part_hv *hv, const char *domain, struct part_error *err);
    int (*activate)(struct part_hv *hv, const char *domain, struct part_error *err);
    /* Graceful shutdown, waiting up to timeout_ms, then destroy when force or
     * (-ETIMEDOUT) report that it is still running. timeout_ms 0 with force
     * destroys at once. */
    int (*deactivate)(struct part_hv *hv, const char *domain, unsigned timeout_ms, bool force,
                      struct part_error *err);
    /* Sets the processors to n. LIVE, confirmed from what the domain (and
     * with PART_HV_GUEST, the guest) reports afterwards:
     * - up: hot-plugs vCPUs; with PART_HV_GUEST, first has the guest online
     *   the ones it had offlined, then hot-plugs the rest;
     * - down: only with PART_HV_GUEST, through the agent (the guest
     *   offlines them; the domain keeps them plugged). Without it, -ENOTSUP
     *   and nothing is attempted: QEMU's TCG cannot unplug, and unplugging
     *   without the guest's cooperation is unsafe.
     * Returns 0 when confirmed; -EAGAIN when the domain reports another
     * count; -EINPROGRESS when libvirt accepted it but the guest did not
     * show the count within 3 s (unconfirmed: check again with lookup);
     * -ENOTSUP; or libvirt's error. */
    int (*set_processors)(struct part_hv *hv, const char *domain, unsigned n, unsigned flags,
                          struct part_error *err);
    /* Sets the memory target. LIVE returns 0 once libvirt accepted it and
     * the domain reports that memory (the balloon got there), polling up to
     * 3 s; -EINPROGRESS with "NAME: balloon asked for N MiB, at M MiB so
     * far" when it has not got there yet (unconfirmed: check again). */
    int (*set_memory)(struct part_hv *hv, const char *domain, uint64_t mib, unsigned flags,
                      struct part_error *err);
    int (*set_weight)(struct part_hv *hv, const char *domain, unsigned weight, unsigned flags,
                      struct part_error *err);
    int (*set_cap)(struct part_hv *hv, const char *domain, double cap, unsigned flags,
                   struct part_error *err);
    /* Pins the domain's vCPUs (every one up to the maximum, plugged or
     * not) and, unless dedicated, its emulator threads to the placement:
     * shared, each on all of placement->cpus; dedicated, vCPU N on
     * cpus[N] (vCPUs beyond n left as they are); n == 0, on every host CPU.
     * flags: LIVE and/or CONFIG. -ENOTSUP when the driver cannot pin so. */
    int (*pin)(struct part_hv *hv, const char *domain, const struct part_placement *placement,
               unsigned flags, struct part_error *err);
    /* Calls fn once per domain named in domains (n of them) from a single
     * bulk query. */
    int (*stats)(struct part_hv *hv, const char *const *domains, size_t n, part_hv_stats_fn fn,
                 void *opaque, struct part_error *err);
    /* Registers fn for lifecycle events (delivered from the event loop
     * thread started by open). */
    int (*events)(struct part_hv *hv, part_hv_event_fn fn, void *opaque, struct part_error *err);
    /* Whether the domain runs: 1 or 0 (-ENOENT when there is none). Cheap,
     * unlike lookup (which may ask the guest agent): a deactivation polls it
     * while the guest shuts down. */
    int (*active)(struct part_hv *hv, const char *domain, struct part_error *err);
    /* The running domain's type, architecture, machine and <cpu>. */
    int (*guest)(struct part_hv *hv, const char *domain, struct part_hv_guest *ret,
                 struct part_error *err);
    /* Whether this host can run g's processor (libvirt's CPU comparison
     * against what the hypervisor offers): 0, -EINVAL when it cannot (err
     * says why), -ENOTSUP when the backend cannot compare. */
    int (*compare_cpu)(struct part_hv *hv, const struct part_hv_guest *g, struct part_error *err);
    /* Migrates the running domain live to m->dest_uri, peer to peer: on
     * success it is defined and running there, and undefined here. fn (may
     * be NULL) gets the job's progress about once a second. At
     * m->timeout_s the job is aborted (-ETIMEDOUT). On any failure the
     * guest runs on here, as libvirt guarantees. Blocks until done. */
    int (*migrate)(struct part_hv *hv, const char *domain, const struct part_hv_migration *m,
                   part_hv_progress_fn fn, void *opaque, struct part_error *err);
    /* Whether libvirt migrates the domain now: 1 or 0 (-ENOENT when there
     * is none). */
    int (*migrating)(struct part_hv *hv, const char *domain, struct part_error *err);
};

struct part_hv {
    const struct part_hv_ops *ops;
};

extern const struct part_hv_ops part_hv_libvirt_ops;

/* Wrappers that dispatch to hv->ops and return -ENOTSUP (with err saying so)
 * when the backend lacks the operation. Arguments as in struct part_hv_ops. */
int part_hv_open(const struct part_hv_ops *ops, const char *uri, bool read_only,
                 struct part_hv **ret, struct part_error *err);
void part_hv_close(struct part_hv *hv);
int part_hv_host(struct part_hv *hv, struct part_hv_host *ret, struct part_error *err);
int part_hv_memory(struct part_hv *hv, struct part_host_memory *ret, struct part_error *err);
int part_hv_lookup(struct part_hv *hv, const char *domain, struct part_hv_domain *ret,
                   struct part_error *err);
int part_hv_define(struct part_hv *hv, const struct part_profile *p,
                   const struct part_placement *placement, struct part_error *err);
int part_hv_undefine(struct part_hv *hv, const char *domain, struct part_error *err);
int part_hv_activate(struct part_hv *hv, const char *domain, struct part_error *err);
int part_hv_deactivate(struct part_hv *hv, const char *domain, unsigned timeout_ms, bool force,
                       struct part_error *err);
int part_hv_set_processors(struct part_hv *hv, const char *domain, unsigned n, unsigned flags,
                           struct part_error *err);
int part_hv_set_memory(struct part_hv *hv, const char *domain, uint64_t mib, unsigned flags,
                       struct part_error *err);
int part_hv_set_weight(struct part_hv *hv, const char *domain, unsigned weight, unsigned flags,
                       struct part_error *err);
int part_hv_set_cap(struct part_hv *hv, const char *domain, double cap, unsigned flags,
                    struct part_error *err);
/* Sets running setting s (< PART_SET_N) to v through the matching
 * set_processors, set_memory, set_weight or set_cap. */
int part_hv_set(struct part_hv *hv, const char *domain, enum part_setting s, double v,
                unsigned flags, struct part_error *err);
int part_hv_pin(struct part_hv *hv, const char *domain, const struct part_placement *placement,
                unsigned flags, struct part_error *err);
int part_hv_stats(struct part_hv *hv, const char *const *domains, size_t n, part_hv_stats_fn fn,
                  void *opaque, struct part_error *err);
int part_hv_events(struct part_hv *hv, part_hv_event_fn fn, void *opaque, struct part_error *err);
int part_hv_guest(struct part_hv *hv, const char *domain, struct part_hv_guest *ret,
                  struct part_error *err);
int part_hv_compare_cpu(struct part_hv *hv, const struct part_hv_guest *g, struct part_error *err);
int part_hv_migrate(struct part_hv *hv, const char *domain, const struct part_hv_migration *m,
                    part_hv_progress_fn fn, void *opaque, struct part_error *err);
int part_hv_migrating(struct part_hv *hv, const char *domain, struct part_error *err);
/* The backend's active, or its lookup when it has none. */
int part_hv_active(struct part_hv *hv, const char *domain, struct part_error *err);
