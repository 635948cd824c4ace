/* The planner: one test per rule, per invariant of part_plan_check() and
 * per anti-thrash control, plus determinism and what must never be
 * touched. CPCs are built by hand; histories are filled through
 * part_history_add() with counters made from the use wanted. Numbers are
 * worked by hand in the comments. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <part/plan.h>

#define NS  1e9 /* nanoseconds in a processor-second */
#define DT  2.0 /* seconds between samples */
#define NOW 6.0 /* the third sample after the first (at 0) */

/* Fixtures */

/* A CPC of 16 CPUs (2 for the host: pool 14) and 64 GiB (4 GiB for the
 * host: 60 GiB for partitions). */
static struct part_cpc *cpc_make(double cpu_overcommit, uint64_t memory)
{
    struct part_cpc_config cfg = {
        .host_reserved_cpus = 2,
        .host_reserved_memory = 4096,
        .cpu_overcommit = cpu_overcommit,
        .memory_overcommit = 1.0,
    };
    struct part_cpc *cpc;
    assert_int_equal(part_cpc_new(16, memory, &cfg, &cpc, NULL), 0);
    return cpc;
}

/* A shared profile: n processors online (min 1, reserved 2n), weight w in
 * [100, 600], memory 2 GiB in [1 GiB, 8 GiB]. */
static struct part_profile *shared(const char *name, unsigned n, unsigned w)
{
    struct part_profile *p = part_profile_new(name);
    assert_non_null(p);
    p->proc_initial = n;
    p->proc_reserved = 2 * n;
    p->weight_initial = w;
    p->weight_min = 100;
    p->weight_max = 600;
    p->mem_initial = 2048;
    p->mem_reserved = 8192;
    return p;
}

static struct part_profile *in_group(struct part_profile *p, const char *group)
{
    strcpy(p->group, group);
    return p;
}

static struct part_partition *add(struct part_cpc *cpc, struct part_profile *p, bool active)
{
    assert_int_equal(part_cpc_define(cpc, p, NULL), 0);
    struct part_partition *part = part_cpc_find(cpc, p->name);
    assert_non_null(part);
    if (active) {
        assert_int_equal(part_cpc_check_activate(cpc, part, NULL), 0);
        assert_int_equal(part_cpc_set_active(cpc, part, true), 0);
    }
    /* changed long before any sample */
    for (int s = 0; s < PART_SET_N; s++)
        part->changed_at[s] = -1000;
    return part;
}

static struct part_history *history_of(struct part_partition *p)
{
    if (!p->history) {
        p->history = calloc(1, sizeof(*p->history));
        assert_non_null(p->history);
    }
    return p->history;
}

/* Appends a sample at t: used processors since the previous one, and the
 * guest using need MiB (0: no balloon figures). The first sample of a
 * history only starts the counter. */
static void sample(struct part_partition *p, double t, double used, uint64_t need)
{
    struct part_history *h = history_of(p);
    uint64_t ns = h->last_cpu_ns ? h->last_cpu_ns + (uint64_t)llround(used * (t - h->last_t) * NS)
                                 : (uint64_t)NS;
    /* the guest sees its balloon's size; needing more, it has nothing free */
    part_history_add(h, t, true, ns, p->processors, need > 0, p->memory, p->memory,
                     need > 0 && need < p->memory ? p->memory - need : 0);
}

/* Samples at 0 (the counter's start), 2, 4 and 6 (= NOW) with the given
 * use (and need) at 2, 4, 6. */
static void samples3(struct part_partition *p, double u1, double u2, double u3, uint64_t need)
{
    sample(p, 0, 0, need);
    sample(p, 2, u1, need);
    sample(p, 4, u2, need);
    sample(p, 6, u3, need);
}

static void steady(struct part_partition *p, double used)
{
    samples3(p, used, used, used, 0);
}

/* A policy managing what is asked, the shipped balanced values otherwise. */
static struct part_policy policy(bool weights, bool processors, bool memory, bool dc)
{
    struct part_policy pol;
    part_policy_default(&pol);
    strcpy(pol.name, "test");
    pol.weights = weights;
    pol.processors = processors;
    pol.memory = memory;
    pol.defined_capacity = dc;
    return pol;
}

/* Makes the plan, which must succeed. */
static struct part_plan plan_ok(const struct part_cpc *cpc, const struct part_policy *pol,
                                double now)
{
    struct part_plan plan;
    struct part_error err;
    char buf[1024];
    int r = part_plan_make(cpc, pol, now, &plan, &err);
    if (r < 0)
        fail_msg("part_plan_make: %d: %s", r, part_error_format(&err, buf, sizeof(buf)));
    return plan;
}

/* The action of plan on name's setting, or NULL. */
static const struct part_action *find(const struct part_plan *plan, const char *name,
                                      enum part_setting s)
{
    for (size_t i = 0; i < plan->n; i++)
        if (strcmp(plan->actions[i].partition, name) == 0 && plan->actions[i].setting == s)
            return &plan->actions[i];
    return NULL;
}

static void assert_action(const struct part_plan *plan, const char *name, enum part_setting s,
                          double from, double to)
{
    const struct part_action *a = find(plan, name, s);
    if (!a)
        fail_msg("no %s action for %s", part_setting_name(s), name);
    assert_float_equal(a->from, from, 1e-9);
    assert_float_equal(a->to, to, 1e-9);
}

static void assert_empty(const struct part_plan *plan)
{
    if (plan->n)
        fail_msg("expected no action, got %zu, the first: %s", plan->n, plan->actions[0].reason);
}

/* The weight total of the active shared partitions of group after plan. */
static unsigned weight_after(const struct part_cpc *cpc, const struct part_plan *plan,
                             const char *group)
{
    unsigned total = 0;
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        if (!p->active || strcmp(p->profile->group, group) != 0)
            continue;
        const struct part_action *a = find(plan, p->profile->name, PART_SET_WEIGHT);
        total += a ? (unsigned)a->to : p->weight;
    }
    return total;
}

/* prod (weight 300, 10 processors) and batch (weight 400, 8): pool 14
 * splits 6 / 8. prod uses 9 (> 6 x 1.1), batch 1 (< 8 x 0.9). */
static struct part_cpc *ird_cpc(struct part_partition **prod, struct part_partition **batch)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    *prod = add(cpc, shared("prod", 5, 300), true);
    (*prod)->profile->proc_reserved = 10;
    assert_int_equal(part_cpc_set_running(cpc, *prod, 10, 2048), 0);
    *batch = add(cpc, shared("batch", 8, 400), true);
    assert_float_equal((*prod)->entitlement, 6, 1e-9);
    assert_float_equal((*batch)->entitlement, 8, 1e-9);
    steady(*prod, 9);
    steady(*batch, 1);
    return cpc;
}

/* Weight management */

static void test_weight_moves_to_demand(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);

    /* needed: 300 x (9/6 - 1) = 150; spare: 400 x (1 - 1/8) = 350; step 50 */
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 350);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 350);
    assert_string_equal(find(&plan, "prod", PART_SET_WEIGHT)->reason,
                        "prod: demand 9.00 > entitlement 6.00 for 3 samples; weight 300 -> 350, "
                        "taken from batch (demand 1.00 < entitlement 8.00): 400 -> 350");
    assert_string_equal(find(&plan, "batch", PART_SET_WEIGHT)->reason,
                        "batch: demand 1.00 < entitlement 8.00 for 3 samples; weight 400 -> 350, "
                        "given to prod (demand 9.00 > entitlement 6.00): 300 -> 350");
    assert_int_equal(weight_after(cpc, &plan, ""), 700);
    assert_false(plan.actions[0].dc);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_step_limit(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    pol.weight_step = 20;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 320);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 380);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_receiver_headroom(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    prod->profile->weight_max = 310; /* room for 10 */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 310);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 390);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_donor_slack(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    batch->profile->weight_min = 395; /* 5 to give */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 305);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 395);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_at_bounds_not_judged(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    prod->profile->weight_max = 300; /* prod cannot take */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    prod->profile->weight_max = 600;
    batch->profile->weight_min = 400; /* batch cannot give */
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_weight_only_what_is_needed(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    pol.weight_step = 200;
    /* prod at 6.9: an entitlement of its demand plus a dead-band needs
     * 300 x (6.9 x 1.1 / 6 - 1) = 79.5, so 80 of the 200 it could take */
    free(prod->history);
    prod->history = NULL;
    steady(prod, 6.9);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 380);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 320);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_only_what_is_spare(void **state)
{
    /* weights 300 / 400 / 100 of 800, pool 14: prod entitled to 5.25,
     * batch to 7, idle (at its weight.min: no donor) to 1.75. prod uses
     * 5.9 (> 5.775), batch 6.2 (< 6.3), idle nothing: 12.1 in all, under
     * 14 x 0.9, so the pool has room and weight may move to demand. batch
     * keeps an entitlement half a dead-band over its use: it spares
     * 400 x (1 - 6.2 / (7 x 0.95)) = 27 of the 71 prod wants */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *prod = add(cpc, shared("prod", 5, 300), true);
    struct part_partition *batch = add(cpc, shared("batch", 8, 400), true);
    struct part_partition *idle = add(cpc, shared("idle", 2, 100), true);
    prod->profile->proc_reserved = 10;
    assert_int_equal(part_cpc_set_running(cpc, prod, 10, 2048), 0);
    assert_float_equal(prod->entitlement, 5.25, 1e-9);
    assert_float_equal(batch->entitlement, 7, 1e-9);
    steady(prod, 5.9);
    steady(batch, 6.2);
    steady(idle, 0);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 327);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 373);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_most_starved_served_from_most_slack(void **state)
{
    /* pool 14, four partitions of weight 200: each entitled to 3.5. a uses
     * 5 (1.43x), b 4.2 (1.2x), c 0.35 (0.1x), d 2.8 (0.8x): 12.35 in all,
     * under 14 x 0.9, so the pool has room. Receivers a and b want 50 each
     * (the step; 115 and 64 without it), donors c and d offer 50 (the step)
     * and 31: 81 for 100 wanted, so each receiver gets 81% of what it wants
     * (a, the most starved, the unit left over by the rounding): a 41, b 40.
     * c, the most slack, gives first: 41 to a and 9 to b; d gives b the
     * other 31. */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *a = add(cpc, shared("a", 6, 200), true);
    struct part_partition *b = add(cpc, shared("b", 6, 200), true);
    struct part_partition *c = add(cpc, shared("c", 6, 200), true);
    struct part_partition *d = add(cpc, shared("d", 6, 200), true);
    steady(a, 5);
    steady(b, 4.2);
    steady(c, 0.35);
    steady(d, 2.8);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 4);
    assert_action(&plan, "a", PART_SET_WEIGHT, 200, 241);
    assert_action(&plan, "b", PART_SET_WEIGHT, 200, 240);
    assert_action(&plan, "c", PART_SET_WEIGHT, 200, 150);
    assert_action(&plan, "d", PART_SET_WEIGHT, 200, 169);
    assert_string_equal(find(&plan, "a", PART_SET_WEIGHT)->reason,
                        "a: demand 5.00 > entitlement 3.50 for 3 samples; weight 200 -> 241, "
                        "taken from c (demand 0.35 < entitlement 3.50): 200 -> 150");
    /* b takes from two donors, in one action */
    assert_string_equal(find(&plan, "b", PART_SET_WEIGHT)->reason,
                        "b: demand 4.20 > entitlement 3.50 for 3 samples; weight 200 -> 240, "
                        "taken from c (demand 0.35 < entitlement 3.50): 200 -> 150, d (demand "
                        "2.80 < entitlement 3.50): 200 -> 169");
    assert_string_equal(find(&plan, "c", PART_SET_WEIGHT)->reason,
                        "c: demand 0.35 < entitlement 3.50 for 3 samples; weight 200 -> 150, "
                        "given to a (demand 5.00 > entitlement 3.50): 200 -> 241, b (demand 4.20 "
                        "> entitlement 3.50): 200 -> 240");
    assert_int_equal(weight_after(cpc, &plan, ""), 800);
    part_plan_clear(&plan);

    /* with a step of 300, c offers 100 (down to its min) and d 31 for the
     * 115 (114.3 rounded up) + 64 wanted: a gets 131 x 115 / 179 = 84.2,
     * b 131 x 64 / 179 = 46.8, and a, the most starved, the unit left over
     * by the rounding down: 85 and 46 */
    pol.weight_step = 300;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "a", PART_SET_WEIGHT, 200, 285);
    assert_action(&plan, "b", PART_SET_WEIGHT, 200, 246);
    assert_action(&plan, "c", PART_SET_WEIGHT, 200, 100);
    assert_action(&plan, "d", PART_SET_WEIGHT, 200, 169);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_each_partition_once(void **state)
{
    /* two receivers, one donor: the donor's 50 (the step) is shared by
     * what each wants (50 each, the step), and every partition changes
     * once, the donor giving to both in one action */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *a = add(cpc, shared("a", 6, 200), true);
    struct part_partition *b = add(cpc, shared("b", 6, 200), true);
    struct part_partition *c = add(cpc, shared("c", 6, 200), true);
    /* each entitled to 14/3 = 4.67 */
    steady(a, 5.5);
    steady(b, 6);
    steady(c, 1);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 3);
    assert_action(&plan, "b", PART_SET_WEIGHT, 200, 225);
    assert_action(&plan, "a", PART_SET_WEIGHT, 200, 225);
    assert_action(&plan, "c", PART_SET_WEIGHT, 200, 150);
    assert_string_equal(plan.actions[0].partition, "b"); /* the most starved first */
    assert_string_equal(find(&plan, "c", PART_SET_WEIGHT)->reason,
                        "c: demand 1.00 < entitlement 4.67 for 3 samples; weight 200 -> 150, "
                        "given to b (demand 6.00 > entitlement 4.67): 200 -> 225, a (demand 5.50 "
                        "> entitlement 4.67): 200 -> 225");
    struct part_error err;
    assert_int_equal(part_plan_check(cpc, &plan, &err), 0);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_groups_are_clusters(void **state)
{
    /* the receiver is in group web, the only donor in group etl: no move
     * across groups; a donor in web is used */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *w1 = add(cpc, in_group(shared("w1", 6, 200), "web"), true);
    struct part_partition *w2 = add(cpc, in_group(shared("w2", 6, 200), "web"), true);
    struct part_partition *e1 = add(cpc, in_group(shared("e1", 6, 200), "etl"), true);
    struct part_partition *e2 = add(cpc, in_group(shared("e2", 6, 200), "etl"), true);
    /* each 3.5 */
    steady(w1, 5);
    steady(w2, 3.5);
    steady(e1, 0.5);
    steady(e2, 3.5);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);

    free(w2->history);
    w2->history = NULL;
    steady(w2, 1);
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_non_null(find(&plan, "w1", PART_SET_WEIGHT));
    assert_non_null(find(&plan, "w2", PART_SET_WEIGHT));
    assert_int_equal(weight_after(cpc, &plan, "web"), 400);
    assert_int_equal(weight_after(cpc, &plan, "etl"), 400);
    (void)e1, (void)e2;
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_ungrouped_form_one_cluster(void **state)
{
    /* ungrouped receiver, grouped donor: no move; an ungrouped donor: move */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *u1 = add(cpc, shared("u1", 6, 200), true);
    struct part_partition *g1 = add(cpc, in_group(shared("g1", 6, 200), "grp"), true);
    struct part_partition *u2 = add(cpc, shared("u2", 6, 200), true);
    /* each 14/3 = 4.67 */
    steady(u1, 6);
    steady(g1, 0.5);
    steady(u2, 4.5);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    free(u2->history);
    u2->history = NULL;
    steady(u2, 1);
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_non_null(find(&plan, "u1", PART_SET_WEIGHT));
    assert_non_null(find(&plan, "u2", PART_SET_WEIGHT));
    assert_int_equal(weight_after(cpc, &plan, ""), 400);
    (void)g1;
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* Two partitions of profile weight 200 each, pool 14: lender at 100 and
 * holder at 300 (entitled to 3.5 and 10.5), each using all of it: the
 * pool is contended, nobody uses more than its entitlement. */
static struct part_cpc *lent_cpc(struct part_partition **lender, struct part_partition **holder)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    *lender = add(cpc, shared("lender", 12, 200), true);
    *holder = add(cpc, shared("holder", 12, 200), true);
    (*lender)->weight = 100;
    (*holder)->weight = 300;
    part_cpc_compute(cpc);
    assert_float_equal((*lender)->entitlement, 3.5, 1e-9);
    steady(*lender, 3.5);
    steady(*holder, 10.5);
    return cpc;
}

static void test_weight_back_to_profiles_in_a_short_pool(void **state)
{
    /* lender 3.5 + holder 10.5: the pool of 14 is used to the last
     * processor. A short pool is split by weight, so every partition under
     * its profile's weight takes it back, on the newest sample */
    struct part_partition *lender, *holder;
    struct part_cpc *cpc = lent_cpc(&lender, &holder);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    /* what it lent, 100, a step (50) at most */
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 150);
    assert_action(&plan, "holder", PART_SET_WEIGHT, 300, 250);
    assert_string_equal(find(&plan, "lender", PART_SET_WEIGHT)->reason,
                        "lender: the pool is short (use 3.50, entitlement 3.50), at weight 100 "
                        "under its profile's 200; weight 100 -> 150, taken back from holder "
                        "(weight 300 over its profile's 200): 300 -> 250");
    assert_string_equal(find(&plan, "holder", PART_SET_WEIGHT)->reason,
                        "holder: weight 300 over its profile's 200; weight 300 -> 250, given back "
                        "to lender (the pool is short; use 3.50, entitlement 3.50 at weight 100 "
                        "under its profile's 200): 100 -> 150");
    part_plan_clear(&plan);
    /* with a step of 300, all of it in one plan: the profiles' weights,
     * and so the profiles' split of the short pool, are back */
    pol.weight_step = 300;
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 200);
    assert_action(&plan, "holder", PART_SET_WEIGHT, 300, 200);
    part_plan_clear(&plan);
    /* short in one sample of the window (the oldest) is short: at 2 the
     * two used 13.8, at 4 and 6 only 8 */
    free(lender->history), free(holder->history);
    lender->history = holder->history = NULL;
    samples3(lender, 3.3, 1, 1, 0);
    samples3(holder, 10.5, 7, 7, 0);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 200);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_reclaim_only_what_was_lent(void **state)
{
    struct part_partition *lender, *holder;
    struct part_cpc *cpc = lent_cpc(&lender, &holder);
    struct part_policy pol = policy(true, false, false, false);
    lender->profile->weight_initial = 105; /* lent 5 */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 105);
    assert_action(&plan, "holder", PART_SET_WEIGHT, 300, 295);
    part_plan_clear(&plan);
    lender->profile->weight_initial = 200;
    holder->profile->weight_initial = 297; /* borrowed 3 */
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 103);
    assert_action(&plan, "holder", PART_SET_WEIGHT, 300, 297);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_not_reclaimed_while_idle(void **state)
{
    /* the lender uses 3.3 of 3.5 (under 1 - 0.1/4), the holder 8 of 10.5:
     * 11.3 of a pool of 14 (under 14 x 0.9): with room in the pool the
     * lender does not need its weight back */
    struct part_partition *lender, *holder;
    struct part_cpc *cpc = lent_cpc(&lender, &holder);
    struct part_policy pol = policy(true, false, false, false);
    free(lender->history), free(holder->history);
    lender->history = holder->history = NULL;
    steady(lender, 3.3);
    steady(holder, 8);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* the same lender in a short pool (the holder using 10.5) takes it
     * back: the short pool is split by weight */
    free(holder->history);
    holder->history = NULL;
    steady(holder, 10.5);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 150);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_none_to_demand_in_a_short_pool(void **state)
{
    /* pool 14: a (weight 300, 12 online), b (100, 6), c (200, 6): entitled
     * to 7, 2.33 and 4.67. c uses 0.5; a and b contend for the rest, 3 to 1:
     * 10.125 and 3.375, the pool is used to the last processor. a and b use
     * more than their entitlements and c less, but the split of a short
     * pool is by weight and is the profiles' already: weight moved to a and
     * b would only change it, so none moves. */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *a = add(cpc, shared("a", 6, 300), true);
    struct part_partition *b = add(cpc, shared("b", 3, 100), true);
    struct part_partition *c = add(cpc, shared("c", 3, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, a, 12, 2048), 0);
    assert_int_equal(part_cpc_set_running(cpc, b, 6, 2048), 0);
    assert_int_equal(part_cpc_set_running(cpc, c, 6, 2048), 0);
    assert_float_equal(a->entitlement, 7, 1e-9);
    steady(a, 10.125);
    steady(b, 3.375);
    steady(c, 0.5);
    struct part_policy pol = policy(true, false, false, false);
    pol.weight_step = 300;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* with room in the pool (a using 8, b 3: 11.5 in all) the same
     * partitions move weight: c gives, a and b take */
    free(a->history), free(b->history);
    a->history = b->history = NULL;
    steady(a, 8);
    steady(b, 3);
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 3);
    assert_true(find(&plan, "a", PART_SET_WEIGHT)->to > 300);
    assert_true(find(&plan, "b", PART_SET_WEIGHT)->to > 100);
    assert_action(&plan, "c", PART_SET_WEIGHT, 200, 100);
    assert_int_equal(weight_after(cpc, &plan, ""), 600);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_receiver_takes_what_it_wants_from_several(void **state)
{
    /* pool 14, weights 200 x 4 (3.5 each): r uses 7 and wants 200 x (7 x
     * 1.1 / 3.5 - 1) = 240; x (0.35) offers 100 (to its min), y (0.7) 100,
     * z (2) 200 x (1 - 2 / (3.5 x 0.95)) = 79: r takes 100 + 100 + 40 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *r = add(cpc, shared("r", 6, 200), true);
    struct part_partition *x = add(cpc, shared("x", 6, 200), true);
    struct part_partition *y = add(cpc, shared("y", 6, 200), true);
    struct part_partition *z = add(cpc, shared("z", 6, 200), true);
    steady(r, 7);
    steady(x, 0.35);
    steady(y, 0.7);
    steady(z, 2);
    struct part_policy pol = policy(true, false, false, false);
    pol.weight_step = 300;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 4);
    assert_action(&plan, "r", PART_SET_WEIGHT, 200, 440);
    assert_action(&plan, "x", PART_SET_WEIGHT, 200, 100);
    assert_action(&plan, "y", PART_SET_WEIGHT, 200, 100);
    assert_action(&plan, "z", PART_SET_WEIGHT, 200, 160);
    /* as many as fit in a reason, then how many more */
    assert_string_equal(find(&plan, "r", PART_SET_WEIGHT)->reason,
                        "r: demand 7.00 > entitlement 3.50 for 3 samples; weight 200 -> 440, "
                        "taken from x (demand 0.35 < entitlement 3.50): 200 -> 100, y (demand "
                        "0.70 < entitlement 3.50): 200 -> 100, z (demand 2.00 < entitlement "
                        "3.50): 200 -> 160");
    assert_int_equal(weight_after(cpc, &plan, ""), 800);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_reclaimed_from_several_in_one_plan(void **state)
{
    /* profiles of 200 each, running 300 / 150 / 150 in a short pool of
     * 14 (7, 3.5, 3.5, each using all of it): both lenders take back their
     * 50 from the one holder in one plan */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *h = add(cpc, shared("h", 6, 200), true);
    struct part_partition *l1 = add(cpc, shared("l1", 6, 200), true);
    struct part_partition *l2 = add(cpc, shared("l2", 6, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, h, 12, 2048), 0);
    h->weight = 300;
    l1->weight = l2->weight = 150;
    part_cpc_compute(cpc);
    assert_float_equal(h->entitlement, 7, 1e-9);
    steady(h, 7);
    steady(l1, 3.5);
    steady(l2, 3.5);
    struct part_policy pol = policy(true, false, false, false);
    pol.weight_step = 300;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 3);
    assert_action(&plan, "l1", PART_SET_WEIGHT, 150, 200);
    assert_action(&plan, "l2", PART_SET_WEIGHT, 150, 200);
    assert_action(&plan, "h", PART_SET_WEIGHT, 300, 200);
    assert_string_equal(find(&plan, "h", PART_SET_WEIGHT)->reason,
                        "h: weight 300 over its profile's 200; weight 300 -> 200, given back to "
                        "l1 (the pool is short; use 3.50, entitlement 3.50 at weight 150 under "
                        "its profile's 200): 150 -> 200 and 1 more");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_no_donor_before_the_window(void **state)
{
    /* prod uses 9 of its 6, batch 1 of its 8: with a window of 10 s
     * (5 samples at 2 s) batch gives only once it was quiet in all 5; the
     * receiver, once there is a donor, takes at once */
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    pol.stabilization = 10;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    sample(prod, 8, 9, 0), sample(batch, 8, 1, 0);
    sample(prod, 10, 9, 0), sample(batch, 10, 1, 0);
    plan = plan_ok(cpc, &pol, 10);
    assert_action(&plan, "prod", PART_SET_WEIGHT, 300, 350);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 350);
    part_plan_clear(&plan);
    /* busy in one sample of the window (7.5 of 8 at 12, prod 5: 12.5 in
     * all, the pool not short), batch gives nothing until that sample
     * leaves the window */
    sample(prod, 12, 5, 0), sample(batch, 12, 7.5, 0);
    for (int t = 14; t <= 20; t += 2)
        sample(prod, t, 9, 0), sample(batch, t, 1, 0);
    plan = plan_ok(cpc, &pol, 20);
    assert_empty(&plan);
    sample(prod, 22, 9, 0), sample(batch, 22, 1, 0);
    plan = plan_ok(cpc, &pol, 22);
    assert_action(&plan, "batch", PART_SET_WEIGHT, 400, 350);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_back_from_a_capped_holder(void **state)
{
    /* holder (profile 200) holds 300, but runs capped at 3 and uses all of
     * it: the weight does it no good. It goes back to lender (profile
     * 200, at 100) in one plan, though lender idles and the pool has room */
    struct part_partition *lender, *holder;
    struct part_cpc *cpc = lent_cpc(&lender, &holder);
    holder->cap = 3;
    part_cpc_compute(cpc);
    free(lender->history), free(holder->history);
    lender->history = holder->history = NULL;
    steady(lender, 0.5);
    steady(holder, 3);
    struct part_policy pol = policy(true, false, false, false);
    pol.weight_step = 300;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 200);
    assert_action(&plan, "holder", PART_SET_WEIGHT, 300, 200);
    part_plan_clear(&plan);
    /* uncapped, the same idle lender does not take it back */
    holder->cap = PART_CAP_NONE;
    part_cpc_compute(cpc);
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_weight_receiver_without_donor_takes_back(void **state)
{
    /* y (profile 200) lent 100 to x (profile 200, at 300): entitled to 3.5
     * and 10.5. x uses 9.8 (not a donor: within the dead-band), y gets the
     * other 4.2, over 3.5 x 1.1: a receiver with no donor to take from,
     * under its profile's weight. It takes back from x, a step at most. */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *x = add(cpc, shared("x", 6, 200), true);
    struct part_partition *y = add(cpc, shared("y", 6, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, x, 12, 2048), 0);
    x->weight = 300;
    y->weight = 100;
    part_cpc_compute(cpc);
    assert_float_equal(y->entitlement, 3.5, 1e-9);
    steady(x, 9.8);
    steady(y, 4.2);
    struct part_policy pol = policy(true, false, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "y", PART_SET_WEIGHT, 100, 150);
    assert_action(&plan, "x", PART_SET_WEIGHT, 300, 250);
    assert_non_null(strstr(find(&plan, "y", PART_SET_WEIGHT)->reason, "taken back from x"));
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* Anti-thrash on weights */

static void test_weight_deadband(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    /* 6.5 is within 6 x 1.1 = 6.6 */
    free(prod->history);
    prod->history = NULL;
    steady(prod, 6.5);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* and with no deadband it moves */
    pol.deadband = 0;
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_hysteresis(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    /* over the entitlement in 2 of 3 samples only (mean 7.3 > 6.6 though) */
    free(prod->history);
    prod->history = NULL;
    samples3(prod, 9, 4, 9, 0);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* K = 2 looks at the last two only: 4 is one of them still */
    pol.samples = 2;
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    pol.samples = 1;
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_cooldown(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    pol.cooldown_weight = 30;
    batch->changed_at[PART_SET_WEIGHT] = -20; /* 26 s ago */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    batch->changed_at[PART_SET_WEIGHT] = -24; /* 30 s ago */
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    part_plan_clear(&plan);
    /* another setting's change does not count */
    batch->changed_at[PART_SET_PROCESSORS] = NOW;
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_weight_judged_on_samples_after_the_change(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    pol.cooldown_weight = 0;
    /* changed at 3: the sample at 2 came before it */
    prod->changed_at[PART_SET_WEIGHT] = 3;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    prod->changed_at[PART_SET_WEIGHT] = 1;
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* Processor management */

static void test_processors_add_when_busy(void **state)
{
    /* 1.84 of 2 in every sample: utilisation 0.92, over high (0.9), not
     * all busy (under 0.95): enough for 1.84 at high, 3 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    steady(web, 1.84);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 2, 3);
    assert_string_equal(plan.actions[0].reason,
                        "web: utilisation 0.92 >= 0.90 of 2 online processors for 3 samples "
                        "(demand 1.84); processors 2 -> 3");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_grow_on_the_newest_sample(void **state)
{
    /* 0.5 of 2, then 1.2: growth does not wait for K samples, and looks a
     * sample ahead (processors come online an interval after the plan):
     * risen by 0.7, it will use 1.9 by then, 0.95 of its 2 online; enough
     * for 1.9 at high is 3 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    samples3(web, 0.5, 0.5, 1.2, 0);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 2, 3);
    assert_string_equal(plan.actions[0].reason,
                        "web: use 1.20 in its newest sample, 1.90 a sample ahead (as much again "
                        "as it rose): utilisation 0.95 >= 0.90 of 2 online processors; "
                        "processors 2 -> 3");
    part_plan_clear(&plan);
    /* risen to 1 only, 1.5 a sample ahead (0.75 of 2): nothing */
    free(web->history);
    web->history = NULL;
    samples3(web, 0.5, 0.5, 1, 0);
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* falling to 1.7 (0.85 of 2) is not looked ahead: nothing */
    free(web->history);
    web->history = NULL;
    samples3(web, 1.9, 1.9, 1.7, 0);
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_processors_hidden_demand_in_one_plan(void **state)
{
    /* 4 of 4 busy (at least halfway from high to 1): the demand cannot
     * show past them. big (weight 600, 6 used of 12 online) leaves 8 of the
     * pool of 14; web is entitled to 3.5 of it: enough for the larger, 8,
     * at high is 9, its reserved 8, in one plan */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 200), true);
    struct part_partition *big = add(cpc, shared("big", 6, 600), true);
    assert_int_equal(part_cpc_set_running(cpc, big, 12, 2048), 0);
    steady(web, 4);
    steady(big, 6);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 8);
    assert_string_equal(plan.actions[0].reason,
                        "web: all of its 4 online processors busy (use 4.00): its demand is "
                        "hidden; enough for 8.00 (its entitlement with its processors online, or "
                        "what the others leave of the pool) at 0.90; processors 4 -> 8");
    part_plan_clear(&plan);
    /* on the newest sample alone: busy in it only, the same plan */
    free(web->history);
    web->history = NULL;
    samples3(web, 1, 1, 4, 0);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 8);
    part_plan_clear(&plan);
    /* never past reserved */
    web->profile->proc_reserved = 5;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 5);
    part_plan_clear(&plan);
    /* nor past the running cap, rounded up */
    web->profile->proc_reserved = 8;
    web->cap = 4.5;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 5);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_carry_the_entitlement(void **state)
{
    /* web (weight 100, 4 online) beside big (283, 12 online): entitled to
     * 14 x 100 / 383 = 3.66, which its 4 processors do not run at high 0.9
     * (3.6). It uses 3.58 (all of it: at least 3.66 x 0.975), 0.895 of its
     * processors, busy in no sample: enough for 3.66 at high is 5 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 100), true);
    struct part_partition *big = add(cpc, shared("big", 6, 283), true);
    assert_int_equal(part_cpc_set_running(cpc, big, 12, 2048), 0);
    assert_float_equal(web->entitlement, 14.0 * 100 / 383, 1e-9);
    steady(web, 3.58);
    steady(big, 10);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 5);
    assert_string_equal(plan.actions[0].reason,
                        "web: demand 3.58 uses all of entitlement 3.66 for 3 samples, and is "
                        "entitled to 3.66 at the weights of this plan: more than 4 online "
                        "processors run at 0.90; processors 4 -> 5");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_carry_the_weight_taken_back(void **state)
{
    /* lender (profile 200, lent down to 100, 1 of its 4 reserved online)
     * runs its one processor flat out beside holder's 12: the pool of 14 is
     * short, so it takes its weight back to 200 and, in the same plan,
     * brings online the processors for what that weight entitles it to
     * with its processors online: half the pool of 14, but 4 at most, all
     * it reserves (what holder leaves of the pool, 2, is less) */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *lender = add(cpc, shared("lender", 2, 200), true);
    struct part_partition *holder = add(cpc, shared("holder", 6, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, lender, 1, 2048), 0);
    assert_int_equal(part_cpc_set_running(cpc, holder, 12, 2048), 0);
    lender->weight = 100;
    holder->weight = 300;
    part_cpc_compute(cpc);
    assert_float_equal(lender->entitlement, 1, 1e-9);
    steady(lender, 1);
    steady(holder, 12);
    struct part_policy pol = policy(true, true, false, false);
    pol.weight_step = 300;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "lender", PART_SET_WEIGHT, 100, 200);
    assert_action(&plan, "holder", PART_SET_WEIGHT, 300, 200);
    assert_action(&plan, "lender", PART_SET_PROCESSORS, 1, 4);
    assert_non_null(strstr(find(&plan, "lender", PART_SET_PROCESSORS)->reason,
                           "its demand is hidden; enough "
                           "for 4.00"));
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_enough_for_the_most_used(void **state)
{
    /* high 0.6: 4.5 of 6 (0.75, under the halfway 0.8) wants 4.5 / 0.6 =
     * 7.5, so 8 processors */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 6, 200), true);
    steady(web, 4.5);
    struct part_policy pol = policy(false, true, false, false);
    pol.processors_high = 0.6;
    pol.processors_low = 0.2;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 6, 8);
    assert_string_equal(plan.actions[0].reason,
                        "web: utilisation 0.75 >= 0.60 of 6 online processors for 3 samples "
                        "(demand 4.50); processors 6 -> 8 (the most used of the samples at high)");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_as_many_as_admitted(void **state)
{
    /* cpu_overcommit 1: 14 shared processors at most; a (4, all busy) wants
     * 6, b holds 9: 13 online, room for one */
    struct part_cpc *cpc = cpc_make(1, 65536);
    struct part_partition *a = add(cpc, shared("a", 4, 200), true);
    struct part_partition *b = add(cpc, shared("b", 5, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, b, 9, 2048), 0);
    steady(a, 4);
    steady(b, 5);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "a", PART_SET_PROCESSORS, 4, 5);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_not_past_reserved(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    web->profile->proc_reserved = 2;
    steady(web, 2);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_processors_not_past_cap(void **state)
{
    /* capped at 1.5: a third processor could not be used */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    web->cap = 1.5;
    steady(web, 1.5);
    struct part_policy pol = policy(false, true, false, false);
    pol.processors_high = 0.7;
    pol.processors_low = 0.1;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    web->cap = 2.5;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 2, 3);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_admission_counts_the_plan(void **state)
{
    /* cpu_overcommit 1: at most 14 shared processors online. a (6) + b (6)
     * + c (1) = 13: room for one more, which a gets (CPC order), not b */
    struct part_cpc *cpc = cpc_make(1, 65536);
    struct part_partition *a = add(cpc, shared("a", 6, 200), true);
    struct part_partition *b = add(cpc, shared("b", 6, 200), true);
    struct part_partition *c = add(cpc, shared("c", 1, 200), true);
    steady(a, 6);
    steady(b, 6);
    steady(c, 0.5);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "a", PART_SET_PROCESSORS, 6, 7);
    part_plan_clear(&plan);
    /* now 6 + 6 + 2 = 14, full: c, idle on 2 (min 1), gives one back in
     * the same plan, and a takes it */
    assert_int_equal(part_cpc_set_running(cpc, c, 2, c->memory), 0);
    free(c->history);
    c->history = NULL;
    steady(c, 0.1);
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_action(&plan, "c", PART_SET_PROCESSORS, 2, 1);
    assert_action(&plan, "a", PART_SET_PROCESSORS, 6, 7);
    assert_int_equal(plan.actions[0].setting, PART_SET_PROCESSORS);
    assert_string_equal(plan.actions[0].partition, "c"); /* the removal first */
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* The planner's admission control keeps running totals: they say what
 * part_cpc_check_resize() says, messages included, as the CPC changes.
 * Counts the refusals for lack of room. */
static unsigned admission_refused;

static void expect_same_admission(const struct part_cpc *cpc, const struct part_cpc_totals *t)
{
    for (size_t i = 0; i < cpc->n; i++) {
        const struct part_partition *p = cpc->parts[i];
        for (unsigned n = 0; n <= p->profile->proc_reserved + 1; n++)
            for (uint64_t mem = 512; mem <= 16384; mem += 1536) {
                struct part_error a = {0}, b = {0};
                int ra = part_cpc_check_resize(cpc, p, n, mem, &a);
                int rb = part_cpc_check_resize_totals(cpc, t, p, n, mem, &b);
                assert_int_equal(ra, rb);
                assert_string_equal(a.message, b.message);
                admission_refused += ra == -ENOSPC;
                assert_int_equal(part_cpc_check_resize_totals(cpc, t, p, n, mem, NULL), ra);
            }
    }
}

static void test_admission_totals(void **state)
{
    /* 16 CPUs (2 for the host), cpu_overcommit 1, 12 GiB for partitions */
    struct part_cpc *cpc = cpc_make(1, 16384);
    struct part_partition *a = add(cpc, shared("a", 4, 200), true);
    add(cpc, shared("b", 3, 200), true);
    struct part_profile *dp = shared("d", 2, 200);
    dp->mode = PART_MODE_DEDICATED;
    struct part_partition *d = add(cpc, dp, true);
    add(cpc, shared("off", 2, 200), false);
    struct part_cpc_totals t;
    admission_refused = 0;
    part_cpc_totals(cpc, &t);
    expect_same_admission(cpc, &t);
    /* a shared partition grows, then shrinks; the dedicated one grows (its
     * host CPUs leave the pool); then one is past the pool (as the CPC
     * may be when the pool shrank under it) */
    unsigned was = a->processors;
    uint64_t mem = a->memory;
    assert_int_equal(part_cpc_set_running(cpc, a, 7, 4096), 0);
    part_cpc_totals_update(cpc, &t, a, was, mem);
    expect_same_admission(cpc, &t);
    assert_int_equal(part_cpc_set_running(cpc, a, 1, 1024), 0);
    part_cpc_totals_update(cpc, &t, a, 7, 4096);
    expect_same_admission(cpc, &t);
    was = d->processors;
    assert_int_equal(part_cpc_set_running(cpc, d, 4, d->memory), 0);
    part_cpc_totals_update(cpc, &t, d, was, d->memory);
    expect_same_admission(cpc, &t);
    struct part_partition *b = part_cpc_find(cpc, "b");
    b->processors = 11;
    part_cpc_compute(cpc);
    part_cpc_totals(cpc, &t);
    expect_same_admission(cpc, &t);
    assert_true(admission_refused > 0);
    part_cpc_free(cpc);
}

static void test_processors_remove_when_idle(void **state)
{
    /* without a stabilization window, one at a time on K samples */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 200), true);
    steady(web, 0.4);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 3);
    assert_string_equal(plan.actions[0].reason,
                        "web: utilisation 0.10 <= 0.30 of 4 online processors for 3 samples "
                        "(demand 0.40, at most 0.40); processors 4 -> 3");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* web (weight 200, 8 online) beside big (600, 12 online, using 6): web's
 * share of the pool at its profile's weight is 14 x 200 / 800 = 3.5. */
static struct part_cpc *window_cpc(struct part_partition **web)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    *web = add(cpc, shared("web", 4, 200), true);
    struct part_partition *big = add(cpc, shared("big", 6, 600), true);
    assert_int_equal(part_cpc_set_running(cpc, *web, 8, 2048), 0);
    assert_int_equal(part_cpc_set_running(cpc, big, 12, 2048), 0);
    for (int t = 0; t <= 10; t += 2) {
        sample(*web, t, 0.5, 0);
        sample(big, t, 6, 0);
    }
    return cpc;
}

static void test_processors_remove_after_the_window(void **state)
{
    /* a window of 10 s: 5 samples at 2 s. web idles at 0.5 of 8 in all 5:
     * down in one plan to what its busiest sample needs at high (1), but
     * never under its share at its profile's weight, 3.5: 4 */
    struct part_partition *web;
    struct part_cpc *cpc = window_cpc(&web);
    struct part_policy pol = policy(false, true, false, false);
    pol.stabilization = 10;
    struct part_plan plan = plan_ok(cpc, &pol, 10);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 8, 4);
    assert_string_equal(plan.actions[0].reason,
                        "web: utilisation 0.06 <= 0.30 of 8 online processors for 5 samples "
                        "(demand 0.50, at most 0.50); processors 8 -> 4");
    part_plan_clear(&plan);
    /* a window of 12 s (6 samples) is not full yet: nothing */
    pol.stabilization = 12;
    plan = plan_ok(cpc, &pol, 10);
    assert_empty(&plan);
    /* nor when a sample of the window was busier than low (3 of 8) */
    pol.stabilization = 10;
    sample(web, 12, 3, 0);
    for (int t = 14; t <= 18; t += 2)
        sample(web, t, 0.5, 0);
    plan = plan_ok(cpc, &pol, 18);
    assert_int_equal(plan.n, 0);
    part_cpc_free(cpc);
}

static void test_processors_not_taken_from_a_partition_using_its_entitlement(void **state)
{
    /* web (weight 100, 8 online) beside big (600, all 12 of its reserved
     * online): entitled to 14 x 100 / 700 = 2, it uses 2 on 8 processors,
     * utilisation 0.25 (<= low): it uses all of its entitlement (a busy
     * pool may be holding it down), so none is taken */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 100), true);
    struct part_partition *big = add(cpc, shared("big", 6, 600), true);
    assert_int_equal(part_cpc_set_running(cpc, web, 8, 2048), 0);
    assert_int_equal(part_cpc_set_running(cpc, big, 12, 2048), 0);
    assert_float_equal(web->entitlement, 2, 1e-9);
    steady(web, 2);
    steady(big, 12);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* using 1.5 (under 2 x 0.9) it gives one up */
    free(web->history);
    web->history = NULL;
    steady(web, 1.5);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 8, 7);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_past_the_cap_go_offline(void **state)
{
    /* capped at 1.5 with 4 online: it can use 2 at most; they go at once,
     * with no window to wait for */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 200), true);
    web->cap = 1.5;
    part_cpc_compute(cpc);
    steady(web, 1.5);
    struct part_policy pol = policy(false, true, false, false);
    pol.stabilization = 30;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 2);
    assert_string_equal(plan.actions[0].reason,
                        "web: capped at 1.50, it cannot use more than 2 of its 4 online "
                        "processors; processors 4 -> 2");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_never_below_min(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    web->profile->proc_min = 2;
    steady(web, 0.1);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_processors_remove_keeps_room(void **state)
{
    /* utilisation 0.45 <= low 0.5, but 0.9 would not fit one processor
     * under high 0.6: removing it would only add it back */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    steady(web, 0.9);
    struct part_policy pol = policy(false, true, false, false);
    pol.processors_low = 0.5;
    pol.processors_high = 0.6;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_processors_hysteresis(void **state)
{
    /* idle in 2 of 3 samples only (0.4 of 4 in the middle one): none
     * removed; growth is not judged on K samples (see
     * test_processors_grow_on_the_newest_sample) */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 200), true);
    samples3(web, 0.4, 1.6, 0.4, 0);
    struct part_policy pol = policy(false, true, false, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* K = 1 looks at the newest only */
    pol.samples = 1;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 3);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_processors_cooldown(void **state)
{
    /* removal waits for the cooldown (10 s) */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 4, 200), true);
    steady(web, 0.4);
    struct part_policy pol = policy(false, true, false, false);
    web->changed_at[PART_SET_PROCESSORS] = -3; /* 9 s ago */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    web->changed_at[PART_SET_PROCESSORS] = -4;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 4, 3);
    part_plan_clear(&plan);
    /* growth waits for none, only for a sample that shows the change */
    free(web->history);
    web->history = NULL;
    assert_int_equal(part_cpc_set_running(cpc, web, 2, 2048), 0);
    steady(web, 2);
    web->changed_at[PART_SET_PROCESSORS] = 5; /* 1 s ago, before the sample at 6 */
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_true(find(&plan, "web", PART_SET_PROCESSORS)->to > 2);
    part_plan_clear(&plan);
    web->changed_at[PART_SET_PROCESSORS] = NOW;
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

/* Memory management */

static void test_memory_grows_toward_need(void **state)
{
    /* need 1900 + headroom 256 = 2156 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    samples3(db, 1, 1, 1, 1900);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2156);
    assert_string_equal(plan.actions[0].reason,
                        "db: the guest uses 1900MiB (the least of 3 samples) + headroom 256MiB; "
                        "memory 2GiB -> 2156MiB (at most 512MiB a step)");
    part_plan_clear(&plan);
    /* the step limits it */
    pol.memory_step = 100;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2148);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_grows_under_pressure(void **state)
{
    /* the guest needs 3000 but has 2048, all used: it cannot show more;
     * it gets twice the headroom */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    samples3(db, 1, 1, 1, 3000);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2560);
    assert_string_equal(plan.actions[0].reason,
                        "db: memory pressure for 3 samples (at most 0MiB of 2GiB free); memory "
                        "2GiB -> 2560MiB (it uses 2GiB, + the headroom 256MiB, + what it paged in "
                        "an interval or the headroom again, at once)");
    part_plan_clear(&plan);
    /* at once, not a step at a time */
    pol.memory_step = 300;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2560);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* Appends a sample at t as sample() does, the guest leaving unused MiB of
 * its memory unused (seeing avail in all), and paging at faults per second
 * and swap_in, swap_out MiB/s since the previous sample (negative: no
 * figure). */
static void sample_paging(struct part_partition *p, double t, uint64_t avail, uint64_t unused,
                          double faults, double swap_in, double swap_out)
{
    struct part_history *h = history_of(p);
    double dt = h->n ? t - h->last_t : 0;
    uint64_t ns = h->last_cpu_ns ? h->last_cpu_ns + (uint64_t)(dt * NS) : (uint64_t)NS;
    part_history_add(h, t, true, ns, p->processors, true, p->memory, avail, unused);
    uint64_t f = h->last_has_faults ? h->last_faults + (uint64_t)llround(faults * dt) : 1000;
    uint64_t in =
        h->last_has_swap ? h->last_swap_in + (uint64_t)llround(swap_in * dt * 1024) : 5000;
    uint64_t out =
        h->last_has_swap ? h->last_swap_out + (uint64_t)llround(swap_out * dt * 1024) : 7000;
    part_history_add_paging(h, faults >= 0, f, swap_in >= 0, in, out);
}

/* sample_paging() at 0, 2, 4 and 6 alike. */
static void paging3(struct part_partition *p, uint64_t unused, double faults, double swap_in,
                    double swap_out)
{
    for (double t = 0; t <= NOW; t += DT)
        sample_paging(p, t, p->memory, unused, faults, swap_in, swap_out);
}

static void test_memory_pressure_paging_grows_by_need(void **state)
{
    /* 100 MiB unused (over the 64 MiB floor, under the 256 MiB headroom),
     * swapping 200 MiB/s in and 10 out, 120 major faults/s: it paged
     * (200 + 120 x 4 KiB) MiB/s x 2 s = 400 MiB in an interval, more than
     * the headroom; it gets its use (1948) + the headroom + that, at once:
     * the 512 MiB step does not hold it back */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    paging3(db, 100, 120, 200, 10);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 1948 + 256 + 400);
    assert_string_equal(plan.actions[0].reason,
                        "db: memory pressure for 3 samples (at most 100MiB of 2GiB free, 120 "
                        "major faults/s, 200.0 MiB/s swap in, 10.0 MiB/s swap out); memory 2GiB "
                        "-> 2604MiB (it uses 1948MiB, + the headroom 256MiB, + what it paged in "
                        "an interval or the headroom again, at once)");
    part_plan_clear(&plan);
    /* the same guest not paging only grows toward need + headroom (1948 +
     * 256) */
    free(db->history);
    db->history = NULL;
    paging3(db, 100, 0, 0, 0);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2204);
    part_plan_clear(&plan);
    /* paging in one sample only is no pressure either */
    free(db->history);
    db->history = NULL;
    sample_paging(db, 0, 2048, 100, 0, 0, 0);
    sample_paging(db, 2, 2048, 100, 0, 0, 0);
    sample_paging(db, 4, 2048, 100, 0, 0, 0);
    sample_paging(db, 6, 2048, 100, 500, 200, 200);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2204);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_pressure_by_usable(void **state)
{
    /* 150 MiB unused, but the guest could use only 30 of it without
     * swapping (its kernel keeps the rest in reserve): under the floor,
     * pressure: its use (2018) + twice the headroom; the reason names what
     * it could use */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    struct part_history *h = history_of(db);
    for (int i = 0; i <= 3; i++) {
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2048, 2000, 150);
        part_history_add_usable(h, 30);
    }
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2018 + 512);
    assert_non_null(strstr(plan.actions[0].reason, "(at most 30MiB of 2GiB free)"));
    part_plan_clear(&plan);
    /* with 100 usable it is not: growth toward need + headroom, the need
     * counting what the kernel keeps (2048 - 100 + 256) */
    free(db->history);
    db->history = NULL;
    h = history_of(db);
    for (int i = 0; i <= 3; i++) {
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2048, 2000, 150);
        part_history_add_usable(h, 100);
    }
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2204);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_paging_with_memory_free_is_no_pressure(void **state)
{
    /* 1000 MiB unused: faults are files read, not a want of memory; the
     * guest shrinks a step toward 1048 + 256 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    paging3(db, 1000, 5000, 50, 50);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 1536);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_never_shrinks_under_pressure(void **state)
{
    /* the target is 4 GiB but the balloon is still at 2000 MiB (the guest
     * has not given it back), and the guest pages with 30 MiB unused in
     * one sample: its need (1970 + 256) is far under the target, yet it is
     * not shrunk */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, db, 2, 4096), 0);
    struct part_history *h = history_of(db);
    for (int i = 0; i <= 3; i++) {
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2000, 1950,
                         i == 2 ? 30 : 200);
        part_history_add_paging(h, true, 1000 + (i == 2 ? 800 : 0), false, 0, 0);
    }
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* without the paging sample, it is shrunk a step */
    free(db->history);
    db->history = NULL;
    h = history_of(db);
    for (int i = 0; i <= 3; i++) {
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2000, 1950, 200);
        part_history_add_paging(h, true, 1000, false, 0, 0);
    }
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 4096, 3584);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_need_in_balloon_terms(void **state)
{
    /* the balloon gives 2048 MiB, the guest sees 2000 of it (its kernel
     * keeps 48) and leaves 300 unused: it uses 1748, and the target is
     * 1748 + the headroom of 64, which leaves it 64 unused. Measured
     * against what the guest sees (1700 + 64), it would be left 16 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    struct part_history *h = history_of(db);
    for (int i = 0; i <= 3; i++)
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2048, 2000, 300);
    struct part_policy pol = policy(false, false, true, false);
    pol.memory_headroom = 64;
    pol.memory_deadband = 32;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 1812);
    part_plan_clear(&plan);
    /* a guest that says more is unused than its balloon gives is not
     * believed */
    free(db->history);
    db->history = NULL;
    h = history_of(db);
    for (int i = 0; i <= 3; i++)
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 100, 4000, 1000);
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_memory_host_free_bounds_growth(void **state)
{
    /* the CPC has room, but the host has 300 MiB free beyond its 4 GiB
     * reserve: the guest under pressure gets those */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    samples3(db, 1, 1, 1, 3000);
    cpc->host = (struct part_host_memory){.has_free = true, .free = 4096 + 300};
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2348);
    part_plan_clear(&plan);
    /* nothing free beyond the reserve: nothing given */
    cpc->host.free = 4000;
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* unknown: the CPC's own limit alone */
    cpc->host.has_free = false;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2560);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_pressure_first_starved_before_all(void **state)
{
    /* 600 MiB free on the host beyond its reserve. hi (weight 500) wants
     * to grow toward need (no pressure), big (weight 300) is under
     * pressure, low (weight 100) under pressure at its minimum: low gets
     * its 512 first, big the 88 left, hi nothing */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *hi = add(cpc, shared("hi", 2, 500), true);
    struct part_partition *big = add(cpc, shared("big", 2, 300), true);
    struct part_partition *low = add(cpc, shared("low", 2, 100), true);
    assert_int_equal(part_cpc_set_running(cpc, low, 2, 1024), 0);
    samples3(hi, 1, 1, 1, 1700); /* 300 unused: 1956 wanted, balanced */
    free(hi->history);
    hi->history = NULL;
    samples3(hi, 1, 1, 1, 1980); /* 68 unused: over the floor; wants 2236 */
    samples3(big, 1, 1, 1, 3000);
    samples3(low, 1, 1, 1, 3000);
    cpc->host = (struct part_host_memory){.has_free = true, .free = 4096 + 600};
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 2);
    assert_string_equal(plan.actions[0].partition, "low");
    assert_action(&plan, "low", PART_SET_MEMORY, 1024, 1536);
    assert_action(&plan, "big", PART_SET_MEMORY, 2048, 2136);
    assert_null(find(&plan, "hi", PART_SET_MEMORY));
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_host_psi_holds_growth_back(void **state)
{
    /* the host's memory pressure at 25% (over the policy's 10): only the
     * guest under pressure at its minimum grows */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *big = add(cpc, shared("big", 2, 300), true);
    struct part_partition *low = add(cpc, shared("low", 2, 100), true);
    struct part_partition *need = add(cpc, shared("need", 2, 600), true);
    assert_int_equal(part_cpc_set_running(cpc, low, 2, 1024), 0);
    samples3(big, 1, 1, 1, 3000);
    samples3(low, 1, 1, 1, 3000);
    samples3(need, 1, 1, 1, 1980);
    cpc->host = (struct part_host_memory){.has_psi = true, .psi_some10 = 25};
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "low", PART_SET_MEMORY, 1024, 1536);
    part_plan_clear(&plan);
    /* under the policy's host_psi, all three grow */
    pol.memory_host_psi = 30;
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 3);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_pressure_hostile_counters(void **state)
{
    /* counters that jump by 2^62 a sample: the rate is clamped, and the
     * growth stops at the profile's reserved 8 GiB */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    struct part_history *h = history_of(db);
    for (int i = 0; i <= 3; i++) {
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2048, 2048, 10);
        part_history_add_paging(h, true, (uint64_t)i << 62, true, (uint64_t)i << 62,
                                (uint64_t)i << 62);
    }
    assert_true(part_history_get(h, 0)->major_faults <= PART_PAGING_RATE_MAX);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 8192);
    part_plan_clear(&plan);
    /* counters that go backwards give no rate: 100 MiB unused (over the
     * floor) and no paging is no pressure, only growth toward need */
    free(db->history);
    db->history = NULL;
    h = history_of(db);
    for (int i = 0; i <= 3; i++) {
        part_history_add(h, DT * i, true, NS * (uint64_t)(i + 1), 2, true, 2048, 2048, 100);
        part_history_add_paging(h, true, 1000000 - 1000 * (uint64_t)i, true,
                                1000000 - 1000 * (uint64_t)i, 1000000 - 1000 * (uint64_t)i);
    }
    assert_false(part_history_get(h, 0)->faults_valid);
    assert_false(part_history_get(h, 0)->swap_valid);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2204);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_pressure_overshoot_kept(void **state)
{
    /* after growing under pressure to 2560, a need of 2000 leaves 560 free:
     * within headroom x 2 + dead-band, so it is not taken back */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, db, 2, 2560), 0);
    samples3(db, 1, 1, 1, 2000);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* with 1900, 660 are free: over 576, it shrinks to need + headroom */
    free(db->history);
    db->history = NULL;
    samples3(db, 1, 1, 1, 1900);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2560, 2156);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_shrinks_toward_need(void **state)
{
    /* memory 4096, need 1000: target 1256; at most 512 down: 3584 */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    db->profile->mem_initial = 4096;
    assert_int_equal(part_cpc_set_running(cpc, db, 2, 4096), 0);
    samples3(db, 1, 1, 1, 1000);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 4096, 3584);
    part_plan_clear(&plan);
    pol.memory_step = 8192;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 4096, 1256);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_within_bounds(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    struct part_partition *idle = add(cpc, shared("idle", 2, 200), true);
    assert_int_equal(part_cpc_set_running(cpc, db, 2, 7900), 0);
    samples3(db, 1, 1, 1, 20000); /* far over reserved 8 GiB, under pressure */
    samples3(idle, 1, 1, 1, 100); /* far under min 1 GiB */
    struct part_policy pol = policy(false, false, true, false);
    pol.memory_step = 65536;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 7900, 8192);
    assert_action(&plan, "idle", PART_SET_MEMORY, 2048, 1024);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_deadband(void **state)
{
    /* need 1830 + 256 = 2086: 38 MiB over 2048, under the 64 dead-band */
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    samples3(db, 1, 1, 1, 1830);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    pol.memory_deadband = 16;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "db", PART_SET_MEMORY, 2048, 2086);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_hysteresis(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    struct part_policy pol = policy(false, false, true, false);
    /* one sample without balloon figures */
    sample(db, 0, 0, 3000);
    sample(db, 2, 1, 3000);
    sample(db, 4, 1, 0);
    sample(db, 6, 1, 3000);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* needs of 3000, 1800, 3000: the least (1800 + 256) is no growth, the
     * most (3256) no shrink */
    free(db->history);
    db->history = NULL;
    sample(db, 0, 0, 3000);
    sample(db, 2, 1, 3000);
    sample(db, 4, 1, 1800);
    sample(db, 6, 1, 3000);
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_memory_cooldown(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *db = add(cpc, shared("db", 2, 200), true);
    samples3(db, 1, 1, 1, 3000);
    struct part_policy pol = policy(false, false, true, false);
    db->changed_at[PART_SET_MEMORY] = -0.5; /* 6.5 s ago, but after sample 0 */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    part_plan_clear(&plan);
    pol.cooldown_memory = 7;
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_memory_growth_by_weight_within_host(void **state)
{
    /* 4 GiB for the host, 6912 MiB for partitions; three of 2 GiB use
     * 6 GiB, 768 MiB left. hi (weight 500) and lo (weight 150) are under
     * pressure and each want +512: hi gets it, lo the 256 left */
    struct part_cpc *cpc = cpc_make(4, 4096 + 6144 + 768);
    struct part_partition *lo = add(cpc, shared("lo", 2, 150), true);
    struct part_partition *hi = add(cpc, shared("hi", 2, 500), true);
    struct part_partition *mid = add(cpc, shared("mid", 2, 200), true);
    samples3(lo, 1, 1, 1, 3000);
    samples3(hi, 1, 1, 1, 3000);
    samples3(mid, 1, 1, 1, 1792); /* 2048: balanced */
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "hi", PART_SET_MEMORY, 2048, 2560);
    assert_action(&plan, "lo", PART_SET_MEMORY, 2048, 2304);
    part_plan_clear(&plan);

    /* mid shrinking by a step (need 1024 + 256 is the target) frees 512
     * MiB for lo in the same plan */
    free(mid->history);
    mid->history = NULL;
    samples3(mid, 1, 1, 1, 1024);
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "mid", PART_SET_MEMORY, 2048, 1536);
    assert_action(&plan, "hi", PART_SET_MEMORY, 2048, 2560);
    assert_action(&plan, "lo", PART_SET_MEMORY, 2048, 2560);
    /* shrinks come before growth */
    assert_string_equal(plan.actions[0].partition, "mid");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_memory_no_partial_grant_under_deadband(void **state)
{
    /* 40 MiB of room left is not worth a change */
    struct part_cpc *cpc = cpc_make(4, 4096 + 2048 + 2048 + 40);
    struct part_partition *a = add(cpc, shared("a", 2, 200), true);
    struct part_partition *b = add(cpc, shared("b", 2, 200), true);
    samples3(a, 1, 1, 1, 3000);
    samples3(b, 1, 1, 1, 1792);
    struct part_policy pol = policy(false, false, true, false);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

/* Defined capacity */

/* Gives p a rolling window of window seconds and fills seconds of it with
 * a use of used, sampled every 2 s up to NOW. */
static void rolling_fill(struct part_partition *p, double window, double seconds, double used)
{
    part_history_set_window(history_of(p), window);
    for (double t = NOW - seconds; t <= NOW + 1e-9; t += DT)
        sample(p, t, used, 0);
}

static struct part_cpc *dc_cpc(struct part_partition **app)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    *app = add(cpc, shared("app", 4, 200), true);
    (*app)->profile->defined_capacity = 2.0;
    return cpc;
}

static void test_dc_caps_over_average(void **state)
{
    struct part_partition *app;
    struct part_cpc *cpc = dc_cpc(&app);
    rolling_fill(app, 60, 60, 3);
    struct part_policy pol = policy(false, false, false, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "app", PART_SET_CAP, PART_CAP_NONE, 2.0);
    assert_true(plan.actions[0].dc);
    assert_string_equal(plan.actions[0].reason,
                        "app: rolling average 3.00 over 60 s (of a 60 s window) > defined "
                        "capacity 2.00; cap none -> 2.00");
    part_plan_clear(&plan);
    /* a running cap above defined capacity is lowered too */
    app->cap = 3.5;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "app", PART_SET_CAP, 3.5, 2.0);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_dc_needs_a_quarter_of_the_window(void **state)
{
    struct part_partition *app;
    struct part_cpc *cpc = dc_cpc(&app);
    rolling_fill(app, 100, 20, 3); /* 20 s of 100 */
    struct part_policy pol = policy(false, false, false, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    free(app->history);
    app->history = NULL;
    rolling_fill(app, 100, 26, 3); /* 26 s of 100 */
    plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_dc_running_cap_already_below(void **state)
{
    struct part_partition *app;
    struct part_cpc *cpc = dc_cpc(&app);
    app->cap = 1.5;
    rolling_fill(app, 60, 60, 3);
    struct part_policy pol = policy(false, false, false, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_dc_releases_under_average(void **state)
{
    struct part_partition *app;
    struct part_cpc *cpc = dc_cpc(&app);
    app->cap = 2.0;
    app->dc_capped = true;
    rolling_fill(app, 60, 60, 1);
    struct part_policy pol = policy(false, false, false, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_int_equal(plan.n, 1);
    assert_action(&plan, "app", PART_SET_CAP, 2.0, PART_CAP_NONE);
    assert_true(plan.actions[0].dc);
    assert_string_equal(plan.actions[0].reason,
                        "app: rolling average 1.00 over 60 s (of a 60 s window) < defined "
                        "capacity 2.00 - 10%; cap 2.00 -> none (the profile's)");
    part_plan_clear(&plan);
    /* to the profile's own cap when it has one */
    app->profile->cap = 3.0;
    plan = plan_ok(cpc, &pol, NOW);
    assert_action(&plan, "app", PART_SET_CAP, 2.0, 3.0);
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_dc_release_deadband(void **state)
{
    /* 1.9 is under 2 but not under 2 x 0.9 = 1.8: stays capped */
    struct part_partition *app;
    struct part_cpc *cpc = dc_cpc(&app);
    app->cap = 2.0;
    app->dc_capped = true;
    rolling_fill(app, 60, 60, 1.9);
    struct part_policy pol = policy(false, false, false, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_dc_user_cap_is_not_released(void **state)
{
    /* a cap the user set (dc_capped false) is never given back */
    struct part_partition *app;
    struct part_cpc *cpc = dc_cpc(&app);
    app->cap = 2.0;
    rolling_fill(app, 60, 60, 0.5);
    struct part_policy pol = policy(false, false, false, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

/* What is never touched, and what never counts */

static void test_policy_flags(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(false, true, true, true);
    /* everything but weights managed: nothing for weights to do here,
     * and the observe-only policy does nothing at all */
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_null(find(&plan, "prod", PART_SET_WEIGHT));
    part_plan_clear(&plan);
    part_policy_default(&pol);
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_unmanaged_untouched(void **state)
{
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, true, true, true);
    prod->profile->managed = false;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    for (size_t i = 0; i < plan.n; i++)
        assert_string_not_equal(plan.actions[i].partition, "prod");
    part_plan_clear(&plan);
    prod->profile->managed = true;
    batch->profile->managed = false;
    plan = plan_ok(cpc, &pol, NOW);
    for (size_t i = 0; i < plan.n; i++)
        assert_string_not_equal(plan.actions[i].partition, "batch");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

static void test_inactive_untouched(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), false);
    web->processors = 2; /* as it ran before it stopped */
    web->memory = 2048;
    web->profile->defined_capacity = 1;
    part_history_set_window(history_of(web), 8);
    samples3(web, 2, 2, 2, 3000);
    struct part_policy pol = policy(true, true, true, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_invalid_samples_never_count(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    struct part_policy pol = policy(false, true, false, false);
    /* idle (0.2 of 2), but the counter went back at 4: that sample is
     * invalid, and a removal needs K valid ones */
    struct part_history *h = history_of(web);
    part_history_add(h, 0, true, 10 * (uint64_t)NS, 2, false, 0, 0, 0);
    part_history_add(h, 2, true, 10.4 * NS, 2, false, 0, 0, 0);
    part_history_add(h, 4, true, 1 * (uint64_t)NS, 2, false, 0, 0, 0);
    part_history_add(h, 6, true, 1.4 * NS, 2, false, 0, 0, 0);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    /* a sample without a counter breaks the run too */
    part_history_add(h, 8, false, 0, 2, false, 0, 0, 0);
    part_history_add(h, 10, true, 9 * (uint64_t)NS, 2, false, 0, 0, 0);
    part_history_add(h, 12, true, 9.4 * NS, 2, false, 0, 0, 0);
    plan = plan_ok(cpc, &pol, 12);
    assert_empty(&plan);
    part_history_add(h, 14, true, 9.8 * NS, 2, false, 0, 0, 0);
    plan = plan_ok(cpc, &pol, 14);
    assert_empty(&plan);
    /* three valid in a row again */
    part_history_add(h, 16, true, 10.2 * NS, 2, false, 0, 0, 0);
    plan = plan_ok(cpc, &pol, 16);
    assert_action(&plan, "web", PART_SET_PROCESSORS, 2, 1);
    part_plan_clear(&plan);
    /* an invalid newest sample hides a busy one: no growth on it */
    part_history_add(h, 18, true, 14.2 * NS, 2, false, 0, 0, 0); /* 2 of 2 */
    part_history_add(h, 20, true, 1 * (uint64_t)NS, 2, false, 0, 0, 0);
    plan = plan_ok(cpc, &pol, 20);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_stale_samples_never_count(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    steady(web, 2);
    struct part_policy pol = policy(false, true, false, false);
    /* the newest is 4 s old with samples every 2 s and plans every 2 s:
     * fine; 5 s old: stale */
    struct part_plan plan = plan_ok(cpc, &pol, NOW + 4);
    assert_int_equal(plan.n, 1);
    part_plan_clear(&plan);
    plan = plan_ok(cpc, &pol, NOW + 5);
    assert_empty(&plan);
    /* samples from the future (another clock) neither */
    plan = plan_ok(cpc, &pol, NOW - 1);
    assert_empty(&plan);
    /* no history at all */
    free(web->history);
    web->history = NULL;
    plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

static void test_running_value_outside_bounds_left_alone(void **state)
{
    /* the profile was replaced with a range the running weight is not in */
    struct part_partition *prod, *batch;
    struct part_cpc *cpc = ird_cpc(&prod, &batch);
    struct part_policy pol = policy(true, false, false, false);
    prod->profile->weight_min = 320;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_empty(&plan);
    part_cpc_free(cpc);
}

/* A CPC where every rule has something to do. */
static struct part_cpc *busy_cpc(void)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *prod = add(cpc, shared("prod", 5, 300), true);
    prod->profile->proc_reserved = 10;
    assert_int_equal(part_cpc_set_running(cpc, prod, 10, 2048), 0);
    struct part_partition *batch = add(cpc, shared("batch", 8, 400), true);
    struct part_partition *web = add(cpc, shared("web", 2, 200), true);
    struct part_partition *app = add(cpc, shared("app", 4, 200), true);
    app->profile->defined_capacity = 0.5;
    part_history_set_window(history_of(app), 8);
    samples3(prod, 9, 9, 9, 3000);
    samples3(batch, 1, 1, 1, 500);
    samples3(web, 1.9, 1.9, 1.9, 1900);
    samples3(app, 1, 1, 1, 1000);
    return cpc;
}

static void test_deterministic(void **state)
{
    struct part_cpc *cpc = busy_cpc();
    struct part_policy pol = policy(true, true, true, true);
    struct part_plan a = plan_ok(cpc, &pol, NOW), b = plan_ok(cpc, &pol, NOW);
    assert_true(a.n >= 6);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.actions[i].partition, b.actions[i].partition);
        assert_int_equal(a.actions[i].setting, b.actions[i].setting);
        assert_true(a.actions[i].from == b.actions[i].from);
        assert_true(a.actions[i].to == b.actions[i].to);
        assert_int_equal(a.actions[i].dc, b.actions[i].dc);
        assert_string_equal(a.actions[i].reason, b.actions[i].reason);
    }
    part_plan_clear(&a);
    part_plan_clear(&b);
    part_cpc_free(cpc);
}

static void test_order_of_application(void **state)
{
    /* caps, weights, processors, memory */
    struct part_cpc *cpc = busy_cpc();
    struct part_policy pol = policy(true, true, true, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    static const int rank[PART_SET_N] = {[PART_SET_CAP] = 0,
                                         [PART_SET_WEIGHT] = 1,
                                         [PART_SET_PROCESSORS] = 2,
                                         [PART_SET_MEMORY] = 3};
    for (size_t i = 1; i < plan.n; i++)
        assert_true(rank[plan.actions[i - 1].setting] <= rank[plan.actions[i].setting]);
    assert_non_null(find(&plan, "app", PART_SET_CAP));
    assert_non_null(find(&plan, "web", PART_SET_PROCESSORS));
    assert_non_null(find(&plan, "batch", PART_SET_MEMORY));
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* Every action names its partition by index too, the partition's place in
 * the CPC (part_plan_check() finds it so). */
static void test_actions_carry_their_index(void **state)
{
    struct part_cpc *cpc = busy_cpc();
    struct part_policy pol = policy(true, true, true, true);
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    assert_true(plan.n >= 6);
    for (size_t i = 0; i < plan.n; i++) {
        assert_true(plan.actions[i].index < cpc->n);
        assert_string_equal(cpc->parts[plan.actions[i].index]->profile->name,
                            plan.actions[i].partition);
    }
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* Reasons round as printf does: 0.125 and 0.375 are exact halves, which
 * go to the even hundredth. */
static void test_reasons_round_like_printf(void **state)
{
    struct part_cpc *cpc = cpc_make(4, 65536);
    struct part_partition *web = add(cpc, shared("web", 8, 200), true);
    struct part_partition *app = add(cpc, shared("app", 8, 200), true);
    steady(web, 1); /* utilisation 1 / 8 */
    steady(app, 3); /* utilisation 3 / 8 */
    struct part_policy pol = policy(false, true, false, false);
    pol.processors_low = 0.4;
    struct part_plan plan = plan_ok(cpc, &pol, NOW);
    char a[32], b[32];
    snprintf(a, sizeof(a), "%.2f %.2f", 0.125, 0.375);
    snprintf(b, sizeof(b), "%s %s", "0.12", "0.38");
    assert_string_equal(a, b);
    assert_int_equal(plan.n, 2);
    assert_string_equal(find(&plan, "web", PART_SET_PROCESSORS)->reason,
                        "web: utilisation 0.12 <= 0.40 of 8 online processors for 3 samples "
                        "(demand 1.00, at most 1.00); processors 8 -> 7");
    assert_string_equal(find(&plan, "app", PART_SET_PROCESSORS)->reason,
                        "app: utilisation 0.38 <= 0.40 of 8 online processors for 3 samples "
                        "(demand 3.00, at most 3.00); processors 8 -> 7");
    part_plan_clear(&plan);
    part_cpc_free(cpc);
}

/* part_plan_check: a hand-made plan breaking each invariant */

static struct part_cpc *check_cpc(void)
{
    struct part_cpc *cpc = cpc_make(1, 16384); /* at most 14 processors, 12 GiB */
    add(cpc, in_group(shared("w1", 4, 200), "web"), true);
    add(cpc, in_group(shared("w2", 4, 200), "web"), true);
    add(cpc, shared("u1", 2, 200), true);
    add(cpc, shared("u2", 2, 200), true);
    add(cpc, shared("off", 2, 200), false);
    return cpc;
}

/* Checks a plan of the given actions; returns the result and err. */
static int check(const struct part_cpc *cpc, const struct part_action *actions, size_t n,
                 struct part_error *err)
{
    struct part_plan plan = {.actions = (struct part_action *)actions, .n = n, .alloc = n};
    part_error_clear(err);
    return part_plan_check(cpc, &plan, err);
}

#define ACTION(name_, setting_, from_, to_)                                                        \
    {                                                                                              \
        .partition = name_, .setting = setting_, .from = from_, .to = to_                          \
    }

static void expect_broken(const struct part_cpc *cpc, const struct part_action *actions, size_t n,
                          const char *message)
{
    struct part_error err;
    assert_int_equal(check(cpc, actions, n, &err), -EPROTO);
    assert_string_equal(err.message, message);
}

static void test_check_accepts_good_plan(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action good[] = {
        ACTION("w1", PART_SET_WEIGHT, 200, 250),        ACTION("w2", PART_SET_WEIGHT, 200, 150),
        ACTION("u1", PART_SET_PROCESSORS, 2, 3),        ACTION("u2", PART_SET_MEMORY, 2048, 4096),
        ACTION("u2", PART_SET_CAP, PART_CAP_NONE, 1.5),
    };
    struct part_error err;
    assert_int_equal(check(cpc, good, 5, &err), 0);
    assert_int_equal(check(cpc, good, 0, &err), 0);
    part_cpc_free(cpc);
}

static void test_check_weight_bounds(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action bad[] = {ACTION("w1", PART_SET_WEIGHT, 200, 700),
                                      ACTION("w2", PART_SET_WEIGHT, 200, -300)};
    expect_broken(cpc, bad, 2, "action 0: w1: weight 700 is outside its bounds 100-600");
    const struct part_action low[] = {ACTION("u1", PART_SET_WEIGHT, 200, 50)};
    expect_broken(cpc, low, 1, "action 0: u1: weight 50 is outside its bounds 100-600");
    const struct part_action frac[] = {ACTION("u1", PART_SET_WEIGHT, 200, 250.5)};
    expect_broken(cpc, frac, 1, "action 0: u1: weight 250.5 is not a whole number");
    part_cpc_free(cpc);
}

static void test_check_processor_bounds(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action over[] = {ACTION("u1", PART_SET_PROCESSORS, 2, 5)};
    expect_broken(cpc, over, 1, "action 0: u1: processors 5 is outside its bounds 1-4");
    const struct part_action zero[] = {ACTION("u1", PART_SET_PROCESSORS, 2, 0)};
    expect_broken(cpc, zero, 1, "action 0: u1: processors 0 is outside its bounds 1-4");
    part_cpc_free(cpc);
}

static void test_check_memory_bounds(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action over[] = {ACTION("u1", PART_SET_MEMORY, 2048, 9000)};
    expect_broken(cpc, over, 1, "action 0: u1: memory 9000 is outside its bounds 1024-8192");
    const struct part_action under[] = {ACTION("u1", PART_SET_MEMORY, 2048, 512)};
    expect_broken(cpc, under, 1, "action 0: u1: memory 512 is outside its bounds 1024-8192");
    part_cpc_free(cpc);
}

static void test_check_cap_range(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action over[] = {ACTION("u1", PART_SET_CAP, PART_CAP_NONE, 300)};
    expect_broken(cpc, over, 1, "action 0: u1: cap 300 is outside 0.01-255");
    const struct part_action under[] = {ACTION("u1", PART_SET_CAP, PART_CAP_NONE, 0.001)};
    expect_broken(cpc, under, 1, "action 0: u1: cap 0.001 is outside 0.01-255");
    part_cpc_free(cpc);
}

static void test_check_group_total(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action bad[] = {ACTION("w1", PART_SET_WEIGHT, 200, 250),
                                      ACTION("w2", PART_SET_WEIGHT, 200, 160)};
    expect_broken(cpc, bad, 2, "group web: weight total 400 -> 410 (must be conserved)");
    /* weight moved across clusters: each total changes */
    const struct part_action across[] = {ACTION("w1", PART_SET_WEIGHT, 200, 250),
                                         ACTION("u1", PART_SET_WEIGHT, 200, 150)};
    expect_broken(cpc, across, 2, "group web: weight total 400 -> 450 (must be conserved)");
    part_cpc_free(cpc);
}

static void test_check_ungrouped_total(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action bad[] = {ACTION("u1", PART_SET_WEIGHT, 200, 250)};
    expect_broken(cpc, bad, 1, "ungrouped partitions: weight total 400 -> 450 (must be conserved)");
    part_cpc_free(cpc);
}

static void test_check_cpu_overcommit(void **state)
{
    /* online 4 + 4 + 2 + 2 = 12 of 14; +3 and +2 make 17 */
    struct part_cpc *cpc = check_cpc();
    const struct part_action bad[] = {ACTION("w1", PART_SET_PROCESSORS, 4, 7),
                                      ACTION("u1", PART_SET_PROCESSORS, 2, 4)};
    expect_broken(cpc, bad, 2,
                  "17 shared logical processors exceed 14 (pool of 14 CPUs x cpu_overcommit 1)");
    part_cpc_free(cpc);
}

static void test_check_memory_limit(void **state)
{
    /* 4 x 2 GiB = 8 GiB of 12; +3 GiB and +2 GiB make 13 */
    struct part_cpc *cpc = check_cpc();
    const struct part_action bad[] = {ACTION("w1", PART_SET_MEMORY, 2048, 5120),
                                      ACTION("u1", PART_SET_MEMORY, 2048, 4096)};
    expect_broken(cpc, bad, 2,
                  "memory targets of active partitions total 13312 MiB, over the 12288 MiB "
                  "available");
    part_cpc_free(cpc);
}

/* An action's index is a hint: the name decides. */
static void test_check_index_is_a_hint(void **state)
{
    struct part_cpc *cpc = check_cpc(); /* w1 w2 u1 u2 off */
    struct part_partition *u2 = part_cpc_find(cpc, "u2");
    assert_int_equal(part_cpc_set_running(cpc, u2, 3, 2048), 0);
    struct part_action stale[] = {ACTION("u1", PART_SET_PROCESSORS, 3, 4)};
    stale[0].index = 3; /* u2's, which runs 3 */
    expect_broken(cpc, stale, 1, "action 0: u1: processors from 3, but it runs at 2");
    struct part_action twice[] = {ACTION("u1", PART_SET_PROCESSORS, 2, 3),
                                  ACTION("u1", PART_SET_PROCESSORS, 3, 4)};
    twice[0].index = 2;
    twice[1].index = 3;
    expect_broken(cpc, twice, 2, "action 1: u1: processors changes twice in one plan");
    struct part_action far[] = {ACTION("u2", PART_SET_PROCESSORS, 3, 2),
                                ACTION("off", PART_SET_PROCESSORS, 2, 3)};
    far[0].index = 99;
    far[1].index = 99;
    expect_broken(cpc, far, 2, "action 1: off is not active");
    struct part_error err;
    assert_int_equal(check(cpc, far, 1, &err), 0);
    part_cpc_free(cpc);
}

static void test_check_consistency(void **state)
{
    struct part_cpc *cpc = check_cpc();
    const struct part_action unknown[] = {ACTION("nosuch", PART_SET_WEIGHT, 200, 250)};
    expect_broken(cpc, unknown, 1, "action 0: no partition named nosuch");
    const struct part_action inactive[] = {ACTION("off", PART_SET_PROCESSORS, 2, 3)};
    expect_broken(cpc, inactive, 1, "action 0: off is not active");
    const struct part_action twice[] = {ACTION("u1", PART_SET_PROCESSORS, 2, 3),
                                        ACTION("u1", PART_SET_PROCESSORS, 3, 4)};
    expect_broken(cpc, twice, 2, "action 1: u1: processors changes twice in one plan");
    const struct part_action stale[] = {ACTION("u1", PART_SET_PROCESSORS, 3, 4)};
    expect_broken(cpc, stale, 1, "action 0: u1: processors from 3, but it runs at 2");
    part_cpc_free(cpc);
}

/* JSON */

static void test_to_json(void **state)
{
    struct part_action actions[] = {
        ACTION("app", PART_SET_CAP, PART_CAP_NONE, 2.5),
        ACTION("app", PART_SET_WEIGHT, 200, 250),
        ACTION("db", PART_SET_MEMORY, 2048, 2560),
    };
    strcpy(actions[0].reason, "why");
    struct part_plan plan = {.actions = actions, .n = 3, .alloc = 3};
    json_t *j = part_plan_to_json(&plan);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text,
                        "[{\"partition\":\"app\",\"setting\":\"cap\",\"from\":null,\"to\":2.5,"
                        "\"reason\":\"why\"},{\"partition\":\"app\",\"setting\":\"weight\","
                        "\"from\":200,\"to\":250,\"reason\":\"\"},{\"partition\":\"db\","
                        "\"setting\":\"memory\",\"from\":2048,\"to\":2560,\"reason\":\"\"}]");
    free(text);
    json_decref(j);
    struct part_plan empty = {0};
    j = part_plan_to_json(&empty);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    part_plan_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* weight management */
        cmocka_unit_test(test_weight_moves_to_demand),
        cmocka_unit_test(test_weight_receiver_headroom),
        cmocka_unit_test(test_weight_donor_slack),
        cmocka_unit_test(test_weight_at_bounds_not_judged),
        cmocka_unit_test(test_weight_only_what_is_needed),
        cmocka_unit_test(test_weight_only_what_is_spare),
        cmocka_unit_test(test_weight_most_starved_served_from_most_slack),
        cmocka_unit_test(test_weight_each_partition_once),
        cmocka_unit_test(test_weight_groups_are_clusters),
        cmocka_unit_test(test_weight_ungrouped_form_one_cluster),
        cmocka_unit_test(test_weight_back_to_profiles_in_a_short_pool),
        cmocka_unit_test(test_weight_reclaim_only_what_was_lent),
        cmocka_unit_test(test_weight_not_reclaimed_while_idle),
        cmocka_unit_test(test_weight_none_to_demand_in_a_short_pool),
        cmocka_unit_test(test_weight_receiver_takes_what_it_wants_from_several),
        cmocka_unit_test(test_weight_reclaimed_from_several_in_one_plan),
        cmocka_unit_test(test_weight_no_donor_before_the_window),
        cmocka_unit_test(test_weight_back_from_a_capped_holder),
        cmocka_unit_test(test_weight_receiver_without_donor_takes_back),
        /* processor management */
        cmocka_unit_test(test_processors_add_when_busy),
        cmocka_unit_test(test_processors_grow_on_the_newest_sample),
        cmocka_unit_test(test_processors_hidden_demand_in_one_plan),
        cmocka_unit_test(test_processors_enough_for_the_most_used),
        cmocka_unit_test(test_processors_carry_the_entitlement),
        cmocka_unit_test(test_processors_carry_the_weight_taken_back),
        cmocka_unit_test(test_processors_as_many_as_admitted),
        cmocka_unit_test(test_processors_not_past_reserved),
        cmocka_unit_test(test_processors_not_past_cap),
        cmocka_unit_test(test_processors_admission_counts_the_plan),
        cmocka_unit_test(test_processors_remove_when_idle),
        cmocka_unit_test(test_processors_remove_after_the_window),
        cmocka_unit_test(test_processors_not_taken_from_a_partition_using_its_entitlement),
        cmocka_unit_test(test_processors_past_the_cap_go_offline),
        cmocka_unit_test(test_processors_never_below_min),
        cmocka_unit_test(test_processors_remove_keeps_room),
        cmocka_unit_test(test_admission_totals),
        /* memory management */
        cmocka_unit_test(test_memory_grows_toward_need),
        cmocka_unit_test(test_memory_grows_under_pressure),
        cmocka_unit_test(test_memory_pressure_paging_grows_by_need),
        cmocka_unit_test(test_memory_pressure_by_usable),
        cmocka_unit_test(test_memory_paging_with_memory_free_is_no_pressure),
        cmocka_unit_test(test_memory_never_shrinks_under_pressure),
        cmocka_unit_test(test_memory_need_in_balloon_terms),
        cmocka_unit_test(test_memory_host_free_bounds_growth),
        cmocka_unit_test(test_memory_pressure_first_starved_before_all),
        cmocka_unit_test(test_memory_host_psi_holds_growth_back),
        cmocka_unit_test(test_memory_pressure_hostile_counters),
        cmocka_unit_test(test_memory_pressure_overshoot_kept),
        cmocka_unit_test(test_memory_shrinks_toward_need),
        cmocka_unit_test(test_memory_within_bounds),
        cmocka_unit_test(test_memory_growth_by_weight_within_host),
        cmocka_unit_test(test_memory_no_partial_grant_under_deadband),
        /* defined capacity */
        cmocka_unit_test(test_dc_caps_over_average),
        cmocka_unit_test(test_dc_needs_a_quarter_of_the_window),
        cmocka_unit_test(test_dc_running_cap_already_below),
        cmocka_unit_test(test_dc_releases_under_average),
        cmocka_unit_test(test_dc_user_cap_is_not_released),
        /* anti-thrash */
        cmocka_unit_test(test_weight_deadband),
        cmocka_unit_test(test_weight_step_limit),
        cmocka_unit_test(test_weight_hysteresis),
        cmocka_unit_test(test_weight_cooldown),
        cmocka_unit_test(test_weight_judged_on_samples_after_the_change),
        cmocka_unit_test(test_processors_hysteresis),
        cmocka_unit_test(test_processors_cooldown),
        cmocka_unit_test(test_memory_deadband),
        cmocka_unit_test(test_memory_hysteresis),
        cmocka_unit_test(test_memory_cooldown),
        cmocka_unit_test(test_dc_release_deadband),
        /* never touched, never counted */
        cmocka_unit_test(test_policy_flags),
        cmocka_unit_test(test_unmanaged_untouched),
        cmocka_unit_test(test_inactive_untouched),
        cmocka_unit_test(test_invalid_samples_never_count),
        cmocka_unit_test(test_stale_samples_never_count),
        cmocka_unit_test(test_running_value_outside_bounds_left_alone),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_order_of_application),
        cmocka_unit_test(test_actions_carry_their_index),
        cmocka_unit_test(test_reasons_round_like_printf),
        /* invariants */
        cmocka_unit_test(test_check_accepts_good_plan),
        cmocka_unit_test(test_check_weight_bounds),
        cmocka_unit_test(test_check_processor_bounds),
        cmocka_unit_test(test_check_memory_bounds),
        cmocka_unit_test(test_check_cap_range),
        cmocka_unit_test(test_check_group_total),
        cmocka_unit_test(test_check_ungrouped_total),
        cmocka_unit_test(test_check_cpu_overcommit),
        cmocka_unit_test(test_check_memory_limit),
        cmocka_unit_test(test_check_consistency),
        cmocka_unit_test(test_check_index_is_a_hint),
        /* output */
        cmocka_unit_test(test_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
