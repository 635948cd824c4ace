/* The route table: every route of API v1 (schemas/openapi.json describes
 * the same set; a test checks both ways). */
#include "api.h"

const struct http_route http_routes[] = {
    {"GET", "/v1/health", api_health, true},
    {"GET", "/v1/version", api_version, false},
    {"GET", "/v1/cpc", api_cpc, false},
    {"GET", "/v1/partitions", api_partitions_list, false},
    {"POST", "/v1/partitions", api_partitions_define, false},
    {"GET", "/v1/partitions/{name}", api_partition_get, false},
    {"PATCH", "/v1/partitions/{name}", api_partition_patch, false},
    {"DELETE", "/v1/partitions/{name}", api_partition_delete, false},
    {"POST", "/v1/partitions/{name}/activate", api_partition_activate, false},
    {"POST", "/v1/partitions/{name}/deactivate", api_partition_deactivate, false},
    {"GET", "/v1/plan", api_plan, false},
    {"POST", "/v1/rebalance", api_rebalance, false},
    {"GET", "/v1/policy", api_policy_get, false},
    {"PUT", "/v1/policy", api_policy_put, false},
    {"GET", "/v1/events", api_events, false},
    {"GET", "/metrics", api_metrics, false},
    {NULL, NULL, NULL, false},
};
