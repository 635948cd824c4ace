/* Escaping control characters (text.h). */
#include <stdio.h>

#include "part/text.h"

/* The length (1 or 2) of the control character at s, or 0. */
static size_t text_control(const unsigned char *s)
{
    if (*s < 0x20 || *s == 0x7f)
        return 1;
    return s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f ? 2 : 0;
}

bool part_text_has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (text_control(p))
            return true;
    return false;
}

const char *part_text_escape(const char *s, char *buf, size_t len)
{
    size_t o = 0;

    if (len == 0)
        return buf;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t n = text_control(p);
        if (n == 0) {
            if (o + 1 >= len)
                break;
            buf[o++] = (char)*p;
            continue;
        }
        if (o + 4 * n >= len)
            break;
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", p[i]);
        p += n - 1;
    }
    buf[o] = '\0';
    return buf;
}
