/* Sizes: parsing "4GiB"-style text into MiB and formatting it back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <part/size.h>

static void test_parse_valid(void **state)
{
    static const struct {
        const char *text;
        uint64_t mib;
    } cases[] = {
        {"1", 1},           {"512", 512},      {"512MiB", 512},   {"4GiB", 4096},
        {"1.5GiB", 1536},   {"0.25GiB", 256},  {"2TiB", 2097152}, {"16 GiB", 16384},
        {"0.5TiB", 524288}, {"1024MiB", 1024},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t mib = 0;
        assert_int_equal(part_size_parse(cases[i].text, &mib), 0);
        assert_int_equal(mib, cases[i].mib);
    }
}

static void test_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "", "GiB", "4GB", "4gib", "-1GiB", "1.5MiB", "4 GiB extra", "1e3", ".", "4KiB", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t mib = 77;
        assert_int_equal(part_size_parse(bad[i], &mib), -EINVAL);
        assert_int_equal(mib, 77); /* untouched on failure */
    }
}

static void test_parse_overflow(void **state)
{
    uint64_t mib;
    assert_int_equal(part_size_parse("99999999999999999999", &mib), -ERANGE);
    assert_int_equal(part_size_parse("99999999999999TiB", &mib), -ERANGE);
}

static void test_format(void **state)
{
    char buf[32];
    assert_string_equal(part_size_format(4096, buf, sizeof(buf)), "4GiB");
    assert_string_equal(part_size_format(1536, buf, sizeof(buf)), "1536MiB");
    assert_string_equal(part_size_format(1048576, buf, sizeof(buf)), "1TiB");
    assert_string_equal(part_size_format(1, buf, sizeof(buf)), "1MiB");
    assert_string_equal(part_size_format(0, buf, sizeof(buf)), "0MiB");
}

static void test_round_trip(void **state)
{
    char buf[32];
    for (uint64_t mib = 1; mib < 5000000; mib = mib * 3 + 7) {
        uint64_t back;
        assert_int_equal(part_size_parse(part_size_format(mib, buf, sizeof(buf)), &back), 0);
        assert_int_equal(back, mib);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),    cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_overflow), cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
