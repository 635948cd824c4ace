/* Where partitions would fit better across CPCs (part/fit.h): the demand
 * of a partition, which CPCs are over their pool, and which moves the
 * suggestion makes: the fewest and smallest that bring a CPC within its
 * pool, each to the CPC with the most room that admits it (name,
 * processors, memory). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <part/fit.h>

/* An active shared partition of online processors, using used. */
static struct part_fit_partition shared(const char *name, unsigned online, double used)
{
    struct part_fit_partition p = {.active = true,
                                   .processors = online,
                                   .used = used,
                                   .entitlement = online,
                                   .memory = 2048,
                                   .memory_min = 1024};
    snprintf(p.name, sizeof(p.name), "%s", name);
    return p;
}

static struct part_fit_cpc cpc(const char *name, unsigned usable, uint64_t memory,
                               const struct part_fit_partition *parts, size_t n)
{
    struct part_fit_cpc c = {.reachable = true,
                             .cap = {.cpus = usable + 2,
                                     .host_reserved_cpus = 2,
                                     .cpu_overcommit = 4,
                                     .memory = memory + 4096,
                                     .host_reserved_memory = 4096,
                                     .memory_overcommit = 1},
                             .parts = parts,
                             .n = n};
    snprintf(c.name, sizeof(c.name), "%s", name);
    return c;
}

static struct part_fit *plan(const struct part_fit_cpc *cpcs, size_t n)
{
    struct part_fit *pl = NULL;
    assert_int_equal(part_fit_plan(cpcs, n, &pl, NULL), 0);
    assert_non_null(pl);
    assert_int_equal(pl->n, n);
    return pl;
}

static void test_demand(void **state)
{
    struct part_fit_partition p = shared("p", 4, 1.5);
    assert_true(part_fit_demand(&p, false) == 1.5); /* its use */
    p.used = 3.7;                                   /* >= 0.9 of 4 online: held back */
    assert_true(part_fit_demand(&p, false) == 4);
    p.used = 4.02; /* a little more than its processors run: still 4 */
    assert_true(part_fit_demand(&p, false) == 4);
    p.cap = 2.5;
    p.used = 2.4; /* held back by its cap: its cap, never past it */
    assert_true(part_fit_demand(&p, false) == 2.5);
    p.used = 2;
    assert_true(part_fit_demand(&p, false) == 2);
    p = shared("p", 4, 1.9);
    p.entitlement = 2; /* at its entitlement in a busy pool: held back */
    assert_true(part_fit_demand(&p, true) == 4);
    assert_true(part_fit_demand(&p, false) == 1.9);
    p.used = NAN; /* not measured: nothing known, nothing counted */
    assert_true(part_fit_demand(&p, true) == 0);
    p = shared("p", 4, 3);
    p.active = false;
    assert_true(part_fit_demand(&p, false) == 0);
    p = shared("p", 4, 4);
    p.dedicated = true; /* its own CPUs, none of the pool's */
    assert_true(part_fit_demand(&p, false) == 0);
}

/* a: pool 4, p1 wants 4, p2 wants 2 (both held back): over by 2. */
static const struct part_fit_partition *over_parts(void)
{
    static struct part_fit_partition a[2];
    a[0] = shared("p1", 4, 3.8);
    a[1] = shared("p2", 2, 1.9);
    return a;
}

static void test_one_move_to_most_room(void **state)
{
    struct part_fit_partition b[] = {shared("q1", 2, 1)}, c[] = {shared("r1", 2, 0.5)};
    struct part_fit_cpc cpcs[] = {cpc("a", 4, 16384, over_parts(), 2), cpc("b", 8, 16384, b, 1),
                                  cpc("c", 6, 16384, c, 1)};
    struct part_fit *pl = plan(cpcs, 3);

    assert_true(pl->cpcs[0].over);
    assert_true(fabs(pl->cpcs[0].demand - 6) < 1e-9);
    assert_int_equal(pl->cpcs[0].pool, 4);
    assert_false(pl->cpcs[1].over);
    /* p2 (2) is enough and smaller than p1 (4); b has 7 of room, c 5.5 */
    assert_int_equal(pl->n_moves, 1);
    assert_int_equal(pl->moves[0].from, 0);
    assert_int_equal(pl->moves[0].part, 1);
    assert_int_equal(pl->moves[0].to, 1);
    assert_true(fabs(pl->moves[0].demand - 2) < 1e-9);
    assert_non_null(strstr(pl->moves[0].reason, "p2 (demand 2.00, 2 processors) fits b"));
    assert_true(fabs(pl->cpcs[0].demand_after - 4) < 1e-9);
    assert_true(fabs(pl->cpcs[1].demand_after - 3) < 1e-9);
    assert_string_equal(pl->cpcs[0].note, "");
    part_fit_free(pl);
}

/* The CPC with the most room does not admit p2: a partition of its name
 * (inactive) is defined there, or its memory does not fit; the next one. */
static void test_target_must_admit(void **state)
{
    struct part_fit_partition b[] = {shared("p2", 2, 0)};
    struct part_fit_cpc cpcs[] = {cpc("a", 4, 16384, over_parts(), 2), cpc("b", 8, 16384, b, 1),
                                  cpc("c", 6, 16384, NULL, 0)};
    b[0].active = false;
    struct part_fit *pl = plan(cpcs, 3);
    assert_int_equal(pl->n_moves, 1);
    assert_int_equal(pl->moves[0].part, 1);
    assert_int_equal(pl->moves[0].to, 2);
    part_fit_free(pl);

    cpcs[1].n = 0;
    cpcs[1].cap.memory = 4096 + 1024; /* p2 has 2GiB */
    pl = plan(cpcs, 3);
    assert_int_equal(pl->n_moves, 1);
    assert_int_equal(pl->moves[0].to, 2);
    part_fit_free(pl);

    cpcs[2].cap.cpus = 3; /* c: a pool of 1 cannot take p2's 2 processors */
    pl = plan(cpcs, 3);
    assert_int_equal(pl->n_moves, 0);
    assert_true(pl->cpcs[0].over);
    assert_non_null(strstr(pl->cpcs[0].note, "demand 6.00 stays over the pool of 4"));
    assert_true(fabs(pl->cpcs[0].demand_after - 6) < 1e-9);
    part_fit_free(pl);
}

/* No single partition is enough: the largest that fits goes first, then
 * again until the CPC is within its pool. */
static void test_several_moves(void **state)
{
    struct part_fit_partition a[] = {shared("p1", 2, 1.9), shared("p2", 2, 1.95),
                                     shared("p3", 2, 1.8), shared("p4", 3, 2.9)};
    struct part_fit_cpc cpcs[] = {cpc("a", 4, 65536, a, 4), cpc("b", 4, 65536, NULL, 0),
                                  cpc("c", 3, 65536, NULL, 0)};
    struct part_fit *pl = plan(cpcs, 3);

    /* demand 2 + 2 + 2 + 3 = 9 on 4: p4 (3) to b, then one of 2 covers
     * the 2 left: the first of them, to the most room (c: 3 > b: 1) */
    assert_int_equal(pl->n_moves, 2);
    assert_int_equal(pl->moves[0].part, 3);
    assert_int_equal(pl->moves[0].to, 1);
    assert_int_equal(pl->moves[1].part, 0);
    assert_int_equal(pl->moves[1].to, 2);
    assert_true(pl->cpcs[0].demand_after <= pl->cpcs[0].pool_after + 1e-9);
    for (size_t i = 1; i < 3; i++)
        assert_true(pl->cpcs[i].demand_after <= pl->cpcs[i].pool_after + 1e-9);
    part_fit_free(pl);
}

/* A dedicated partition gives its processors back to the pool it leaves,
 * and needs as many free to dedicate where it goes. */
static void test_dedicated(void **state)
{
    struct part_fit_partition a[] = {shared("p1", 3, 2.9), shared("d1", 2, 2)};
    a[1].dedicated = true;
    struct part_fit_cpc cpcs[] = {cpc("a", 4, 65536, a, 2), cpc("b", 2, 65536, NULL, 0),
                                  cpc("c", 3, 65536, NULL, 0)};
    struct part_fit *pl = plan(cpcs, 3);

    /* pool 4 - 2 = 2, demand 3: d1 (2 back) is enough and smaller than p1
     * (3); b (2 CPUs, nothing shared there) and c (3) could dedicate 2,
     * c has the most room (3 against 2) */
    assert_int_equal(pl->cpcs[0].pool, 2);
    assert_int_equal(pl->n_moves, 1);
    assert_int_equal(pl->moves[0].part, 1);
    assert_int_equal(pl->moves[0].to, 2);
    assert_int_equal(pl->cpcs[0].pool_after, 4);
    assert_int_equal(pl->cpcs[2].pool_after, 1);
    assert_non_null(strstr(pl->moves[0].reason, "gives back its 2 dedicated processors"));
    part_fit_free(pl);
}

/* An unreachable CPC is neither over nor a target. */
static void test_unreachable(void **state)
{
    struct part_fit_cpc cpcs[] = {cpc("a", 4, 16384, over_parts(), 2), cpc("b", 64, 65536, NULL, 0),
                                  cpc("c", 6, 16384, NULL, 0)};
    cpcs[1].reachable = false;
    struct part_fit *pl = plan(cpcs, 3);
    assert_int_equal(pl->n_moves, 1);
    assert_int_equal(pl->moves[0].to, 2);
    part_fit_free(pl);

    cpcs[0].reachable = false;
    pl = plan(cpcs, 3);
    assert_false(pl->cpcs[0].over);
    assert_int_equal(pl->n_moves, 0);
    part_fit_free(pl);
}

/* Within its pool: nothing to suggest; nothing at all: nothing either. */
static void test_nothing(void **state)
{
    struct part_fit_partition a[] = {shared("p1", 2, 1)};
    struct part_fit_cpc cpcs[] = {cpc("a", 4, 16384, a, 1), cpc("b", 4, 16384, NULL, 0)};
    struct part_fit *pl = plan(cpcs, 2);
    assert_false(pl->cpcs[0].over);
    assert_int_equal(pl->n_moves, 0);
    part_fit_free(pl);
    pl = plan(NULL, 0);
    assert_int_equal(pl->n_moves, 0);
    part_fit_free(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demand),
        cmocka_unit_test(test_one_move_to_most_room),
        cmocka_unit_test(test_target_must_admit),
        cmocka_unit_test(test_several_moves),
        cmocka_unit_test(test_dedicated),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
