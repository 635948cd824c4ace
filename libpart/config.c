/* partd.json, and the partitions directory of profiles. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "part/config.h"

#define DEFAULT_URI            "qemu:///system"
#define DEFAULT_LISTEN         "unix:/run/partd/partd.sock"
#define DEFAULT_STATE_DIR      "/var/lib/partd"
#define DEFAULT_PARTITIONS_DIR "partitions.d"
#define DEFAULT_POLICIES_DIR   "policies"
#define DEFAULT_POLICY         "static"
#define DEFAULT_IMAGES         "/var/lib/partd/images"
#define DEFAULT_TEMPLATES      "/etc/partd/templates"
#define DEFAULT_LOGS           "/var/log/partd"
#define DEFAULT_QEMU_USER      "libvirt-qemu"
#define LISTEN_MAX             16

struct part_config *part_config_free(struct part_config *c)
{
    if (!c)
        return NULL;
    free(c->path);
    free(c->uri);
    char **const lists[] = {c->listen, c->allowed_origins, c->host_names};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        for (char **l = lists[i]; l && *l; l++)
            free(*l);
        free(lists[i]);
    }
    for (int r = 0; r < PART_ROLE_N; r++)
        free(c->tokens[r]);
    free(c->socket_group);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->state_dir);
    free(c->partitions_dir);
    free(c->policies_dir);
    free(c->policy);
    free(c->paths.images);
    free(c->paths.templates);
    free(c->paths.logs);
    free(c->qemu_user);
    free(c->cpc.groups);
    part_peers_free(c->peers, c->n_peers);
    free(c);
    return NULL;
}

static int set_string(char **slot, const char *value)
{
    char *s = strdup(value);
    if (!s)
        return -ENOMEM;
    free(*slot);
    *slot = s;
    return 0;
}

static int set_path(char **slot, const char *dir, const char *value)
{
    char *s = part_path_join(dir, value);
    if (!s)
        return -ENOMEM;
    free(*slot);
    *slot = s;
    return 0;
}

/* Replaces the NULL-terminated list *slot with copies of values. */
static int set_list(char ***slot, const char *const *values, size_t n)
{
    char **l = calloc(n + 1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(l[i] = strdup(values[i]))) {
            for (size_t j = 0; j < i; j++)
                free(l[j]);
            free(l);
            return -ENOMEM;
        }
    for (char **o = *slot; o && *o; o++)
        free(*o);
    free(*slot);
    *slot = l;
    return 0;
}

int part_config_default(const char *dir, struct part_config **ret)
{
    static const char *const listen[] = {DEFAULT_LISTEN};
    struct part_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->interval = 2.0;
    /* TCP's as they always were; the UNIX socket's its own (partd raises
     * its descriptor limit to their sum, http.c) */
    c->limits =
        (struct part_limits){.unix_connections = 256, .tcp_connections = 1024, .tcp_per_ip = 128};
    c->cpc.host_reserved_memory = 1024;
    c->cpc.cpu_overcommit = 4.0;
    c->cpc.memory_overcommit = 1.0;
    if (set_path(&c->path, dir, "partd.json") < 0 || set_string(&c->uri, DEFAULT_URI) < 0 ||
        set_list(&c->listen, listen, 1) < 0 || set_string(&c->state_dir, DEFAULT_STATE_DIR) < 0 ||
        set_path(&c->partitions_dir, dir, DEFAULT_PARTITIONS_DIR) < 0 ||
        set_path(&c->policies_dir, dir, DEFAULT_POLICIES_DIR) < 0 ||
        set_string(&c->policy, DEFAULT_POLICY) < 0 ||
        set_string(&c->paths.images, DEFAULT_IMAGES) < 0 ||
        set_string(&c->paths.templates, DEFAULT_TEMPLATES) < 0 ||
        set_string(&c->paths.logs, DEFAULT_LOGS) < 0) {
        part_config_free(c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

static int group_cmp(const void *a, const void *b)
{
    return strcmp(((const struct part_group_config *)a)->name,
                  ((const struct part_group_config *)b)->name);
}

void part_config_sort_groups(struct part_cpc_config *cpc)
{
    if (cpc->n_groups > 1)
        qsort(cpc->groups, cpc->n_groups, sizeof(*cpc->groups), group_cmp);
}

const struct part_group_config *part_config_group(const struct part_cpc_config *cpc,
                                                  const char *name)
{
    struct part_group_config key;
    if (strlen(name) >= sizeof(key.name) || !cpc->n_groups)
        return NULL;
    strcpy(key.name, name);
    return bsearch(&key, cpc->groups, cpc->n_groups, sizeof(*cpc->groups), group_cmp);
}

/* Checks a listen address: "unix:/abs/path", "HOST:PORT" or "[V6]:PORT",
 * the port being 1-65535 in decimal digits. field locates it in errors. */
static int listen_check(const char *s, const char *field, struct part_error *err)
{
    if (strncmp(s, "unix:", 5) == 0) {
        if (s[5] != '/')
            return part_error_set(err, -EINVAL, field,
                                  "listen: \"%s\": the socket path must be absolute "
                                  "(unix:/PATH)",
                                  s);
        if (strlen(s + 5) > 107) /* sun_path holds 108 bytes with the NUL */
            return part_error_set(err, -EINVAL, field,
                                  "listen: \"%s\": the socket path is longer than 107 bytes", s);
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (!colon)
        return part_error_set(err, -EINVAL, field,
                              "listen: \"%s\" has no port (expected ADDRESS:PORT or "
                              "unix:/PATH)",
                              s);
    if (colon == s)
        return part_error_set(err, -EINVAL, field,
                              "listen: \"%s\" has no address (expected ADDRESS:PORT, e.g. "
                              "127.0.0.1:7480)",
                              s);
    const char *port = colon + 1;
    if (!*port || strspn(port, "0123456789") != strlen(port))
        return part_error_set(err, -EINVAL, field,
                              "listen: \"%s\": the port \"%s\" is not a number", s, port);
    unsigned long n = strtoul(port, NULL, 10);
    if (n < 1 || n > 65535)
        return part_error_set(err, -EINVAL, field,
                              "listen: \"%s\": port %s is out of range 1-65535", s, port);
    return 0;
}

/* A test: URI naming a node XML by a relative path ("test:cpc.xml") is
 * resolved against the configuration's directory, so that a shipped example
 * works from wherever it is checked out. */
static int set_uri(struct part_config *c, const char *dir, const char *uri)
{
    if (strncmp(uri, "test:", 5) != 0 || uri[5] == '/' || !uri[5])
        return set_string(&c->uri, uri);
    char *rel = part_path_join(dir, uri + 5), abs[PATH_MAX], cwd[PATH_MAX], *s;
    int n;
    if (!rel)
        return -ENOMEM;
    if (realpath(rel, abs))
        n = asprintf(&s, "test://%s", abs);
    else if (rel[0] != '/' && getcwd(cwd, sizeof(cwd))) /* not there (yet): absolute anyway */
        n = asprintf(&s, "test://%s/%s", cwd, rel);
    else
        n = asprintf(&s, "test://%s", rel);
    free(rel);
    if (n < 0)
        return -ENOMEM;
    free(c->uri);
    c->uri = s;
    return 0;
}

/* partd.json as read: its numbers, and the strings that become the config's
 * own once the whole file is read (paths resolved against its directory). */
struct config_doc {
    const char *uri, *state_dir, *partitions_dir, *policies_dir;
    const char *tokens[PART_ROLE_N]; /* token files by role */
    const char *socket_group, *tls_cert, *tls_key, *qemu_user;
    const char *images, *templates, *logs; /* paths */
    const char *listen[LISTEN_MAX];
    size_t n_listen;
    const char *origins[LISTEN_MAX], *host_names[LISTEN_MAX];
    size_t n_origins, n_host_names;
    char policy[PART_NAME_MAX]; /* "" when not given */
    double interval;
    struct part_limits limits;
    struct part_cpc_config cpc;
    json_t *peers; /* read by part_peers_read() once the file's directory is known */
};

#define AT(field) offsetof(struct config_doc, field)

static int config_uri(json_t *v, const char *path, void *out, struct part_error *err)
{
    const char *s = json_string_value(v);
    if (strchr(s, ':'))
        return 0;
    return part_error_set(err, -EINVAL, "uri",
                          "uri: \"%s\" is not a libvirt URI (e.g. qemu:///system)", s);
}

/* A string or a list of 1 (0 when may_be_empty) to LISTEN_MAX strings at
 * path, each checked by check, into values (*n of them); what names one
 * ("an address"), whats several ("addresses"). */
static int config_strings(json_t *v, const char *path, const char *what, const char *whats,
                          bool may_be_empty,
                          int (*check)(const char *s, const char *field, struct part_error *err),
                          const char **values, size_t *n, struct part_error *err)
{
    char field[64], expected[96];
    json_t *a;
    size_t i;
    int r;

    if (json_is_string(v)) {
        if ((r = check(json_string_value(v), path, err)) < 0)
            return r;
        values[(*n)++] = json_string_value(v);
        return 0;
    }
    snprintf(expected, sizeof(expected), "%s or a list of %s", what, whats);
    if (!json_is_array(v))
        return part_json_expected(path, expected, v, err);
    if (json_array_size(v) == 0 && !may_be_empty)
        return part_error_set(err, -EINVAL, path, "%s: the list is empty (give 1 to %d %s)", path,
                              LISTEN_MAX, whats);
    if (json_array_size(v) > LISTEN_MAX)
        return part_error_set(err, -EINVAL, path, "%s: %zu %s, at most %d are allowed", path,
                              json_array_size(v), whats, LISTEN_MAX);
    json_array_foreach (v, i, a) {
        snprintf(field, sizeof(field), "%s[%zu]", path, i);
        if (!json_is_string(a))
            return part_error_set(err, -EINVAL, field, "%s: entry %zu: expected a string, got %s",
                                  path, i + 1, part_json_type_name(a));
        if ((r = check(json_string_value(a), field, err)) < 0)
            return r;
        values[(*n)++] = json_string_value(a);
    }
    return 0;
}

/* "listen": an address or a list of 1 to LISTEN_MAX of them */
static int config_listen(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct config_doc *d = out;
    return config_strings(v, "listen", "an address", "addresses", false, listen_check, d->listen,
                          &d->n_listen, err);
}

/* An origin as browsers send it: http(s)://HOST[:PORT], nothing after. */
static int origin_check(const char *s, const char *field, struct part_error *err)
{
    const char *host = strncmp(s, "https://", 8) == 0  ? s + 8
                       : strncmp(s, "http://", 7) == 0 ? s + 7
                                                       : NULL;
    if (!host || !*host || strpbrk(host, "/?# \t"))
        return part_error_set(err, -EINVAL, field,
                              "%s: \"%s\" is not an origin (scheme://host[:port], e.g. "
                              "https://console.example:7480)",
                              field, s);
    return 0;
}

/* A host name as a Host header carries it: NAME or NAME:PORT. */
static int host_name_check(const char *s, const char *field, struct part_error *err)
{
    if (!*s || strpbrk(s, "/?#@ \t"))
        return part_error_set(err, -EINVAL, field,
                              "%s: \"%s\" is not a host name (NAME or NAME:PORT)", field, s);
    return 0;
}

static int config_origins(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct config_doc *d = out;
    return config_strings(v, "allowed_origins", "an origin", "origins", true, origin_check,
                          d->origins, &d->n_origins, err);
}

static int config_host_names(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct config_doc *d = out;
    return config_strings(v, "host_names", "a host name", "host names", true, host_name_check,
                          d->host_names, &d->n_host_names, err);
}

static const struct part_json_member group_members[] = {
    {"cap", PART_JSON_CAP, .offset = offsetof(struct part_group_config, cap), .lo = PART_CAP_MIN,
     .hi = PART_CAP_MAX * 64, .none = PART_CAP_NONE},
    {0},
};

/* "cpc.groups": {NAME: {"cap": ...}, ...} */
static int config_groups(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct part_cpc_config *cpc = &((struct config_doc *)out)->cpc;
    const char *name;
    json_t *g;
    char field[128];
    int r;

    if (!json_is_object(v))
        return part_json_expected(path, "an object", v, err);
    cpc->groups = calloc(json_object_size(v) + 1, sizeof(*cpc->groups));
    if (!cpc->groups)
        return part_error_oom(err);
    json_object_foreach (v, name, g) {
        struct part_group_config *gc = &cpc->groups[cpc->n_groups++];
        part_json_path(field, sizeof(field), path, name);
        if ((r = part_name_check(name, path, "group name", err)) < 0) {
            if (err)
                snprintf(err->field, sizeof(err->field), "%s", field);
            return r;
        }
        snprintf(gc->name, sizeof(gc->name), "%s", name);
        gc->cap = PART_CAP_NONE;
        if ((r = part_json_read(g, field, group_members, gc, err)) < 0)
            return r;
    }
    return 0;
}

/* host_reserved_memory and groups are read last, as they always were */
static const struct part_json_member cpc_members[] = {
    {"host_reserved_cpus", PART_JSON_UINT, .offset = AT(cpc.host_reserved_cpus), .lo = 0,
     .hi = 4096},
    /* zero allowed, unlike in profiles: "reserve nothing for the host" */
    {"host_reserved_memory", PART_JSON_SIZE, .offset = AT(cpc.host_reserved_memory),
     .flags = PART_JSON_ZERO | PART_JSON_LATE},
    {"cpu_overcommit", PART_JSON_NUMBER, .offset = AT(cpc.cpu_overcommit), .lo = 1.0, .hi = 100.0},
    {"memory_overcommit", PART_JSON_NUMBER, .offset = AT(cpc.memory_overcommit), .lo = 1.0,
     .hi = 10.0},
    {"groups", PART_JSON_CUSTOM, .flags = PART_JSON_LATE, .read = config_groups},
    {0},
};

/* "tokens": {ROLE: FILE, ...}, a token file per role */
static const struct part_json_member token_members[] = {
    {"admin", PART_JSON_STRING, .offset = AT(tokens[PART_ROLE_ADMIN])},
    {"operator", PART_JSON_STRING, .offset = AT(tokens[PART_ROLE_OPERATOR])},
    {"viewer", PART_JSON_STRING, .offset = AT(tokens[PART_ROLE_VIEWER])},
    {"peer", PART_JSON_STRING, .offset = AT(tokens[PART_ROLE_PEER])},
    {0},
};

/* the directories whose files profiles may give guests */
static const struct part_json_member paths_members[] = {
    {"images", PART_JSON_STRING, .offset = AT(images)},
    {"templates", PART_JSON_STRING, .offset = AT(templates)},
    {"logs", PART_JSON_STRING, .offset = AT(logs)},
    {0},
};

static const struct part_json_member limits_members[] = {
    {"unix_connections", PART_JSON_UINT, .offset = AT(limits.unix_connections), .lo = 1,
     .hi = PART_LIMIT_CONNECTIONS_MAX},
    {"tcp_connections", PART_JSON_UINT, .offset = AT(limits.tcp_connections), .lo = 1,
     .hi = PART_LIMIT_CONNECTIONS_MAX},
    {"tcp_per_ip", PART_JSON_UINT, .offset = AT(limits.tcp_per_ip), .lo = 1,
     .hi = PART_LIMIT_CONNECTIONS_MAX},
    {0},
};

static int config_peers(json_t *v, const char *path, void *out, struct part_error *err)
{
    ((struct config_doc *)out)->peers = v;
    return 0;
}

static const struct part_json_member config_members[] = {
    {"uri", PART_JSON_STRING, .offset = AT(uri), .after = config_uri},
    {"listen", PART_JSON_CUSTOM, .read = config_listen},
    {"allowed_origins", PART_JSON_CUSTOM, .read = config_origins},
    {"host_names", PART_JSON_CUSTOM, .read = config_host_names},
    {"tokens", PART_JSON_OBJECT, .members = token_members},
    {"socket_group", PART_JSON_STRING, .offset = AT(socket_group)},
    {"tls_cert", PART_JSON_STRING, .offset = AT(tls_cert)},
    {"tls_key", PART_JSON_STRING, .offset = AT(tls_key)},
    {"state_dir", PART_JSON_STRING, .offset = AT(state_dir)},
    {"partitions_dir", PART_JSON_STRING, .offset = AT(partitions_dir)},
    {"policies_dir", PART_JSON_STRING, .offset = AT(policies_dir)},
    {"policy", PART_JSON_NAME, .offset = AT(policy), .what = "policy name"},
    {"interval", PART_JSON_NUMBER, .offset = AT(interval), .lo = 0.1, .hi = 3600},
    {"paths", PART_JSON_OBJECT, .members = paths_members},
    {"qemu_user", PART_JSON_STRING, .offset = AT(qemu_user)},
    {"cpc", PART_JSON_OBJECT, .members = cpc_members},
    {"limits", PART_JSON_OBJECT, .members = limits_members},
    {"peers", PART_JSON_CUSTOM, .read = config_peers},
    {0},
};

/* Makes the strings d read c's own, relative paths resolved against dir. */
static int config_take_strings(struct part_config *c, const struct config_doc *d, const char *dir,
                               struct part_error *err)
{
    const char *paths[] = {d->tokens[PART_ROLE_VIEWER],
                           d->tokens[PART_ROLE_OPERATOR],
                           d->tokens[PART_ROLE_ADMIN],
                           d->tokens[PART_ROLE_PEER],
                           d->tls_cert,
                           d->tls_key,
                           d->state_dir,
                           d->partitions_dir,
                           d->policies_dir,
                           d->images,
                           d->templates,
                           d->logs};
    char **slots[] = {&c->tokens[PART_ROLE_VIEWER],
                      &c->tokens[PART_ROLE_OPERATOR],
                      &c->tokens[PART_ROLE_ADMIN],
                      &c->tokens[PART_ROLE_PEER],
                      &c->tls_cert,
                      &c->tls_key,
                      &c->state_dir,
                      &c->partitions_dir,
                      &c->policies_dir,
                      &c->paths.images,
                      &c->paths.templates,
                      &c->paths.logs};

    if ((d->uri && set_uri(c, dir, d->uri) < 0) ||
        (d->n_listen && set_list(&c->listen, d->listen, d->n_listen) < 0) ||
        set_list(&c->allowed_origins, d->origins, d->n_origins) < 0 ||
        set_list(&c->host_names, d->host_names, d->n_host_names) < 0 ||
        (d->policy[0] && set_string(&c->policy, d->policy) < 0) ||
        (d->socket_group && set_string(&c->socket_group, d->socket_group) < 0) ||
        (d->qemu_user && set_string(&c->qemu_user, d->qemu_user) < 0))
        return part_error_oom(err);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (paths[i] && set_path(slots[i], dir, paths[i]) < 0)
            return part_error_oom(err);
    /* what profiles' paths are compared with, as text, must be absolute */
    char **dirs[] = {&c->paths.images, &c->paths.templates, &c->paths.logs};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *abs = part_path_absolute(*dirs[i]);
        if (!abs)
            return part_error_oom(err);
        free(*dirs[i]);
        *dirs[i] = abs;
    }
    return 0;
}

static int config_from_json(struct part_config *c, json_t *root, const char *dir,
                            struct part_error *err)
{
    struct config_doc d = {.interval = c->interval, .limits = c->limits, .cpc = c->cpc};
    int r;

    if (!json_is_object(root))
        return part_error_set(err, -EINVAL, "", "partd.json must be a JSON object, got %s",
                              part_json_type_name(root));
    r = part_json_read(root, "", config_members, &d, err);
    c->cpc = d.cpc; /* its groups are c's to free, read or not */
    if (r < 0)
        return r;
    /* a certificate is served with its key: one without the other is a
     * mistake, not "no TLS" */
    if (!d.tls_cert != !d.tls_key)
        return part_error_set(err, -EINVAL, d.tls_cert ? "tls_cert" : "tls_key",
                              "%s: given without %s (TLS needs the certificate and its key)",
                              d.tls_cert ? "tls_cert" : "tls_key",
                              d.tls_cert ? "tls_key" : "tls_cert");
    c->interval = d.interval;
    c->limits = d.limits;
    if ((r = config_take_strings(c, &d, dir, err)) < 0 ||
        (d.peers && (r = part_peers_read(d.peers, dir, &c->peers, &c->n_peers, err)) < 0))
        return r;
    part_config_sort_groups(&c->cpc);
    return 0;
}

int part_config_load(const char *path, struct part_config **ret, struct part_error *err)
{
    struct part_config *c = NULL;
    char *text = NULL, *dir = NULL;
    json_t *root = NULL;
    size_t len;
    int r;

    part_error_clear(err);
    if ((r = part_file_read(path, &text, &len, err)) < 0)
        return r;
    if ((r = part_json_parse(text, len, path, &root, err)) < 0)
        goto out;
    if (!(dir = part_path_dirname(path)) || (r = part_config_default(dir, &c)) < 0 ||
        (r = set_string(&c->path, path)) < 0) {
        r = part_error_oom(err);
        goto out;
    }
    r = config_from_json(c, root, dir, err);
    if (r == -EINVAL)
        part_error_locate(err, text, len);
out:
    json_decref(root);
    free(text);
    free(dir);
    if (r < 0)
        part_config_free(c);
    else
        *ret = c;
    return r;
}

const struct part_peer_config *part_config_peer(const struct part_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_peers; i++)
        if (strcmp(cfg->peers[i].name, name) == 0)
            return &cfg->peers[i];
    return NULL;
}

const char *part_config_qemu_user(const struct part_config *cfg)
{
    if (cfg->qemu_user)
        return cfg->qemu_user;
    return strncmp(cfg->uri, "qemu:", 5) == 0 ? DEFAULT_QEMU_USER : NULL;
}

void part_profiles_free(struct part_profile **profiles, size_t n)
{
    for (size_t i = 0; profiles && i < n; i++)
        part_profile_free(profiles[i]);
    free(profiles);
}

static int filter_json(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

/* Loads one profile file, checks that it is named after its partition and,
 * with paths, its host paths (hostpath.h). */
static int profile_load_named(const char *dir, const char *file, const struct part_paths *paths,
                              unsigned flags, struct part_profile **ret, struct part_error *err)
{
    char *path = part_path_join(dir, file), *text = NULL;
    struct part_profile *p = NULL;
    size_t len, stem = strlen(file) - 5;
    int r;

    if (!path)
        return part_error_oom(err);
    if ((r = part_file_read(path, &text, &len, err)) < 0 ||
        (r = part_profile_parse(text, len, path, &p, err)) < 0)
        goto out;
    if (strlen(p->name) != stem || strncmp(p->name, file, stem) != 0) {
        r = part_error_set(err, -EINVAL, "name",
                           "name: \"%s\" does not match the file name (%s, expected %s.json)",
                           p->name, file, p->name);
        part_error_locate(err, text, len);
        goto out;
    }
    if (paths && (r = part_hostpath_load(paths, p, flags, err)) < 0) {
        part_error_set_file(err, path);
        part_error_locate(err, text, len);
        goto out;
    }
    *ret = p;
    p = NULL;
out:
    part_profile_free(p);
    free(text);
    free(path);
    return r;
}

int part_profiles_load_dir(const char *dir, const struct part_paths *paths, unsigned flags,
                           struct part_profile ***ret, size_t *ret_n,
                           struct part_error **ret_errors, size_t *ret_n_errors,
                           struct part_error *err)
{
    struct dirent **names = NULL;
    struct part_profile **list = NULL;
    struct part_error *errors = NULL;
    size_t n = 0, n_errors = 0;
    int count, r = 0;

    part_error_clear(err);
    count = scandir(dir, &names, filter_json, alphasort);
    if (count < 0) {
        int e = errno;
        part_error_set_file(err, dir);
        return part_error_set(err, -e, "", "cannot read the partitions directory: %s", strerror(e));
    }
    list = calloc((size_t)count + 1, sizeof(*list));
    errors = calloc((size_t)count + 1, sizeof(*errors));
    if (!list || !errors) {
        r = part_error_oom(err);
        goto out;
    }
    for (int i = 0; i < count; i++) {
        part_error_clear(&errors[n_errors]); /* a good file may have left its name there */
        r = profile_load_named(dir, names[i]->d_name, paths, flags, &list[n], &errors[n_errors]);
        if (r == -ENOMEM) {
            r = part_error_oom(err); /* errors[n_errors] says so, err must too */
            goto out;
        }
        if (r < 0)
            n_errors++;
        else
            n++;
    }
    r = n_errors ? -EINVAL : 0;
out:
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (r == -ENOMEM) {
        part_profiles_free(list, n);
        free(errors);
        return r;
    }
    *ret = list;
    *ret_n = n;
    *ret_errors = errors;
    *ret_n_errors = n_errors;
    return r;
}

int part_config_tokens(const struct part_config *cfg, char tokens[PART_ROLE_N][PART_TOKEN_MAX],
                       struct part_error *err)
{
    char field[32];
    int r;

    memset(tokens, 0, PART_ROLE_N * sizeof(tokens[0]));
    for (int role = PART_ROLE_VIEWER; role < PART_ROLE_N; role++) {
        if (!cfg->tokens[role])
            continue;
        snprintf(field, sizeof(field), "tokens.%s", part_role_name(role));
        part_error_clear(err); /* the file read before set its name there */
        if ((r = part_file_read_secret(cfg->tokens[role], tokens[role], PART_TOKEN_MAX, err)) < 0)
            goto fail;
        /* a token says which role its bearer has: it cannot say two */
        for (int other = PART_ROLE_VIEWER; other < role; other++)
            if (cfg->tokens[other] && strcmp(tokens[other], tokens[role]) == 0) {
                r = part_error_set(err, -EINVAL, "",
                                   "the same token as tokens.%s's (%s): each role needs a token "
                                   "of its own",
                                   part_role_name(other), cfg->tokens[other]);
                goto fail;
            }
    }
    part_error_clear(err); /* the last file read left its name there */
    return 0;
fail:
    if (err) /* "FILE: why", with the field it comes from */
        snprintf(err->field, sizeof(err->field), "%s", field);
    memset(tokens, 0, PART_ROLE_N * sizeof(tokens[0]));
    return r;
}

bool part_config_has_tokens(const struct part_config *cfg)
{
    for (int role = PART_ROLE_VIEWER; role < PART_ROLE_N; role++)
        if (cfg->tokens[role])
            return true;
    return false;
}

int part_config_tls(const struct part_config *cfg, char **ret_cert, char **ret_key,
                    struct part_error *err)
{
    char *cert = NULL, *key = NULL;
    const char *field = "tls_cert";
    size_t len;
    int r;

    *ret_cert = *ret_key = NULL;
    if (!cfg->tls_cert)
        return 0;
    if ((r = part_file_read(cfg->tls_cert, &cert, &len, err)) < 0)
        goto fail;
    field = "tls_key"; /* as a token is: no one else may read or change it */
    if ((r = part_file_read_private(cfg->tls_key, PART_TLS_FILE_MAX, &key, &len, err)) < 0)
        goto fail;
    *ret_cert = cert;
    *ret_key = key;
    part_error_clear(err); /* the files read left their names there */
    return 0;
fail:
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    free(cert);
    return r;
}
