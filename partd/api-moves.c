/* Moves between CPCs: the source's route, POST /v1/partitions/{name}/move
 * (an admin's: a move uses another host's capacity and gives this one's
 * partition away), and the target's, /v1/moves (a peer's only). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "moves.h"

enum MHD_Result api_partition_move(struct http_request *r)
{
    struct part_error err = {0};
    char to[PART_NAME_MAX] = "", id[PART_MOVE_ID_MAX] = "";
    json_t *checks = NULL;

    bool validate_only = false;
    int e = part_request_move(r->body, r->body_len, to, &validate_only, &err);
    if (e == 0)
        e = move_start(r->mgr, r->name, to, validate_only, &r->caller, id, &checks, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, checks ? json_pack("{s:o}", "checks", checks) : NULL);
    if (validate_only)
        return http_reply_json(r, 200,
                               json_pack("{s:s, s:s, s:b, s:o}", "partition", r->name, "to", to,
                                         "admitted", 1, "checks", checks ? checks : json_array()));
    return http_reply_json(r, 202,
                           json_pack("{s:s, s:s, s:s, s:o}", "id", id, "partition", r->name, "to",
                                     to, "checks", checks ? checks : json_array()));
}

enum MHD_Result api_moves_admit(struct http_request *r)
{
    struct part_error err = {0};
    struct part_move_request req;
    json_t *checks = NULL;

    int e = part_move_request_parse(r->body, r->body_len, &req, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    e = part_mgr_move_admit(r->mgr, &req, &r->caller, NULL, &checks, &err);
    json_t *reply = json_pack("{s:o, s:b, s:o}", "checks", checks ? checks : json_array(),
                              "reserved", e == 0 && req.reserve, "id",
                              e == 0 && req.reserve ? json_string(req.id) : json_null());
    part_move_request_clear(&req);
    if (e < 0)
        return http_reply_error(r, e, &err, reply);
    return http_reply_json(r, 200, reply);
}

enum MHD_Result api_move_adopt(struct http_request *r)
{
    struct part_error err = {0};
    struct part_move_request req = {0};
    int e = 0;

    if (r->body && (e = part_move_request_parse(r->body, r->body_len, &req, &err)) < 0)
        return http_reply_error(r, e, &err, NULL);
    e = part_mgr_move_adopt(r->mgr, r->name, r->body ? &req : NULL, &r->caller, &err);
    char name[PART_NAME_MAX] = "";
    if (req.profile)
        snprintf(name, sizeof(name), "%s", req.profile->name);
    part_move_request_clear(&req);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    json_t *j = name[0] ? part_mgr_partition_json(r->mgr, name) : NULL;
    return http_reply_json(r, 200, j ? j : json_pack("{s:s}", "id", r->name));
}

enum MHD_Result api_move_release(struct http_request *r)
{
    struct part_error err = {0};
    int e = part_mgr_move_release(r->mgr, r->name, &r->caller, &err);
    if (e < 0)
        return http_reply_error(r, e, &err, NULL);
    return http_reply_text(r, 204, NULL, "", 0);
}
