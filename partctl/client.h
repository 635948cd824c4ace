/* partctl's HTTP client: one request to partd over TCP or a UNIX socket
 * (libcurl), JSON in and out (jansson), problems (RFC 9457) made readable. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* CLIENT_LOCAL_SOCKET: the socket of a partd installed as a host service
 * (partd.service) */
#define CLIENT_DEFAULT_SERVER     "http://127.0.0.1:7480"
#define CLIENT_LOCAL_SOCKET       "/run/partd/partd.sock"
#define CLIENT_CONNECT_TIMEOUT_MS 5000L
#define CLIENT_TIMEOUT_MS         120000L

struct client {
    const char *server; /* "http(s)://HOST:PORT" or "unix:/PATH", as given */
    char *token;        /* the bearer token, NULL when none; owned */
    const char *cacert; /* CA certificates (PEM) that partd's must chain to; NULL: the system's */
    long timeout_ms;    /* the whole request */
    long connect_timeout_ms; /* the connection; 0: CLIENT_CONNECT_TIMEOUT_MS (never over timeout_ms)
                              */
};

/* The server used when neither --server nor PARTD_SERVER names one: the
 * local partd's socket when it exists, else CLIENT_DEFAULT_SERVER. */
const char *client_default_server(void);

/* For the local partd's socket (CLIENT_LOCAL_SOCKET) when no token is
 * given: loads the first of PARTCTL_CONFDIR/admin.token, operator.token,
 * viewer.token this user may read into c->token (root reads the admin's, a
 * member of group partd the operator's; the package makes them so). Returns
 * the file read, or NULL when none (then partd answers 401). */
const char *client_load_local_token(struct client *c);

/* Reads the token from the file at path (trailing newlines and blanks
 * stripped) into c->token. Returns 0 or a negative errno (-EINVAL for an
 * empty token). */
int client_load_token(struct client *c, const char *path);

/* Checks, before anything is sent, that c->server is a URL partctl may
 * send c->token to: https://, or http:// to this host's loopback (an
 * address, or localhost), or a UNIX socket. A token is never sent in clear
 * over a network. Returns 0, or -EPERM (-EINVAL for a server that is no
 * URL) with the reason in errbuf. */
int client_check_server(const struct client *c, char *errbuf, size_t errlen);

/* Frees what c owns. */
void client_clear(struct client *c);

/* Sends method path (e.g. "GET", "/v1/cpc") with body (a JSON value sent as
 * application/json, or NULL for none) to c->server. When partd replied,
 * returns 0 with the HTTP status in *ret_status and the reply body in
 * *ret_reply (caller json_decref()s it): NULL when empty, and for an error
 * status always an object with at least "status" and "detail", made up from
 * the status line when partd sent no problem+json. When there was no usable
 * reply, returns a negative errno with the reason written to errbuf (e.g.
 * "cannot reach partd at URL: Connection refused"). */
int client_request(const struct client *c, const char *method, const char *path, json_t *body,
                   json_t **ret_reply, long *ret_status, char *errbuf, size_t errlen);

/* One GET of several sent at once by client_get_all(): c and path in, the
 * outcome out as client_request() gives it (r 0 with status and reply, the
 * caller json_decref()s it; or a negative errno with the reason in err). */
struct client_get {
    const struct client *c;
    const char *path;
    int r;
    long status;
    json_t *reply;
    char err[1024];
};

/* Sends the n GETs at once (libcurl's multi interface) and returns when
 * all have ended, each within its client's timeouts: n unreachable
 * servers cost one timeout, not n. */
void client_get_all(struct client_get *gets, size_t n);

/* A GET whose reply body is not JSON, or never ends: handed over piece by
 * piece as it arrives. */
struct client_stream {
    const char *accept; /* the Accept header */
    /* Takes the next piece of a 2xx body (pieces are cut anywhere); returns
     * false to end the transfer. */
    bool (*sink)(const char *data, size_t len, void *opaque);
    void (*open)(void *opaque); /* called once a 2xx reply's headers are in (may be NULL) */
    void *opaque;
    const volatile sig_atomic_t *stop; /* the transfer ends once *stop is set (NULL: never) */
    long idle_s; /* > 0: no overall timeout, but fail after idle_s s without a byte */
};

/* Sends GET path and hands a 2xx reply's body to s->sink. When partd
 * replied, returns 0 with the status in *ret_status and, for an error
 * status, the problem in *ret_problem (as client_request() does; NULL
 * otherwise). Returns -ECANCELED when the sink or *s->stop ended the
 * transfer, -EPIPE when partd cut a 2xx reply short, or another negative
 * errno, with the reason in errbuf but for -ECANCELED. */
int client_stream(const struct client *c, const char *path, const struct client_stream *s,
                  json_t **ret_problem, long *ret_status, char *errbuf, size_t errlen);

/* Prints the problem reply (from client_request() with an error status) as
 * "partctl: DETAIL (HTTP STATUS)" and "partctl: field: FIELD" to f. */
void client_print_problem(const json_t *problem, long status, FILE *f);
