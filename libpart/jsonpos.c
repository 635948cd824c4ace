/* Finding the line and column of a value in a JSON text, by path. The text
 * is known to be valid (jansson parsed it), so the scanner only needs to
 * skip values and compare object keys. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "part/jsonpos.h"

struct scan {
    const char *s, *end;
    int line, col;
};

static void scan_advance(struct scan *sc)
{
    if (sc->s >= sc->end)
        return;
    if (*sc->s == '\n') {
        sc->line++;
        sc->col = 1;
    } else if (((unsigned char)*sc->s & 0xC0) != 0x80) {
        sc->col++; /* columns count characters, not UTF-8 continuation bytes */
    }
    sc->s++;
}

static void scan_space(struct scan *sc)
{
    while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\n' || *sc->s == '\r'))
        scan_advance(sc);
}

/* Appends the UTF-8 encoding of code point c to key (of keylen bytes, with
 * *k used), as far as it fits. */
static void put_utf8(char *key, size_t keylen, size_t *k, unsigned long c)
{
    char u[4];
    size_t n;

    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    if (*k + n < keylen) {
        memcpy(key + *k, u, n);
        *k += n;
    }
}

/* Reads the 4 hex digits of a \u escape at sc (after the 'u'). */
static unsigned long scan_hex4(struct scan *sc)
{
    char hex[5] = "";
    for (int i = 0; i < 4 && sc->s < sc->end; i++) {
        hex[i] = *sc->s;
        scan_advance(sc);
    }
    return strtoul(hex, NULL, 16);
}

/* Skips a string starting at '"'; when key is not NULL, decodes it (escapes
 * included, so that "na\u006de" is the key "name") into key, truncated to
 * keylen-1 bytes. */
static void scan_string(struct scan *sc, char *key, size_t keylen)
{
    size_t k = 0;
    scan_advance(sc); /* opening quote */
    while (sc->s < sc->end && *sc->s != '"') {
        unsigned long c = (unsigned char)*sc->s;
        if (c == '\\') {
            scan_advance(sc);
            if (sc->s >= sc->end)
                break;
            c = (unsigned char)*sc->s;
            scan_advance(sc);
            switch (c) {
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u':
                c = scan_hex4(sc);
                if (c >= 0xD800 && c < 0xDC00 && sc->end - sc->s >= 6 && sc->s[0] == '\\' &&
                    sc->s[1] == 'u') {
                    scan_advance(sc);
                    scan_advance(sc);
                    unsigned long lo = scan_hex4(sc);
                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                }
                break;
            default: /* '"', '\\', '/' stand for themselves */
                break;
            }
            if (key)
                put_utf8(key, keylen, &k, c);
            continue;
        }
        if (key && k + 1 < keylen)
            key[k++] = *sc->s;
        scan_advance(sc);
    }
    scan_advance(sc); /* closing quote */
    if (key)
        key[k] = '\0';
}

static void scan_value(struct scan *sc)
{
    scan_space(sc);
    if (sc->s >= sc->end)
        return;
    if (*sc->s == '"') {
        scan_string(sc, NULL, 0);
        return;
    }
    if (*sc->s == '{' || *sc->s == '[') {
        int depth = 0;
        do {
            if (*sc->s == '"') {
                scan_string(sc, NULL, 0);
                continue;
            }
            if (*sc->s == '{' || *sc->s == '[')
                depth++;
            else if (*sc->s == '}' || *sc->s == ']')
                depth--;
            scan_advance(sc);
        } while (depth > 0 && sc->s < sc->end);
        return;
    }
    while (sc->s < sc->end && !strchr(",]} \t\r\n", *sc->s))
        scan_advance(sc);
}

/* Skips the separator after a member or element, if any. */
static void scan_comma(struct scan *sc)
{
    scan_space(sc);
    if (sc->s < sc->end && *sc->s == ',')
        scan_advance(sc);
    scan_space(sc);
}

/* The deepest value reached so far while looking for a path, and how much
 * of the path led there. */
struct best {
    struct scan at;
    size_t depth;
};

static int find(struct scan *sc, const char *path, const char *rest, struct best *best);

/* With sc at a value reached by the part of path before rest, notes it as
 * the deepest ancestor yet and looks for the rest of the path below it. */
static int descend(struct scan *sc, const char *path, const char *rest, struct best *best)
{
    if ((size_t)(rest - path) > best->depth) {
        best->at = *sc;
        best->depth = (size_t)(rest - path);
    }
    if (*rest == '.')
        rest++;
    return find(sc, path, rest, best);
}

/* With sc at a value, moves it to the value at rest, a path relative to it:
 * object keys separated by '.' and array indexes "[N]". Keys may themselves
 * hold dots ("cpc.groups.web.prod.cap" finds the group "web.prod"): every
 * member whose key is a prefix of rest ending at a separator is tried.
 * Returns 0, or -ENOENT with sc unchanged. */
static int find(struct scan *sc, const char *path, const char *rest, struct best *best)
{
    struct scan start = *sc;
    char name[256];

    if (!*rest)
        return 0;
    if (*rest == '[') {
        char *close;
        unsigned long index = strtoul(rest + 1, &close, 10);
        if (*close != ']' || sc->s >= sc->end || *sc->s != '[')
            return -ENOENT;
        scan_advance(sc);
        scan_space(sc);
        for (unsigned long i = 0; sc->s < sc->end && *sc->s != ']'; i++) {
            if (i == index) {
                if (descend(sc, path, close + 1, best) == 0)
                    return 0;
                break;
            }
            scan_value(sc);
            scan_comma(sc);
        }
        *sc = start;
        return -ENOENT;
    }
    if (sc->s >= sc->end || *sc->s != '{')
        return -ENOENT;
    scan_advance(sc);
    for (;;) {
        scan_space(sc);
        if (sc->s >= sc->end || *sc->s != '"')
            break;
        scan_string(sc, name, sizeof(name));
        scan_space(sc);
        scan_advance(sc); /* ':' */
        scan_space(sc);
        size_t n = strlen(name);
        if (strncmp(rest, name, n) == 0 && strchr(".[", rest[n]) &&
            descend(sc, path, rest + n, best) == 0)
            return 0; /* strchr() also matches the terminating NUL */
        scan_value(sc);
        scan_comma(sc);
    }
    *sc = start;
    return -ENOENT;
}

int part_jsonpos_locate(const char *text, size_t len, const char *path, int *ret_line,
                        int *ret_column)
{
    struct scan sc = {.s = text, .end = text + len, .line = 1, .col = 1};
    struct best best;
    int r;

    if (!path)
        path = "";
    scan_space(&sc);
    best.at = sc;
    best.depth = 0;
    r = find(&sc, path, path, &best);
    if (r < 0)
        sc = best.at;
    *ret_line = sc.line;
    *ret_column = sc.col;
    return r;
}
