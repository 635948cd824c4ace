/* /v1/health, /v1/version, /v1/whoami, /v1/cpc, /metrics. */
#include <string.h>

#include "api.h"

enum MHD_Result api_health(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    bool up = part_snapshot_info(s)->connected;
    part_snapshot_put(s);
    return http_reply_json(
        r, 200,
        json_pack("{s:s, s:s}", "status", "ok", "backend", up ? "connected" : "disconnected"));
}

enum MHD_Result api_version(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    const struct part_snapshot_info *info = part_snapshot_info(s);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "partd", PARTD_VERSION, "api", "v1", "libvirt",
                          info->version, "driver", info->driver);
    part_snapshot_put(s);
    return http_reply_json(r, 200, j);
}

/* Who the caller is to partd: its token's role (and uid on the UNIX
 * socket), so that a client such as the console offers only what the role
 * may do. The route table still decides each request. */
enum MHD_Result api_whoami(struct http_request *r)
{
    return http_reply_json(r, 200, part_caller_json(&r->caller));
}

enum MHD_Result api_cpc(struct http_request *r)
{
    return http_reply_view(r, "application/json", part_snapshot_cpc_text);
}

enum MHD_Result api_metrics(struct http_request *r)
{
    return http_reply_view(r, "text/plain; version=0.0.4; charset=utf-8",
                           part_snapshot_metrics_text);
}
