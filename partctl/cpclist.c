/* partctl's CPCs (cpclist.h): the list's file, one entry's client, and every
 * entry asked at once. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <part/text.h>

#include "cpclist.h"
#include "output.h"

const char *cpclist_path(char *buf, size_t len)
{
    const char *env = getenv("PARTCTL_CPCS"), *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (env && env[0]) {
        snprintf(buf, len, "%s", env);
        return buf;
    }
    /* XDG: a relative XDG_CONFIG_HOME is to be ignored */
    if (xdg && xdg[0] == '/')
        snprintf(buf, len, "%s/partctl/cpcs.json", xdg);
    else if (home && home[0])
        snprintf(buf, len, "%s/.config/partctl/cpcs.json", home);
    else
        buf[0] = '\0';
    if (!buf[0] || access(buf, F_OK) < 0)
        snprintf(buf, len, "%s", PARTCTL_CONFDIR "/cpcs.json");
    return buf;
}

int cpclist_load(struct part_cpcs **slot, char *err, size_t len)
{
    struct part_error perr;
    char path[4096];

    if (*slot)
        return 0;
    cpclist_path(path, sizeof(path));
    int r = part_cpcs_load(path, slot, &perr);
    if (r == -ENOENT)
        snprintf(err, len, "no list of CPCs: %s does not exist (see partctl(1), FILES)", path);
    else if (r < 0)
        part_error_format(&perr, err, len);
    return r;
}

int cpclist_client(const struct part_cpc_entry *e, struct client *c, char *err, size_t len)
{
    struct part_error perr;
    char token[PART_CPCS_TOKEN_MAX], msg[1024];

    c->server = e->url;
    c->cacert = e->cacert;
    if (e->token_file) {
        int r = part_cpcs_read_token(e, token, sizeof(token), &perr);
        if (r < 0) {
            snprintf(err, len, "token file %s", part_error_format(&perr, msg, sizeof(msg)));
            return r;
        }
        free(c->token);
        c->token = xstrdup(token);
        explicit_bzero(token, sizeof(token));
    } else if (strcmp(e->url, "unix:" CLIENT_LOCAL_SOCKET) == 0) {
        client_load_local_token(c); /* the local partd's, as without a list */
    }
    return client_check_server(c, err, len);
}

void cpclist_views_free(struct cpc_view *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        client_clear(&v[i].c);
        json_decref(v[i].cpc);
        json_decref(v[i].parts);
    }
    free(v);
}

/* Sets v's state from the outcome of one of its GETs, the first failure
 * winning. */
static void view_outcome(struct cpc_view *v, const struct client_get *g)
{
    if (strcmp(v->state, "ok") != 0)
        return;
    if (g->r < 0) {
        v->state = "unreachable";
        snprintf(v->detail, sizeof(v->detail), "%s", g->err);
    } else if (g->status < 200 || g->status >= 300) {
        const char *d = json_string_value(json_object_get(g->reply, "detail"));
        char clean[900];
        v->state = "error";
        v->status = g->status;
        snprintf(v->detail, sizeof(v->detail), "%s (HTTP %ld)",
                 d ? part_text_escape(d, clean, sizeof(clean)) : "request failed", g->status);
    } else if (!json_is_object(g->reply)) {
        v->state = "error";
        snprintf(v->detail, sizeof(v->detail), "partd at %s sent no JSON object", v->c.server);
    }
}

struct cpc_view *cpclist_views(const struct part_cpcs *l, long timeout_ms, bool with_cpc,
                               bool with_parts)
{
    size_t n = l->n, k = 0;
    struct cpc_view *v = calloc(n + 1, sizeof(*v));
    struct client_get *gets = calloc(2 * n + 1, sizeof(*gets));

    if (!v || !gets) {
        free(v);
        free(gets);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].e = &l->entries[i];
        v[i].state = "ok";
        v[i].c.timeout_ms = timeout_ms ? timeout_ms : (long)ceil(1000 * l->timeout);
        v[i].c.connect_timeout_ms = (long)ceil(1000 * l->connect_timeout);
        if (cpclist_client(v[i].e, &v[i].c, v[i].detail, sizeof(v[i].detail)) < 0) {
            v[i].state = "error"; /* not asked: nothing is sent with a bad token file */
            continue;
        }
        if (with_cpc)
            gets[k++] = (struct client_get){.c = &v[i].c, .path = "/v1/cpc"};
        if (with_parts)
            gets[k++] = (struct client_get){.c = &v[i].c, .path = "/v1/partitions"};
    }
    client_get_all(gets, k);
    for (size_t i = 0, g = 0; i < n; i++) {
        if (strcmp(v[i].state, "ok") != 0)
            continue;
        for (int j = 0; j < with_cpc + with_parts; j++, g++)
            view_outcome(&v[i], &gets[g]);
        if (strcmp(v[i].state, "ok") == 0) {
            if (with_cpc)
                v[i].cpc = json_incref(gets[g - with_cpc - with_parts].reply);
            if (with_parts)
                v[i].parts = json_incref(json_object_get(gets[g - 1].reply, "partitions"));
        }
    }
    for (size_t g = 0; g < k; g++)
        json_decref(gets[g].reply);
    free(gets);
    return v;
}

int cpclist_report(const struct cpc_view *v, size_t n)
{
    char detail[4 * sizeof(v->detail)];
    int r = 0;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].state, "ok") == 0)
            continue;
        /* the detail may quote a reply: escaped for the terminal */
        fprintf(stderr, "partctl: %s: %s\n", v[i].e->name,
                part_text_escape(v[i].detail, detail, sizeof(detail)));
        r = PARTCTL_PARTIAL;
    }
    return r;
}

json_t *cpclist_view_json(const struct cpc_view *v)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "name", v->e->name, "url", v->e->url, "state", v->state);
    if (o && strcmp(v->state, "ok") != 0)
        json_object_set_new(o, "detail", json_string(v->detail));
    if (o && v->status)
        json_object_set_new(o, "status", json_integer(v->status));
    return o;
}
