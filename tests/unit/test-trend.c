/* The console's trend: its size from the interval, the ring keeping the
 * newest points in order, and reads from a seq on and up to a snapshot's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <part/trend.h>

/* Adds n points whose at counts on from *k (at = k, weight = k). */
static void add(struct part_trend *t, size_t n, unsigned *k)
{
    for (size_t i = 0; i < n; i++, (*k)++) {
        struct part_trend_point pt = {.at = *k, .used = NAN, .weight = *k, .online = 2};
        part_trend_add(t, &pt);
    }
}

static void test_capacity(void **state)
{
    (void)state;
    /* a point a step of at least PART_TREND_STEP (5 s): every 3rd sample at 2 s */
    assert_int_equal(part_trend_stride(2), 3);
    assert_int_equal(part_trend_capacity(2), 600);
    assert_int_equal(part_trend_stride(1), 5);
    assert_int_equal(part_trend_capacity(1), 720);
    assert_int_equal(part_trend_stride(7), 1);
    assert_int_equal(part_trend_capacity(7), 515); /* rounded up: a whole hour */
    assert_int_equal(part_trend_capacity(0.1), 720);
    assert_int_equal(part_trend_capacity(3600), PART_TREND_MIN);
    assert_int_equal(part_trend_capacity(0), 720);
}

static void test_empty(void **state)
{
    struct part_trend *t = part_trend_new(2);
    struct part_trend_point *pts = (void *)1;
    size_t n = 99;
    uint64_t first = 99;
    (void)state;
    assert_non_null(t);
    assert_int_equal(part_trend_size(t), 600);
    assert_int_equal(part_trend_next(t), 0);
    assert_int_equal(part_trend_read(t, 0, 0, &pts, &n, &first), 0);
    assert_null(pts);
    assert_int_equal(n, 0);
    part_trend_put(t);
}

/* Past its capacity the ring holds the newest points, oldest first. */
static void test_ring_bound_and_order(void **state)
{
    struct part_trend *t = part_trend_new(360); /* 10 points */
    struct part_trend_point *pts;
    size_t n;
    uint64_t first;
    unsigned k = 0;
    (void)state;
    assert_int_equal(part_trend_size(t), 10);
    add(t, 25, &k);
    assert_int_equal(part_trend_next(t), 25);
    assert_int_equal(part_trend_read(t, 0, 25, &pts, &n, &first), 0);
    assert_int_equal(n, 10);
    assert_int_equal(first, 15);
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(pts[i].at, 15 + i, 0);
        assert_int_equal(pts[i].weight, 15 + i);
        assert_true(isnan(pts[i].used));
    }
    free(pts);
    part_trend_put(t);
}

/* since reads from a seq on; upto hides what came after a snapshot; a since
 * beyond upto (another partd's seq) reads everything held. */
static void test_since_and_upto(void **state)
{
    struct part_trend *t = part_trend_new(360);
    struct part_trend_point *pts;
    size_t n;
    uint64_t first;
    unsigned k = 0;
    (void)state;
    add(t, 6, &k);
    uint64_t upto = part_trend_next(t);
    add(t, 3, &k); /* after the snapshot: not its */
    assert_int_equal(part_trend_read(t, 4, upto, &pts, &n, &first), 0);
    assert_int_equal(n, 2);
    assert_int_equal(first, 4);
    assert_float_equal(pts[0].at, 4, 0);
    assert_float_equal(pts[1].at, 5, 0);
    free(pts);
    assert_int_equal(part_trend_read(t, upto, upto, &pts, &n, &first), 0);
    assert_int_equal(n, 0); /* up to date */
    assert_int_equal(part_trend_read(t, 1000, upto, &pts, &n, &first), 0);
    assert_int_equal(n, 6);
    assert_int_equal(first, 0);
    free(pts);
    add(t, 10, &k); /* 19 in all: 9..18 held */
    assert_int_equal(part_trend_read(t, 2, 19, &pts, &n, &first), 0);
    assert_int_equal(first, 9); /* what was asked for is gone: from the oldest */
    assert_int_equal(n, 10);
    free(pts);
    part_trend_put(t);
}

/* A reference keeps the trend: the snapshots' share outlives the owner's. */
static void test_references(void **state)
{
    struct part_trend *t = part_trend_new(360), *shared = part_trend_ref(t);
    unsigned k = 0;
    (void)state;
    assert_ptr_equal(shared, t);
    assert_null(part_trend_put(t));
    add(shared, 3, &k);
    assert_int_equal(part_trend_next(shared), 3);
    part_trend_put(shared);
    assert_null(part_trend_ref(NULL));
    assert_null(part_trend_put(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_ring_bound_and_order),
        cmocka_unit_test(test_since_and_upto),
        cmocka_unit_test(test_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
