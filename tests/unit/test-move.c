/* Moves between CPCs (move.h): a reservation counts in admission control
 * like an active partition, the request a target reads is checked as
 * hostile input, the source's records survive as files, and a restarted
 * source resolves a record from where its guest is. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <part/part.h>

#include "golden.h"

static struct part_profile *shared(const char *name, uint64_t mem)
{
    struct part_profile *p = part_profile_new(name);
    assert_non_null(p);
    p->proc_initial = 2;
    p->proc_reserved = 4;
    p->mem_initial = p->mem_min = mem;
    p->mem_reserved = 2 * mem;
    return p;
}

/* 16 CPUs, 16 GiB (4 for the host): 12 GiB for partitions. */
static struct part_cpc *cpc_make(void)
{
    struct part_cpc_config cfg = {.host_reserved_cpus = 2,
                                  .host_reserved_memory = 4096,
                                  .cpu_overcommit = 4.0,
                                  .memory_overcommit = 1.0};
    struct part_cpc *cpc;
    assert_int_equal(part_cpc_new(16, 16384, &cfg, &cpc, NULL), 0);
    return cpc;
}

static struct part_partition *add(struct part_cpc *cpc, const char *name, uint64_t mem)
{
    assert_int_equal(part_cpc_define(cpc, shared(name, mem), NULL), 0);
    return part_cpc_find(cpc, name);
}

/* A reservation holds its running values in admission control until it is
 * released, without being active. */
static void test_reservation_counts(void **state)
{
    struct part_cpc *cpc = cpc_make();
    struct part_partition *run = add(cpc, "run", 4096), *in = add(cpc, "in", 2048);
    struct part_partition *next = add(cpc, "next", 4096);
    struct part_error err = {0};

    assert_int_equal(part_cpc_set_active(cpc, run, true), 0);
    /* 4 + 4 of 12 GiB: fits */
    assert_int_equal(part_cpc_check_activate(cpc, next, NULL), 0);
    /* reserved for a move at 6 GiB running: 4 + 6 + 4 > 12 */
    in->move = PART_MOVE_IN;
    in->processors = 2;
    in->memory = 6144;
    assert_false(in->active);
    assert_int_equal(part_cpc_check_activate(cpc, next, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "14GiB"));
    assert_non_null(strstr(err.message, "12GiB"));
    struct part_cpc_totals t;
    part_cpc_totals(cpc, &t);
    assert_int_equal(t.memory, 4096 + 6144);
    /* released (or expired): the capacity is back */
    in->move = PART_MOVE_NONE;
    assert_int_equal(part_cpc_check_activate(cpc, next, NULL), 0);
    part_cpc_free(cpc);
}

static const char *request_text =
    "{\"profile\": {\"name\": \"web\", \"processors\": {\"initial\": 2, \"min\": 1, "
    "\"reserved\": 4}, \"memory\": {\"initial\": \"1GiB\", \"min\": \"512MiB\", "
    "\"reserved\": \"2GiB\"}, \"weight\": {\"initial\": 200, \"min\": 100, \"max\": 400}},"
    " \"running\": {\"processors\": 3, \"memory\": \"1536MiB\", \"weight\": 300, \"cap\": 1.5},"
    " \"guest\": {\"type\": \"qemu\", \"arch\": \"x86_64\", \"cpu\": \"\"},"
    " \"timeout_s\": 60, \"reserve\": true, \"id\": \"0123456789abcdef\"}";

/* A request read, written back and read again is the same. */
static void test_request_roundtrip(void **state)
{
    struct part_move_request req, again;
    assert_int_equal(part_move_request_parse(request_text, strlen(request_text), &req, NULL), 0);
    assert_string_equal(req.profile->name, "web");
    assert_int_equal(req.processors, 3);
    assert_int_equal(req.memory, 1536);
    assert_int_equal(req.weight, 300);
    assert_true(req.cap == 1.5);
    assert_string_equal(req.guest.type, "qemu");
    assert_string_equal(req.guest.machine, "");
    assert_int_equal(req.timeout_s, 60);
    assert_true(req.reserve);
    assert_string_equal(req.id, "0123456789abcdef");
    json_t *j = part_move_request_json(&req);
    char *text = json_dumps(j, 0);
    assert_int_equal(part_move_request_parse(text, strlen(text), &again, NULL), 0);
    assert_int_equal(again.memory, req.memory);
    assert_int_equal(again.weight, req.weight);
    assert_string_equal(again.id, req.id);
    free(text);
    json_decref(j);
    part_move_request_clear(&req);
    part_move_request_clear(&again);
}

/* Hostile requests: refused with the field at fault. */
static void test_request_hostile(void **state)
{
    static const struct {
        const char *from, *to, *field;
    } cases[] = {
        {"\"memory\": \"1536MiB\"", "\"memory\": \"3GiB\"", "running"},
        {"\"processors\": 3,", "\"processors\": 0,", "running.processors"},
        {"\"weight\": 300", "\"weight\": 50", "running"},
        {"\"type\": \"qemu\"", "\"type\": \"qemu'/><x\"", "guest.type"},
        {"\"cpu\": \"\"", "\"cpu\": \"<domain/>\"", "guest.cpu"},
        {"\"id\": \"0123456789abcdef\"", "\"id\": \"../../etc\"", "id"},
        {", \"id\": \"0123456789abcdef\"", "", "id"},
        {"\"name\": \"web\"", "\"name\": \"../web\"", "profile.name"},
        {"\"timeout_s\": 60", "\"timeout_s\": 0", "timeout_s"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[2048];
        const char *at = strstr(request_text, cases[i].from);
        assert_non_null(at);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - request_text), request_text,
                 cases[i].to, at + strlen(cases[i].from));
        struct part_move_request req;
        struct part_error err = {0};
        int r = part_move_request_parse(text, strlen(text), &req, &err);
        if (r == 0)
            fail_msg("case %zu accepted: %s", i, text);
        if (strcmp(err.field, cases[i].field) != 0)
            fail_msg("case %zu: field %s, expected %s (%s)", i, err.field, cases[i].field,
                     err.message);
    }
}

/* A restarted source: the guest here, the target releases; gone, it
 * adopts; still migrating or unknown, look again. */
static void test_resolve(void **state)
{
    assert_int_equal(part_move_resolve(PART_MOVE_HERE), PART_MOVE_RELEASE);
    assert_int_equal(part_move_resolve(PART_MOVE_GONE), PART_MOVE_ADOPT);
    assert_int_equal(part_move_resolve(PART_MOVE_MIGRATING), PART_MOVE_WAIT);
    assert_int_equal(part_move_resolve(PART_MOVE_UNKNOWN), PART_MOVE_WAIT);
}

static void test_records(void **state)
{
    char dir[] = "/tmp/test-move-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct part_move_record rec = {.id = "00112233445566778899aabbccddeeff",
                                   .partition = "web",
                                   .peer = "b",
                                   .step = PART_MOVE_STEP_MIGRATING,
                                   .request = json_pack("{s:i}", "x", 1)};
    struct part_move_record *recs;
    size_t n;
    assert_int_equal(part_move_records_load(dir, &recs, &n, NULL), 0);
    assert_int_equal(n, 0);
    part_move_records_free(recs, n);
    assert_int_equal(part_move_record_save(dir, &rec, NULL), 0);
    assert_int_equal(part_move_records_load(dir, &recs, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].id, rec.id);
    assert_string_equal(recs[0].partition, "web");
    assert_string_equal(recs[0].peer, "b");
    assert_int_equal(recs[0].step, PART_MOVE_STEP_MIGRATING);
    assert_true(json_equal(recs[0].request, rec.request));
    part_move_records_free(recs, n);
    assert_int_equal(part_move_record_remove(dir, "web", NULL), 0);
    assert_int_equal(part_move_records_load(dir, &recs, &n, NULL), 0);
    assert_int_equal(n, 0);
    part_move_records_free(recs, n);
    json_decref(rec.request);
    golden_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reservation_counts),
        cmocka_unit_test(test_request_roundtrip),
        cmocka_unit_test(test_request_hostile),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
