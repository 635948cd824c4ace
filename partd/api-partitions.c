/* /v1/partitions and /v1/partitions/{name}[/activate|/deactivate|/history]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

enum MHD_Result api_partitions_list(struct http_request *r)
{
    return http_reply_view(r, "application/json", part_snapshot_list_text);
}

enum MHD_Result api_partition_get(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    size_t len;
    const char *text = part_snapshot_partition_text(s, r->name, &len);
    enum MHD_Result ret;
    if (text) {
        ret = http_reply_text(r, 200, "application/json", text, len);
    } else {
        char detail[128];
        snprintf(detail, sizeof(detail), "no partition named %s", r->name);
        ret = http_reply_problem(r, 404, "not-found", detail, NULL, NULL);
    }
    part_snapshot_put(s);
    return ret;
}

/* ?since=N: the seq of the newest sample the client has (0 and true when
 * not given); false when it is not a number. */
static bool history_since(struct http_request *r, uint64_t *ret, bool *given)
{
    const char *since = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since");
    char *end;
    *ret = 0;
    if (!(*given = since != NULL))
        return true;
    errno = 0;
    *ret = strtoull(since, &end, 10);
    return since[0] >= '0' && since[0] <= '9' && !*end && errno != ERANGE;
}

enum MHD_Result api_partition_history(struct http_request *r)
{
    struct part_error err = {0};
    uint64_t since;
    bool given;
    json_t *j = NULL;

    if (!history_since(r, &since, &given))
        return http_reply_problem(r, 422, "validation",
                                  "since: expected the seq of the newest sample seen", "since",
                                  NULL);
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    int e = part_snapshot_history(s, r->name, given ? since + 1 : 0, &j, &err);
    part_snapshot_put(s);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_json(r, 200, j);
}

/* Replies with the partition as it is after a mutation. */
static enum MHD_Result reply_partition(struct http_request *r, unsigned status, const char *name)
{
    json_t *j = part_mgr_partition_json(r->mgr, name);
    if (!j)
        return http_reply_problem(r, 404, "not-found", "the partition is gone", NULL, NULL);
    return http_reply_json(r, status, j);
}

enum MHD_Result api_partitions_define(struct http_request *r)
{
    struct part_error err = {0};
    char name[PART_NAME_MAX], location[128];

    int e = part_mgr_define(r->mgr, r->body, r->body_len, &r->caller, name, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    json_t *j = part_mgr_partition_json(r->mgr, name);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return http_reply_problem(r, 500, "internal", "out of memory", NULL, NULL);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    snprintf(location, sizeof(location), "/v1/partitions/%s", name);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return http_reply_response(r, 201, resp);
}

enum MHD_Result api_partition_delete(struct http_request *r)
{
    struct part_error err = {0};
    int e = part_mgr_undefine(r->mgr, r->name, &r->caller, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_text(r, 204, NULL, "", 0);
}

enum MHD_Result api_partition_activate(struct http_request *r)
{
    struct part_error err = {0};
    int e = part_mgr_activate(r->mgr, r->name, &r->caller, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return reply_partition(r, 200, r->name);
}

enum MHD_Result api_partition_deactivate(struct http_request *r)
{
    struct part_error err = {0};
    unsigned timeout_ms;
    bool force;

    int e = part_request_deactivate(r->body, r->body_len, &force, &timeout_ms, &err);
    if (e == 0)
        e = part_mgr_deactivate(r->mgr, r->name, force, timeout_ms, &r->caller, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return reply_partition(r, 200, r->name);
}

/* A PATCH's role, decided by its request alone (never by what it would
 * find): changing the running values, which libpart keeps within the
 * profile's bounds, is an operator's; a scope that writes the profile
 * (profile or both, the default) is an admin's, as are the weight bounds,
 * which only a profile holds. */
enum MHD_Result api_partition_patch(struct http_request *r)
{
    struct part_error err = {0};
    struct part_resize req;
    struct part_changes changes = {0};
    enum MHD_Result ret;

    int e = part_resize_parse(r->body, r->body_len, &req, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    if ((req.scope & PART_SCOPE_PROFILE) &&
        !http_need_role(r, PART_ROLE_ADMIN,
                        "changing the profile (scope profile or both, the default; an operator "
                        "changes the running values with scope running)",
                        &ret))
        return ret;
    e = part_mgr_resize(r->mgr, r->name, &req, &r->caller, &changes, &err);
    json_t *part = part_mgr_partition_json(r->mgr, r->name);
    if (e < 0 && changes.n == 0) {
        json_decref(part);
        return http_reply_error(r, e, &err, NULL);
    }
    json_t *body = json_pack("{s:o, s:o*}", "partition", part ? part : json_null(), "changes",
                             part_changes_to_json(&changes));
    if (e < 0)
        return http_reply_error(r, e, &err, body);
    return http_reply_json(r, 200, body);
}
