/* "peers" in partd.json (peer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "json.h"
#include "part/peer.h"

int part_peer_url_check(const char *url, const char *field, struct part_error *err)
{
    static const char *const loopback[] = {"127.", "[::1]", "localhost"};
    const char *host;

    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return part_error_set(err, -EINVAL, field,
                              "%s: \"%s\" is not an https:// URL (e.g. https://b.example:7480)",
                              field, url);
    if (!*host || strpbrk(host, "?#@ \t"))
        return part_error_set(err, -EINVAL, field,
                              "%s: \"%s\" has no host, or a query, user "
                              "or space",
                              field, url);
    if (host == url + 8)
        return 0;
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        size_t n = strlen(loopback[i]);
        if (strncmp(host, loopback[i], n) == 0 &&
            (loopback[i][n - 1] == '.' || host[n] == '\0' || host[n] == ':' || host[n] == '/'))
            return 0;
    }
    return part_error_set(err, -EINVAL, field,
                          "%s: \"%s\": http:// only to loopback; another host is called with "
                          "https:// (its token would cross the network in clear)",
                          field, url);
}

/* One peer as read: strings into the document. */
struct peer_doc {
    const char *url, *token, *cacert, *libvirt_uri, *data_uri;
    unsigned max_downtime_ms, timeout_s;
};

#define AT(field) offsetof(struct peer_doc, field)

static int peer_url(json_t *v, const char *path, void *out, struct part_error *err)
{
    return part_peer_url_check(json_string_value(v), path, err);
}

static int peer_libvirt_uri(json_t *v, const char *path, void *out, struct part_error *err)
{
    if (strstr(json_string_value(v), ":/"))
        return 0;
    return part_error_set(err, -EINVAL, path,
                          "%s: \"%s\" is not a URI (e.g. qemu+tls://b.example/system, "
                          "tcp://10.0.0.2)",
                          path, json_string_value(v));
}

static const struct part_json_member migration_members[] = {
    {"uri", PART_JSON_STRING, .offset = AT(data_uri), .after = peer_libvirt_uri},
    {"max_downtime_ms", PART_JSON_UINT, .offset = AT(max_downtime_ms), .lo = 1, .hi = 60000},
    {"timeout_s", PART_JSON_UINT, .offset = AT(timeout_s), .lo = 1, .hi = 86400},
    {0},
};

static const struct part_json_member peer_members[] = {
    {"url", PART_JSON_STRING, .offset = AT(url), .flags = PART_JSON_REQUIRED, .after = peer_url},
    {"token", PART_JSON_STRING, .offset = AT(token), .flags = PART_JSON_REQUIRED},
    {"cacert", PART_JSON_STRING, .offset = AT(cacert)},
    {"libvirt_uri", PART_JSON_STRING, .offset = AT(libvirt_uri), .flags = PART_JSON_REQUIRED,
     .after = peer_libvirt_uri},
    {"migration", PART_JSON_OBJECT, .members = migration_members},
    {0},
};

int part_peer_token(const struct part_peer_config *peer, char *buf, size_t len,
                    struct part_error *err)
{
    int r = part_file_read_secret(peer->token, buf, len, err);
    if (r < 0 && err)
        snprintf(err->field, sizeof(err->field), "peers.%s.token", peer->name);
    return r;
}

struct part_peer_config *part_peers_free(struct part_peer_config *peers, size_t n)
{
    for (size_t i = 0; peers && i < n; i++) {
        free(peers[i].url);
        free(peers[i].token);
        free(peers[i].cacert);
        free(peers[i].libvirt_uri);
        free(peers[i].data_uri);
    }
    free(peers);
    return NULL;
}

/* The peer's own strings from d, files resolved against dir. */
static int peer_take(struct part_peer_config *p, const struct peer_doc *d, const char *dir)
{
    p->max_downtime_ms = d->max_downtime_ms;
    p->timeout_s = d->timeout_s;
    if (!(p->url = strdup(d->url)) || !(p->libvirt_uri = strdup(d->libvirt_uri)) ||
        !(p->token = part_path_join(dir, d->token)) ||
        (d->cacert && !(p->cacert = part_path_join(dir, d->cacert))) ||
        (d->data_uri && !(p->data_uri = strdup(d->data_uri))))
        return -ENOMEM;
    return 0;
}

int part_peers_read(json_t *v, const char *dir, struct part_peer_config **ret, size_t *ret_n,
                    struct part_error *err)
{
    struct part_peer_config *peers;
    const char *name;
    json_t *o;
    char field[128];
    size_t n = 0;
    int r = 0;

    if (!json_is_object(v))
        return part_json_expected("peers", "an object", v, err);
    if (json_object_size(v) > PART_PEERS_MAX)
        return part_error_set(err, -EINVAL, "peers", "peers: %zu peers, at most %d are allowed",
                              json_object_size(v), PART_PEERS_MAX);
    if (!(peers = calloc(json_object_size(v) + 1, sizeof(*peers))))
        return part_error_oom(err);
    json_object_foreach (v, name, o) {
        struct peer_doc d = {.max_downtime_ms = PART_PEER_DOWNTIME_MS_DEFAULT,
                             .timeout_s = PART_PEER_TIMEOUT_S_DEFAULT};
        part_json_path(field, sizeof(field), "peers", name);
        if ((r = part_name_check(name, "peers", "peer name", err)) < 0) {
            if (err)
                snprintf(err->field, sizeof(err->field), "%s", field);
            break;
        }
        if ((r = part_json_read(o, field, peer_members, &d, err)) < 0)
            break;
        snprintf(peers[n].name, sizeof(peers[n].name), "%s", name);
        if ((r = peer_take(&peers[n++], &d, dir)) < 0) {
            r = part_error_oom(err);
            break;
        }
    }
    if (r < 0)
        return part_peers_free(peers, n), r;
    *ret = peers;
    *ret_n = n;
    return 0;
}
