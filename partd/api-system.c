/* /v1/health, /v1/version, /v1/cpc. */
#include <string.h>

#include "api.h"

enum MHD_Result api_health(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    json_t *cpc = json_loadb(s->cpc, s->cpc_len, 0, NULL);
    const char *backend = json_string_value(json_object_get(cpc, "backend"));
    json_t *j = json_pack("{s:s, s:s}", "status", "ok", "backend", backend ? backend : "unknown");
    json_decref(cpc);
    part_snapshot_put(s);
    return http_reply_json(r, 200, j);
}

enum MHD_Result api_version(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    json_t *cpc = json_loadb(s->cpc, s->cpc_len, 0, NULL);
    json_t *j = json_pack("{s:s, s:s, s:O?, s:O?}", "partd", PARTD_VERSION, "api", "v1", "libvirt",
                          json_object_get(cpc, "version"), "driver", json_object_get(cpc, "driver"));
    json_decref(cpc);
    part_snapshot_put(s);
    return http_reply_json(r, 200, j);
}

enum MHD_Result api_cpc(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    enum MHD_Result ret = http_reply_text(r, 200, "application/json", s->cpc, s->cpc_len);
    part_snapshot_put(s);
    return ret;
}

enum MHD_Result api_metrics(struct http_request *r)
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    enum MHD_Result ret = http_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                                          s->metrics, s->metrics_len);
    part_snapshot_put(s);
    return ret;
}
