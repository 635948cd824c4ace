/* The console's files (console.h): / is index.html, /console/BUNDLE/NAME
 * the others. Public (the page holds no data: it asks /v1 with the token
 * the user gives it), after the Host and Origin checks of every route.
 * Revalidated by ETag, gzipped when the client takes it, and sent with the
 * headers that keep the page from being framed, sniffed or given scripts
 * from elsewhere. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "console.h"

/* Scripts, styles, images and requests of the page's own origin only;
 * never in a frame, no <base>, no plugins, no form posted anywhere. */
#define CONSOLE_CSP                                                                                \
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; "            \
    "object-src 'none'"
#define CACHE_FOREVER "public, max-age=31536000, immutable"

static const struct console_asset *asset_find(const char *name)
{
    for (const struct console_asset *a = console_assets; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* Whether If-None-Match (a list of entity tags, or *) names etag. */
static bool etag_listed(const char *inm, const char *etag)
{
    size_t len = strlen(etag);
    while (inm && *inm) {
        inm += strspn(inm, " \t,");
        if (strncmp(inm, "W/", 2) == 0) /* a weak match is enough for GET */
            inm += 2;
        if (*inm == '*' || (strncmp(inm, etag, len) == 0 && strchr(" \t,", inm[len])))
            return true;
        inm += strcspn(inm, ",");
    }
    return false;
}

/* Whether Accept-Encoding takes gzip: named (or *), and not with q=0. */
static bool gzip_accepted(const char *ae)
{
    while (ae && *ae) {
        ae += strspn(ae, " \t,");
        size_t n = strcspn(ae, " \t;,"), item = strcspn(ae, ",");
        if ((n == 4 && strncasecmp(ae, "gzip", 4) == 0) || (n == 1 && *ae == '*')) {
            const char *q = strstr(ae, "q=");
            return !q || q >= ae + item || strtod(q + 2, NULL) > 0;
        }
        ae += item;
    }
    return false;
}

/* Replies with a (304 when the client has it), cached as cache says. */
static enum MHD_Result asset_reply(struct http_request *r, const struct console_asset *a,
                                   const char *cache)
{
    const char *inm =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *ae =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    bool fresh = etag_listed(inm, a->etag), gz = a->gz && gzip_accepted(ae);
    struct MHD_Response *resp =
        fresh ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
              : MHD_create_response_from_buffer(gz ? a->gz_len : a->len,
                                                (void *)(gz ? a->gz : a->data),
                                                MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    MHD_add_response_header(resp, "Content-Security-Policy", CONSOLE_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (!fresh) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
        if (gz)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    return http_reply_response(r, fresh ? 304 : 200, resp);
}

static enum MHD_Result asset_missing(struct http_request *r)
{
    return http_reply_problem(r, 404, "not-found", "no such file in the console", NULL, NULL);
}

enum MHD_Result api_console_index(struct http_request *r)
{
    const struct console_asset *a = asset_find("index.html");
    return a ? asset_reply(r, a, "no-cache") : asset_missing(r);
}

enum MHD_Result api_console_asset(struct http_request *r)
{
    const char *path = r->url + strlen("/console/");
    size_t n = strlen(console_bundle);
    const struct console_asset *a = NULL;

    /* this build's bundle only: another's names may hold other bytes */
    if (strncmp(path, console_bundle, n) == 0 && path[n] == '/' &&
        strcmp(path + n + 1, "index.html") != 0)
        a = asset_find(path + n + 1);
    return a ? asset_reply(r, a, CACHE_FOREVER) : asset_missing(r);
}
