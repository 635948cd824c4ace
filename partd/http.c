/* libmicrohttpd servers, routing, authentication and replies. A response is
 * queued only once a request is complete (queuing earlier makes
 * libmicrohttpd close the connection, which kills keep-alive). GETs are
 * answered on libmicrohttpd's threads from snapshots; every other request
 * is handed to the mutation queue (queue.h) with its connection suspended,
 * and its reply queued when the queue resumes it: a mutation stuck on the
 * backend never holds a thread that a GET needs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "http.h"
#include "log.h"
#include "queue.h"

#define PROBLEM_BASE "https://partd.dev/problems/"

struct http_server {
    struct MHD_Daemon *daemons[16];
    int fds[16];     /* listening sockets not yet handed to a daemon, or -1 */
    char *addrs[16]; /* as configured, for the log */
    char *unix_paths[16];
    size_t n;
    struct auth auth;  /* the tokens, by role */
    char *tls_cert;    /* PEM: TCP listeners serve HTTPS; NULL: HTTP */
    char *tls_key;     /* owned; wiped when freed */
    char **origins;    /* allowed_origins, NULL-terminated; owned */
    char **host_names; /* host_names, NULL-terminated; owned */
    struct part_limits limits;
    struct part_mgr *mgr;
    struct queue *queue; /* where mutations run */
};

/* A request being received. */
struct pending {
    char *body;
    size_t len;
    bool too_large;
    bool rejected;                  /* answered by admit() with a refusal */
    const struct http_route *route; /* the route, once admit() let the request in */
    char name[PART_NAME_MAX + 1];   /* the route's {name} */
    struct part_caller caller;      /* who, as admit() found */
    /* Handed to the mutation queue, the connection suspended: req is what
     * the handler sees there (its method and url copied), resp and status
     * its reply (none: the connection is closed). Written by the queue
     * before it resumes the connection, read after. */
    bool deferred;
    struct http_request req;
    char *method, *url;
    struct MHD_Response *resp;
    unsigned status;
};

enum MHD_Result http_reply_response(struct http_request *r, unsigned status,
                                    struct MHD_Response *resp)
{
    struct pending *p = r->deferred;
    enum MHD_Result ret = MHD_YES;

    if (!p) {
        ret = MHD_queue_response(r->conn, status, resp);
        MHD_destroy_response(resp);
    } else if (p->resp) { /* one reply per request, as MHD_queue_response() has it */
        MHD_destroy_response(resp);
        ret = MHD_NO;
    } else {
        p->resp = resp;
        p->status = status;
    }
    return ret;
}

enum MHD_Result http_reply_text(struct http_request *r, unsigned status, const char *type,
                                const char *text, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return http_reply_response(r, status, resp);
}

enum MHD_Result http_reply_view(struct http_request *r, const char *type,
                                const char *(*view)(struct part_snapshot *, size_t *))
{
    struct part_snapshot *s = part_mgr_snapshot(r->mgr);
    size_t len;
    const char *text = view(s, &len);
    enum MHD_Result ret = text
                              ? http_reply_text(r, 200, type, text, len)
                              : http_reply_problem(r, 500, "internal", "out of memory", NULL, NULL);
    part_snapshot_put(s);
    return ret;
}

enum MHD_Result http_reply_json(struct http_request *r, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return http_reply_problem(r, 500, "internal", "out of memory", NULL, NULL);
    enum MHD_Result ret = http_reply_text(r, status, "application/json", text, strlen(text));
    free(text);
    return ret;
}

static const char *status_title(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Content";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* A problem reply; allow (may be NULL) becomes the Allow header of a 405. */
static enum MHD_Result reply_problem(struct http_request *r, unsigned status, const char *type,
                                     const char *detail, const char *field, json_t *extra,
                                     const char *allow)
{
    json_t *p = json_pack("{s:s+, s:s, s:i, s:s}", "type", PROBLEM_BASE, type, "title",
                          status_title(status), "status", (int)status, "detail", detail);
    if (p && field && *field)
        json_object_set_new(p, "field", json_string(field));
    if (p && extra)
        json_object_update(p, extra);
    json_decref(extra);
    char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/problem+json");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"partd\"");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    /* what is missing (the backend, a follower's place, the queue's) may come back */
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "10");
    return http_reply_response(r, status, resp);
}

enum MHD_Result http_reply_problem(struct http_request *r, unsigned status, const char *type,
                                   const char *detail, const char *field, json_t *extra)
{
    return reply_problem(r, status, type, detail, field, extra, NULL);
}

enum MHD_Result http_reply_error(struct http_request *r, int error, const struct part_error *err,
                                 json_t *extra)
{
    static const struct {
        int error;
        unsigned status;
        const char *type;
    } map[] = {
        {-EINVAL, 422, "validation"},   {-ERANGE, 422, "validation"},
        {-ENOENT, 404, "not-found"},    {-EEXIST, 409, "conflict"},
        {-EBUSY, 409, "conflict"},      {-ENOSPC, 409, "conflict"},
        {-ETIMEDOUT, 409, "conflict"},  {-ENODATA, 422, "validation"},
        {-ENOTSUP, 501, "unsupported"}, {-ENOTCONN, 503, "backend-unavailable"},
        {-ENOMEM, 500, "internal"},     {-EPROTO, 500, "internal"},
    };
    unsigned status = 502;
    const char *type = "backend-failed";
    if (error == -ECANCELED) /* a wait that partd's stop ended: partd is going away */
        error = -ENOTCONN;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].error == error) {
            status = map[i].status;
            type = map[i].type;
            break;
        }
    if (err && err->field[0] && (status == 404 || status == 502)) {
        status = 422;
        type = "validation";
    }
    struct part_error located;
    if (err && err->line > 0 && !err->file[0]) {
        located = *err;
        part_error_set_file(&located, "body");
        err = &located;
    }
    char buf[1024];
    const char *detail =
        err && err->message[0] ? part_error_format(err, buf, sizeof(buf)) : strerror(-error);
    return http_reply_problem(r, status, type, detail, err ? err->field : NULL, extra);
}

/* Checks the JSON syntax of r's body as route wants it: true when the
 * handler may run, else the 400 problem is queued into *ret. */
static bool body_ok(struct http_request *r, enum http_body want, enum MHD_Result *ret)
{
    json_error_t jerr;
    if (want == HTTP_BODY_NONE || (!r->body && want == HTTP_BODY_OPTIONAL))
        return true;
    if (!r->body) {
        *ret = http_reply_problem(r, 400, "bad-request", "a JSON body is required", NULL, NULL);
        return false;
    }
    json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (j) {
        json_decref(j);
        return true;
    }
    char detail[300];
    snprintf(detail, sizeof(detail), "body:%d:%d: invalid JSON: %s", jerr.line, jerr.column,
             jerr.text);
    *ret = http_reply_problem(r, 400, "malformed-json", detail, NULL, NULL);
    return false;
}

/* Matches url against pattern; a {name} segment matches one path segment,
 * copied to name, a final {path} whatever is left (not nothing). */
static bool route_match(const char *pattern, const char *url, char *name, size_t len)
{
    while (*pattern && *url) {
        if (strcmp(pattern, "{path}") == 0)
            return true;
        if (strncmp(pattern, "{name}", 6) == 0) {
            size_t n = strcspn(url, "/");
            if (n == 0 || n >= len)
                return false;
            memcpy(name, url, n);
            name[n] = '\0';
            url += n;
            pattern += 6;
            continue;
        }
        if (*pattern++ != *url++)
            return false;
    }
    return !*pattern && !*url;
}

/* Whether a request with a body of len bytes has the only type partd reads:
 * application/json. A body without a type, or any other type even with no
 * body (text/plain, form-encoded: what a web page may send without a CORS
 * preflight) is refused. */
static bool type_ok(struct MHD_Connection *c, size_t len)
{
    const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!t)
        return len == 0;
    size_t n = strcspn(t, ";");
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    return n == 16 && strncasecmp(t, "application/json", 16) == 0;
}

/* Whether sa (AF_INET or AF_INET6) is a loopback address. */
static bool addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24 == 127;
}

static bool listed(char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcasecmp(*list, s) == 0)
            return true;
    return false;
}

/* Whether the Host header names this TCP connection: its own address and
 * port, localhost on loopback, or one of host_names (NAME, or NAME:PORT).
 * Another name is DNS rebinding: a web page whose name now points here.
 * UNIX sockets, which browsers do not reach, and requests without a Host
 * header (HTTP/1.0 clients), are not checked. */
static bool host_ok(const struct http_server *s, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char addr[INET6_ADDRSTRLEN], port[8], want[INET6_ADDRSTRLEN + 16];

    if (!host || !ci || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) < 0 ||
        ss.ss_family == AF_UNIX)
        return true;
    if (getnameinfo((struct sockaddr *)&ss, len, addr, sizeof(addr), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return false;
    snprintf(want, sizeof(want), ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", addr, port);
    if (strcasecmp(host, want) == 0)
        return true;
    snprintf(want, sizeof(want), "localhost:%s", port);
    if (addr_loopback((struct sockaddr *)&ss) && strcasecmp(host, want) == 0)
        return true;
    /* a configured name, with this port or as written */
    const char *colon = strrchr(host, ':');
    if (colon && strcmp(colon + 1, port) == 0) {
        snprintf(want, sizeof(want), "%.*s", (int)(colon - host), host);
        if (listed(s->host_names, want))
            return true;
    }
    return listed(s->host_names, host);
}

/* Whether origin is scheme://HOST of this request's own Host header: a page
 * partd served itself (the console), once the Host was found to name this
 * listener. Browsers send an Origin with a page's own POSTs and modules. */
static bool origin_own(struct MHD_Connection *c, const char *origin)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *rest = strncasecmp(origin, "https://", 8) == 0  ? origin + 8
                       : strncasecmp(origin, "http://", 7) == 0 ? origin + 7
                                                                : NULL;
    return host && rest && strcasecmp(rest, host) == 0;
}

/* What keeps browsers out, checked before anything else: 421 for a Host
 * that does not name this listener, 403 for an Origin not allowed (neither
 * partd's own nor in allowed_origins). Returns
 * true when the request may go on, else queues the problem into *ret. */
static bool browser_ok(const struct http_server *s, struct http_request *r, enum MHD_Result *ret)
{
    const char *origin =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
    char detail[320];

    if (!host_ok(s, r->conn)) {
        snprintf(detail, sizeof(detail),
                 "this listener does not answer to the host named in the Host header; add it "
                 "to host_names in partd.json if it is this host's");
        *ret = http_reply_problem(r, 421, "misdirected-request", detail, NULL, NULL);
        return false;
    }
    if (origin && !listed(s->origins, origin) && !origin_own(r->conn, origin)) {
        snprintf(detail, sizeof(detail),
                 "requests from web pages are refused unless their origin is in allowed_origins "
                 "in partd.json");
        *ret = http_reply_problem(r, 403, "forbidden-origin", detail, NULL, NULL);
        return false;
    }
    return true;
}

bool http_need_role(struct http_request *r, enum part_role need, const char *what,
                    enum MHD_Result *ret)
{
    char detail[320];

    if (auth_allows(&r->caller, need))
        return true;
    snprintf(detail, sizeof(detail), "%s needs the %s role; this token's role is %s", what,
             part_role_name(need), part_role_name(r->caller.role));
    *ret = http_reply_problem(r, 403, "forbidden-role", detail, NULL,
                              json_pack("{s:s, s:s}", "role_needed", part_role_name(need), "role",
                                        part_role_name(r->caller.role)));
    return false;
}

/* Whether r may reach a handler: the browser checks, the route (404), the
 * token (401), the method (405), the token's role (403). On success
 * p->route, p->name and p->caller are set; otherwise the problem is queued
 * into *ret. */
static bool admit(struct http_server *s, struct http_request *r, struct pending *p,
                  enum MHD_Result *ret)
{
    char allow[128] = "", what[160];
    bool path_known = false;
    enum part_role path_role = PART_ROLE_N; /* the least any method of the path needs */

    if (!browser_ok(s, r, ret))
        return false;
    for (const struct http_route *rt = http_routes; rt->method; rt++) {
        if (!route_match(rt->pattern, r->url, p->name, sizeof(p->name)))
            continue;
        path_known = true;
        if (rt->role < path_role)
            path_role = rt->role;
        if (strcmp(rt->method, r->method) == 0 && !p->route)
            p->route = rt;
        snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s", allow[0] ? ", " : "",
                 rt->method);
    }
    r->caller = p->caller = auth_caller(&s->auth, r->conn);
    snprintf(what, sizeof(what), "%s %s", r->method, r->url);
    if (!path_known) {
        *ret = http_reply_problem(r, 404, "not-found", "no such route", NULL, NULL);
    } else if ((p->route ? p->route->role : path_role) > PART_ROLE_NONE &&
               p->caller.role == PART_ROLE_NONE) {
        *ret =
            http_reply_problem(r, 401, "unauthorized", "missing or wrong bearer token", NULL, NULL);
    } else if (!p->route) {
        char detail[160];
        snprintf(detail, sizeof(detail), "%s is not allowed on %s", r->method, r->url);
        *ret = reply_problem(r, 405, "method-not-allowed", detail, NULL, NULL, allow);
    } else if (http_need_role(r, p->route->role, what, ret)) {
        return true;
    }
    p->route = NULL;
    p->rejected = true;
    return false;
}

/* On the mutation queue: the handler of p's request, or (cancelled: partd
 * stops) a 503; then the connection is resumed, and on_request() queues
 * the reply. p is the HTTP side's again once resumed: not touched after. */
static void run_deferred(void *arg, bool cancelled)
{
    struct pending *p = arg;
    struct MHD_Connection *c = p->req.conn;

    if (cancelled)
        http_reply_problem(&p->req, 503, "backend-unavailable", "partd is stopping", NULL, NULL);
    else
        p->route->handler(&p->req);
    MHD_resume_connection(c);
}

/* Hands the request r to the mutation queue: the connection is suspended
 * until its reply is made (a 503 at once when the queue is full). */
static enum MHD_Result defer(struct http_server *s, struct http_request *r, struct pending *p)
{
    p->req = *r;
    p->req.method = p->method = strdup(r->method);
    p->req.url = p->url = strdup(r->url);
    p->req.deferred = p;
    if (!p->method || !p->url)
        return MHD_NO;
    p->deferred = true;
    MHD_suspend_connection(r->conn);
    bool waits = false;
    for (const http_handler *h = http_waiting; *h; h++)
        waits |= *h == p->route->handler;
    if (!queue_push(s->queue, run_deferred, p, waits)) {
        char detail[160];
        if (waits)
            snprintf(detail, sizeof(detail),
                     "%d deactivations are waiting for their guests already: try again later",
                     QUEUE_WAITERS);
        else
            snprintf(detail, sizeof(detail),
                     "%d changes are waiting already (the backend may be slow): try again later",
                     QUEUE_MAX);
        http_reply_problem(&p->req, 503, "too-many-mutations", detail, NULL, NULL);
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

/* Called again once the mutation queue resumed the connection: its reply,
 * or none (out of memory, or the handler wanted it closed): closed. */
static enum MHD_Result deferred_reply(struct http_request *r, struct pending *p)
{
    struct MHD_Response *resp = p->resp;
    p->resp = NULL;
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(r->conn, p->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The complete request, admitted: its body's size, type and syntax, then
 * the handler: here for a GET, on the mutation queue for the others. */
static enum MHD_Result dispatch(struct http_server *s, struct http_request *r, struct pending *p)
{
    const struct http_route *route = p->route;
    enum MHD_Result ret;

    if (p->too_large)
        return http_reply_problem(r, 413, "payload-too-large",
                                  "request bodies are limited to 64 KiB", NULL, NULL);
    if (!type_ok(r->conn, p->len))
        return http_reply_problem(r, 415, "unsupported-media-type",
                                  "request bodies must be application/json", NULL, NULL);
    r->name = strstr(route->pattern, "{name}") ? p->name : NULL;
    r->caller = p->caller;
    r->body = p->len ? p->body : NULL;
    r->body_len = p->len;
    if (!body_ok(r, route->body, &ret))
        return ret;
    if (strcmp(route->method, "GET") == 0)
        return route->handler(r);
    return defer(s, r, p);
}

/* Whether the request announces a body (its length, or chunks). */
static bool has_body(struct MHD_Connection *c)
{
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (len && strspn(len, "0") != strlen(len)) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct pending *p = *con_cls;
    struct http_request r = {.conn = c, .method = method, .url = url, .mgr = s->mgr};
    enum MHD_Result ret = MHD_YES;
    (void)version;

    if (!p) {
        if (!(p = calloc(1, sizeof(*p))))
            return MHD_NO;
        *con_cls = p;
        /* Authorised before any byte of a body is read: a refusal goes out
         * now (libmicrohttpd then closes the connection). Requests without
         * a body are answered when complete, which keeps the connection. */
        if (has_body(c) && !admit(s, &r, p, &ret))
            return ret;
        return MHD_YES;
    }
    if (p->rejected) { /* answered already; what still comes is dropped */
        *data_size = 0;
        return MHD_YES;
    }
    if (*data_size) {
        if (!p->too_large && p->len + *data_size <= HTTP_BODY_MAX) {
            char *nb = realloc(p->body, p->len + *data_size + 1);
            if (!nb)
                return MHD_NO;
            p->body = nb;
            memcpy(p->body + p->len, data, *data_size);
            p->len += *data_size;
            p->body[p->len] = '\0';
        } else {
            p->too_large = true; /* keep reading, answer 413 when complete */
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (p->deferred) /* resumed by the mutation queue */
        return deferred_reply(&r, p);
    if (!p->route && !admit(s, &r, p, &ret))
        return ret;
    return dispatch(s, &r, p);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct pending *p = *con_cls;
    (void)cls, (void)c, (void)code;
    if (p) {
        if (p->resp)
            MHD_destroy_response(p->resp);
        free(p->method);
        free(p->url);
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    log_msg(PART_LOG_DEBUG, "http: %s", buf);
}

/* Resolves "HOST:PORT" or "[V6]:PORT" for a listener into *ret (caller
 * freeaddrinfo()s; the first address is the one bound). */
static int listen_resolve(const char *addr, struct addrinfo **ret, struct part_error *err)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
    if (host[0] == '[') { /* [::1]:7480 */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    int gai = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, ret);
    if (gai)
        return part_error_set(err, -EINVAL, "listen", "listen: %s: %s", addr, gai_strerror(gai));
    return 0;
}

/* Binds a UNIX socket at path with mode, in group gid unless it is -1. */
static int listen_unix(const char *path, mode_t mode, gid_t gid)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(sun.sun_path);             /* a stale socket from an earlier run */
    mode_t old = umask(~mode & 0777); /* created with mode: never more open, not even at first */
    int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    /* the group that may connect; not through a link planted in its place */
    if (r == 0 && gid != (gid_t)-1)
        r = fchownat(AT_FDCWD, sun.sun_path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0 || listen(fd, 128) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Opens a listening socket for "unix:/path" (mode, group gid or -1) or
 * "HOST:PORT". */
static int listen_socket(const char *addr, mode_t mode, gid_t gid, struct part_error *err)
{
    struct addrinfo *ai;
    int fd = -1, r;

    if (strncmp(addr, "unix:", 5) == 0) {
        if ((fd = listen_unix(addr + 5, mode, gid)) < 0)
            goto fail;
        return fd;
    }
    if ((r = listen_resolve(addr, &ai, err)) < 0)
        return r;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    r = fd < 0 ? -1 : bind(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (r < 0 || listen(fd, 128) < 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    return part_error_set(err, -e, "listen", "listen: %s: %s", addr, strerror(e));
}

static void list_free(char **l)
{
    for (char **p = l; p && *p; p++)
        free(*p);
    free(l);
}

/* A copy of the NULL-terminated list l (an empty one for NULL). */
static char **list_dup(char *const *l)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    char **c = calloc(n + 1, sizeof(*c));
    for (size_t i = 0; c && i < n; i++)
        if (!(c[i] = strdup(l[i]))) {
            list_free(c);
            return NULL;
        }
    return c;
}

/* Who TCP listener addr would let in, checked before anything is bound: a
 * token is needed on loopback too (any local user reaches it), and off
 * loopback TLS too (the token would cross the network in clear). */
static int listen_check_tcp(const struct http_server *s, const char *addr, struct part_error *err)
{
    struct addrinfo *ai;
    int r;

    if (!s->auth.any)
        return part_error_set(err, -EPERM, "tokens",
                              "listen: %s: a TCP listener needs a token, on loopback too (any "
                              "local user reaches it): set tokens, or listen on a UNIX socket "
                              "only",
                              addr);
    if (s->tls_cert)
        return 0;
    if ((r = listen_resolve(addr, &ai, err)) < 0)
        return r;
    bool loopback =
        (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && addr_loopback(ai->ai_addr);
    freeaddrinfo(ai);
    if (!loopback)
        return part_error_set(err, -EPERM, "tls_cert",
                              "listen: %s: not a loopback address: a TCP listener others reach "
                              "needs TLS, or tokens cross the network in clear: set tls_cert "
                              "and tls_key, or listen on 127.0.0.1 or a UNIX socket",
                              addr);
    return 0;
}

/* The group of socket_group into *gid (-1 when not set). Without tokens
 * whoever reaches the socket is admin: a group is then refused. */
static int listen_group(const struct http_server *s, const char *name, gid_t *gid,
                        struct part_error *err)
{
    struct group gr, *found = NULL;
    char buf[16384];

    *gid = (gid_t)-1;
    if (!name)
        return 0;
    if (!s->auth.any)
        return part_error_set(err, -EPERM, "socket_group",
                              "socket_group: %s: with no tokens, whoever reaches the UNIX socket "
                              "is admin: set tokens before opening it to a group",
                              name);
    int e = getgrnam_r(name, &gr, buf, sizeof(buf), &found);
    if (!found)
        return part_error_set(err, e ? -e : -ENOENT, "socket_group", "socket_group: %s: %s", name,
                              e ? strerror(e) : "no such group");
    *gid = gr.gr_gid;
    return 0;
}

/* Reads the TLS certificate and key and checks that libmicrohttpd takes
 * them (a daemon that listens nowhere): a bad pair stops partd now, before
 * it touches a partition, not when the servers start. */
static int tls_load(struct http_server *s, const struct part_config *cfg, struct part_error *err)
{
    int r;

    if (!cfg->tls_cert)
        return 0;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return part_error_set(err, -ENOTSUP, "tls_cert",
                              "tls_cert: this libmicrohttpd was built without TLS");
    if ((r = part_config_tls(cfg, &s->tls_cert, &s->tls_key, err)) < 0)
        return r;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
        MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert, MHD_OPTION_END);
    if (!d)
        return part_error_set(err, -EINVAL, "tls_cert",
                              "tls_cert, tls_key: %s, %s: not a PEM certificate and its private "
                              "key (or not this certificate's key; partd -v logs GnuTLS's "
                              "reason)",
                              cfg->tls_cert, cfg->tls_key);
    MHD_stop_daemon(d);
    return 0;
}

/* What http_listen() checks before it binds anything. */
static int listen_prepare(struct http_server *s, const struct part_config *cfg, gid_t *gid,
                          struct part_error *err)
{
    int r;

    if ((r = auth_load(&s->auth, cfg, err)) < 0 || (r = tls_load(s, cfg, err)) < 0 ||
        (r = listen_group(s, cfg->socket_group, gid, err)) < 0)
        return r;
    if (!(s->origins = list_dup(cfg->allowed_origins)) ||
        !(s->host_names = list_dup(cfg->host_names)))
        return part_error_oom(err);
    for (char **l = cfg->listen; *l; l++)
        if (strncmp(*l, "unix:", 5) != 0 && (r = listen_check_tcp(s, *l, err)) < 0)
            return r;
    return 0;
}

int http_listen(const struct part_config *cfg, struct http_server **ret, struct part_error *err)
{
    struct http_server *s = calloc(1, sizeof(*s));
    gid_t gid;
    int r = 0;

    if (!s)
        return part_error_oom(err);
    for (size_t i = 0; i < 16; i++)
        s->fds[i] = -1;
    s->limits = cfg->limits;
    if ((r = listen_prepare(s, cfg, &gid, err)) < 0)
        goto fail;
    /* with tokens, the socket's group may connect (and must still show one) */
    mode_t mode = s->auth.any ? 0660 : 0600;
    for (char **l = cfg->listen; *l && s->n < 16; l++) {
        int fd = listen_socket(*l, mode, gid, err);
        if (fd < 0) {
            r = fd;
            goto fail;
        }
        s->fds[s->n] = fd;
        s->addrs[s->n] = strdup(*l);
        if (strncmp(*l, "unix:", 5) == 0)
            s->unix_paths[s->n] = strdup(*l + 5);
        s->n++;
    }
    *ret = s;
    return 0;
fail:
    http_stop(s);
    return r;
}

/* Raises the limit of open files to what the listeners' connection limits
 * add up to, with room for libvirt and the files: a listener that exhausts
 * the descriptors would lock the others out after all. */
static void fd_limit_raise(const struct http_server *s)
{
    rlim_t want = 128;
    struct rlimit rl;
    for (size_t i = 0; i < s->n; i++)
        want += s->unix_paths[i] ? s->limits.unix_connections : s->limits.tcp_connections;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
        log_msg(PART_LOG_WARNING,
                "the connection limits add up to %llu descriptors, but only %llu may be open: "
                "lower limits in partd.json, or raise partd's RLIMIT_NOFILE",
                (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

/* Starts the server of listener i: HTTPS on a TCP listener when tls_cert
 * is set. A UNIX socket has no per-address limit (its clients have no
 * address): its own connection limit keeps local users reaching partd when
 * TCP is full. */
static struct MHD_Daemon *serve_one(struct http_server *s, size_t i, unsigned threads, bool tls)
{
    bool unix_socket = s->unix_paths[i] != NULL;
    unsigned limit = unix_socket ? s->limits.unix_connections : s->limits.tcp_connections;
    unsigned per_ip = unix_socket ? 0 : s->limits.tcp_per_ip;
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
        {MHD_OPTION_END, 0, NULL},
    };

    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                                MHD_ALLOW_SUSPEND_RESUME | (tls ? MHD_USE_TLS : 0),
                            0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fds[i],
                            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
                            limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)(32 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_ARRAY, tls_opts,
                            MHD_OPTION_END);
}

int http_serve(struct http_server *s, struct part_mgr *mgr, struct part_error *err)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->mgr = mgr;
    if (!(s->queue = queue_new()))
        return part_error_set(err, -errno, "", "cannot start the mutation queue: %s",
                              strerror(errno));
    fd_limit_raise(s);
    for (size_t i = 0; i < s->n; i++) {
        bool tls = s->tls_cert && !s->unix_paths[i]; /* TCP listeners only */
        s->daemons[i] = serve_one(s, i, (unsigned)(cpus > 0 ? cpus : 1), tls);
        if (!s->daemons[i])
            return part_error_set(err, -EIO, "listen", "listen: %s: cannot start the HTTP server",
                                  s->addrs[i]);
        s->fds[i] = -1; /* the daemon owns it now */
        log_msg(PART_LOG_INFO, "listening on %s%s", s->addrs[i],
                tls                ? " (HTTPS)"
                : s->unix_paths[i] ? (s->auth.any ? " (mode 0660)" : " (mode 0600)")
                                   : "");
    }
    return 0;
}

void http_stop(struct http_server *s)
{
    if (!s)
        return;
    /* every suspended connection resumed before a server stops: it must */
    queue_stop(s->queue);
    for (size_t i = 0; i < s->n; i++) {
        if (s->daemons[i])
            MHD_stop_daemon(s->daemons[i]);
        if (s->fds[i] >= 0)
            close(s->fds[i]);
        free(s->addrs[i]);
        if (s->unix_paths[i])
            unlink(s->unix_paths[i]);
        free(s->unix_paths[i]);
    }
    queue_free(s->queue);
    auth_clear(&s->auth);
    if (s->tls_key)
        explicit_bzero(s->tls_key, strlen(s->tls_key));
    free(s->tls_key);
    free(s->tls_cert);
    list_free(s->origins);
    list_free(s->host_names);
    free(s);
}
