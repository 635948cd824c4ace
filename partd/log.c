/* partd's log on stderr, or the journal's fields. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include <part/text.h>

#include "log.h"

static bool journal;
static int max_level = PART_LOG_INFO;

/* Whether stderr is the stream that systemd connected to the journal:
 * JOURNAL_STREAM is "DEVICE:INODE" of it (systemd.exec(5)); a child that
 * inherited the variable but not the stream must not use it. */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

void log_init(int verbose)
{
    journal = stderr_is_journal();
    max_level = verbose ? PART_LOG_DEBUG : PART_LOG_INFO;
}

/* Sends a message with what it is about to the journal, with only the
 * fields that apply; false when the journal did not take it. */
static bool log_journal(int priority, const struct part_log_about *about, const char *message)
{
    const struct {
        const char *name, *value;
    } fields[] = {
        {"PARTITION", about->partition}, {"PARTD_EVENT", about->kind}, {"PARTD_BY", about->by}};
    char text[6][2048];
    struct iovec iov[6];
    int n = 0;

    snprintf(text[n++], sizeof(text[0]), "MESSAGE=%s", message);
    snprintf(text[n++], sizeof(text[0]), "SYSLOG_IDENTIFIER=partd");
    snprintf(text[n++], sizeof(text[0]), "PRIORITY=%d", priority);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i].value)
            snprintf(text[n++], sizeof(text[0]), "%s=%s", fields[i].name, fields[i].value);
    for (int i = 0; i < n; i++)
        iov[i] = (struct iovec){.iov_base = text[i], .iov_len = strlen(text[i])};
    return sd_journal_sendv(iov, n) == 0;
}

void log_part(enum part_log_level level, const struct part_log_about *about, const char *message,
              void *opaque)
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
    if (journal && about && (about->partition || about->kind) &&
        log_journal(priorities[level], about, message))
        return;
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
    log_part(level, NULL, buf, NULL);
}
