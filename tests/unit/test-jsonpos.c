/* Locating values in JSON text by path, for error positions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <part/jsonpos.h>

static const char doc[] = "{\n"
                          "  \"name\": \"prod\",\n"
                          "  \"tags\": [1, {\"initial\": 3}, \"x}\"],\n"
                          "  \"processors\": { \"initial\": 9, \"reserved\": 8 },\n"
                          "  \"s\\\"q\": \"a\\\"b{\",\n"
                          "  \"memory\": {\n"
                          "    \"initial\": \"4GiB\"\n"
                          "  }\n"
                          "}\n";

static void expect(const char *path, int r, int line, int col)
{
    int l = -1, c = -1;
    assert_int_equal(part_jsonpos_locate(doc, strlen(doc), path, &l, &c), r);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
}

static void test_top_level(void **state)
{
    expect("", 0, 1, 1);
    expect("name", 0, 2, 11);
}

static void test_nested(void **state)
{
    expect("processors.initial", 0, 4, 30);
    expect("processors.reserved", 0, 4, 45);
    expect("memory.initial", 0, 7, 16);
    expect("memory", 0, 6, 13);
}

static void test_skips_strings_and_arrays(void **state)
{
    /* braces inside strings and objects inside arrays do not confuse it */
    expect("memory", 0, 6, 13);
}

static void test_missing_gives_ancestor(void **state)
{
    expect("processors.min", -ENOENT, 4, 17);
    expect("nothing", -ENOENT, 1, 1);
    expect("name.deeper", -ENOENT, 2, 11); /* a string has no members */
}

static void test_utf8_columns(void **state)
{
    static const char u[] = "{\"a\": \"\xc3\xa9\xc3\xa9\", \"b\": 1}";
    int l, c;
    assert_int_equal(part_jsonpos_locate(u, strlen(u), "b", &l, &c), 0);
    assert_int_equal(l, 1);
    assert_int_equal(c, 18); /* each é is one column */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_skips_strings_and_arrays),
        cmocka_unit_test(test_missing_gives_ancestor),
        cmocka_unit_test(test_utf8_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
