/* partd under a service manager (systemd, Type=notify): readiness, a status
 * line, reloads, stopping and the watchdog, through sd_notify(3). Outside
 * systemd (no NOTIFY_SOCKET) every call does nothing. */
#pragma once

#include <part/manager.h>

/* partd is ready: listeners bound, partitions adopted. Sends READY=1 and the
 * status line. */
void service_ready(struct part_mgr *mgr);

/* A SIGHUP reload begins (RELOADING=1); service_ready() ends it. */
void service_reloading(void);

/* partd is stopping (STOPPING=1). */
void service_stopping(void);

/* The longest partd may wait between two service_tick() calls, in seconds:
 * a quarter of the watchdog's timeout when systemd set one, else limit. */
double service_tick_interval(double limit);

/* Called at least every service_tick_interval(): feeds the watchdog while
 * the manager's thread goes round (part_mgr_alive()), and refreshes the
 * status line when it changed. */
void service_tick(struct part_mgr *mgr);

/* Says once that partd runs as root, which it does not need. */
void service_root_notice(void);
