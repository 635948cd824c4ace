/* cpcs.json, the CPCs a client knows: read with the JSON member tables of
 * json.h, so that every error names the file, line, column and field. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "part/cpcs.h"

#include "file.h"
#include "json.h"

/* An entry as the file has it, strings borrowed from the document. */
struct entry_doc {
    char name[PART_NAME_MAX];
    const char *url, *token_file, *cacert;
};

/* The document: the entries read so far go straight into cpcs. */
struct cpcs_doc {
    struct part_cpcs *cpcs;
    const char *dir; /* relative paths are against it */
    double connect_timeout, timeout;
};

#define URL_FORMS "unix:/PATH, http://HOST:PORT or https://HOST:PORT"

/* "url": one of the three forms, with a path or a host after the scheme
 * and nothing a header or a terminal could be fooled by. */
static int url_check(json_t *v, const char *path, void *out, struct part_error *err)
{
    const char *s = json_string_value(v);
    bool clean = true, ok = false;

    for (const char *c = s; *c; c++)
        clean &= (unsigned char)*c > 0x20 && *c != 0x7f;
    if (strncmp(s, "unix:/", 6) == 0)
        ok = s[6] != '\0'; /* a socket, not "/" */
    else if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0)
        ok = s[strcspn(s, "/") + 2] != '\0' && s[strcspn(s, "/") + 2] != '/'; /* a host */
    if (!ok || !clean)
        return part_error_set(err, -EINVAL, path,
                              "%s: \"%s\" is not a partd address (" URL_FORMS ")", path,
                              clean ? s : "(control characters or blanks)");
    (void)out;
    return 0;
}

#define AT(f) offsetof(struct entry_doc, f)

static const struct part_json_member entry_members[] = {
    {"name", PART_JSON_NAME, .offset = AT(name), .flags = PART_JSON_REQUIRED, .what = "CPC name"},
    {"url", PART_JSON_STRING, .offset = AT(url), .flags = PART_JSON_REQUIRED, .after = url_check},
    {"token_file", PART_JSON_STRING, .offset = AT(token_file)},
    {"cacert", PART_JSON_STRING, .offset = AT(cacert)},
    {0},
};

#undef AT

/* path made absolute against dir, into *slot (NULL path: left NULL). */
static int take_path(char **slot, const char *dir, const char *path)
{
    if (!path)
        return 0;
    *slot = part_path_join(dir, path);
    return *slot ? 0 : -ENOMEM;
}

static int entry_take(struct part_cpc_entry *e, const struct entry_doc *d, const char *dir)
{
    memcpy(e->name, d->name, sizeof(e->name));
    if (!(e->url = strdup(d->url)) || take_path(&e->token_file, dir, d->token_file) < 0 ||
        take_path(&e->cacert, dir, d->cacert) < 0)
        return -ENOMEM;
    return 0;
}

/* "cpcs": [ENTRY, ...], 1 to PART_CPCS_MAX entries of distinct names */
static int cpcs_entries(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct cpcs_doc *doc = out;
    struct part_cpcs *c = doc->cpcs;
    char field[128];
    size_t i;
    json_t *a;
    int r;

    if (!json_is_array(v))
        return part_json_expected(path, "a list of CPCs", v, err);
    if (json_array_size(v) == 0 || json_array_size(v) > PART_CPCS_MAX)
        return part_error_set(err, -EINVAL, path, "%s: %zu CPCs, give 1 to %d", path,
                              json_array_size(v), PART_CPCS_MAX);
    if (!(c->entries = calloc(json_array_size(v), sizeof(*c->entries))))
        return part_error_oom(err);
    json_array_foreach (v, i, a) {
        struct entry_doc d = {.url = NULL};
        snprintf(field, sizeof(field), "%s[%zu]", path, i);
        if ((r = part_json_read(a, field, entry_members, &d, err)) < 0)
            return r;
        const struct part_cpc_entry *twin = part_cpcs_find(c, d.name);
        if (twin) {
            snprintf(field, sizeof(field), "%s[%zu].name", path, i);
            return part_error_set(err, -EINVAL, field, "%s: \"%s\" is already entry %zu's name",
                                  field, d.name, (size_t)(twin - c->entries) + 1);
        }
        if (entry_take(&c->entries[c->n++], &d, doc->dir) < 0)
            return part_error_oom(err);
    }
    return 0;
}

#define AT(f) offsetof(struct cpcs_doc, f)

static const struct part_json_member cpcs_members[] = {
    {"cpcs", PART_JSON_CUSTOM, .flags = PART_JSON_REQUIRED, .read = cpcs_entries},
    {"connect_timeout", PART_JSON_NUMBER, .offset = AT(connect_timeout), .lo = 0.001,
     .hi = PART_CPCS_TIMEOUT_MAX},
    {"timeout", PART_JSON_NUMBER, .offset = AT(timeout), .lo = 0.001, .hi = PART_CPCS_TIMEOUT_MAX},
    {0},
};

#undef AT

int part_cpcs_parse(const char *text, size_t len, const char *file, struct part_cpcs **ret,
                    struct part_error *err)
{
    struct cpcs_doc doc = {.connect_timeout = PART_CPCS_CONNECT_TIMEOUT,
                           .timeout = PART_CPCS_TIMEOUT};
    char *abs = NULL;
    json_t *root = NULL;
    int r;

    part_error_clear(err);
    if ((r = part_json_parse(text, len, file, &root, err)) < 0)
        return r;
    if (!(doc.cpcs = calloc(1, sizeof(*doc.cpcs))) || (file && !(doc.cpcs->path = strdup(file)))) {
        r = part_error_oom(err);
        goto out;
    }
    /* relative paths: against the file's directory, made absolute */
    if (!(abs = part_path_absolute(file ? file : "cpcs.json")) ||
        !(doc.dir = part_path_dirname(abs))) {
        r = part_error_oom(err);
        goto out;
    }
    r = part_json_read(root, "", cpcs_members, &doc, err);
    if (r == -EINVAL)
        part_error_locate(err, text, len);
    doc.cpcs->connect_timeout = doc.connect_timeout;
    doc.cpcs->timeout = doc.timeout;
out:
    json_decref(root);
    free((char *)doc.dir);
    free(abs);
    if (r < 0)
        part_cpcs_free(doc.cpcs);
    else
        *ret = doc.cpcs;
    return r;
}

int part_cpcs_load(const char *path, struct part_cpcs **ret, struct part_error *err)
{
    char *text = NULL;
    size_t len;
    int r;

    part_error_clear(err);
    if ((r = part_file_read(path, &text, &len, err)) < 0)
        return r;
    r = part_cpcs_parse(text, len, path, ret, err);
    free(text);
    return r;
}

struct part_cpcs *part_cpcs_free(struct part_cpcs *cpcs)
{
    if (!cpcs)
        return NULL;
    for (size_t i = 0; i < cpcs->n; i++) {
        free(cpcs->entries[i].url);
        free(cpcs->entries[i].token_file);
        free(cpcs->entries[i].cacert);
    }
    free(cpcs->entries);
    free(cpcs->path);
    free(cpcs);
    return NULL;
}

const struct part_cpc_entry *part_cpcs_find(const struct part_cpcs *cpcs, const char *name)
{
    for (size_t i = 0; i < cpcs->n; i++)
        if (strcmp(cpcs->entries[i].name, name) == 0)
            return &cpcs->entries[i];
    return NULL;
}

int part_cpcs_read_token(const struct part_cpc_entry *e, char *buf, size_t len,
                         struct part_error *err)
{
    part_error_clear(err);
    if (!e->token_file)
        return part_error_set(err, -EINVAL, "token_file", "%s has no token file", e->name);
    return part_file_read_user_secret(e->token_file, buf, len, err);
}
