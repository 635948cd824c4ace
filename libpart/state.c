/* Runtime state persisted in state_dir/state.json, written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "part/state.h"

#define STATE_FILE "state.json"

void part_state_clear(struct part_state *st)
{
    free(st->entries);
    st->entries = NULL;
    st->n = 0;
}

const struct part_state_entry *part_state_find(const struct part_state *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->entries[i].name, name) == 0)
            return &st->entries[i];
    return NULL;
}

int part_state_load(const char *dir, struct part_state *ret, struct part_error *err)
{
    char *path = part_path_join(dir, STATE_FILE), *text = NULL;
    json_t *root = NULL, *parts, *v;
    const char *name;
    size_t len;
    int r;

    memset(ret, 0, sizeof(*ret));
    if (!path)
        return part_error_oom(err);
    if (access(path, F_OK) < 0 && errno == ENOENT) {
        r = 0;
        goto out;
    }
    if ((r = part_file_read(path, &text, &len, err)) < 0 ||
        (r = part_json_parse(text, len, path, &root, err)) < 0)
        goto out;
    const char *policy = json_string_value(json_object_get(root, "policy"));
    if (policy && part_name_valid(policy))
        snprintf(ret->policy, sizeof(ret->policy), "%s", policy);
    parts = json_object_get(root, "partitions");
    if (!json_is_object(parts)) {
        r = part_error_set(err, -EINVAL, "partitions", "partitions: expected an object");
        goto out;
    }
    ret->entries = calloc(json_object_size(parts) + 1, sizeof(*ret->entries));
    if (!ret->entries) {
        r = -ENOMEM;
        goto out;
    }
    json_object_foreach (parts, name, v) {
        struct part_state_entry *e = &ret->entries[ret->n];
        if (!part_name_valid(name) || !json_is_object(v)) {
            r = part_error_set(err, -EINVAL, "partitions", "partitions.%s: invalid entry", name);
            goto out;
        }
        snprintf(e->name, sizeof(e->name), "%s", name);
        e->active = json_is_true(json_object_get(v, "active"));
        for (enum part_setting s = 0; s < PART_SET_N; s++)
            e->running[s] = json_number_value(json_object_get(v, part_setting_name(s)));
        ret->n++;
    }
out:
    if (r < 0)
        part_state_clear(ret);
    json_decref(root);
    free(text);
    free(path);
    return r;
}

int part_state_save(const char *dir, const struct part_cpc *cpc, const char *policy,
                    struct part_error *err)
{
    json_t *root = json_object(), *parts = json_object();
    char *path = NULL, *text = NULL;
    int r = -ENOMEM;

    if (!root || !parts || json_object_set_new(root, "version", json_integer(1)) < 0 ||
        json_object_set(root, "partitions", parts) < 0 ||
        (policy && json_object_set_new(root, "policy", json_string(policy)) < 0))
        goto out;
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (p->move == PART_MOVE_IN) /* not here yet: a reservation dies with partd */
            continue;
        /* a deactivation under way is the user's will already: partd
         * stopped before the guest did must not start it again */
        json_t *e = json_pack("{s:b}", "active", p->active && !p->deactivating);
        for (enum part_setting s = 0; e && s < PART_SET_N; s++)
            if (json_object_set_new(e, part_setting_name(s),
                                    part_setting_json(s, part_setting_running(p, s))) < 0) {
                json_decref(e);
                e = NULL;
            }
        if (!e || json_object_set_new(parts, p->profile->name, e) < 0)
            goto out;
    }
    if ((r = part_mkdir_p(dir, 0700)) < 0) {
        part_error_set_file(err, dir);
        r = part_error_set(err, r, "", "cannot create the state directory: %s", strerror(-r));
        goto out;
    }
    r = -ENOMEM;
    if (!(path = part_path_join(dir, STATE_FILE)) ||
        !(text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS)))
        goto out;
    r = part_file_write_atomic(path, text, strlen(text), 0600, err);
out:
    json_decref(parts);
    json_decref(root);
    free(path);
    free(text);
    return r;
}
