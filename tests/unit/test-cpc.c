/* The CPC model: entitlements (worked by hand in the comments), admission
 * control with the numbers in its messages, and dedicated CPU assignment. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <part/cpc.h>

#define EPS 1e-9

static struct part_cpc_config default_cfg(void)
{
    return (struct part_cpc_config){
        .host_reserved_cpus = 2,
        .host_reserved_memory = 4096,
        .cpu_overcommit = 4.0,
        .memory_overcommit = 1.0,
    };
}

/* A shared profile: n processors online (min 1, reserved 2n), weight w, cap,
 * 1 GiB (min 1 GiB, reserved 4 GiB). */
static struct part_profile *shared(const char *name, unsigned n, unsigned w, double cap)
{
    struct part_profile *p = part_profile_new(name);
    assert_non_null(p);
    p->proc_initial = n;
    p->proc_reserved = 2 * n;
    p->weight_initial = p->weight_min = p->weight_max = w;
    p->cap = cap;
    p->mem_reserved = 4096;
    return p;
}

static struct part_profile *dedicated(const char *name, unsigned n)
{
    struct part_profile *p = shared(name, n, 100, PART_CAP_NONE);
    p->mode = PART_MODE_DEDICATED;
    return p;
}

/* A CPC of cpus CPUs and memory MiB (2 CPUs and 4 GiB for the host). */
static struct part_cpc *cpc_make(unsigned cpus, uint64_t memory)
{
    struct part_cpc_config cfg = default_cfg();
    struct part_cpc *cpc;
    assert_int_equal(part_cpc_new(cpus, memory, &cfg, &cpc, NULL), 0);
    return cpc;
}

static struct part_partition *add_active(struct part_cpc *cpc, struct part_profile *p)
{
    assert_int_equal(part_cpc_define(cpc, p, NULL), 0);
    struct part_partition *part = part_cpc_find(cpc, p->name);
    assert_non_null(part);
    assert_int_equal(part_cpc_check_activate(cpc, part, NULL), 0);
    assert_int_equal(part_cpc_set_active(cpc, part, true), 0);
    return part;
}

static double ent(struct part_cpc *cpc, const char *name)
{
    return part_cpc_find(cpc, name)->entitlement;
}

static void test_entitlement_by_weight(void **state)
{
    /* 16 CPUs - 2 for the host = pool of 14. Weights 300/200/100 of 600:
     * a = 14 * 300/600 = 7, b = 14 * 200/600 = 4.667, c = 14 * 100/600 = 2.333 */
    struct part_cpc *cpc = cpc_make(16, 65536);
    add_active(cpc, shared("a", 8, 300, PART_CAP_NONE));
    add_active(cpc, shared("b", 8, 200, PART_CAP_NONE));
    add_active(cpc, shared("c", 8, 100, PART_CAP_NONE));
    assert_int_equal(cpc->pool, 14);
    assert_int_equal(cpc->weight_total, 600);
    assert_float_equal(ent(cpc, "a"), 7.0, 1e-9);
    assert_float_equal(ent(cpc, "b"), 14.0 * 200 / 600, EPS);
    assert_float_equal(ent(cpc, "c"), 14.0 * 100 / 600, EPS);
    part_cpc_free(cpc);
}

static void test_entitlement_cap_redistributes(void **state)
{
    /* Pool 14; a (300) capped at 4 instead of 7: the 10 left go to b and c
     * 2:1 -> b = 6.667, c = 3.333. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    add_active(cpc, shared("a", 8, 300, 4.0));
    add_active(cpc, shared("b", 8, 200, PART_CAP_NONE));
    add_active(cpc, shared("c", 8, 100, PART_CAP_NONE));
    assert_float_equal(ent(cpc, "a"), 4.0, EPS);
    assert_float_equal(ent(cpc, "b"), 20.0 / 3, EPS);
    assert_float_equal(ent(cpc, "c"), 10.0 / 3, EPS);
    part_cpc_free(cpc);
}

static void test_entitlement_limited_by_online_processors(void **state)
{
    /* Pool 14; a (300) has 2 online processors, so it can use 2 of its 7;
     * the other 12 go 2:1 -> b = 8, c = 4. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    add_active(cpc, shared("a", 2, 300, PART_CAP_NONE));
    add_active(cpc, shared("b", 8, 200, PART_CAP_NONE));
    add_active(cpc, shared("c", 8, 100, PART_CAP_NONE));
    assert_float_equal(ent(cpc, "a"), 2.0, EPS);
    assert_float_equal(ent(cpc, "b"), 8.0, EPS);
    assert_float_equal(ent(cpc, "c"), 4.0, EPS);
    part_cpc_free(cpc);
}

static void test_entitlement_everyone_limited(void **state)
{
    /* Pool 14, two partitions of 2 processors each: they get 2 + 2, and 10
     * CPUs of the pool are left idle rather than over-entitled. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    add_active(cpc, shared("a", 2, 900, PART_CAP_NONE));
    add_active(cpc, shared("b", 2, 100, PART_CAP_NONE));
    assert_float_equal(ent(cpc, "a"), 2.0, EPS);
    assert_float_equal(ent(cpc, "b"), 2.0, EPS);
    part_cpc_free(cpc);
}

static void test_entitlement_dedicated_leaves_pool(void **state)
{
    /* 16 - 2 host - 4 dedicated = pool of 10, split 1:1 -> 5 and 5; the
     * dedicated partition's entitlement is its 4 processors. Deactivated,
     * its CPUs return: pool 14 -> 7 and 7. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_partition *d = add_active(cpc, dedicated("d", 4));
    add_active(cpc, shared("a", 8, 100, PART_CAP_NONE));
    add_active(cpc, shared("b", 8, 100, PART_CAP_NONE));
    assert_int_equal(cpc->pool, 10);
    assert_int_equal(cpc->dedicated, 4);
    assert_float_equal(ent(cpc, "d"), 4.0, EPS);
    assert_float_equal(ent(cpc, "a"), 5.0, EPS);
    assert_int_equal(cpc->weight_total, 200); /* dedicated has no weight */
    part_cpc_set_active(cpc, d, false);
    assert_int_equal(cpc->pool, 14);
    assert_float_equal(ent(cpc, "a"), 7.0, EPS);
    assert_float_equal(ent(cpc, "d"), 0.0, EPS);
    part_cpc_free(cpc);
}

static void test_entitlement_group_cap(void **state)
{
    /* Pool 14; group g = {a 100, b 300} capped at 3; c 100 alone, 8 online.
     * Level 1: g claims 400 of 500 -> 11.2, capped at 3; c gets the other
     * 11, limited to its 8 online processors. Level 2: g's 3 split 1:3 ->
     * a = 0.75, b = 2.25. */
    struct part_cpc_config cfg = default_cfg();
    struct part_group_config groups[] = {{.name = "g", .cap = 3.0}};
    cfg.groups = groups;
    cfg.n_groups = 1;
    struct part_cpc *cpc;
    assert_int_equal(part_cpc_new(16, 65536, &cfg, &cpc, NULL), 0);
    struct part_profile *a = shared("a", 8, 100, PART_CAP_NONE), *b = shared("b", 8, 300, 0);
    strcpy(a->group, "g");
    strcpy(b->group, "g");
    add_active(cpc, a);
    add_active(cpc, shared("c", 8, 100, PART_CAP_NONE));
    add_active(cpc, b);
    assert_float_equal(ent(cpc, "a"), 0.75, EPS);
    assert_float_equal(ent(cpc, "b"), 2.25, EPS);
    assert_float_equal(ent(cpc, "c"), 8.0, EPS);
    part_cpc_free(cpc);
}

static void test_entitlement_group_without_cap(void **state)
{
    /* An uncapped group behaves as its members alone: pool 14, a 100 and b
     * 100 in group h (not configured: no cap), c 200 -> 3.5, 3.5, 7. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_profile *a = shared("a", 8, 100, PART_CAP_NONE), *b = shared("b", 8, 100, 0);
    strcpy(a->group, "h");
    strcpy(b->group, "h");
    add_active(cpc, a);
    add_active(cpc, b);
    add_active(cpc, shared("c", 8, 200, PART_CAP_NONE));
    assert_float_equal(ent(cpc, "a"), 3.5, EPS);
    assert_float_equal(ent(cpc, "b"), 3.5, EPS);
    assert_float_equal(ent(cpc, "c"), 7.0, EPS);
    part_cpc_free(cpc);
}

static void test_inactive_partitions_do_not_count(void **state)
{
    /* b is defined but inactive: a alone gets its 8 online processors. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    add_active(cpc, shared("a", 8, 100, PART_CAP_NONE));
    assert_int_equal(part_cpc_define(cpc, shared("b", 8, 900, PART_CAP_NONE), NULL), 0);
    assert_float_equal(ent(cpc, "a"), 8.0, EPS);
    assert_float_equal(ent(cpc, "b"), 0.0, EPS);
    assert_int_equal(cpc->weight_total, 100);
    part_cpc_free(cpc);
}

static void test_waterfill(void **state)
{
    /* total 10, weights 1:1:2, limits 1, 100, 100: first gets 1, the other
     * 9 split 1:2 -> 3 and 6. */
    double w[] = {1, 1, 2}, limit[] = {1, 100, 100}, out[3];
    part_waterfill(3, w, limit, 10, out);
    assert_float_equal(out[0], 1, EPS);
    assert_float_equal(out[1], 3, EPS);
    assert_float_equal(out[2], 6, EPS);

    /* more claimants than fit on the stack, all limited: each gets its limit */
    enum { N = 1000 };
    double *bw = malloc(N * sizeof(double)), *bl = malloc(N * sizeof(double)),
           *bo = malloc(N * sizeof(double)), sum = 0;
    for (int i = 0; i < N; i++) {
        bw[i] = 1 + i % 7;
        bl[i] = 0.5;
    }
    part_waterfill(N, bw, bl, 1e6, bo);
    for (int i = 0; i < N; i++)
        sum += bo[i];
    assert_float_equal(sum, N * 0.5, 1e-6);
    /* unlimited: proportional to weight, sums to the total */
    for (int i = 0; i < N; i++)
        bl[i] = INFINITY;
    part_waterfill(N, bw, bl, 100, bo);
    sum = 0;
    for (int i = 0; i < N; i++)
        sum += bo[i];
    assert_float_equal(sum, 100, 1e-6);
    assert_float_equal(bo[6] / bo[0], 7.0, 1e-9);
    free(bw);
    free(bl);
    free(bo);
}

static void test_admission_memory(void **state)
{
    /* 64 GiB - 4 GiB host = 60 GiB; 3 x 16 GiB active = 48; a 4th 16 GiB
     * would make 64 > 60. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_error err = {0};
    for (int i = 0; i < 4; i++) {
        char name[8] = {'m', (char)('0' + i), 0};
        struct part_profile *p = shared(name, 1, 100, PART_CAP_NONE);
        p->mem_initial = p->mem_reserved = 16384;
        p->mem_min = 8192;
        assert_int_equal(part_cpc_define(cpc, p, NULL), 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(part_cpc_check_activate(cpc, cpc->parts[i], NULL), 0);
        part_cpc_set_active(cpc, cpc->parts[i], true);
    }
    assert_int_equal(part_cpc_check_activate(cpc, cpc->parts[3], &err), -ENOSPC);
    assert_string_equal(err.field, "memory");
    assert_string_equal(err.message, "cannot activate m3: memory of active partitions would be "
                                     "64GiB, over the 60GiB available (64GiB - 4GiB host "
                                     "reserved, x memory_overcommit 1)");
    part_cpc_free(cpc);
}

static void test_admission_memory_minimums(void **state)
{
    /* With memory_overcommit 2 the targets may reach 120 GiB, but the
     * minimums (guaranteed) may not pass 60 GiB: 4 x 16 GiB minimums = 64. */
    struct part_cpc_config cfg = default_cfg();
    cfg.memory_overcommit = 2.0;
    struct part_cpc *cpc;
    struct part_error err = {0};
    assert_int_equal(part_cpc_new(16, 65536, &cfg, &cpc, NULL), 0);
    for (int i = 0; i < 4; i++) {
        char name[8] = {'m', (char)('0' + i), 0};
        struct part_profile *p = shared(name, 1, 100, PART_CAP_NONE);
        p->mem_initial = p->mem_min = p->mem_reserved = 16384;
        assert_int_equal(part_cpc_define(cpc, p, NULL), 0);
        if (i < 3) {
            assert_int_equal(part_cpc_check_activate(cpc, cpc->parts[i], NULL), 0);
            part_cpc_set_active(cpc, cpc->parts[i], true);
        }
    }
    assert_int_equal(part_cpc_check_activate(cpc, cpc->parts[3], &err), -ENOSPC);
    assert_string_equal(err.message, "cannot activate m3: memory minimums of active partitions "
                                     "(64GiB) exceed the 60GiB available (64GiB - 4GiB host "
                                     "reserved)");
    part_cpc_free(cpc);
}

static void test_admission_dedicated(void **state)
{
    /* 16 - 2 host = 14 usable; with a shared partition active one must stay
     * in the pool: 13 can be dedicated. 10 are, 4 more do not fit. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_error err = {0};
    add_active(cpc, shared("s", 1, 100, PART_CAP_NONE));
    add_active(cpc, dedicated("d1", 10));
    assert_int_equal(part_cpc_define(cpc, dedicated("d2", 4), NULL), 0);
    assert_int_equal(part_cpc_check_activate(cpc, part_cpc_find(cpc, "d2"), &err), -ENOSPC);
    assert_string_equal(err.message, "cannot activate d2: 14 dedicated processors needed, 13 host "
                                     "CPUs can be dedicated (16 CPUs - 2 host reserved - 1 kept "
                                     "for the shared pool)");
    part_cpc_free(cpc);
}

static void test_admission_shared_wider_than_pool(void **state)
{
    /* 4 dedicated leave a pool of 10: a shared partition of 12 logical
     * processors could never run them all. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_error err = {0};
    add_active(cpc, dedicated("d", 4));
    struct part_profile *p = shared("wide", 12, 100, PART_CAP_NONE);
    assert_int_equal(part_cpc_define(cpc, p, NULL), 0); /* fits the empty CPC (14) */
    assert_int_equal(part_cpc_check_activate(cpc, part_cpc_find(cpc, "wide"), &err), -ENOSPC);
    assert_string_equal(err.message, "cannot activate wide: a shared partition would have 12 "
                                     "logical processors on a shared pool of 10 CPUs");
    part_cpc_free(cpc);
}

static void test_admission_cpu_overcommit(void **state)
{
    /* pool 14 x overcommit 4 = 56 logical processors; 4 x 14 = 56 fit, the
     * next one does not. */
    struct part_cpc *cpc = cpc_make(16, 65536 * 4);
    struct part_error err = {0};
    for (int i = 0; i < 4; i++) {
        char name[8] = {'p', (char)('0' + i), 0};
        add_active(cpc, shared(name, 14, 100, PART_CAP_NONE));
    }
    assert_int_equal(part_cpc_define(cpc, shared("one", 1, 100, PART_CAP_NONE), NULL), 0);
    assert_int_equal(part_cpc_check_activate(cpc, part_cpc_find(cpc, "one"), &err), -ENOSPC);
    assert_string_equal(err.message, "cannot activate one: 57 shared logical processors exceed 56 "
                                     "(pool of 14 CPUs x cpu_overcommit 4)");
    part_cpc_free(cpc);
}

static void test_define_refusals(void **state)
{
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_error err = {0};
    struct part_profile *big = shared("big", 1, 100, PART_CAP_NONE);
    big->mem_initial = big->mem_reserved = 100 * 1024;
    assert_int_equal(part_cpc_define(cpc, big, &err), -ENOSPC);
    assert_string_equal(err.message, "cannot define big: memory of active partitions would be "
                                     "100GiB, over the 60GiB available (64GiB - 4GiB host "
                                     "reserved, x memory_overcommit 1)");
    part_profile_free(big); /* not taken on failure */

    assert_int_equal(part_cpc_define(cpc, shared("a", 1, 100, PART_CAP_NONE), NULL), 0);
    struct part_profile *dup = shared("a", 1, 100, PART_CAP_NONE);
    assert_int_equal(part_cpc_define(cpc, dup, &err), -EEXIST);
    assert_string_equal(err.message, "name: partition a is already defined");
    part_profile_free(dup);

    struct part_profile *adopt = shared("b", 1, 100, PART_CAP_NONE);
    free(adopt->domain_name);
    adopt->domain_name = strdup("a");
    adopt->adopt = true;
    assert_int_equal(part_cpc_define(cpc, adopt, &err), -EEXIST);
    assert_string_equal(err.field, "domain.adopt");
    assert_string_equal(err.message, "domain.adopt: domain \"a\" already belongs to partition a");
    part_profile_free(adopt);
    assert_int_equal(cpc->n, 1);
    part_cpc_free(cpc);
}

static void test_undefine(void **state)
{
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_error err = {0};
    struct part_partition *a = add_active(cpc, shared("a", 1, 100, PART_CAP_NONE));
    assert_int_equal(part_cpc_define(cpc, shared("b", 1, 100, PART_CAP_NONE), NULL), 0);
    assert_int_equal(part_cpc_undefine(cpc, "a", &err), -EBUSY);
    assert_string_equal(err.message, "a is active; deactivate it first");
    assert_int_equal(part_cpc_undefine(cpc, "zz", &err), -ENOENT);
    part_cpc_set_active(cpc, a, false);
    assert_int_equal(part_cpc_undefine(cpc, "a", NULL), 0);
    assert_null(part_cpc_find(cpc, "a"));
    assert_non_null(part_cpc_find(cpc, "b"));
    assert_int_equal(cpc->n, 1);
    part_cpc_free(cpc);
}

static void test_resize_bounds(void **state)
{
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_error err = {0};
    struct part_partition *a = add_active(cpc, shared("a", 2, 100, PART_CAP_NONE));
    /* profile: processors 1..4, memory 1024..4096 */
    assert_int_equal(part_cpc_check_resize(cpc, a, 4, 4096, NULL), 0);
    assert_int_equal(part_cpc_check_resize(cpc, a, 5, 1024, &err), -ERANGE);
    assert_string_equal(err.message, "processors (5) exceeds processors.reserved (4)");
    assert_int_equal(part_cpc_check_resize(cpc, a, 0, 1024, &err), -ERANGE);
    assert_string_equal(err.message, "processors (0) is below processors.min (1)");
    assert_int_equal(part_cpc_check_resize(cpc, a, 1, 512, &err), -ERANGE);
    assert_string_equal(err.message, "memory (512MiB) is below memory.min (1GiB)");
    assert_int_equal(part_cpc_check_resize(cpc, a, 1, 8192, &err), -ERANGE);
    assert_string_equal(err.field, "memory");
    part_cpc_free(cpc);
}

static void test_resize_capacity(void **state)
{
    /* 60 GiB available; a at 30 GiB, b at 29 GiB; b may grow by 1 GiB, not 2. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_profile *pa = shared("a", 1, 100, PART_CAP_NONE);
    struct part_profile *pb = shared("b", 1, 100, PART_CAP_NONE);
    pa->mem_initial = pa->mem_reserved = 30720;
    pb->mem_initial = 29696;
    pb->mem_reserved = 40960;
    add_active(cpc, pa);
    struct part_partition *b = add_active(cpc, pb);
    assert_int_equal(part_cpc_check_resize(cpc, b, 1, 30720, NULL), 0);
    assert_int_equal(part_cpc_check_resize(cpc, b, 1, 31744, NULL), -ENOSPC);
    assert_int_equal(part_cpc_set_running(cpc, b, 2, 30720), 0);
    assert_int_equal(cpc->memory_active, 61440);
    part_cpc_free(cpc);
}

static void test_dedicated_cpus(void **state)
{
    /* d1 takes the top CPUs 15,14; d2 13,12,11; the pool is 2..10. When d1
     * grows to 3 it takes 10; when d2 is deactivated its CPUs return. */
    struct part_cpc *cpc = cpc_make(16, 65536);
    struct part_partition *d1 = add_active(cpc, dedicated("d1", 2));
    struct part_partition *d2 = add_active(cpc, dedicated("d2", 3));
    unsigned pool[16];
    assert_int_equal(d1->cpus[0], 15);
    assert_int_equal(d1->cpus[1], 14);
    assert_int_equal(d2->cpus[0], 13);
    assert_int_equal(d2->cpus[2], 11);
    size_t n = part_cpc_pool_cpus(cpc, pool);
    assert_int_equal(n, 9);
    assert_int_equal(pool[0], 2);
    assert_int_equal(pool[8], 10);
    assert_int_equal(part_cpc_set_running(cpc, d1, 3, 1024), 0);
    assert_int_equal(d1->cpus[2], 10);
    assert_int_equal(cpc->pool, 8);
    part_cpc_set_active(cpc, d2, false);
    assert_int_equal(part_cpc_pool_cpus(cpc, pool), 11);
    assert_int_equal(cpc->pool, 11);
    part_cpc_free(cpc);
}

static void test_new_refuses_reserve_of_everything(void **state)
{
    struct part_cpc_config cfg = default_cfg();
    struct part_cpc *cpc;
    struct part_error err = {0};
    cfg.host_reserved_cpus = 16;
    assert_int_equal(part_cpc_new(16, 65536, &cfg, &cpc, &err), -EINVAL);
    assert_string_equal(
        err.message, "cpc.host_reserved_cpus (16) leaves no CPU of the host's 16 for partitions");
    cfg.host_reserved_cpus = 1;
    cfg.host_reserved_memory = 65536;
    assert_int_equal(part_cpc_new(16, 65536, &cfg, &cpc, &err), -EINVAL);
    assert_string_equal(err.field, "cpc.host_reserved_memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entitlement_by_weight),
        cmocka_unit_test(test_entitlement_cap_redistributes),
        cmocka_unit_test(test_entitlement_limited_by_online_processors),
        cmocka_unit_test(test_entitlement_everyone_limited),
        cmocka_unit_test(test_entitlement_dedicated_leaves_pool),
        cmocka_unit_test(test_entitlement_group_cap),
        cmocka_unit_test(test_entitlement_group_without_cap),
        cmocka_unit_test(test_inactive_partitions_do_not_count),
        cmocka_unit_test(test_waterfill),
        cmocka_unit_test(test_admission_memory),
        cmocka_unit_test(test_admission_memory_minimums),
        cmocka_unit_test(test_admission_dedicated),
        cmocka_unit_test(test_admission_shared_wider_than_pool),
        cmocka_unit_test(test_admission_cpu_overcommit),
        cmocka_unit_test(test_define_refusals),
        cmocka_unit_test(test_undefine),
        cmocka_unit_test(test_resize_bounds),
        cmocka_unit_test(test_resize_capacity),
        cmocka_unit_test(test_dedicated_cpus),
        cmocka_unit_test(test_new_refuses_reserve_of_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
