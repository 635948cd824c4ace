/* The planner's reason texts: a printf of its own for the conversions
 * reasons use (%s, %u, %zu, %.2f, %%), which writes what vsnprintf()
 * writes, several times faster (any other conversion is left to
 * vsnprintf()); and a cache of formatted memory sizes, which repeat. */
#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "part/size.h"
#include "plan-internal.h"

/* An output buffer that counts what would not fit, as snprintf() does. */
struct text_out {
    char *buf;
    size_t len; /* room, with the NUL; > 0 */
    size_t at;  /* what the whole output would take so far */
};

/* Writes the n bytes of s, as many as fit. */
static void text_emit(struct text_out *o, const char *s, size_t n)
{
    if (o->at < o->len - 1) {
        size_t k = o->len - 1 - o->at < n ? o->len - 1 - o->at : n;
        memcpy(o->buf + o->at, s, k);
    }
    o->at += n;
}

/* Writes v in decimal at the end of buf, whose end is end (room for 20
 * digits); returns where it starts. */
static char *text_decimal(char *end, uint64_t v)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

/* %.2f of v: the exact value of the double rounded to the nearest
 * hundredth, a tie to the even one, as glibc's printf does. false for
 * what this does not do exactly (not finite, 2^44 or more). */
static bool text_emit_2f(struct text_out *o, double v)
{
    double a = fabs(v);
    if (!(a < 0x1p44))
        return false;
    /* a * 100 = hi + lo exactly; hi < 2^51, so hi - floor(hi) and that
     * less 0.5 are exact, and |lo| is at most half a unit of hi's last
     * place, which decides only a fraction of exactly one half */
    double hi = a * 100, lo = fma(a, 100, -hi), f = floor(hi), d = hi - f - 0.5;
    uint64_t n = (uint64_t)f;
    if (d > 0 || (d == 0 && (lo > 0 || (lo == 0 && (n & 1)))))
        n++;
    char tmp[32], *end = tmp + sizeof(tmp), *s = end - 3;
    end[-1] = (char)('0' + n % 10);
    end[-2] = (char)('0' + n / 10 % 10);
    end[-3] = '.';
    s = text_decimal(s, n / 100);
    if (signbit(v))
        *--s = '-';
    text_emit(o, s, (size_t)(end - s));
    return true;
}

/* Writes the unsigned v in decimal. */
static void text_emit_unsigned(struct text_out *o, uint64_t v)
{
    char tmp[24], *s = text_decimal(tmp + sizeof(tmp), v);
    text_emit(o, s, (size_t)(tmp + sizeof(tmp) - s));
}

/* vsnprintf() for the conversions above: the length of the whole output,
 * or -1 at any other conversion (ap is then spent). */
static int text_vformat_fast(char *buf, size_t len, const char *fmt, va_list ap)
{
    struct text_out o = {.buf = buf, .len = len};
    for (const char *f = fmt; *f;) {
        const char *pct = strchr(f, '%');
        if (!pct) {
            text_emit(&o, f, strlen(f));
            break;
        }
        text_emit(&o, f, (size_t)(pct - f));
        f = pct + 1;
        if (*f == 's') {
            const char *s = va_arg(ap, const char *);
            text_emit(&o, s, strlen(s));
            f++;
        } else if (*f == 'u') {
            text_emit_unsigned(&o, va_arg(ap, unsigned));
            f++;
        } else if (f[0] == 'z' && f[1] == 'u') {
            text_emit_unsigned(&o, va_arg(ap, size_t));
            f += 2;
        } else if (f[0] == '.' && f[1] == '2' && f[2] == 'f') {
            if (!text_emit_2f(&o, va_arg(ap, double)))
                return -1;
            f += 3;
        } else if (*f == '%') {
            text_emit(&o, "%", 1);
            f++;
        } else {
            return -1;
        }
    }
    o.buf[o.at < o.len - 1 ? o.at : o.len - 1] = '\0';
    return o.at > INT_MAX ? -1 : (int)o.at;
}

/* vsnprintf() into buf (len > 0): by text_vformat_fast() when it can, by
 * vsnprintf() when not. ap is left as va_arg() would leave it. */
int text_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int r = text_vformat_fast(buf, len, fmt, ap);
    if (r < 0)
        r = vsnprintf(buf, len, fmt, aq);
    va_end(aq);
    return r;
}

/* snprintf() into buf (len > 0). */
int text_format(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = text_vformat(buf, len, fmt, ap);
    va_end(ap);
    return r;
}

/* Appends to buf (len bytes), at *at, as much of printf's output as fits;
 * *at is then where the whole output would end (len at the most when
 * vsnprintf() fails). Nothing when *at is len or more. */
void text_append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    if (*at >= len)
        return;
    va_start(ap, fmt);
    int r = text_vformat(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    *at = r < 0 ? len : *at + (size_t)r;
}

/* part_size_format() of mib into buf (room for 24), returned; remembered
 * in sizes: memory targets and needs repeat (steps and guests alike), and
 * formatting them would be most of a memory action. */
const char *text_size(struct text_sizes *sizes, uint64_t mib, char *buf)
{
    struct text_size_entry *e = &sizes->entry[(mib ^ mib >> 8 ^ mib >> 16) % 64];
    if (!e->text[0] || e->mib != mib) {
        e->mib = mib;
        part_size_format(mib, e->text, sizeof(e->text));
    }
    memcpy(buf, e->text, strlen(e->text) + 1);
    return buf;
}

/* A cap in a reason, into buf (len bytes), returned: as the settings
 * write none, or with two decimals. */
const char *text_cap(double cap, char *buf, size_t len)
{
    if (cap == PART_CAP_NONE)
        return part_setting_text(PART_SET_CAP, cap, buf, len);
    text_format(buf, len, "%.2f", cap);
    return buf;
}
