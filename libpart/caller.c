/* Roles and callers (caller.h). */
#include <stdio.h>
#include <string.h>

#include "part/caller.h"

static const char *const role_names[PART_ROLE_N] = {
    [PART_ROLE_NONE] = "none",   [PART_ROLE_VIEWER] = "viewer", [PART_ROLE_OPERATOR] = "operator",
    [PART_ROLE_ADMIN] = "admin", [PART_ROLE_PEER] = "peer",
};

bool part_role_covers(enum part_role role, enum part_role need)
{
    if (need == PART_ROLE_NONE)
        return true;
    if (need == PART_ROLE_PEER || role == PART_ROLE_PEER)
        return role == need;
    return role >= need && role < PART_ROLE_N;
}

const char *part_role_name(enum part_role role)
{
    return (unsigned)role < PART_ROLE_N ? role_names[role] : "?";
}

enum part_role part_role_by_name(const char *name)
{
    for (int r = PART_ROLE_VIEWER; r < PART_ROLE_N; r++)
        if (strcmp(role_names[r], name) == 0)
            return r;
    return PART_ROLE_NONE;
}

const char *part_caller_text(const struct part_caller *c, char *buf, size_t len)
{
    if (c->uid >= 0)
        snprintf(buf, len, "%s, uid %lld", part_role_name(c->role), (long long)c->uid);
    else
        snprintf(buf, len, "%s", part_role_name(c->role));
    return buf;
}

json_t *part_caller_json(const struct part_caller *c)
{
    json_t *j = json_pack("{s:s}", "role", part_role_name(c->role));
    if (j && c->uid >= 0 && json_object_set_new(j, "uid", json_integer(c->uid)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}
