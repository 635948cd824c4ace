/* Memory sizes in MiB, parsed from and formatted to "4GiB"-style text. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "part/size.h"

static const struct {
    const char *suffix;
    uint64_t mib;
} units[] = {
    {"TiB", 1024 * 1024},
    {"GiB", 1024},
    {"MiB", 1},
};

int part_size_parse(const char *s, uint64_t *ret_mib)
{
    const char *p = s;
    uint64_t whole = 0, frac_num = 0, frac_den = 1;
    int digits = 0;

    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (frac_den >= 1000000000ULL)
                return -EINVAL; /* more decimals than any size needs */
            frac_num = frac_num * 10 + (uint64_t)(*p - '0');
            frac_den *= 10;
        }
    }
    if (digits == 0)
        return -EINVAL;
    while (*p == ' ')
        p++;

    uint64_t unit = 1;
    if (*p) {
        size_t i;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(p, units[i].suffix) == 0)
                break;
        if (i == sizeof(units) / sizeof(units[0]))
            return -EINVAL;
        unit = units[i].mib;
    }
    if (whole > UINT64_MAX / unit)
        return -ERANGE;
    /* the fraction must come out as whole MiB: 1.5GiB yes, 1.5MiB no */
    if ((frac_num * unit) % frac_den != 0)
        return -EINVAL;
    uint64_t mib = whole * unit + frac_num * unit / frac_den;
    if (mib < whole * unit)
        return -ERANGE;
    *ret_mib = mib;
    return 0;
}

const char *part_size_format(uint64_t mib, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (mib != 0 && mib % units[i].mib == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(mib / units[i].mib), units[i].suffix);
            return buf;
        }
    snprintf(buf, len, "%lluMiB", (unsigned long long)mib);
    return buf;
}
