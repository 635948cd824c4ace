/* The settings table (setting.h): names, values, "none", accessors. */
#include <stdio.h>
#include <string.h>

#include "part/setting.h"

static const struct part_setting_desc settings[PART_SET_ALL] = {
    [PART_SET_PROCESSORS] = {"processors", PART_SETTING_COUNT, 1, PART_PROCESSORS_MAX, false,
                             "processors.initial", "logical processors online"},
    [PART_SET_MEMORY] = {"memory", PART_SETTING_SIZE, 1, 0, false, "memory.initial",
                         "memory target (MiB, or with MiB/GiB/TiB)"},
    [PART_SET_WEIGHT] = {"weight", PART_SETTING_COUNT, PART_WEIGHT_MIN, PART_WEIGHT_MAX, true,
                         "weight.initial", "processing weight"},
    [PART_SET_CAP] = {"cap", PART_SETTING_CAP, PART_CAP_MIN, PART_CAP_MAX, true, "cap",
                      "absolute cap in processors, or none"},
    [PART_SET_WEIGHT_MIN] = {"weight_min", PART_SETTING_COUNT, PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                             true, "weight.min", "lowest weight the policy may set"},
    [PART_SET_WEIGHT_MAX] = {"weight_max", PART_SETTING_COUNT, PART_WEIGHT_MIN, PART_WEIGHT_MAX,
                             true, "weight.max", "highest weight the policy may set"},
};

const struct part_setting_desc *part_setting_desc(enum part_setting s)
{
    return &settings[s];
}

const char *part_setting_name(enum part_setting s)
{
    return (unsigned)s < PART_SET_ALL ? settings[s].name : "?";
}

int part_setting_by_name(const char *name)
{
    for (int s = 0; s < PART_SET_ALL; s++)
        if (strcmp(settings[s].name, name) == 0)
            return s;
    return -1;
}

json_t *part_cap_json(double cap)
{
    return cap == PART_CAP_NONE ? json_null() : json_real(cap);
}

json_t *part_setting_json(enum part_setting s, double v)
{
    if (s == PART_SET_CAP)
        return part_cap_json(v);
    return json_integer((json_int_t)v);
}

const char *part_setting_text(enum part_setting s, double v, char *buf, size_t len)
{
    if (s == PART_SET_CAP && v == PART_CAP_NONE)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%g", v);
    return buf;
}
