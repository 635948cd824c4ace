/* partctl's HTTP client over libcurl. One easy handle per request: partctl
 * makes one or two requests per run (top one or two per refresh, seconds
 * apart), so there is little to reuse. Several CPCs are asked at once
 * through libcurl's multi interface, each handle set up as a single
 * request's is. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include <part/text.h>

#include "client.h"

#define CLIENT_REPLY_MAX (16u << 20) /* replies are small; this only stops a runaway */

struct buffer {
    char *data;
    size_t len;
    bool too_big;
};

static size_t buffer_write(char *ptr, size_t size, size_t n, void *opaque)
{
    struct buffer *b = opaque;
    size_t add = size * n;

    if (b->len + add > CLIENT_REPLY_MAX) {
        b->too_big = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    char *data = realloc(b->data, b->len + add + 1);
    if (!data)
        return 0;
    memcpy(data + b->len, ptr, add);
    b->data = data;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

const char *client_default_server(void)
{
    struct stat st;
    int r = stat(CLIENT_LOCAL_SOCKET, &st) == 0 ? 0 : errno;
    /* a socket partctl may not even look at (EACCES: /run/partd is closed to
     * it) is still the local partd's: the error then says so, rather than
     * "connection refused" on TCP */
    if ((r == 0 && S_ISSOCK(st.st_mode)) || r == EACCES)
        return "unix:" CLIENT_LOCAL_SOCKET;
    return CLIENT_DEFAULT_SERVER;
}

int client_load_token(struct client *c, const char *path)
{
    FILE *f = fopen(path, "re");
    char buf[4096];

    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    int r = ferror(f) ? -EIO : 0;
    fclose(f);
    if (r < 0)
        return r;
    buf[n] = '\0';
    /* editors and `echo` add a newline that is not part of the token */
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    if (n == 0)
        return -EINVAL;
    free(c->token);
    c->token = strdup(buf);
    return c->token ? 0 : -ENOMEM;
}

const char *client_load_local_token(struct client *c)
{
    static const char *const files[] = {
        PARTCTL_CONFDIR "/admin.token",
        PARTCTL_CONFDIR "/operator.token",
        PARTCTL_CONFDIR "/viewer.token",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (access(files[i], R_OK) == 0 && client_load_token(c, files[i]) == 0)
            return files[i];
    return NULL;
}

/* Whether host, as a URL has it (a name, an IPv4 address, [an IPv6
 * address]), is this host's loopback. Other names are not, whatever they
 * resolve to now. */
static bool host_loopback(const char *host)
{
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    struct in_addr a4;

    if (strcasecmp(host, "localhost") == 0)
        return true; /* curl resolves it to loopback itself, never by DNS */
    snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(host + (host[0] == '['), "]"),
             host + (host[0] == '['));
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return ntohl(a4.s_addr) >> 24 == 127;
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int client_check_server(const struct client *c, char *errbuf, size_t errlen)
{
    char *scheme = NULL, *host = NULL;
    CURLU *u;
    int r = 0;

    if (!c->token || strncmp(c->server, "unix:", 5) == 0)
        return 0;
    if (!(u = curl_url())) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    if (curl_url_set(u, CURLUPART_URL, c->server, CURLU_GUESS_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(errbuf, errlen, "%s is not partd's address (http(s)://HOST:PORT or unix:/PATH)",
                 c->server);
        r = -EINVAL;
    } else if (strcasecmp(scheme, "https") != 0 && !host_loopback(host)) {
        snprintf(errbuf, errlen,
                 "refusing to send the token in clear to %s, which is not this host's "
                 "loopback: use https:// (partd's tls_cert) or partd's UNIX socket",
                 c->server);
        r = -EPERM;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return r;
}

void client_clear(struct client *c)
{
    free(c->token);
    c->token = NULL;
}

/* The reason phrase of status, for replies that say nothing else. */
static const char *reason(long status)
{
    static const struct {
        long status;
        const char *reason;
    } reasons[] = {
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Content Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"},
        {500, "Internal Server Error"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "request failed";
}

/* The reply to an error status as a problem object: partd's own when it sent
 * one, else one made from the status and whatever text came back (a proxy's
 * error page, say), so that callers have one shape to print. */
static json_t *problem_from(json_t *reply, long status, const struct buffer *b)
{
    if (json_is_object(reply) && json_is_string(json_object_get(reply, "detail")))
        return reply;
    if (json_is_object(reply) && json_is_string(json_object_get(reply, "title"))) {
        json_object_set(reply, "detail", json_object_get(reply, "title"));
        return reply;
    }
    json_decref(reply);

    char detail[256] = "";
    if (b->data) {
        /* the first line of a text reply usually says what went wrong */
        size_t n = strcspn(b->data, "\r\n");
        snprintf(detail, sizeof(detail), "%.*s", (int)(n < 200 ? n : 200), b->data);
    }
    if (!detail[0])
        snprintf(detail, sizeof(detail), "%s", reason(status));
    return json_pack("{s:I, s:s}", "status", (json_int_t)status, "detail", detail);
}

/* Sets the handle up for c->server; the URL for path goes to url. */
static int setup_target(CURL *h, const struct client *c, const char *path, char *url, size_t len)
{
    const char *server = c->server;

    if (strncmp(server, "unix:", 5) == 0) {
        /* the host part of the URL is not used on a socket, but HTTP wants one */
        if (curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, server + 5) != CURLE_OK)
            return -ENOTSUP;
        snprintf(url, len, "http://localhost%s", path);
        return 0;
    }
    size_t n = strlen(server);
    while (n > 0 && server[n - 1] == '/')
        n--;
    snprintf(url, len, "%.*s%s", (int)n, server, path);
    return 0;
}

/* Why the connection failed, in the system's words when there are some:
 * curl's own message names port 80 for a UNIX socket. */
static const char *connect_error(CURL *h, CURLcode cr, const char *curl_err)
{
    long os_errno = 0;

    if (curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno)
        return strerror((int)os_errno);
    return curl_err[0] ? curl_err : curl_easy_strerror(cr);
}

/* What a request needs beyond its handle, kept until the handle is gone. */
struct request {
    char url[2048], auth[4200], curl_err[CURL_ERROR_SIZE];
    struct curl_slist *headers;
    char *text; /* the body sent */
};

static void request_clear(struct request *q)
{
    curl_slist_free_all(q->headers);
    free(q->text);
}

/* Sets h up for method path with body (or NULL) and the Accept header
 * accept. Returns 0 or a negative errno with the reason in errbuf. */
static int request_setup(CURL *h, struct request *q, const struct client *c, const char *method,
                         const char *path, json_t *body, const char *accept, char *errbuf,
                         size_t errlen)
{
    char header[256];

    if (c->token && c->token[strcspn(c->token, "\r\n")]) {
        snprintf(errbuf, errlen, "the token has a line break in it");
        return -EINVAL;
    }
    if (setup_target(h, c, path, q->url, sizeof(q->url)) < 0) {
        snprintf(errbuf, errlen, "this libcurl cannot use UNIX sockets (%s)", c->server);
        return -ENOTSUP;
    }
    snprintf(header, sizeof(header), "Accept: %s", accept);
    q->headers = curl_slist_append(q->headers, header);
    if (c->token) {
        snprintf(q->auth, sizeof(q->auth), "Authorization: Bearer %s", c->token);
        q->headers = curl_slist_append(q->headers, q->auth);
    }
    if (body) {
        q->text = json_dumps(body, JSON_COMPACT);
        if (!q->text)
            goto nomem;
        q->headers = curl_slist_append(q->headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(q->text));
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        /* no body, so no type: curl would say it is a form */
        q->headers = curl_slist_append(q->headers, "Content-Type:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (!q->headers)
        goto nomem;
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, q->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "partctl/" PARTD_VERSION);
    long connect_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : CLIENT_CONNECT_TIMEOUT_MS;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     c->timeout_ms < connect_ms ? c->timeout_ms : connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for name lookups */
    /* https: partd's certificate is always verified, against c->cacert or
     * the system's CAs; there is no option to skip it */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->curl_err);
    return 0;
nomem:
    snprintf(errbuf, errlen, "out of memory");
    return -ENOMEM;
}

/* Says why curl_easy_perform() failed with cr in errbuf; returns -ETIMEDOUT
 * or -ECONNREFUSED. */
static int request_failed(CURL *h, const struct request *q, const struct client *c, CURLcode cr,
                          const struct buffer *b, char *errbuf, size_t errlen)
{
    curl_off_t connected = 0;

    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
    if (b->too_big)
        snprintf(errbuf, errlen, "reply from partd at %s is over %u MiB", c->server,
                 CLIENT_REPLY_MAX >> 20);
    else if (cr == CURLE_OPERATION_TIMEDOUT && connected > 0)
        snprintf(errbuf, errlen, "no reply from partd at %s within %g s (see --timeout)", c->server,
                 c->timeout_ms / 1000.0);
    else
        snprintf(errbuf, errlen, "cannot reach partd at %s: %s", c->server,
                 connect_error(h, cr, q->curl_err));
    return cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
}

/* Makes the outcome of a transfer on h that ended with cr into what
 * client_request() returns. */
static int request_finish(CURL *h, const struct request *q, const struct client *c, CURLcode cr,
                          const struct buffer *b, json_t **ret_reply, long *ret_status,
                          char *errbuf, size_t errlen)
{
    json_t *reply = NULL;
    long status = 0;

    if (cr != CURLE_OK)
        return request_failed(h, q, c, cr, b, errbuf, errlen);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (b->len > 0) {
        json_error_t jerr;
        reply = json_loadb(b->data, b->len, 0, &jerr);
        if (!reply && status >= 200 && status < 300) {
            snprintf(errbuf, errlen, "partd at %s sent a reply that is not JSON: %s", c->server,
                     jerr.text);
            return -EPROTO;
        }
    }
    if (status < 200 || status >= 300) {
        reply = problem_from(reply, status, b);
        if (!reply) {
            snprintf(errbuf, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    *ret_reply = reply;
    *ret_status = status;
    return 0;
}

/* A JSON request: its handle, what it needs, and its reply. */
struct transfer {
    CURL *h;
    struct request q;
    struct buffer b;
};

static int transfer_setup(struct transfer *t, const struct client *c, const char *method,
                          const char *path, json_t *body, char *errbuf, size_t errlen)
{
    errbuf[0] = '\0';
    if (!(t->h = curl_easy_init())) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    int r = request_setup(t->h, &t->q, c, method, path, body,
                          "application/json, application/problem+json", errbuf, errlen);
    if (r < 0)
        return r;
    curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, buffer_write);
    curl_easy_setopt(t->h, CURLOPT_WRITEDATA, &t->b);
    return 0;
}

static void transfer_clear(struct transfer *t)
{
    curl_easy_cleanup(t->h);
    request_clear(&t->q);
    free(t->b.data);
}

int client_request(const struct client *c, const char *method, const char *path, json_t *body,
                   json_t **ret_reply, long *ret_status, char *errbuf, size_t errlen)
{
    struct transfer t = {0};

    int r = transfer_setup(&t, c, method, path, body, errbuf, errlen);
    if (r == 0)
        r = request_finish(t.h, &t.q, c, curl_easy_perform(t.h), &t.b, ret_reply, ret_status,
                           errbuf, errlen);
    transfer_clear(&t);
    return r;
}

/* Runs the transfers of m until all ended, each one's code into codes
 * (by its index, kept as the handle's private pointer). */
static void multi_run(CURLM *m, CURLcode *codes)
{
    int running = 1;
    CURLMsg *msg;
    int left;

    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        while ((msg = curl_multi_info_read(m, &left))) {
            char *at = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &at);
            codes[(size_t)(uintptr_t)at] = msg->data.result;
        }
        if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
            break;
    }
}

void client_get_all(struct client_get *gets, size_t n)
{
    struct transfer *t = calloc(n + 1, sizeof(*t));
    CURLcode *codes = calloc(n + 1, sizeof(*codes));
    CURLM *m = curl_multi_init();

    for (size_t i = 0; i < n; i++) {
        gets[i].reply = NULL;
        gets[i].status = 0;
        gets[i].r = -ENOMEM;
        snprintf(gets[i].err, sizeof(gets[i].err), "out of memory");
    }
    if (!t || !codes || !m)
        goto out;
    for (size_t i = 0; i < n; i++) {
        codes[i] = CURLE_FAILED_INIT;
        gets[i].r = transfer_setup(&t[i], gets[i].c, "GET", gets[i].path, NULL, gets[i].err,
                                   sizeof(gets[i].err));
        if (gets[i].r < 0)
            continue;
        curl_easy_setopt(t[i].h, CURLOPT_PRIVATE, (char *)(uintptr_t)i);
        if (curl_multi_add_handle(m, t[i].h) != CURLM_OK) {
            gets[i].r = -ENOMEM;
            snprintf(gets[i].err, sizeof(gets[i].err), "out of memory");
        }
    }
    multi_run(m, codes);
    for (size_t i = 0; i < n; i++) {
        if (gets[i].r < 0)
            continue;
        curl_multi_remove_handle(m, t[i].h);
        gets[i].r = request_finish(t[i].h, &t[i].q, gets[i].c, codes[i], &t[i].b, &gets[i].reply,
                                   &gets[i].status, gets[i].err, sizeof(gets[i].err));
    }
out:
    for (size_t i = 0; t && i < n; i++)
        transfer_clear(&t[i]);
    curl_multi_cleanup(m);
    free(codes);
    free(t);
}

/* A streamed reply: a 2xx body goes to the sink, any other into err. */
struct stream {
    CURL *h;
    const struct client_stream *s;
    long status; /* 0 until the first piece of body */
    bool opened; /* a 2xx reply's headers are in */
    struct buffer err;
    bool stopped; /* by the sink or *s->stop */
};

static size_t stream_write(char *ptr, size_t size, size_t n, void *opaque)
{
    struct stream *st = opaque;

    if (st->s->stop && *st->s->stop) {
        st->stopped = true;
        return 0;
    }
    if (!st->status)
        curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &st->status);
    if (st->status < 200 || st->status >= 300)
        return buffer_write(ptr, size, n, &st->err);
    if (!st->s->sink(ptr, size * n, st->s->opaque)) {
        st->stopped = true;
        return 0;
    }
    return size * n;
}

/* Calls s->open at the end of a 2xx reply's headers. */
static size_t stream_header(char *ptr, size_t size, size_t n, void *opaque)
{
    struct stream *st = opaque;
    long status = 0;

    if (size * n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n') &&
        curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
        status < 300) {
        st->opened = true;
        if (st->s->open)
            st->s->open(st->s->opaque);
    }
    return size * n;
}

/* Called about once a second while nothing comes, too: where a wait for
 * the next event notices *stop. */
static int stream_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    struct stream *st = opaque;

    if (st->s->stop && *st->s->stop) {
        st->stopped = true;
        return 1;
    }
    return 0;
}

int client_stream(const struct client *c, const char *path, const struct client_stream *s,
                  json_t **ret_problem, long *ret_status, char *errbuf, size_t errlen)
{
    struct stream st = {.s = s};
    struct request q = {0};
    int r = -ENOMEM;

    errbuf[0] = '\0';
    *ret_problem = NULL;
    st.h = curl_easy_init();
    if (!st.h)
        goto out;
    r = request_setup(st.h, &q, c, "GET", path, NULL, s->accept, errbuf, errlen);
    if (r < 0)
        goto out;
    curl_easy_setopt(st.h, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(st.h, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(st.h, CURLOPT_HEADERFUNCTION, stream_header);
    curl_easy_setopt(st.h, CURLOPT_HEADERDATA, &st);
    curl_easy_setopt(st.h, CURLOPT_XFERINFOFUNCTION, stream_progress);
    curl_easy_setopt(st.h, CURLOPT_XFERINFODATA, &st);
    curl_easy_setopt(st.h, CURLOPT_NOPROGRESS, 0L);
    if (s->idle_s > 0) {
        /* no end in sight: only a silence longer than idle_s is an error */
        curl_easy_setopt(st.h, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(st.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(st.h, CURLOPT_LOW_SPEED_TIME, s->idle_s);
    }

    CURLcode cr = curl_easy_perform(st.h);
    if (st.stopped) {
        r = -ECANCELED;
        goto out;
    }
    curl_off_t connected = 0;
    curl_easy_getinfo(st.h, CURLINFO_CONNECT_TIME_T, &connected);
    if (cr == CURLE_OPERATION_TIMEDOUT && s->idle_s > 0 && connected > 0) {
        snprintf(errbuf, errlen, "partd at %s sent nothing for %ld s", c->server, s->idle_s);
        r = -ETIMEDOUT;
        goto out;
    }
    if (cr != CURLE_OK && st.opened) {
        /* partd went away in the middle (it stopped, say) */
        snprintf(errbuf, errlen, "partd at %s closed the connection: %s", c->server,
                 connect_error(st.h, cr, q.curl_err));
        r = -EPIPE;
        goto out;
    }
    if (cr != CURLE_OK) {
        r = request_failed(st.h, &q, c, cr, &st.err, errbuf, errlen);
        goto out;
    }
    curl_easy_getinfo(st.h, CURLINFO_RESPONSE_CODE, &st.status);
    if (st.status < 200 || st.status >= 300) {
        json_t *reply = st.err.len ? json_loadb(st.err.data, st.err.len, 0, NULL) : NULL;
        *ret_problem = problem_from(reply, st.status, &st.err);
        if (!*ret_problem)
            goto out; /* r is still -ENOMEM */
    }
    *ret_status = st.status;
    r = 0;
out:
    if (r == -ENOMEM && !errbuf[0])
        snprintf(errbuf, errlen, "out of memory");
    curl_easy_cleanup(st.h);
    request_clear(&q);
    free(st.err.data);
    return r;
}

void client_print_problem(const json_t *problem, long status, FILE *f)
{
    const char *detail = json_string_value(json_object_get(problem, "detail"));
    const char *field = json_string_value(json_object_get(problem, "field"));

    char a[1024], b[512];

    fprintf(f, "partctl: %s (HTTP %ld)\n",
            detail ? part_text_escape(detail, a, sizeof(a)) : "request failed", status);
    if (field && field[0])
        fprintf(f, "partctl: field: %s\n", part_text_escape(field, b, sizeof(b)));
}
