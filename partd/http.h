/* partd's HTTP side: libmicrohttpd servers on the configured listeners, the
 * route table, authentication, and replies (JSON and RFC 9457 problems). */
#pragma once

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include <part/part.h>

#define HTTP_BODY_MAX (64 * 1024)

struct http_server;
struct pending; /* http.c: a request being received */

/* One request, complete, as handlers see it. */
struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body; /* NUL-terminated, NULL when empty */
    size_t body_len;
    const char *name; /* the {name} of the route, or NULL */
    struct part_mgr *mgr;
    /* who calls: its token's role, its uid on a UNIX socket (found by
     * admit() on the HTTP thread, copied with the request to the queue) */
    struct part_caller caller;
    /* set while the handler runs on the mutation queue, off libmicrohttpd's
     * threads: its reply is kept there, and queued once the connection is
     * resumed */
    struct pending *deferred;
};

typedef enum MHD_Result (*http_handler)(struct http_request *r);

/* A route's request body: its JSON syntax is checked before the handler
 * runs (400 when malformed or missing); libpart validates its content. */
enum http_body {
    HTTP_BODY_NONE,     /* not read */
    HTTP_BODY_OPTIONAL, /* JSON when given */
    HTTP_BODY_REQUIRED, /* JSON, required */
};

struct http_route {
    const char *method;
    /* "/v1/partitions/{name}": {name} matches one segment; a final {path}
     * matches the rest of the URL, one segment or more */
    const char *pattern;
    http_handler handler;
    /* the least role the caller's token must carry (PART_ROLE_NONE: no
     * token needed); a handler may ask for more (http_need_role()) */
    enum part_role role;
    enum http_body body;
};

/* The route table (api.c). GET routes run on libmicrohttpd's threads and
 * must not wait (they read snapshots); every other route runs on the
 * mutation queue (queue.h). */
extern const struct http_route http_routes[];
/* Handlers that may wait long without the manager's lock (a deactivation
 * waiting for its guest), NULL-terminated (api.c): they run on threads of
 * their own rather than in front of the other mutations. */
extern const http_handler http_waiting[];

/* Reads cfg's token files and TLS certificate and key, checks who the
 * listeners would let in, and opens a listening socket per listen address
 * of cfg, before anything else starts, so that a port in use stops partd
 * before it touches a partition; cfg's limits are each listener's
 * connection limits. Refused before any socket is bound: a TCP
 * listener without tokens (loopback included: any local user reaches it),
 * one on an address other than loopback without TLS, a socket_group without
 * tokens or that does not exist. UNIX sockets are created 0660 in
 * socket_group (0600 when there are no tokens: then whoever reaches the
 * socket is admin). Returns 0 or a negative errno with err saying which
 * address or file failed and why. */
int http_listen(const struct part_config *cfg, struct http_server **ret, struct part_error *err);

/* Starts serving the API of mgr on the sockets, and the mutation queue. */
int http_serve(struct http_server *s, struct part_mgr *mgr, struct part_error *err);
/* Stops: the mutation queue first (mutations not started get 503, running
 * ones are waited for: call part_mgr_shutdown() before, so that
 * deactivations stop waiting for their guests), then the servers. */
void http_stop(struct http_server *s);

/* Replies; each returns what the access handler must return. Every reply
 * goes out through http_reply_response(), which queues it on the
 * connection or, for a request run on the mutation queue, keeps it. */
/* Replies with resp (taken: the caller must not destroy it). */
enum MHD_Result http_reply_response(struct http_request *r, unsigned status,
                                    struct MHD_Response *resp);
enum MHD_Result http_reply_text(struct http_request *r, unsigned status, const char *type,
                                const char *text, size_t len);
/* Replies with one of the current snapshot's views (part_snapshot_*_text). */
enum MHD_Result http_reply_view(struct http_request *r, const char *type,
                                const char *(*view)(struct part_snapshot *, size_t *));
/* Serialises and drops j. */
enum MHD_Result http_reply_json(struct http_request *r, unsigned status, json_t *j);
enum MHD_Result http_reply_problem(struct http_request *r, unsigned status, const char *type,
                                   const char *detail, const char *field, json_t *extra);
/* Whether r's caller has role need: true, or false with the 403 problem
 * (forbidden-role, naming the role needed and the caller's) queued into
 * *ret. what says what needs it ("changing the profile"). */
bool http_need_role(struct http_request *r, enum part_role need, const char *what,
                    enum MHD_Result *ret);
/* The one place where a libpart errno becomes an HTTP status and problem.
 * An error that names a field is the request's: a thing the field names
 * that is missing or unusable is a bad value (422), not a missing resource
 * (404) or a backend failure (502). An error with a line but no file is in
 * the request body, and says "body". */
enum MHD_Result http_reply_error(struct http_request *r, int error, const struct part_error *err,
                                 json_t *extra);
