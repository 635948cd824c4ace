/* Request bodies (request.h), read by tables. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "part/manager.h"
#include "part/request.h"

struct deactivate_body {
    bool force;
    double timeout; /* seconds */
};

int part_request_deactivate(const char *text, size_t len, bool *ret_force, unsigned *ret_timeout_ms,
                            struct part_error *err)
{
    static const struct part_json_member members[] = {
        {"force", PART_JSON_BOOL, .offset = offsetof(struct deactivate_body, force)},
        {"timeout", PART_JSON_NUMBER, .offset = offsetof(struct deactivate_body, timeout), .lo = 0,
         .hi = PART_DEACTIVATE_TIMEOUT_MAX},
        {0},
    };
    struct deactivate_body b = {.timeout = PART_DEACTIVATE_TIMEOUT_DEFAULT};
    int r = text ? part_json_read_text(text, len, members, &b, err) : 0;

    if (r < 0)
        return r;
    *ret_force = b.force;
    *ret_timeout_ms = (unsigned)(b.timeout * 1000);
    return 0;
}

int part_request_policy(const char *text, size_t len, char ret_name[PART_NAME_MAX],
                        struct part_error *err)
{
    static const struct part_json_member members[] = {
        {"name", PART_JSON_NAME, .offset = 0, .flags = PART_JSON_REQUIRED, .what = "policy name"},
        {0},
    };
    return part_json_read_text(text, len, members, ret_name, err);
}

struct move_body {
    char to[PART_NAME_MAX];
    bool validate_only;
};

int part_request_move(const char *text, size_t len, char ret_to[PART_NAME_MAX],
                      bool *ret_validate_only, struct part_error *err)
{
    static const struct part_json_member members[] = {
        {"to", PART_JSON_NAME, .offset = offsetof(struct move_body, to),
         .flags = PART_JSON_REQUIRED, .what = "peer name"},
        {"validate_only", PART_JSON_BOOL, .offset = offsetof(struct move_body, validate_only)},
        {0},
    };
    struct move_body b = {0};
    int r = part_json_read_text(text, len, members, &b, err);
    if (r < 0)
        return r;
    memcpy(ret_to, b.to, PART_NAME_MAX);
    *ret_validate_only = b.validate_only;
    return 0;
}
