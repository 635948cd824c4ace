/* Errors of libpart: every function that can fail returns 0 or a negative
 * errno and, when given one, fills a struct part_error with a message a
 * person can act on and the path of the field at fault. */
#pragma once

#include <stddef.h>

struct part_error {
    char file[256];    /* file the error is in, "" when none */
    int line;          /* 1-based, 0 when unknown */
    int column;        /* 1-based, 0 when unknown */
    char field[128];   /* dotted path of the field at fault ("processors.initial"), or "" */
    char message[512]; /* full sentence-less message, starting with the field when there is one */
};

/* Empties err (which may be NULL). */
void part_error_clear(struct part_error *err);

/* Records an error in err (which may be NULL) and returns code, a negative
 * errno, so that callers can write `return part_error_set(err, -EINVAL, ...)`.
 * field may be NULL. The message is formatted with printf rules. */
int part_error_set(struct part_error *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records "out of memory" in err (which may be NULL) and returns -ENOMEM:
 * `return part_error_oom(err);`, so that no failure leaves err empty. */
int part_error_oom(struct part_error *err);

/* Records code's strerror() text in err when err has no message yet (a
 * system call failed deep down), and returns code. */
int part_error_errno(struct part_error *err, int code);

/* Sets err's file (when it has none yet). */
void part_error_set_file(struct part_error *err, const char *file);

/* Writes "file:line:column: message" (leaving out what is unknown) into buf
 * and returns buf. */
const char *part_error_format(const struct part_error *err, char *buf, size_t len);
