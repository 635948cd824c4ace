/* Finding the line and column of a value in a JSON text, by path. The text
 * is known to be valid (jansson parsed it), so the scanner only needs to
 * skip values and compare object keys. */
#include <errno.h>
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

/* Skips a string starting at '"'; copies up to keylen-1 of its raw bytes
 * into key when key is not NULL. */
static void scan_string(struct scan *sc, char *key, size_t keylen)
{
    size_t k = 0;
    scan_advance(sc); /* opening quote */
    while (sc->s < sc->end && *sc->s != '"') {
        if (*sc->s == '\\') {
            if (key && k + 1 < keylen)
                key[k++] = *sc->s;
            scan_advance(sc);
        }
        if (key && k + 1 < keylen && sc->s < sc->end)
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

/* With sc at an object, moves it to the value of member key. Returns 0, or
 * -ENOENT (sc back at the object) when there is no such member. */
static int scan_member(struct scan *sc, const char *key, size_t keylen)
{
    struct scan start = *sc;
    char name[256];

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
        if (strlen(name) == keylen && memcmp(name, key, keylen) == 0)
            return 0;
        scan_value(sc);
        scan_space(sc);
        if (sc->s < sc->end && *sc->s == ',')
            scan_advance(sc);
    }
    *sc = start;
    return -ENOENT;
}

int part_jsonpos_locate(const char *text, size_t len, const char *path, int *ret_line,
                        int *ret_column)
{
    struct scan sc = {.s = text, .end = text + len, .line = 1, .col = 1};
    int r = 0;

    scan_space(&sc);
    while (path && *path) {
        const char *dot = strchr(path, '.');
        size_t keylen = dot ? (size_t)(dot - path) : strlen(path);
        r = scan_member(&sc, path, keylen);
        if (r < 0)
            break;
        path = dot ? dot + 1 : NULL;
    }
    *ret_line = sc.line;
    *ret_column = sc.col;
    return r;
}
