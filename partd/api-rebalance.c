/* /v1/plan, /v1/rebalance, /v1/policy: the rebalancer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

enum MHD_Result api_plan(struct http_request *r)
{
    struct part_error err = {0};
    json_t *plan;
    int e = part_mgr_plan(r->mgr, &plan, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_json(r, 200, plan);
}

enum MHD_Result api_rebalance(struct http_request *r)
{
    struct part_error err = {0};
    json_t *done;
    int e = part_mgr_rebalance(r->mgr, &done, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_json(r, 200, done);
}

enum MHD_Result api_policy_get(struct http_request *r)
{
    return http_reply_json(r, 200, part_mgr_policy_json(r->mgr));
}

enum MHD_Result api_policy_put(struct http_request *r)
{
    struct part_error err = {0};
    enum MHD_Result ret;
    json_t *body;
    if (!http_body_json(r, true, &body, &ret))
        return ret;
    const char *key;
    json_t *v, *name = json_object_get(body, "name");
    json_object_foreach(body, key, v) {
        if (strcmp(key, "name") != 0) {
            char field[64];
            snprintf(field, sizeof(field), "%s", key); /* key dies with body */
            json_decref(body);
            return http_reply_problem(r, 422, "validation",
                                      "unknown field: the body is {\"name\": POLICY}", field, NULL);
        }
    }
    if (!json_is_string(name)) {
        json_decref(body);
        return http_reply_problem(r, 422, "validation", "name: expected a policy name", "name",
                                  NULL);
    }
    int e = part_mgr_policy_set(r->mgr, json_string_value(name), &err);
    json_decref(body);
    if (e == -ENOENT) {
        e = -EINVAL; /* an unknown policy is a bad value, not a missing resource */
        snprintf(err.field, sizeof(err.field), "name");
    }
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_json(r, 200, part_mgr_policy_json(r->mgr));
}
