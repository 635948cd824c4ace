/* partd under systemd: sd_notify(3) readiness, status, reload, stop and the
 * watchdog, and the note that root is not needed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include <part/part.h>

#include "log.h"
#include "service.h"

static char last_status[256];

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The watchdog's timeout in seconds, 0 when systemd set none. */
static double watchdog_timeout(void)
{
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? (double)usec / 1e6 : 0;
}

/* One line for `systemctl status`: the partitions, the policy, the backend,
 * from the latest snapshot. */
static void status_line(struct part_mgr *mgr, char *buf, size_t len)
{
    struct part_snapshot *s = part_mgr_snapshot(mgr);
    size_t n = 0;
    const char *text = s ? part_snapshot_cpc_text(s, &n) : NULL;
    json_t *cpc = text ? json_loadb(text, n, 0, NULL) : NULL;
    json_int_t defined = 0, active = 0;
    const char *policy = "?", *backend = "?";

    if (cpc)
        json_unpack(cpc, "{s:{s:I, s:I}, s:{s:s}, s:s}", "partitions", "defined", &defined,
                    "active", &active, "rebalancer", "policy", &policy, "backend", &backend);
    snprintf(buf, len, "%lld partitions, %lld active; policy %s; backend %s", (long long)defined,
             (long long)active, policy, backend);
    json_decref(cpc);
    part_snapshot_put(s);
}

void service_ready(struct part_mgr *mgr)
{
    status_line(mgr, last_status, sizeof(last_status));
    sd_notifyf(0, "READY=1\nSTATUS=%s", last_status);
}

void service_reloading(void)
{
    sd_notify(0, "RELOADING=1\nSTATUS=reloading the partitions directory");
}

void service_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=stopping; partitions keep running");
}

double service_tick_interval(double limit)
{
    double w = watchdog_timeout() / 4;
    return w > 0 && w < limit ? w : limit;
}

void service_tick(struct part_mgr *mgr)
{
    char status[sizeof(last_status)];
    double timeout = watchdog_timeout();

    /* fed only while the monitor goes round: a stuck monitor lets systemd
     * restart partd (the partitions run on, and are adopted again) */
    if (timeout > 0 && mono_now() - part_mgr_alive(mgr) < timeout / 2)
        sd_notify(0, "WATCHDOG=1");
    status_line(mgr, status, sizeof(status));
    if (strcmp(status, last_status) != 0) {
        memcpy(last_status, status, sizeof(status));
        sd_notifyf(0, "STATUS=%s", last_status);
    }
}

void service_root_notice(void)
{
    if (geteuid() != 0)
        return;
    log_msg(PART_LOG_INFO,
            "running as root, which partd does not need: it reaches libvirt through "
            "libvirt's socket and QEMU opens the guests' files; run it as its own user in "
            "the libvirt group (the partd.service unit does; see partd(8))");
}
