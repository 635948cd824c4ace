/* partd's log: one line per message on stderr, with a level. When stderr is
 * the journal (JOURNAL_STREAM set) lines carry sd-daemon "<N>" priorities. */
#pragma once

#include <part/manager.h>

void log_init(int verbose);
void log_msg(enum part_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adapter for libpart's part_log_fn. */
void log_part(enum part_log_level level, const char *message, void *opaque);
