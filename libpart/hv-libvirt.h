/* Internal: what the files of the libvirt backend share. hv-libvirt.c
 * holds the connection, errors, the domains' lifecycle, statistics and
 * events; hv-libvirt-set.c the changes to a running domain (processors,
 * memory, pinning, weight and cap); hv-libvirt-move.c moving a domain to
 * another host. These files are the only ones in partd that call libvirt. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "part/hv.h"

#define LV_POLL_MS         50
#define LV_CONFIRM_MS      3000      /* how long a live change may take to show */
#define LV_GUEST_POLL_MS   200       /* each look is a round trip to the guest agent */
#define LV_AGENT_TIMEOUT_S 5         /* the most one guest agent command may take */
#define LV_CAP_PERIOD      100000ULL /* us; a cap is a quota of this many periods */
#define LV_STATS_ALL                                                                               \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_VCPU |                 \
     VIR_DOMAIN_STATS_BALLOON)
#define LV_UNDEFINE_ALL                                                                            \
    (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_NVRAM |                                \
     VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)

/* The lifecycle callback's context. libvirt owns it once registered and frees
 * it (lv_events_free) when the callback can no longer run, which may be after
 * the connection was closed, so it must not point back into the connection. */
struct lv_events {
    part_hv_event_fn fn;
    void *opaque;
};

struct part_hv_libvirt {
    struct part_hv base;
    virConnectPtr conn;
    char driver[32];      /* virConnectGetType(): "QEMU", "TEST", ... */
    int event_id;         /* lifecycle callback, -1 when none */
    unsigned stats_types; /* the stats groups this driver accepted last */
    bool local;           /* the hypervisor runs on this host (not the test driver) */
};

/* Maps the calling thread's last libvirt error to a negative errno. */
int lv_errno(void);
/* Records the last libvirt error in err as "DOMAIN: cannot WHAT: message"
 * (without the domain when NULL) and returns its errno. */
int lv_fail(struct part_error *err, const char *domain, const char *what);
/* lv_fail() for an operation that the domain's state may forbid: the state
 * decides between -EBUSY and the error's own code. */
int lv_fail_state(struct part_error *err, virDomainPtr dom, const char *domain, const char *what,
                  bool busy_when_active);
struct part_hv_libvirt *lv_cast(struct part_hv *hv);
int lv_domain(struct part_hv_libvirt *lv, const char *name, const char *what, virDomainPtr *ret,
              struct part_error *err);
/* PART_HV_LIVE/CONFIG as libvirt's VIR_DOMAIN_AFFECT_* flags. */
unsigned lv_affect(unsigned flags);
uint64_t lv_now_ms(void);
void lv_sleep_ms(unsigned ms);
/* Bounds how long libvirt waits for dom's guest agent. */
void lv_agent_bound(virDomainPtr dom);

/* hv-libvirt-set.c: struct part_hv_ops' set_processors, set_memory, pin,
 * set_weight and set_cap. */
int lv_set_processors(struct part_hv *hv, const char *domain, unsigned n, unsigned flags,
                      struct part_error *err);
int lv_set_memory(struct part_hv *hv, const char *domain, uint64_t mib, unsigned flags,
                  struct part_error *err);
int lv_pin(struct part_hv *hv, const char *domain, const struct part_placement *placement,
           unsigned flags, struct part_error *err);
int lv_set_weight(struct part_hv *hv, const char *domain, unsigned weight, unsigned flags,
                  struct part_error *err);
int lv_set_cap(struct part_hv *hv, const char *domain, double cap, unsigned flags,
               struct part_error *err);

/* hv-libvirt-move.c: struct part_hv_ops' guest, compare_cpu, migrate and
 * migrating. */
int lv_migrating(struct part_hv *hv, const char *domain, struct part_error *err);
int lv_guest(struct part_hv *hv, const char *domain, struct part_hv_guest *ret,
             struct part_error *err);
int lv_compare_cpu(struct part_hv *hv, const struct part_hv_guest *g, struct part_error *err);
int lv_migrate(struct part_hv *hv, const char *domain, const struct part_hv_migration *m,
               part_hv_progress_fn fn, void *opaque, struct part_error *err);
