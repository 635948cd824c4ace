/* partd's log on stderr. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <part/text.h>

#include "log.h"

static bool journal;
static int max_level = PART_LOG_INFO;

void log_init(int verbose)
{
    journal = getenv("JOURNAL_STREAM") != NULL;
    max_level = verbose ? PART_LOG_DEBUG : PART_LOG_INFO;
}

void log_part(enum part_log_level level, const char *message, void *opaque)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const int priorities[] = {3, 4, 6, 7}; /* syslog's err, warning, info, debug */
    char clean[4096];
    (void)opaque;
    if ((int)level > max_level)
        return;
    /* names, libvirt's and guests' words: no line or escape sequence of theirs */
    if (part_text_has_controls(message))
        message = part_text_escape(message, clean, sizeof(clean));
    if (journal)
        fprintf(stderr, "<%d>%s\n", priorities[level], message);
    else
        fprintf(stderr, "partd: %s: %s\n", names[level], message);
}

void log_msg(enum part_log_level level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_part(level, buf, NULL);
}
