/* partd's log: one line per message on stderr, with a level. When stderr is
 * the journal (JOURNAL_STREAM names it), lines carry sd-daemon "<N>"
 * priorities, and a message about a partition or an event goes to the
 * journal itself (sd_journal_send) with the fields PARTITION, PARTD_EVENT
 * and PARTD_BY, so that `journalctl PARTITION=NAME` finds it. */
#pragma once

#include <part/manager.h>

void log_init(int verbose);
void log_msg(enum part_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adapter for libpart's part_log_fn. */
void log_part(enum part_log_level level, const struct part_log_about *about, const char *message,
              void *opaque);
