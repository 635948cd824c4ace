/* The route table: every route of API v1 (schemas/openapi.json describes
 * the same set; a test checks both ways). */
#include "api.h"

const struct http_route http_routes[] = {
    {"GET", "/v1/health", api_health, true, HTTP_BODY_NONE},
    {"GET", "/v1/version", api_version, false, HTTP_BODY_NONE},
    {"GET", "/v1/cpc", api_cpc, false, HTTP_BODY_NONE},
    {"GET", "/v1/partitions", api_partitions_list, false, HTTP_BODY_NONE},
    {"POST", "/v1/partitions", api_partitions_define, false, HTTP_BODY_REQUIRED},
    {"GET", "/v1/partitions/{name}", api_partition_get, false, HTTP_BODY_NONE},
    {"PATCH", "/v1/partitions/{name}", api_partition_patch, false, HTTP_BODY_REQUIRED},
    {"DELETE", "/v1/partitions/{name}", api_partition_delete, false, HTTP_BODY_NONE},
    {"POST", "/v1/partitions/{name}/activate", api_partition_activate, false, HTTP_BODY_NONE},
    {"POST", "/v1/partitions/{name}/deactivate", api_partition_deactivate, false,
     HTTP_BODY_OPTIONAL},
    {"GET", "/v1/plan", api_plan, false, HTTP_BODY_NONE},
    {"POST", "/v1/rebalance", api_rebalance, false, HTTP_BODY_NONE},
    {"GET", "/v1/policy", api_policy_get, false, HTTP_BODY_NONE},
    {"PUT", "/v1/policy", api_policy_put, false, HTTP_BODY_REQUIRED},
    {"GET", "/v1/events", api_events, false, HTTP_BODY_NONE},
    {"GET", "/metrics", api_metrics, false, HTTP_BODY_NONE},
    {0},
};

/* A deactivation waits for its guest (up to PART_DEACTIVATE_TIMEOUT_MAX
 * seconds), without the manager's lock: on a thread of its own, not in
 * front of the other mutations. */
const http_handler http_waiting[] = {api_partition_deactivate, NULL};
