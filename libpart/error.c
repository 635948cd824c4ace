/* struct part_error: filling and formatting. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "part/error.h"

void part_error_clear(struct part_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int part_error_set(struct part_error *err, int code, const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

int part_error_oom(struct part_error *err)
{
    return part_error_set(err, -ENOMEM, "", "out of memory");
}

int part_error_errno(struct part_error *err, int code)
{
    if (err && !err->message[0] && code < 0)
        snprintf(err->message, sizeof(err->message), "%s", strerror(-code));
    return code;
}

void part_error_set_file(struct part_error *err, const char *file)
{
    if (err && file && !err->file[0])
        snprintf(err->file, sizeof(err->file), "%s", file);
}

const char *part_error_format(const struct part_error *err, char *buf, size_t len)
{
    if (!err->file[0])
        snprintf(buf, len, "%s", err->message);
    else if (err->line <= 0)
        snprintf(buf, len, "%s: %s", err->file, err->message);
    else if (err->column <= 0)
        snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->message);
    else
        snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line, err->column, err->message);
    return buf;
}
