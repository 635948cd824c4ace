/* libFuzzer harness: the API request path without a socket. partd's HTTP
 * side (http.c: body accumulation, routing, authentication, media types,
 * problems) and every handler (api-*.c) run on a libpart manager on
 * libvirt's test driver with a copy of examples/test-cpc; libmicrohttpd is
 * replaced by the fake below, which calls partd's access handler the way
 * libmicrohttpd does (first call, body chunks, final call, completion).
 * Mutations go through partd's real mutation queue (queue.c): the final
 * call suspends the connection, the queue's thread runs the handler and
 * resumes it, and the harness then calls the handler once more, as
 * libmicrohttpd does after a resume, to have the reply queued.
 *
 * partd/http.c has no socket-less entry point, so it is compiled into this
 * file (#include) to reach its static access handler (on_request) and
 * completion callback (on_completed). If http.c ever exposes one
 * (http_dispatch_for_test()), this harness should call that instead.
 *
 * Input: up to MAX_REQUESTS requests separated by a line "%%":
 *
 *     METHOD /url?query
 *     Header-Name: value
 *     ...
 *                                   (an empty line, then the body)
 *     {"processors": 4}
 *     %%
 *     GET /v1/partitions
 *
 * The manager is re-opened on a fresh copy of the example after every input
 * that changed something, so each input runs from the same state and a
 * crash reproduces from its input alone.
 *
 * Tokens: "fuzz-viewer", "fuzz-operator" and "fuzz-admin" carry their role;
 * a header "X-Fuzz-Unix:" makes the request come on a UNIX socket (the
 * caller's uid is then this process's).
 *
 * Checked on every reply (abort() = a finding): a response is queued exactly
 * once per request, the status is a known HTTP status, JSON replies are valid
 * JSON (problems carry type, title, status equal to the HTTP status), a 403
 * forbidden-role comes only to a token whose role is below the route's, and
 * no header value holds CR or LF. 500 replies are printed (PARTD_FUZZ_VERBOSE
 * prints every exchange). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.c" /* partd/: the static on_request() and on_completed() */

#define MAX_REQUESTS 8
#define MAX_HEADERS  16
/* a token per role, so that every role check of the router and handlers is
 * reached (the dictionary has them) */
static const char *const tokens[PART_ROLE_N] = {
    [PART_ROLE_VIEWER] = "fuzz-viewer",
    [PART_ROLE_OPERATOR] = "fuzz-operator",
    [PART_ROLE_ADMIN] = "fuzz-admin",
    [PART_ROLE_PEER] = "fuzz-peer",
};

/* -- a fake libmicrohttpd ------------------------------------------------- */

struct MHD_Response {
    int refs;
    char *data; /* owned unless persistent */
    size_t len;
    bool owned;
    char *headers[MAX_HEADERS][2];
    size_t n_headers;
    MHD_ContentReaderCallback crc;
    void *crc_cls;
    MHD_ContentReaderFreeCallback crfc;
};

struct kv {
    const char *key, *value;
};

struct MHD_Connection {
    struct kv headers[MAX_HEADERS];
    size_t n_headers;
    struct kv args[MAX_HEADERS];
    size_t n_args;
    struct MHD_Response *resp; /* queued */
    unsigned status;
    int queued;
    bool suspended;
    unsigned suspensions; /* how often it was suspended */
    bool unix_socket;     /* a header "X-Fuzz-Unix:" came: as if on partd's UNIX socket */
};

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->refs = 1;
    r->len = size;
    if (mode == MHD_RESPMEM_MUST_COPY) {
        r->data = malloc(size + 1);
        if (!r->data) {
            free(r);
            return NULL;
        }
        memcpy(r->data, buffer, size);
        r->owned = true;
    } else {
        r->data = buffer;
        r->owned = mode == MHD_RESPMEM_MUST_FREE;
    }
    return r;
}

struct MHD_Response *MHD_create_response_from_callback(uint64_t size, size_t block_size,
                                                       MHD_ContentReaderCallback crc, void *crc_cls,
                                                       MHD_ContentReaderFreeCallback crfc)
{
    struct MHD_Response *r = calloc(1, sizeof(*r));
    (void)size, (void)block_size;
    if (!r)
        return NULL;
    r->refs = 1;
    r->crc = crc;
    r->crc_cls = crc_cls;
    r->crfc = crfc;
    return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header,
                                        const char *content)
{
    if (!r || !header || !content)
        abort();
    if (strpbrk(header, "\r\n:") || strpbrk(content, "\r\n"))
        abort(); /* header injection: libmicrohttpd would refuse it */
    if (r->n_headers == MAX_HEADERS)
        return MHD_NO;
    r->headers[r->n_headers][0] = strdup(header);
    r->headers[r->n_headers][1] = strdup(content);
    r->n_headers++;
    return MHD_YES;
}

static const char *response_header(const struct MHD_Response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i][0], name) == 0)
            return r->headers[i][1];
    return NULL;
}

void MHD_destroy_response(struct MHD_Response *r)
{
    if (!r || --r->refs > 0)
        return;
    if (r->refs < 0)
        abort();
    if (r->owned)
        free(r->data);
    if (r->crfc)
        r->crfc(r->crc_cls);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i][0]);
        free(r->headers[i][1]);
    }
    free(r);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status,
                                   struct MHD_Response *r)
{
    if (!c || !r)
        return MHD_NO;
    if (c->queued++)
        abort(); /* a handler queued two responses for one request */
    if (status < 100 || status > 599)
        abort();
    r->refs++;
    c->resp = r;
    c->status = status;
    return MHD_YES;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                        const char *key)
{
    const struct kv *v = kind == MHD_HEADER_KIND ? c->headers : c->args;
    size_t n = kind == MHD_HEADER_KIND         ? c->n_headers
               : kind == MHD_GET_ARGUMENT_KIND ? c->n_args
                                               : 0;
    for (size_t i = 0; i < n; i++)
        if (key &&
            (kind == MHD_HEADER_KIND ? strcasecmp(v[i].key, key) : strcmp(v[i].key, key)) == 0)
            return v[i].value;
    return NULL;
}

/* A request comes on one TCP connection of 127.0.0.1 (a socket bound
 * there, so that partd's Host check sees a loopback listener's address), or
 * with "X-Fuzz-Unix:" on one end of a UNIX socket pair, whose peer (this
 * process) partd's SO_PEERCRED reads. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
                                                        enum MHD_ConnectionInfoType kind, ...)
{
    static union MHD_ConnectionInfo tcp = {.connect_fd = -1}, unix_end = {.connect_fd = -1};
    if (kind != MHD_CONNECTION_INFO_CONNECTION_FD)
        return NULL;
    if (tcp.connect_fd < 0) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), pair[2];
        if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            abort();
        tcp.connect_fd = fd;
        unix_end.connect_fd = pair[0]; /* pair[1] stays open: the peer */
    }
    return c->unix_socket ? &unix_end : &tcp;
}

/* http.c asks before it serves HTTPS (never in this harness). */
enum MHD_Result MHD_is_feature_supported(enum MHD_FEATURE feature)
{
    (void)feature;
    return MHD_YES;
}

/* Suspension crosses threads: the mutation queue resumes. */
static pthread_mutex_t suspend_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t resumed = PTHREAD_COND_INITIALIZER;

void MHD_suspend_connection(struct MHD_Connection *c)
{
    pthread_mutex_lock(&suspend_lock);
    c->suspended = true;
    c->suspensions++;
    pthread_mutex_unlock(&suspend_lock);
}

void MHD_resume_connection(struct MHD_Connection *c)
{
    pthread_mutex_lock(&suspend_lock);
    c->suspended = false;
    pthread_cond_broadcast(&resumed);
    pthread_mutex_unlock(&suspend_lock);
}

/* Whether c was suspended since it had been before times; if so, waits
 * until it is resumed (perhaps it was already, by the queue's thread). */
static bool wait_resumed(struct MHD_Connection *c, unsigned before)
{
    pthread_mutex_lock(&suspend_lock);
    bool was = c->suspensions != before;
    while (c->suspended)
        pthread_cond_wait(&resumed, &suspend_lock);
    pthread_mutex_unlock(&suspend_lock);
    return was;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    (void)flags, (void)port, (void)apc, (void)apc_cls, (void)dh, (void)dh_cls;
    return NULL; /* never called: the harness has no listener */
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
    (void)d;
}

/* -- the manager on a fresh copy of the example ------------------------ */

static char work[64];      /* /dev/shm/partd-fuzz-XXXXXX */
static char example[1024]; /* examples/test-cpc */
static struct part_mgr *mgr;
static struct http_server server;
static bool verbose;
static bool close_race;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[8192];
    size_t n;
    if (!in || !out)
        abort();
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            abort();
    fclose(in);
    if (fclose(out) != 0)
        abort();
}

/* Empties dir (one level). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1200];
    if (!d)
        return;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0)) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

/* The example's profiles in work/partitions.d, no state. */
static void reset_files(void)
{
    char from[1200], to[1200];
    snprintf(to, sizeof(to), "%s/partitions.d", work);
    empty_dir(to);
    snprintf(to, sizeof(to), "%s/state", work);
    empty_dir(to);
    snprintf(from, sizeof(from), "%s/partitions.d", example);
    DIR *d = opendir(from);
    struct dirent *e;
    if (!d)
        abort();
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(from, sizeof(from), "%s/partitions.d/%s", example, e->d_name);
        snprintf(to, sizeof(to), "%s/partitions.d/%s", work, e->d_name);
        copy_file(from, to);
    }
    closedir(d);
}

static void mgr_open(void)
{
    char path[1200];
    struct part_config *cfg = NULL;
    struct part_error err = {0};
    snprintf(path, sizeof(path), "%s/partd.json", work);
    if (part_config_load(path, &cfg, &err) < 0 ||
        part_mgr_open(cfg, &part_hv_libvirt_ops, NULL, NULL, &mgr, &err) < 0) {
        fprintf(stderr, "fuzz-api: cannot open the manager: %s\n", err.message);
        abort();
    }
    server.mgr = mgr;
}

static void mgr_reset(void)
{
    /* Known libpart bug: part_mgr_close() frees the manager while the
     * backend's event-loop thread may still be delivering a domain event to
     * it (use-after-free in mgr_on_event; see tests/reliability/
     * close-race.c). Until it is fixed, let pending events drain first;
     * PARTD_FUZZ_CLOSE_RACE=1 closes at once, to expose it. */
    if (!close_race)
        usleep(5000);
    part_mgr_close(mgr);
    mgr = NULL;
    reset_files();
    mgr_open();
}

static void cleanup(void)
{
    char cmd[128];
    queue_free(server.queue);
    server.queue = NULL;
    part_mgr_close(mgr);
    mgr = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    if (work[0] && system(cmd) != 0)
        fprintf(stderr, "fuzz-api: cannot remove %s\n", work);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[1200];
    (void)argc, (void)argv;
    const char *src = getenv("PART_SRCDIR") ? getenv("PART_SRCDIR") : PART_SRCDIR;
    verbose = getenv("PARTD_FUZZ_VERBOSE") != NULL;
    close_race = getenv("PARTD_FUZZ_CLOSE_RACE") != NULL;
    snprintf(example, sizeof(example), "%s/examples/test-cpc", src);
    strcpy(work,
           access("/dev/shm", W_OK) == 0 ? "/dev/shm/partd-fuzz-XXXXXX" : "/tmp/partd-fuzz-XXXXXX");
    if (!mkdtemp(work))
        abort();
    snprintf(path, sizeof(path), "%s/partitions.d", work);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/state", work);
    mkdir(path, 0700);
    char from[1200];
    snprintf(from, sizeof(from), "%s/cpc.xml", example);
    snprintf(path, sizeof(path), "%s/cpc.xml", work);
    copy_file(from, path);
    snprintf(path, sizeof(path), "%s/partd.json", work);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fprintf(f,
            "{\"uri\": \"test:///%s/cpc.xml\", \"listen\": [\"unix:%s/partd.sock\"],\n"
            " \"state_dir\": \"%s/state\", \"partitions_dir\": \"partitions.d\",\n"
            " \"policies_dir\": \"%s/policies\", \"policy\": \"static\", \"interval\": 60,\n"
            " \"cpc\": {\"host_reserved_cpus\": 2, \"host_reserved_memory\": \"4GiB\",\n"
            "         \"cpu_overcommit\": 4, \"memory_overcommit\": 1.0,\n"
            "         \"groups\": {\"web\": {\"cap\": 10}}}}\n",
            work + 1, work, work, src);
    fclose(f);
    reset_files();
    log_init(0);
    for (int role = PART_ROLE_VIEWER; role < PART_ROLE_N; role++)
        snprintf(server.auth.tokens[role], sizeof(server.auth.tokens[role]), "%s", tokens[role]);
    server.auth.any = true;
    if (!(server.queue = queue_new()))
        abort();
    mgr_open();
    atexit(cleanup);
    return 0;
}

/* -- one input ---------------------------------------------------------- */

struct request {
    char *method, *url;
    struct MHD_Connection conn;
    const char *body;
    size_t body_len;
};

/* Splits line "Name: value" in place. */
static bool parse_header(char *line, struct kv *kv)
{
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return false;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    kv->key = line;
    kv->value = v;
    return true;
}

/* Splits the query string of url (in place) into conn's arguments. */
static void parse_query(char *url, struct MHD_Connection *c)
{
    char *q = strchr(url, '?');
    if (!q)
        return;
    *q++ = '\0';
    for (char *tok = strtok(q, "&"); tok && c->n_args < MAX_HEADERS; tok = strtok(NULL, "&")) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq++ = '\0';
        c->args[c->n_args].key = tok;
        c->args[c->n_args].value = eq ? eq : "";
        c->n_args++;
    }
}

/* Parses one request out of text (NUL-terminated, modified in place; the
 * body is the rest after the first empty line). */
static bool parse_request(char *text, size_t len, struct request *rq)
{
    memset(rq, 0, sizeof(*rq));
    char *end = text + len;
    char *nl = memchr(text, '\n', len);
    char *line_end = nl ? nl : end;
    *line_end = '\0';
    char *sp = strchr(text, ' ');
    if (!sp || sp == text)
        return false;
    *sp = '\0';
    rq->method = text;
    rq->url = sp + 1;
    if (strlen(rq->url) != (size_t)(line_end - rq->url))
        return false; /* a NUL in the URL: libmicrohttpd would not pass it */
    parse_query(rq->url, &rq->conn);
    if (!nl)
        return true;
    char *p = nl + 1;
    while (p < end) {
        char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if (e == p) { /* empty line: the body follows */
            rq->body = e + 1;
            rq->body_len = (size_t)(end - rq->body);
            return true;
        }
        *e = '\0';
        if (rq->conn.n_headers < MAX_HEADERS &&
            parse_header(p, &rq->conn.headers[rq->conn.n_headers])) {
            if (strcasecmp(rq->conn.headers[rq->conn.n_headers].key, "X-Fuzz-Unix") == 0)
                rq->conn.unix_socket = true;
            rq->conn.n_headers++;
        }
        p = e + 1;
    }
    return true;
}

/* The role of the request's bearer token (as the harness gave them). */
static enum part_role request_role(const struct request *rq)
{
    const char *h = MHD_lookup_connection_value((struct MHD_Connection *)&rq->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    for (int role = PART_ROLE_VIEWER; h && role < PART_ROLE_N; role++)
        if (tokens[role] && strncasecmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, tokens[role]) == 0)
            return role;
    return PART_ROLE_NONE;
}

/* Who got what: an admin is never refused for its role but on a peer's
 * route, a viewer (or no token) never changes anything, only an admin
 * defines or deletes, and only a peer changes anything on a peer's route
 * (/v1/moves), and nothing elsewhere. */
static void check_role(const struct request *rq)
{
    enum part_role role = request_role(rq);
    const struct MHD_Response *r = rq->conn.resp;
    unsigned status = rq->conn.status;
    bool change = strcmp(rq->method, "GET") != 0 && status >= 200 && status < 300;
    bool forbidden_role = status == 403 && r->data && memmem(r->data, r->len, "forbidden-role", 14);
    bool peer_route = strncmp(rq->url, "/v1/moves", 9) == 0;

    if ((forbidden_role && role == PART_ROLE_ADMIN && !peer_route) ||
        (change && peer_route != (role == PART_ROLE_PEER)) ||
        (change && role < PART_ROLE_OPERATOR) ||
        (change && role < PART_ROLE_ADMIN &&
         (strcmp(rq->method, "DELETE") == 0 ||
          (strcmp(rq->method, "POST") == 0 && strcmp(rq->url, "/v1/partitions") == 0)))) {
        fprintf(stderr, "fuzz-api: %s %s by %s -> %u %.*s\n", rq->method, rq->url,
                part_role_name(role), status, (int)(r->len > 300 ? 300 : r->len),
                r->data ? r->data : "");
        abort();
    }
}

static void check_reply(const struct request *rq)
{
    const struct MHD_Response *r = rq->conn.resp;
    const char *type = response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (verbose)
        fprintf(stderr, "%s %s -> %u %.*s\n", rq->method, rq->url, rq->conn.status,
                (int)(r->len > 300 ? 300 : r->len), r->data ? r->data : "");
    if (rq->conn.status >= 500 && rq->conn.status != 501 && rq->conn.status != 502 &&
        rq->conn.status != 503)
        fprintf(stderr, "fuzz-api: %s %s -> %u %.*s\n", rq->method, rq->url, rq->conn.status,
                (int)(r->len > 300 ? 300 : r->len), r->data ? r->data : "");
    check_role(rq);
    if (!type || !r->data)
        return;
    bool problem = strcmp(type, "application/problem+json") == 0;
    if (!problem && strcmp(type, "application/json") != 0)
        return;
    json_error_t jerr;
    json_t *j = json_loadb(r->data, r->len, 0, &jerr);
    if (!j) {
        fprintf(stderr, "fuzz-api: %s %s -> %u: invalid JSON reply: %s\n", rq->method, rq->url,
                rq->conn.status, jerr.text);
        abort();
    }
    if (problem) {
        json_t *st = json_object_get(j, "status");
        if (!json_is_string(json_object_get(j, "type")) ||
            !json_is_string(json_object_get(j, "title")) || !json_is_integer(st) ||
            json_integer_value(st) != (json_int_t)rq->conn.status) {
            fprintf(stderr, "fuzz-api: %s %s -> %u: bad problem %.*s\n", rq->method, rq->url,
                    rq->conn.status, (int)r->len, r->data);
            abort();
        }
    } else if (rq->conn.status >= 400) {
        abort(); /* errors are problems */
    }
    json_decref(j);
}

/* Drains a callback (server-sent events) reply a little, then drops it. */
static void drain_callback(struct MHD_Response *r)
{
    char buf[16384];
    for (int i = 0; i < 3; i++) {
        ssize_t n = r->crc(r->crc_cls, 0, buf, sizeof(buf));
        if (n < 0 || n > (ssize_t)sizeof(buf))
            break;
    }
}

/* Runs one request the way libmicrohttpd calls the access handler; returns
 * whether it may have changed something. */
static bool run_request(struct request *rq)
{
    void *con_cls = NULL;
    size_t zero = 0;
    enum MHD_Result ret;

    ret = on_request(&server, &rq->conn, rq->url, rq->method, "HTTP/1.1", NULL, &zero, &con_cls);
    for (size_t off = 0; ret == MHD_YES && off < rq->body_len;) {
        size_t chunk = rq->body_len - off > 4096 ? 4096 : rq->body_len - off, left = chunk;
        ret = on_request(&server, &rq->conn, rq->url, rq->method, "HTTP/1.1", rq->body + off, &left,
                         &con_cls);
        if (left != 0)
            abort(); /* the handler must consume every upload byte */
        off += chunk;
    }
    if (ret == MHD_YES) {
        zero = 0;
        unsigned before = rq->conn.suspensions; /* only this thread suspends */
        ret =
            on_request(&server, &rq->conn, rq->url, rq->method, "HTTP/1.1", NULL, &zero, &con_cls);
        /* a mutation: the queue ran it; libmicrohttpd calls again on resume */
        if (ret == MHD_YES && wait_resumed(&rq->conn, before)) {
            if (rq->conn.queued)
                abort(); /* queued from the queue's thread, not libmicrohttpd's */
            ret = on_request(&server, &rq->conn, rq->url, rq->method, "HTTP/1.1", NULL, &zero,
                             &con_cls);
        }
        if (ret == MHD_YES && !rq->conn.queued)
            abort(); /* complete request, no reply: the client would hang */
    }
    if (rq->conn.resp) {
        if (rq->conn.resp->crc)
            drain_callback(rq->conn.resp);
        else
            check_reply(rq);
    }
    on_completed(&server, &rq->conn, &con_cls,
                 ret == MHD_YES ? MHD_REQUEST_TERMINATED_COMPLETED_OK
                                : MHD_REQUEST_TERMINATED_WITH_ERROR);
    if (con_cls)
        abort(); /* on_completed must free the per-request state */
    MHD_destroy_response(rq->conn.resp);
    /* a refused request (4xx) changes nothing; anything else may have */
    return ret != MHD_YES ||
           (strcmp(rq->method, "GET") != 0 && (rq->conn.status < 400 || rq->conn.status >= 500));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    bool dirty = false;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    char *p = text, *end = text + size;
    for (int n = 0; n < MAX_REQUESTS && p < end; n++) {
        char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
        char *stop = sep ? sep : end;
        *stop = '\0';
        struct request rq;
        if (parse_request(p, (size_t)(stop - p), &rq))
            dirty |= run_request(&rq);
        if (!sep)
            break;
        p = sep + 4;
    }
    free(text);
    if (dirty)
        mgr_reset();
    return 0;
}
