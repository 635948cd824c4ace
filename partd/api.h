/* The HTTP API's handlers, one file per resource. Each only parses,
 * calls libpart and serialises; http.c has already authenticated. */
#pragma once

#include "http.h"

/* api-system.c */
enum MHD_Result api_health(struct http_request *r);
enum MHD_Result api_version(struct http_request *r);
enum MHD_Result api_whoami(struct http_request *r);
enum MHD_Result api_cpc(struct http_request *r);

/* api-system.c: GET /metrics */
enum MHD_Result api_metrics(struct http_request *r);

/* api-rebalance.c */
enum MHD_Result api_plan(struct http_request *r);
enum MHD_Result api_rebalance(struct http_request *r);
enum MHD_Result api_policy_get(struct http_request *r);
enum MHD_Result api_policy_put(struct http_request *r);
enum MHD_Result api_policies(struct http_request *r);

/* api-events.c */
enum MHD_Result api_events(struct http_request *r);
/* Sends followers a keep-alive comment, or (closing) ends their streams so
 * that the servers can stop. */
void api_events_tick(bool closing);

/* api-console.c: GET / and GET /console/{path}, the console's files */
enum MHD_Result api_console_index(struct http_request *r);
enum MHD_Result api_console_asset(struct http_request *r);

/* api-partitions.c */
enum MHD_Result api_partitions_list(struct http_request *r);
enum MHD_Result api_partitions_define(struct http_request *r);
enum MHD_Result api_partition_get(struct http_request *r);
/* GET /v1/partitions/{name}/history: the console's hour of samples */
enum MHD_Result api_partition_history(struct http_request *r);
enum MHD_Result api_partition_patch(struct http_request *r);
enum MHD_Result api_partition_delete(struct http_request *r);
enum MHD_Result api_partition_activate(struct http_request *r);
enum MHD_Result api_partition_deactivate(struct http_request *r);

/* api-moves.c: the source's route and the target's (a peer's) */
enum MHD_Result api_partition_move(struct http_request *r);
enum MHD_Result api_moves_admit(struct http_request *r);
enum MHD_Result api_move_adopt(struct http_request *r);
enum MHD_Result api_move_release(struct http_request *r);
