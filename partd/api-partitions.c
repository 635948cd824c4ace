/* /v1/partitions and /v1/partitions/{name}[/activate|/deactivate]. */
#include <errno.h>
#include <stdio.h>
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
    enum MHD_Result ret;

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
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    ret = MHD_queue_response(r->conn, 201, resp);
    MHD_destroy_response(resp);
    return ret;
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
