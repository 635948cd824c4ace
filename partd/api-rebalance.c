/* /v1/plan, /v1/rebalance, /v1/policy, /v1/policies: the rebalancer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"

/* ?policy=NAME: the plan another policy would make, before switching to it */
enum MHD_Result api_plan(struct http_request *r)
{
    struct part_error err = {0};
    json_t *plan;
    const char *policy = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "policy");
    int e = part_mgr_plan(r->mgr, policy, &plan, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_json(r, 200, plan);
}

enum MHD_Result api_rebalance(struct http_request *r)
{
    struct part_error err = {0};
    json_t *done;
    int e = part_mgr_rebalance(r->mgr, &r->caller, &done, &err);
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
    char name[PART_NAME_MAX];

    int e = part_request_policy(r->body, r->body_len, name, &err);
    if (e == 0)
        e = part_mgr_policy_set(r->mgr, name, &r->caller, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_json(r, 200, part_mgr_policy_json(r->mgr));
}

enum MHD_Result api_policies(struct http_request *r)
{
    return http_reply_json(r, 200, part_mgr_policies_json(r->mgr));
}
