/* A change of a running partition's settings or of its profile (the PATCH
 * of the API, and the rebalancer's actions): the request, its check against
 * the partition's bounds and the CPC's capacity, its application through
 * the backend, and the list of changes with what the backend said of each.
 * Driven by the settings table (setting.h). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "part/error.h"
#include "part/setting.h"

enum part_scope {
    PART_SCOPE_RUNNING = 1 << 0,
    PART_SCOPE_PROFILE = 1 << 1,
    PART_SCOPE_BOTH = PART_SCOPE_RUNNING | PART_SCOPE_PROFILE,
};

/* A change request: has[s] marks the settings given, to[s] their values
 * (memory in MiB; a cap of PART_CAP_NONE removes the cap). */
struct part_resize {
    bool has[PART_SET_ALL];
    double to[PART_SET_ALL];
    enum part_scope scope;
};

enum part_change_status {
    PART_CHANGE_APPLIED,     /* running: the backend confirmed it */
    PART_CHANGE_UNSUPPORTED, /* running: recorded, the backend cannot apply it */
    PART_CHANGE_FAILED,      /* running: the backend refused; nothing recorded */
    PART_CHANGE_SAVED,       /* profile: written to the profile file */
    PART_CHANGE_NOT_TRIED,   /* skipped because an earlier change failed */
    PART_CHANGE_UNCONFIRMED, /* running: accepted by the backend, not yet seen done;
                                the status of the partition says when it is */
};

struct part_change {
    enum part_setting setting;
    enum part_scope scope; /* RUNNING or PROFILE */
    double from, to;       /* PART_CAP_NONE for no cap */
    enum part_change_status status;
    char detail[512];
};

#define PART_CHANGES_MAX (2 * PART_SET_ALL)
struct part_changes {
    struct part_change items[PART_CHANGES_MAX];
    size_t n;
};

/* "applied", "unsupported", "failed", "saved", "not-tried", "unconfirmed". */
const char *part_change_status_name(enum part_change_status s);

/* Parses a change request (the PATCH body of docs/api.md: the settings of
 * setting.h by name, and scope) from text into *ret. Returns 0, -EINVAL
 * with err naming the field (line and column in text), or -ENODATA when
 * there is nothing to change. */
int part_resize_parse(const char *text, size_t len, struct part_resize *ret,
                      struct part_error *err);

/* Returns a new JSON array of the changes: {field, scope, from, to, status
 * [, detail]}; NULL on ENOMEM. */
json_t *part_changes_to_json(const struct part_changes *c);

/* Writes "running processors 2->4 applied; profile cap none->1.5 saved"
 * into buf and returns buf. */
const char *part_changes_text(const struct part_changes *c, char *buf, size_t len);
