/* partctl's output: aligned tables and "key: value" blocks, and reading
 * and formatting reply values (sizes, processors, null) for them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct table;

/* Returns a new table of ncols columns separated by gap spaces. Cells are
 * added left to right, top to bottom; the first row is the header if the
 * caller wants one. Exits on ENOMEM, as partctl does everywhere. */
struct table *table_new(size_t ncols, int gap);

/* Adds the next cell, formatted with printf rules. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the table to f, each column as wide as its widest cell (the last
 * one unpadded), and returns the number of rows printed. */
size_t table_print(const struct table *t, FILE *f);

/* Frees t (which may be NULL) and returns NULL. */
struct table *table_free(struct table *t);

/* The member of reply v at path, keys joined by '.' ("processors.online"),
 * or NULL when v or a member on the way is absent or not an object. The
 * value is v's (borrowed). */
json_t *reply_get(const json_t *v, const char *path);

/* The number at path in reply v when it is one in [lo, hi], else
 * fallback: a partd's figures are checked before they are counted. */
double reply_number(const json_t *v, const char *path, double lo, double hi, double fallback);
#define REPLY_PROCS_MAX 1e6 /* processors: more is no CPC's */
#define REPLY_MIB_MAX   1e12

/* Whether the string at path in reply v is word. */
bool reply_is(const json_t *v, const char *path, const char *word);

/* Formats a reply value for a table into buf and returns buf:
 * null and absent as "-", booleans as yes/no, integers as such, reals with
 * up to 2 decimals ("2.5", "6.33"), strings as they are. */
const char *output_value(const json_t *v, char *buf, size_t len);

/* Formats a memory amount in MiB (a reply value, rounded to whole MiB) as
 * "16GiB"; null and absent as "-". */
const char *output_size(const json_t *mib, char *buf, size_t len);

/* Formats a cap: null as "none", absent as "-". */
const char *output_cap(const json_t *cap, char *buf, size_t len);

/* Formats a value of setting field ("memory", "cap", "weight", ...):
 * memory as a size, cap as output_cap() does, others as output_value(). */
const char *output_field(const char *field, const json_t *v, char *buf, size_t len);

/* Formats what the backend did with a setting, from an object with
 * "status" and an optional "detail": "applied", "unsupported by backend
 * (not enforced): DETAIL", "failed: DETAIL", ... */
const char *output_status(const json_t *s, char *buf, size_t len);

/* Prints v as indented JSON (2 spaces) and a newline to f. */
void output_json(const json_t *v, FILE *f);

/* Duplicates s or exits with "partctl: out of memory". */
char *xstrdup(const char *s);
