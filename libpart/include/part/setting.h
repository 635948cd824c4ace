/* The settings of a partition, described once: what each is called, what
 * values it takes, how "none" is written, and where its running value, its
 * profile value and its bounds are kept. The resize path, the planner and
 * its checker, the status and metrics, the state file, the API and partctl
 * all read this table (setting.c), the way libvirt's drivers read their
 * tables. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PART_PROCESSORS_MAX 1024 /* logical processors one partition may have */
#define PART_WEIGHT_MIN     1
#define PART_WEIGHT_MAX     999
#define PART_CAP_MIN        0.01
#define PART_CAP_MAX        255.0
#define PART_CAP_NONE       0.0 /* a cap (or defined capacity) of none: uncapped */

enum part_setting {
    PART_SET_PROCESSORS,
    PART_SET_MEMORY,
    PART_SET_WEIGHT,
    PART_SET_CAP,
    PART_SET_N, /* the settings a running partition has, which a backend applies */
    /* the profile's bounds of the weight, which a request may change too */
    PART_SET_WEIGHT_MIN = PART_SET_N,
    PART_SET_WEIGHT_MAX,
    PART_SET_ALL,
};

enum part_setting_type {
    PART_SETTING_COUNT, /* a whole number in [min, max] */
    PART_SETTING_SIZE,  /* MiB: a positive whole number, or a string with a unit ("4GiB") */
    PART_SETTING_CAP,   /* processors in [min, max], or none: JSON null, "none" in text */
};

struct part_setting_desc {
    const char *name; /* its key in requests, changes, plans and status: "processors" */
    enum part_setting_type type;
    double min, max;     /* what a request may give (a size: any positive MiB) */
    bool shared_only;    /* dedicated partitions do not have it */
    const char *profile; /* the profile field it changes: "processors.initial" */
    const char *help;    /* one line, for partctl's help */
};

/* The description of s (s < PART_SET_ALL). */
const struct part_setting_desc *part_setting_desc(enum part_setting s);

/* "processors", "memory", "weight", "cap", "weight_min", "weight_max";
 * "?" for anything else. */
const char *part_setting_name(enum part_setting s);

/* The setting named name, or -1. */
int part_setting_by_name(const char *name);

/* v as JSON: null for a cap of none, a real for a cap, an integer
 * otherwise. NULL on ENOMEM. */
json_t *part_setting_json(enum part_setting s, double v);

/* v as text into buf: "none" for a cap of none, else the shortest "%g". */
const char *part_setting_text(enum part_setting s, double v, char *buf, size_t len);

/* A cap, defined capacity or group cap as JSON: null when PART_CAP_NONE. */
json_t *part_cap_json(double cap);
