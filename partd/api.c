/* The route table: every route of API v1 (schemas/openapi.json describes
 * the same set; a test checks both ways) and the least role each needs: a
 * viewer reads, an operator runs, resizes within the profile's bounds and
 * rebalances, an admin defines and changes profiles and moves partitions
 * to other CPCs, a peer (another CPC's partd) calls the target side of a
 * move and nothing else (a PATCH that changes
 * the profile asks for admin itself: api-partitions.c). The console's files
 * need none: / and /console/ (api-console.c). */
#include "api.h"

const struct http_route http_routes[] = {
    {"GET", "/v1/health", api_health, PART_ROLE_NONE, HTTP_BODY_NONE},
    {"GET", "/v1/version", api_version, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"GET", "/v1/whoami", api_whoami, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"GET", "/v1/cpc", api_cpc, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"GET", "/v1/partitions", api_partitions_list, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"POST", "/v1/partitions", api_partitions_define, PART_ROLE_ADMIN, HTTP_BODY_REQUIRED},
    {"GET", "/v1/partitions/{name}", api_partition_get, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"GET", "/v1/partitions/{name}/history", api_partition_history, PART_ROLE_VIEWER,
     HTTP_BODY_NONE},
    {"PATCH", "/v1/partitions/{name}", api_partition_patch, PART_ROLE_OPERATOR, HTTP_BODY_REQUIRED},
    {"DELETE", "/v1/partitions/{name}", api_partition_delete, PART_ROLE_ADMIN, HTTP_BODY_NONE},
    {"POST", "/v1/partitions/{name}/activate", api_partition_activate, PART_ROLE_OPERATOR,
     HTTP_BODY_NONE},
    {"POST", "/v1/partitions/{name}/deactivate", api_partition_deactivate, PART_ROLE_OPERATOR,
     HTTP_BODY_OPTIONAL},
    /* an admin's: it uses another CPC's capacity, and gives this partition away */
    {"POST", "/v1/partitions/{name}/move", api_partition_move, PART_ROLE_ADMIN, HTTP_BODY_REQUIRED},
    /* the target side of a move: another CPC's partd (role peer) only */
    {"POST", "/v1/moves", api_moves_admit, PART_ROLE_PEER, HTTP_BODY_REQUIRED},
    {"POST", "/v1/moves/{name}/adopt", api_move_adopt, PART_ROLE_PEER, HTTP_BODY_OPTIONAL},
    {"DELETE", "/v1/moves/{name}", api_move_release, PART_ROLE_PEER, HTTP_BODY_NONE},
    {"GET", "/v1/plan", api_plan, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"POST", "/v1/rebalance", api_rebalance, PART_ROLE_OPERATOR, HTTP_BODY_NONE},
    {"GET", "/v1/policy", api_policy_get, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"PUT", "/v1/policy", api_policy_put, PART_ROLE_OPERATOR, HTTP_BODY_REQUIRED},
    {"GET", "/v1/policies", api_policies, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"GET", "/v1/events", api_events, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    {"GET", "/metrics", api_metrics, PART_ROLE_VIEWER, HTTP_BODY_NONE},
    /* the console: files only, no data (that comes from /v1, with a token) */
    {"GET", "/", api_console_index, PART_ROLE_NONE, HTTP_BODY_NONE},
    {"GET", "/console/{path}", api_console_asset, PART_ROLE_NONE, HTTP_BODY_NONE},
    {0},
};

/* A deactivation waits for its guest (up to PART_DEACTIVATE_TIMEOUT_MAX
 * seconds), without the manager's lock: on a thread of its own, not in
 * front of the other mutations. */
const http_handler http_waiting[] = {api_partition_deactivate, api_partition_move, NULL};
