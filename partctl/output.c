/* Tables and value formatting for partctl's human output. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <part/size.h>
#include <part/text.h>

#include "output.h"

struct table {
    size_t ncols;
    int gap;
    char **cells;
    size_t n, alloc;
};

static void oom(void)
{
    fputs("partctl: out of memory\n", stderr);
    exit(1);
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        oom();
    return d;
}

struct table *table_new(size_t ncols, int gap)
{
    struct table *t = calloc(1, sizeof(*t));
    if (!t)
        oom();
    t->ncols = ncols;
    t->gap = gap;
    return t;
}

void table_cell(struct table *t, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (t->n == t->alloc) {
        t->alloc = t->alloc ? 2 * t->alloc : 32;
        t->cells = realloc(t->cells, t->alloc * sizeof(*t->cells));
        if (!t->cells)
            oom();
    }
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        oom();
    if (part_text_has_controls(s)) { /* a reply's text put in as it came */
        size_t len = 4 * (size_t)r + 1;
        char *clean = malloc(len);
        if (!clean)
            oom();
        part_text_escape(s, clean, len);
        free(s);
        s = clean;
    }
    t->cells[t->n++] = s;
}

/* Columns on a terminal, not bytes: URIs can hold "…". */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Whether the cells after cell i in its row are all empty. */
static bool rest_empty(const struct table *t, size_t i)
{
    for (size_t j = i + 1; j < t->n && j % t->ncols != 0; j++)
        if (t->cells[j][0])
            return false;
    return true;
}

size_t table_print(const struct table *t, FILE *f)
{
    size_t *w = calloc(t->ncols, sizeof(*w));
    if (!w)
        oom();
    for (size_t i = 0; i < t->n; i++)
        if (width(t->cells[i]) > w[i % t->ncols])
            w[i % t->ncols] = width(t->cells[i]);
    for (size_t i = 0; i < t->n; i++) {
        size_t col = i % t->ncols;
        fputs(t->cells[i], f);
        /* no trailing blanks, e.g. after "backend:" heading a block */
        if (rest_empty(t, i)) {
            fputc('\n', f);
            i += t->ncols - 1 - col;
        } else {
            fprintf(f, "%*s", (int)(w[col] - width(t->cells[i])) + t->gap, "");
        }
    }
    free(w);
    return (t->n + t->ncols - 1) / t->ncols;
}

struct table *table_free(struct table *t)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
    return NULL;
}

json_t *reply_get(const json_t *v, const char *path)
{
    size_t n = strcspn(path, ".");
    json_t *m = json_object_getn(v, path, n);

    return m && path[n] ? reply_get(m, path + n + 1) : m;
}

double reply_number(const json_t *v, const char *path, double lo, double hi, double fallback)
{
    const json_t *n = reply_get(v, path);
    double x = json_number_value(n);
    return json_is_number(n) && isfinite(x) && x >= lo && x <= hi ? x : fallback;
}

bool reply_is(const json_t *v, const char *path, const char *word)
{
    const char *s = json_string_value(reply_get(v, path));
    return s && strcmp(s, word) == 0;
}

const char *output_value(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        /* processors: two decimals say enough, and 2.50 reads as 2.5 */
        snprintf(buf, len, "%.2f", json_real_value(v));
        char *end = buf + strlen(buf);
        while (end > buf && end[-1] == '0')
            *--end = '\0';
        if (end > buf && end[-1] == '.')
            *--end = '\0';
    } else if (json_is_string(v)) {
        part_text_escape(json_string_value(v), buf, len); /* partd's words, or a guest's */
    } else if (json_is_boolean(v)) {
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
    } else if (json_is_array(v) || json_is_object(v)) {
        char *s = json_dumps(v, JSON_COMPACT);
        snprintf(buf, len, "%s", s ? s : "?");
        free(s);
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}

const char *output_size(const json_t *mib, char *buf, size_t len)
{
    /* the rebalancer's plans carry numbers of MiB as reals */
    if (json_is_number(mib) && json_number_value(mib) >= 0 && json_number_value(mib) < 0x1p53)
        return part_size_format((uint64_t)llround(json_number_value(mib)), buf, len);
    return output_value(mib, buf, len);
}

const char *output_cap(const json_t *cap, char *buf, size_t len)
{
    if (json_is_null(cap)) {
        snprintf(buf, len, "none");
        return buf;
    }
    return output_value(cap, buf, len);
}

const char *output_field(const char *field, const json_t *v, char *buf, size_t len)
{
    if (strcmp(field, "memory") == 0)
        return output_size(v, buf, len);
    if (strcmp(field, "cap") == 0)
        return output_cap(v, buf, len);
    return output_value(v, buf, len);
}

const char *output_status(const json_t *s, char *buf, size_t len)
{
    const char *status = json_string_value(reply_get(s, "status"));
    const char *detail = json_string_value(reply_get(s, "detail"));
    bool has_detail = detail && detail[0];

    if (!status)
        status = "-";
    else if (strcmp(status, "unsupported") == 0)
        status = "unsupported by backend (not enforced)";
    else if (strcmp(status, "none") == 0)
        status = "nothing to apply";
    else if (strcmp(status, "not-tried") == 0)
        status = "not tried (an earlier change failed)";
    char clean[512];
    snprintf(buf, len, "%s%s%s", status, has_detail ? ": " : "",
             has_detail ? part_text_escape(detail, clean, sizeof(clean)) : "");
    return buf;
}

void output_json(const json_t *v, FILE *f)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (!s)
        oom();
    fprintf(f, "%s\n", s);
    free(s);
}
