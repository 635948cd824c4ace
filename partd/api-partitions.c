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

/* A body that must be JSON: 400 when it is not, before libpart sees it. */
static bool body_malformed(struct http_request *r, enum MHD_Result *ret)
{
    json_t *j;
    if (!http_body_json(r, true, &j, ret))
        return true;
    json_decref(j);
    return false;
}

enum MHD_Result api_partitions_define(struct http_request *r)
{
    struct part_error err = {0};
    char name[PART_NAME_MAX], location[128];
    enum MHD_Result ret;

    if (body_malformed(r, &ret))
        return ret;
    int e = part_mgr_define(r->mgr, r->body, r->body_len, name, &err);
    if (e < 0) {
        if (e == -EINVAL && !err.file[0])
            snprintf(err.file, sizeof(err.file), "body");
        return http_reply_error(r, e, &err, NULL);
    }
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
    int e = part_mgr_undefine(r->mgr, r->name, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_text(r, 204, NULL, "", 0);
}

enum MHD_Result api_partition_activate(struct http_request *r)
{
    struct part_error err = {0};
    int e = part_mgr_activate(r->mgr, r->name, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return reply_partition(r, 200, r->name);
}

enum MHD_Result api_partition_deactivate(struct http_request *r)
{
    struct part_error err = {0};
    enum MHD_Result ret;
    bool force = false;
    double timeout = 60;

    json_t *j, *v;
    const char *key;
    if (!http_body_json(r, false, &j, &ret))
        return ret;
    if (j && !json_is_object(j)) {
        json_decref(j);
        return http_reply_problem(r, 422, "validation", "expected a JSON object", NULL, NULL);
    }
    json_object_foreach(j, key, v) {
        if (strcmp(key, "force") == 0 && json_is_boolean(v)) {
            force = json_is_true(v);
        } else if (strcmp(key, "timeout") == 0 && json_is_number(v) && json_number_value(v) >= 0 &&
                   json_number_value(v) <= 3600) {
            timeout = json_number_value(v);
        } else {
            char detail[160], field[64];
            snprintf(field, sizeof(field), "%s", key); /* key dies with j */
            snprintf(detail, sizeof(detail),
                     "%s: expected force (true/false) or timeout (0-3600 seconds)", field);
            json_decref(j);
            return http_reply_problem(r, 422, "validation", detail, field, NULL);
        }
    }
    json_decref(j);
    int e = part_mgr_deactivate(r->mgr, r->name, force, (unsigned)(timeout * 1000), &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return reply_partition(r, 200, r->name);
}

static json_t *num_or_null(double v, const char *field)
{
    if (strcmp(field, "cap") == 0 && v == PART_CAP_NONE)
        return json_null();
    if (v == (double)(json_int_t)v)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *changes_json(const struct part_changes *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++) {
        const struct part_change *ch = &c->items[i];
        json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:s}", "field", ch->field, "scope",
                              ch->scope == PART_SCOPE_RUNNING ? "running" : "profile", "from",
                              num_or_null(ch->from, ch->field), "to",
                              num_or_null(ch->to, ch->field), "status",
                              part_change_status_name(ch->status));
        if (e && ch->detail[0])
            json_object_set_new(e, "detail", json_string(ch->detail));
        json_array_append_new(a, e);
    }
    return a;
}

enum MHD_Result api_partition_patch(struct http_request *r)
{
    struct part_error err = {0};
    struct part_resize req;
    struct part_changes changes = {0};
    enum MHD_Result ret;

    if (body_malformed(r, &ret))
        return ret;
    int e = part_resize_parse(r->body, r->body_len, &req, &err);
    if (e < 0) {
        snprintf(err.file, sizeof(err.file), "body");
        return http_reply_error(r, e == -ENODATA ? -EINVAL : e, &err, NULL);
    }
    e = part_mgr_resize(r->mgr, r->name, &req, &changes, &err);
    json_t *part = part_mgr_partition_json(r->mgr, r->name);
    if (e < 0 && changes.n == 0) {
        json_decref(part);
        return http_reply_error(r, e, &err, NULL);
    }
    json_t *body = json_pack("{s:o, s:o}", "partition", part ? part : json_null(), "changes",
                             changes_json(&changes));
    if (e < 0)
        return http_reply_error(r, e, &err, body);
    return http_reply_json(r, 200, body);
}
