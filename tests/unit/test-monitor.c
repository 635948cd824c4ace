/* The monitor's history: rates from counters, what makes a sample invalid,
 * the ring, and the rolling average of defined capacity. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <part/monitor.h>

#define NS 1000000000ull /* one processor-second */

static struct part_history *history_new(void)
{
    struct part_history *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    return h;
}

/* Adds a sample with a CPU counter and no memory figures. */
static void add_cpu(struct part_history *h, double t, uint64_t cpu_ns)
{
    part_history_add(h, t, true, cpu_ns, 4, false, 0, 0, 0);
}

/* Feeds h a constant use of used processors from t0 to t1 every dt
 * seconds, continuing the counter in *ns. */
static void feed(struct part_history *h, double t0, double t1, double dt, double used, uint64_t *ns)
{
    for (double t = t0; t <= t1 + 1e-9; t += dt) {
        add_cpu(h, t, *ns);
        *ns += (uint64_t)(used * dt * NS);
    }
}

static void test_empty(void **state)
{
    struct part_history *h = history_new();
    double seen = -1;
    assert_null(part_history_get(h, 0));
    assert_true(part_history_rolling(h, &seen) == 0);
    assert_true(seen == 0);
    assert_null(part_history_get(NULL, 0));
    free(h);
}

static void test_rate_from_counters(void **state)
{
    struct part_history *h = history_new();
    add_cpu(h, 10, 5 * NS);
    /* 3 processor-seconds in 2 seconds: 1.5 processors */
    add_cpu(h, 12, 8 * NS);
    const struct part_sample *s = part_history_get(h, 0);
    assert_non_null(s);
    assert_true(s->valid);
    assert_float_equal(s->used, 1.5, 1e-12);
    assert_true(s->t == 12);
    assert_int_equal(s->online, 4);
    /* the first sample had nothing to make a rate from */
    assert_false(part_history_get(h, 1)->valid);
    assert_null(part_history_get(h, 2));
    free(h);
}

static void test_first_sample_invalid(void **state)
{
    struct part_history *h = history_new();
    add_cpu(h, 1, 7 * NS);
    assert_int_equal(h->n, 1);
    assert_false(part_history_get(h, 0)->valid);
    free(h);
}

static void test_counter_backwards_starts_over(void **state)
{
    struct part_history *h = history_new();
    add_cpu(h, 0, 100 * NS);
    add_cpu(h, 2, 102 * NS);
    add_cpu(h, 4, 1 * NS); /* the domain restarted */
    assert_false(part_history_get(h, 0)->valid);
    add_cpu(h, 6, 3 * NS); /* counts again from the new counter */
    assert_true(part_history_get(h, 0)->valid);
    assert_float_equal(part_history_get(h, 0)->used, 1.0, 1e-12);
    free(h);
}

static void test_missing_counter_breaks_the_chain(void **state)
{
    struct part_history *h = history_new();
    add_cpu(h, 0, 10 * NS);
    part_history_add(h, 2, false, 0, 4, false, 0, 0, 0);
    assert_false(part_history_get(h, 0)->valid);
    /* no previous counter: this one cannot make a rate either */
    add_cpu(h, 4, 14 * NS);
    assert_false(part_history_get(h, 0)->valid);
    add_cpu(h, 6, 16 * NS);
    assert_true(part_history_get(h, 0)->valid);
    free(h);
}

static void test_break_makes_next_invalid(void **state)
{
    struct part_history *h = history_new();
    add_cpu(h, 0, 10 * NS);
    add_cpu(h, 2, 12 * NS);
    part_history_break(h);
    add_cpu(h, 4, 14 * NS);
    assert_false(part_history_get(h, 0)->valid);
    add_cpu(h, 6, 16 * NS);
    assert_true(part_history_get(h, 0)->valid);
    free(h);
}

static void test_time_must_move(void **state)
{
    struct part_history *h = history_new();
    add_cpu(h, 5, 10 * NS);
    add_cpu(h, 5, 12 * NS);
    assert_false(part_history_get(h, 0)->valid);
    add_cpu(h, 4, 14 * NS);
    assert_false(part_history_get(h, 0)->valid);
    free(h);
}

static void test_memory_figures(void **state)
{
    struct part_history *h = history_new();
    part_history_add(h, 0, true, NS, 2, true, 4096, 4000, 1000);
    const struct part_sample *s = part_history_get(h, 0);
    assert_true(s->mem_valid);
    assert_int_equal(s->mem_target, 4096);
    assert_int_equal(s->mem_available, 4000);
    assert_int_equal(s->mem_unused, 1000);
    /* a guest that reports more unused than it has is not believed */
    part_history_add(h, 2, true, 2 * NS, 2, true, 4096, 1000, 4000);
    assert_false(part_history_get(h, 0)->mem_valid);
    part_history_add(h, 4, true, 3 * NS, 2, false, 4096, 4000, 1000);
    assert_false(part_history_get(h, 0)->mem_valid);
    free(h);
}

/* Paging counters become rates per second (MiB/s for swap, from KiB). */
static void test_paging_rates(void **state)
{
    struct part_history *h = history_new();
    part_history_add(h, 0, true, NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, 1000, true, 2048, 4096);
    const struct part_sample *s = part_history_get(h, 0);
    assert_false(s->faults_valid); /* the first counters only start */
    assert_false(s->swap_valid);
    part_history_add(h, 2, true, 2 * NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, 1240, true, 2048 + 2 * 30 * 1024, 4096 + 2 * 1024);
    s = part_history_get(h, 0);
    assert_true(s->faults_valid);
    assert_true(s->swap_valid);
    assert_float_equal(s->major_faults, 120, 1e-9);
    assert_float_equal(s->swap_in, 30, 1e-9);
    assert_float_equal(s->swap_out, 1, 1e-9);
    /* a guest without swap figures: faults alone */
    part_history_add(h, 4, true, 3 * NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, 1240, false, 0, 0);
    s = part_history_get(h, 0);
    assert_true(s->faults_valid);
    assert_float_equal(s->major_faults, 0, 1e-9);
    assert_false(s->swap_valid);
    free(h);
}

/* Hostile or reset counters: backwards starts over, a jump is clamped, a
 * break or time that did not move gives no rate. */
static void test_paging_hostile(void **state)
{
    struct part_history *h = history_new();
    part_history_add(h, 0, true, NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, 5000, true, 5000, 5000);
    part_history_add(h, 2, true, 2 * NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, 10, true, 10, 10000); /* the guest rebooted */
    assert_false(part_history_get(h, 0)->faults_valid);
    assert_false(part_history_get(h, 0)->swap_valid);
    part_history_add(h, 4, true, 3 * NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, UINT64_MAX, true, UINT64_MAX, UINT64_MAX);
    const struct part_sample *s = part_history_get(h, 0);
    assert_true(s->faults_valid);
    assert_float_equal(s->major_faults, PART_PAGING_RATE_MAX, 1);
    assert_float_equal(s->swap_in, PART_PAGING_RATE_MAX, 1);
    part_history_break(h);
    part_history_add(h, 6, true, 4 * NS, 2, true, 4096, 4000, 10);
    part_history_add_paging(h, true, UINT64_MAX, true, UINT64_MAX, UINT64_MAX);
    assert_false(part_history_get(h, 0)->faults_valid);
    part_history_add(h, 6, true, 5 * NS, 2, true, 4096, 4000, 10); /* no time passed */
    part_history_add_paging(h, true, UINT64_MAX, true, UINT64_MAX, UINT64_MAX);
    assert_false(part_history_get(h, 0)->faults_valid);
    assert_false(part_history_get(h, 0)->swap_valid);
    /* on an empty history nothing happens */
    struct part_history *e = history_new();
    part_history_add_paging(e, true, 1, true, 1, 1);
    assert_int_equal(e->n, 0);
    free(e);
    free(h);
}

static void test_psi_parse(void **state)
{
    double v = -1;
    assert_true(part_psi_some_avg10("some avg10=12.50 avg60=3.00 avg300=1.00 total=123\n"
                                    "full avg10=1.00 avg60=0.00 avg300=0.00 total=1\n",
                                    &v));
    assert_float_equal(v, 12.5, 1e-9);
    assert_true(part_psi_some_avg10("some avg10=250 avg60=0", &v));
    assert_float_equal(v, 100, 1e-9);
    assert_false(part_psi_some_avg10("full avg10=1.00", &v));
    assert_false(part_psi_some_avg10("some avg10=-1", &v));
    assert_false(part_psi_some_avg10("some avg10=nan", &v));
    assert_false(part_psi_some_avg10("", &v));
    assert_false(part_psi_some_avg10(NULL, &v));
}

static void test_ring_keeps_newest(void **state)
{
    struct part_history *h = history_new();
    for (unsigned i = 0; i < PART_HISTORY_MAX + 10; i++)
        add_cpu(h, i, (i + 1) * NS);
    assert_int_equal(h->n, PART_HISTORY_MAX);
    for (unsigned i = 0; i < PART_HISTORY_MAX; i++)
        assert_true(part_history_get(h, i)->t == PART_HISTORY_MAX + 9 - i);
    assert_null(part_history_get(h, PART_HISTORY_MAX));
    free(h);
}

static void test_rolling_constant(void **state)
{
    struct part_history *h = history_new();
    uint64_t ns = NS;
    double seen;

    part_history_set_window(h, 480); /* 48 buckets of 10 s */
    feed(h, 0, 200, 2, 1.5, &ns);
    assert_float_equal(part_history_rolling(h, &seen), 1.5, 1e-9);
    assert_float_equal(seen, 200, 1e-9);
    free(h);
}

static void test_rolling_window_forgets(void **state)
{
    struct part_history *h = history_new();
    uint64_t ns = NS;
    double seen;

    part_history_set_window(h, 48); /* buckets of 1 s */
    feed(h, 0, 100, 0.5, 1.0, &ns);
    feed(h, 100.5, 200, 0.5, 3.0, &ns);
    /* the last 48 s (give or take the bucket being filled) were all at 3 */
    assert_float_equal(part_history_rolling(h, &seen), 3.0, 1e-9);
    assert_true(seen >= 47 && seen <= 48);
    free(h);
}

static void test_rolling_mixed_window(void **state)
{
    struct part_history *h = history_new();
    uint64_t ns = NS;
    double seen;

    part_history_set_window(h, 96); /* buckets of 2 s */
    feed(h, 0, 48, 2, 1.0, &ns);
    feed(h, 50, 96, 2, 3.0, &ns);
    /* 48 s at 1 and 48 s at 3 (the first sample made no rate) */
    assert_float_equal(part_history_rolling(h, &seen), 2.0, 0.05);
    assert_float_equal(seen, 96, 2);
    free(h);
}

static void test_rolling_interval_spans_buckets(void **state)
{
    struct part_history *h = history_new();
    double seen;

    part_history_set_window(h, 48);
    add_cpu(h, 0, NS);
    add_cpu(h, 10, NS + 20 * NS); /* 2 processors over 10 buckets */
    assert_float_equal(part_history_rolling(h, &seen), 2.0, 1e-9);
    assert_float_equal(seen, 10, 1e-9);
    free(h);
}

static void test_rolling_gap_longer_than_window(void **state)
{
    struct part_history *h = history_new();
    uint64_t ns = NS;
    double seen;

    part_history_set_window(h, 48);
    feed(h, 0, 40, 1, 4.0, &ns);
    part_history_break(h);
    add_cpu(h, 1000, ns); /* long after: the old buckets are gone */
    add_cpu(h, 1001, ns + NS / 2);
    assert_float_equal(part_history_rolling(h, &seen), 0.5, 1e-9);
    assert_float_equal(seen, 1, 1e-9);
    free(h);
}

static void test_rolling_ignores_invalid(void **state)
{
    struct part_history *h = history_new();
    double seen;

    part_history_set_window(h, 480);
    add_cpu(h, 0, 10 * NS);
    add_cpu(h, 2, 12 * NS);
    add_cpu(h, 4, 1 * NS); /* went backwards: no use counted */
    assert_float_equal(part_history_rolling(h, &seen), 1.0, 1e-9);
    assert_float_equal(seen, 2, 1e-9);
    free(h);
}

static void test_set_window_empties(void **state)
{
    struct part_history *h = history_new();
    uint64_t ns = NS;
    double seen;

    assert_float_equal(part_history_window(h), 14400, 0); /* none set: 4 hours */
    feed(h, 0, 20, 2, 1.0, &ns);
    assert_true(part_history_rolling(h, &seen) > 0);
    part_history_set_window(h, 60);
    assert_float_equal(part_history_window(h), 60, 0);
    assert_true(part_history_rolling(h, &seen) == 0);
    assert_true(seen == 0);
    /* the samples themselves stay */
    assert_true(part_history_get(h, 0)->valid);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_rate_from_counters),
        cmocka_unit_test(test_first_sample_invalid),
        cmocka_unit_test(test_counter_backwards_starts_over),
        cmocka_unit_test(test_missing_counter_breaks_the_chain),
        cmocka_unit_test(test_break_makes_next_invalid),
        cmocka_unit_test(test_time_must_move),
        cmocka_unit_test(test_memory_figures),
        cmocka_unit_test(test_ring_keeps_newest),
        cmocka_unit_test(test_rolling_constant),
        cmocka_unit_test(test_rolling_window_forgets),
        cmocka_unit_test(test_rolling_mixed_window),
        cmocka_unit_test(test_rolling_interval_spans_buckets),
        cmocka_unit_test(test_rolling_gap_longer_than_window),
        cmocka_unit_test(test_rolling_ignores_invalid),
        cmocka_unit_test(test_set_window_empties),
        cmocka_unit_test(test_paging_rates),
        cmocka_unit_test(test_paging_hostile),
        cmocka_unit_test(test_psi_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
