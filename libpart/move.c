/* A move's request, id and record, and what a restarted source does with
 * a record (move.h). No I/O but the record's files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "file.h"
#include "json.h"
#include "part/move.h"
#include "part/setting.h"

/* The request as read: the profile parsed by its own reader. */
struct request_doc {
    struct part_move_request *req;
    unsigned processors, weight;
    uint64_t memory;
    double cap;
};

#define AT(field) offsetof(struct request_doc, field)
#define GUEST(field)                                                                               \
    (offsetof(struct part_move_request, guest) + offsetof(struct part_hv_guest, field))

static int request_profile(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct request_doc *d = out;
    if (!json_is_object(v))
        return part_json_expected(path, "a profile (an object)", v, err);
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        return part_error_oom(err);
    int r = part_profile_parse(text, strlen(text), NULL, &d->req->profile, err);
    if (r == -EINVAL && err) { /* its field, within the request */
        char field[sizeof(err->field) + 8];
        snprintf(field, sizeof(field), "profile.%s", err->field);
        field[sizeof(err->field) - 1] = '\0';
        memcpy(err->field, field, sizeof(err->field));
        err->line = err->column = 0;
    }
    free(text);
    return r;
}

/* A word libvirt names things with: letters, digits, _ . - */
static int request_word(json_t *v, const char *path, void *out, struct part_error *err)
{
    const char *s = json_string_value(v);
    if (s &&
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s))
        return 0;
    return part_error_set(err, -EINVAL, path, "%s: \"%s\" is not a name (A-Z a-z 0-9 _ . -)", path,
                          s ? s : "");
}

static int request_cpu(json_t *v, const char *path, void *out, struct part_error *err)
{
    const char *s = json_string_value(v);
    if (s && (!*s || strncmp(s, "<cpu", 4) == 0))
        return 0;
    return part_error_set(err, -EINVAL, path, "%s: expected a <cpu> element of libvirt's", path);
}

static const struct part_json_member running_members[] = {
    {"processors", PART_JSON_UINT, .offset = AT(processors), .flags = PART_JSON_REQUIRED, .lo = 1,
     .hi = PART_PROCESSORS_MAX},
    {"memory", PART_JSON_SIZE, .offset = AT(memory), .flags = PART_JSON_REQUIRED},
    {"weight", PART_JSON_UINT, .offset = AT(weight), .lo = PART_WEIGHT_MIN, .hi = PART_WEIGHT_MAX},
    {"cap", PART_JSON_CAP, .offset = AT(cap), .lo = PART_CAP_MIN, .hi = PART_CAP_MAX,
     .none = PART_CAP_NONE},
    {0},
};

/* guest: read into the request itself (offsets from its start) */
static const struct part_json_member guest_members[] = {
    {"type", PART_JSON_TEXT, .offset = GUEST(type), .flags = PART_JSON_REQUIRED,
     .size = sizeof(((struct part_hv_guest *)0)->type), .after = request_word},
    {"arch", PART_JSON_TEXT, .offset = GUEST(arch),
     .size = sizeof(((struct part_hv_guest *)0)->arch), .after = request_word},
    {"machine", PART_JSON_TEXT, .offset = GUEST(machine),
     .size = sizeof(((struct part_hv_guest *)0)->machine), .after = request_word},
    {0},
};

static int request_guest(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct request_doc *d = out;
    json_t *cpu = json_is_object(v) ? json_object_get(v, "cpu") : NULL;
    char field[64];
    int r;

    if (!json_is_object(v))
        return part_json_expected(path, "an object", v, err);
    /* cpu may be "" (the default model), which TEXT refuses: read here */
    json_t *rest = json_copy(v);
    if (!rest)
        return part_error_oom(err);
    json_object_del(rest, "cpu");
    r = part_json_read(rest, path, guest_members, d->req, err);
    json_decref(rest);
    if (r < 0 || !cpu)
        return r;
    part_json_path(field, sizeof(field), path, "cpu");
    if (!json_is_string(cpu))
        return part_json_expected(field, "a string", cpu, err);
    if ((r = request_cpu(cpu, field, out, err)) < 0)
        return r;
    if (strlen(json_string_value(cpu)) >= sizeof(d->req->guest.cpu))
        return part_error_set(err, -EINVAL, field, "%s: longer than %zu bytes", field,
                              sizeof(d->req->guest.cpu) - 1);
    snprintf(d->req->guest.cpu, sizeof(d->req->guest.cpu), "%s", json_string_value(cpu));
    return 0;
}

static int request_timeout(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct request_doc *d = out;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 86400)
        return part_error_set(err, -EINVAL, path, "%s: expected seconds, 1 to 86400", path);
    d->req->timeout_s = (unsigned)json_integer_value(v);
    return 0;
}

static int request_reserve(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct request_doc *d = out;
    if (!json_is_boolean(v))
        return part_json_expected(path, "true or false", v, err);
    d->req->reserve = json_is_true(v);
    return 0;
}

static int request_id(json_t *v, const char *path, void *out, struct part_error *err)
{
    struct request_doc *d = out;
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n < 8 || n >= PART_MOVE_ID_MAX || strspn(s, "0123456789abcdef") != n)
        return part_error_set(err, -EINVAL, path, "%s: expected 8 to %d hex digits", path,
                              PART_MOVE_ID_MAX - 1);
    memcpy(d->req->id, s, n + 1);
    return 0;
}

static const struct part_json_member request_members[] = {
    {"profile", PART_JSON_CUSTOM, .flags = PART_JSON_REQUIRED, .read = request_profile},
    {"running", PART_JSON_OBJECT, .flags = PART_JSON_REQUIRED, .members = running_members},
    {"guest", PART_JSON_CUSTOM, .flags = PART_JSON_REQUIRED, .read = request_guest},
    {"timeout_s", PART_JSON_CUSTOM, .read = request_timeout},
    {"reserve", PART_JSON_CUSTOM, .read = request_reserve},
    {"id", PART_JSON_CUSTOM, .read = request_id},
    {0},
};

/* The running values within the profile's bounds, as a resize's are. */
static int request_bounds(const struct part_move_request *req, struct part_error *err)
{
    const double v[PART_SET_N] = {
        [PART_SET_PROCESSORS] = req->processors,
        [PART_SET_MEMORY] = (double)req->memory,
        [PART_SET_WEIGHT] = req->weight,
        [PART_SET_CAP] = req->cap,
    };
    char a[32], lo[32], hi[32];
    for (enum part_setting s = 0; s < PART_SET_N; s++) {
        double l, h;
        if (part_setting_allowed(req->profile, s, v[s]))
            continue;
        part_setting_bounds(req->profile, s, &l, &h);
        return part_error_set(err, -ERANGE, "running",
                              "running.%s: %s is outside the profile's "
                              "bounds (%s to %s)",
                              part_setting_name(s), part_setting_text(s, v[s], a, sizeof(a)),
                              part_setting_text(s, l, lo, sizeof(lo)),
                              part_setting_text(s, h, hi, sizeof(hi)));
    }
    return 0;
}

int part_move_request_parse(const char *text, size_t len, struct part_move_request *ret,
                            struct part_error *err)
{
    struct part_move_request req = {.cap = PART_CAP_NONE, .timeout_s = PART_PEER_TIMEOUT_S_DEFAULT};
    struct request_doc d = {.req = &req, .cap = PART_CAP_NONE};
    int r = part_json_read_text(text, len, request_members, &d, err);
    if (r == 0) {
        req.processors = d.processors;
        req.memory = d.memory;
        req.weight = d.weight ? d.weight : req.profile->weight_initial;
        req.cap = d.cap;
        r = request_bounds(&req, err);
        if (r == 0 && req.reserve && !req.id[0])
            r = part_error_set(err, -EINVAL, "id", "id: required with reserve");
    }
    if (r < 0) {
        part_move_request_clear(&req);
        return r;
    }
    *ret = req;
    return 0;
}

json_t *part_move_request_json(const struct part_move_request *req)
{
    /* what the guest's domain does not say is left out */
    json_t *guest = json_pack("{s:s, s:s}", "type", req->guest.type, "cpu", req->guest.cpu);
    if (guest && req->guest.arch[0])
        json_object_set_new(guest, "arch", json_string(req->guest.arch));
    if (guest && req->guest.machine[0])
        json_object_set_new(guest, "machine", json_string(req->guest.machine));
    json_t *j = json_pack("{s:o, s:{s:I, s:I, s:I, s:o}, s:o*, s:I, s:b}", "profile",
                          part_profile_to_json(req->profile), "running", "processors",
                          (json_int_t)req->processors, "memory", (json_int_t)req->memory, "weight",
                          (json_int_t)req->weight, "cap", part_cap_json(req->cap), "guest", guest,
                          "timeout_s", (json_int_t)req->timeout_s, "reserve", req->reserve);
    if (!guest) {
        json_decref(j);
        return NULL;
    }
    if (j && req->id[0] && json_object_set_new(j, "id", json_string(req->id)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void part_move_request_clear(struct part_move_request *req)
{
    part_profile_free(req->profile);
    req->profile = NULL;
}

void part_move_id_new(char id[PART_MOVE_ID_MAX])
{
    unsigned char b[16] = {0};
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* ENOSYS, a kernel before 3.17: the rest of the id stays zero */
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
}

/* state_dir/moves[/NAME.json] */
static char *record_path(const char *state_dir, const char *partition)
{
    char *path;
    if (asprintf(&path, "%s/moves%s%s%s", state_dir, partition ? "/" : "",
                 partition ? partition : "", partition ? ".json" : "") < 0)
        return NULL;
    return path;
}

static const char *const step_names[] = {"reserved", "migrating"};

int part_move_record_save(const char *state_dir, const struct part_move_record *rec,
                          struct part_error *err)
{
    char *dir = record_path(state_dir, NULL), *path = record_path(state_dir, rec->partition);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", rec->id, "partition", rec->partition,
                          "peer", rec->peer, "step", step_names[rec->step], "request",
                          rec->request ? rec->request : json_null());
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int r;

    if (!dir || !path || !text)
        r = part_error_oom(err);
    else if ((r = part_mkdir_p(dir, 0700)) < 0)
        part_error_set(err, r, "", "%s: cannot create: %s", dir, strerror(-r));
    else
        r = part_file_write_atomic(path, text, strlen(text), 0600, err);
    free(text);
    json_decref(j);
    free(dir);
    free(path);
    return r;
}

/* One record from path into rec. */
static int record_load(const char *path, struct part_move_record *rec, struct part_error *err)
{
    char *text = NULL;
    size_t len;
    json_t *j = NULL;
    const char *id, *partition, *peer, *step;
    json_t *request;
    int r;

    if ((r = part_file_read(path, &text, &len, err)) < 0 ||
        (r = part_json_parse(text, len, path, &j, err)) < 0)
        goto out;
    if (json_unpack(j, "{s:s, s:s, s:s, s:s, s:o}", "id", &id, "partition", &partition, "peer",
                    &peer, "step", &step, "request", &request) < 0 ||
        strlen(id) >= sizeof(rec->id) || !part_name_valid(partition) || !part_name_valid(peer)) {
        part_error_set_file(err, path);
        r = part_error_set(err, -EINVAL, "", "not a move record of partd's");
        goto out;
    }
    memset(rec, 0, sizeof(*rec));
    snprintf(rec->id, sizeof(rec->id), "%s", id);
    snprintf(rec->partition, sizeof(rec->partition), "%s", partition);
    snprintf(rec->peer, sizeof(rec->peer), "%s", peer);
    rec->step = strcmp(step, "migrating") == 0 ? PART_MOVE_STEP_MIGRATING : PART_MOVE_STEP_RESERVED;
    rec->request = json_incref(request);
out:
    json_decref(j);
    free(text);
    return r;
}

static int filter_record(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

int part_move_records_load(const char *state_dir, struct part_move_record **ret, size_t *ret_n,
                           struct part_error *err)
{
    char *dir = record_path(state_dir, NULL);
    struct dirent **names = NULL;
    struct part_move_record *recs = NULL;
    size_t n = 0;
    int count, r = 0;

    *ret = NULL;
    *ret_n = 0;
    if (!dir)
        return part_error_oom(err);
    count = scandir(dir, &names, filter_record, alphasort);
    free(dir);
    if (count < 0)
        return errno == ENOENT
                   ? 0
                   : part_error_set(err, -errno, "", "%s/moves: %s", state_dir, strerror(errno));
    if (!(recs = calloc((size_t)count + 1, sizeof(*recs))))
        r = part_error_oom(err);
    for (int i = 0; recs && i < count; i++) {
        char *path = NULL;
        if (asprintf(&path, "%s/moves/%s", state_dir, names[i]->d_name) < 0)
            path = NULL;
        if (!path || record_load(path, &recs[n], err) < 0)
            r = -EINVAL;
        else
            n++;
        free(path);
    }
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    *ret = recs;
    *ret_n = n;
    return r;
}

int part_move_record_remove(const char *state_dir, const char *partition, struct part_error *err)
{
    char *path = record_path(state_dir, partition);
    int r = 0;
    if (!path)
        return part_error_oom(err);
    if (unlink(path) < 0 && errno != ENOENT)
        r = part_error_set(err, -errno, "", "%s: cannot remove: %s", path, strerror(errno));
    free(path);
    return r;
}

void part_move_records_free(struct part_move_record *recs, size_t n)
{
    for (size_t i = 0; recs && i < n; i++)
        json_decref(recs[i].request);
    free(recs);
}

enum part_move_action part_move_resolve(enum part_move_where where)
{
    switch (where) {
    case PART_MOVE_HERE:
        return PART_MOVE_RELEASE;
    case PART_MOVE_GONE:
        return PART_MOVE_ADOPT;
    case PART_MOVE_MIGRATING:
    case PART_MOVE_UNKNOWN:
    default:
        return PART_MOVE_WAIT;
    }
}
