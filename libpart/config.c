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
#define LISTEN_MAX             16

struct part_config *part_config_free(struct part_config *c)
{
    if (!c)
        return NULL;
    free(c->path);
    free(c->uri);
    for (char **l = c->listen; l && *l; l++)
        free(*l);
    free(c->listen);
    free(c->token_file);
    free(c->state_dir);
    free(c->partitions_dir);
    free(c->policies_dir);
    free(c->policy);
    free(c->cpc.groups);
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

static int set_listen(struct part_config *c, const char *const *values, size_t n)
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
    for (char **o = c->listen; o && *o; o++)
        free(*o);
    free(c->listen);
    c->listen = l;
    return 0;
}

int part_config_default(const char *dir, struct part_config **ret)
{
    static const char *const listen[] = {DEFAULT_LISTEN};
    struct part_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->interval = 2.0;
    c->cpc.host_reserved_memory = 1024;
    c->cpc.cpu_overcommit = 4.0;
    c->cpc.memory_overcommit = 1.0;
    if (set_path(&c->path, dir, "partd.json") < 0 || set_string(&c->uri, DEFAULT_URI) < 0 ||
        set_listen(c, listen, 1) < 0 || set_string(&c->state_dir, DEFAULT_STATE_DIR) < 0 ||
        set_path(&c->partitions_dir, dir, DEFAULT_PARTITIONS_DIR) < 0 ||
        set_path(&c->policies_dir, dir, DEFAULT_POLICIES_DIR) < 0 ||
        set_string(&c->policy, DEFAULT_POLICY) < 0) {
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

static int config_groups(struct part_config *c, json_t *groups, struct part_error *err)
{
    const char *name;
    json_t *g;
    char path[128];
    int r;

    c->cpc.groups = calloc(json_object_size(groups) + 1, sizeof(*c->cpc.groups));
    if (!c->cpc.groups)
        return -ENOMEM;
    json_object_foreach(groups, name, g) {
        static const char *const group_keys[] = {"cap", NULL};
        struct part_group_config *gc = &c->cpc.groups[c->cpc.n_groups++];
        part_json_path(path, sizeof(path), "cpc.groups", name);
        if ((r = part_name_check(name, "cpc.groups", "group name", err)) < 0) {
            if (err)
                snprintf(err->field, sizeof(err->field), "%s", path);
            return r;
        }
        if (!json_is_object(g))
            return part_error_set(err, -EINVAL, path, "%s: expected an object, got %s", path,
                                  part_json_type_name(g));
        snprintf(gc->name, sizeof(gc->name), "%s", name);
        gc->cap = PART_CAP_NONE;
        if ((r = part_json_check_keys(g, path, group_keys, err)) < 0)
            return r;
        json_t *cap = json_object_get(g, "cap");
        if (cap && !json_is_null(cap) &&
            (r = part_json_get_number(g, path, "cap", PART_CAP_MIN, PART_CAP_MAX * 64, &gc->cap,
                                      err)) < 0)
            return r;
    }
    return 0;
}

/* Whether s is a zero size with a unit ("0GiB", "0.0 TiB"), spelled as
 * part_json_get_size() wants sizes spelled. */
static bool zero_size_text(const char *s)
{
    size_t n = strspn(s, "0");
    if (n == 0)
        return false;
    if (s[n] == '.') {
        size_t f = strspn(s + n + 1, "0");
        if (f == 0)
            return false;
        n += 1 + f;
    }
    if (s[n] == ' ')
        n++;
    return strcmp(s + n, "MiB") == 0 || strcmp(s + n, "GiB") == 0 || strcmp(s + n, "TiB") == 0;
}

/* cpc.host_reserved_memory: a size, where (unlike in profiles) zero is
 * allowed, in either spelling: "reserve nothing for the host". */
static int host_reserved_memory(struct part_config *c, json_t *cpc, struct part_error *err)
{
    json_t *v = json_object_get(cpc, "host_reserved_memory");

    if ((json_is_number(v) && json_number_value(v) == 0) ||
        (json_is_string(v) && zero_size_text(json_string_value(v)))) {
        c->cpc.host_reserved_memory = 0;
        return 0;
    }
    if (json_is_number(v) && json_number_value(v) < 0)
        return part_error_set(err, -EINVAL, "cpc.host_reserved_memory",
                              "cpc.host_reserved_memory: %g MiB is negative", json_number_value(v));
    return part_json_get_size(cpc, "cpc", "host_reserved_memory", &c->cpc.host_reserved_memory,
                              err);
}

static int config_from_json(struct part_config *c, json_t *root, const char *dir,
                            struct part_error *err)
{
    static const char *const top_keys[] = {"uri",      "listen",         "token_file",
                                           "state_dir", "partitions_dir", "policies_dir", "policy",
                                           "interval",  "cpc",            NULL};
    static const char *const cpc_keys[] = {"host_reserved_cpus", "host_reserved_memory",
                                           "cpu_overcommit",     "memory_overcommit",
                                           "groups",             NULL};
    const char *s;
    json_t *cpc, *groups;
    int r;

    if (!json_is_object(root))
        return part_error_set(err, -EINVAL, "", "partd.json must be a JSON object, got %s",
                              part_json_type_name(root));
    if ((r = part_json_check_keys(root, "", top_keys, err)) < 0)
        return r;

    s = NULL;
    if ((r = part_json_get_string(root, "", "uri", &s, err)) < 0)
        return r;
    if (s && (!strchr(s, ':') || (r = set_uri(c, dir, s)) < 0))
        return r < 0 ? r
                     : part_error_set(err, -EINVAL, "uri",
                                      "uri: \"%s\" is not a libvirt URI (e.g. qemu:///system)", s);

    json_t *listen = json_object_get(root, "listen");
    if (listen) {
        const char *values[LISTEN_MAX];
        char field[32];
        size_t n = 0, i;
        json_t *v;
        if (json_is_string(listen)) {
            if ((r = listen_check(json_string_value(listen), "listen", err)) < 0)
                return r;
            values[n++] = json_string_value(listen);
        } else if (!json_is_array(listen)) {
            return part_error_set(err, -EINVAL, "listen",
                                  "listen: expected an address or a list of addresses, got %s",
                                  part_json_type_name(listen));
        } else if (json_array_size(listen) == 0) {
            return part_error_set(err, -EINVAL, "listen",
                                  "listen: the list is empty (give 1 to %d addresses)", LISTEN_MAX);
        } else if (json_array_size(listen) > LISTEN_MAX) {
            return part_error_set(err, -EINVAL, "listen",
                                  "listen: %zu addresses, at most %d are allowed",
                                  json_array_size(listen), LISTEN_MAX);
        }
        json_array_foreach(listen, i, v) {
            snprintf(field, sizeof(field), "listen[%zu]", i);
            if (!json_is_string(v))
                return part_error_set(err, -EINVAL, field,
                                      "listen: entry %zu: expected a string, got %s", i + 1,
                                      part_json_type_name(v));
            if ((r = listen_check(json_string_value(v), field, err)) < 0)
                return r;
            values[n++] = json_string_value(v);
        }
        if ((r = set_listen(c, values, n)) < 0)
            return r;
    }

    static const char *const path_keys[] = {"token_file", "state_dir", "partitions_dir",
                                            "policies_dir"};
    char **path_slots[] = {&c->token_file, &c->state_dir, &c->partitions_dir, &c->policies_dir};
    for (size_t i = 0; i < sizeof(path_keys) / sizeof(path_keys[0]); i++) {
        s = NULL;
        if ((r = part_json_get_string(root, "", path_keys[i], &s, err)) < 0)
            return r;
        if (s && (r = set_path(path_slots[i], dir, s)) < 0)
            return r;
    }

    s = NULL;
    if ((r = part_json_get_string(root, "", "policy", &s, err)) < 0)
        return r;
    if (s && (r = part_name_check(s, "policy", "policy name", err)) < 0)
        return r;
    if (s && (r = set_string(&c->policy, s)) < 0)
        return r;
    if ((r = part_json_get_number(root, "", "interval", 0.1, 3600, &c->interval, err)) < 0)
        return r;

    if ((r = part_json_get_object(root, "", "cpc", &cpc, err)) < 0)
        return r;
    if (!cpc)
        return 0;
    if ((r = part_json_check_keys(cpc, "cpc", cpc_keys, err)) < 0 ||
        (r = part_json_get_uint(cpc, "cpc", "host_reserved_cpus", 0, 4096,
                                &c->cpc.host_reserved_cpus, err)) < 0 ||
        (r = part_json_get_number(cpc, "cpc", "cpu_overcommit", 1.0, 100.0, &c->cpc.cpu_overcommit,
                                  err)) < 0 ||
        (r = part_json_get_number(cpc, "cpc", "memory_overcommit", 1.0, 10.0,
                                  &c->cpc.memory_overcommit, err)) < 0)
        return r;
    if ((r = host_reserved_memory(c, cpc, err)) < 0)
        return r;
    if ((r = part_json_get_object(cpc, "cpc", "groups", &groups, err)) < 0)
        return r;
    if (groups && (r = config_groups(c, groups, err)) < 0)
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
        r = -ENOMEM;
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

/* Loads one profile file and checks that it is named after its partition. */
static int profile_load_named(const char *dir, const char *file, struct part_profile **ret,
                              struct part_error *err)
{
    char *path = part_path_join(dir, file), *text = NULL;
    struct part_profile *p = NULL;
    size_t len, stem = strlen(file) - 5;
    int r;

    if (!path)
        return -ENOMEM;
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
    *ret = p;
    p = NULL;
out:
    part_profile_free(p);
    free(text);
    free(path);
    return r;
}

int part_profiles_load_dir(const char *dir, struct part_profile ***ret, size_t *ret_n,
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
        r = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < count; i++) {
        part_error_clear(&errors[n_errors]); /* a good file may have left its name there */
        r = profile_load_named(dir, names[i]->d_name, &list[n], &errors[n_errors]);
        if (r == -ENOMEM)
            goto out;
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
