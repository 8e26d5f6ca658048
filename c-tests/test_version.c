/*
 * test_version.c — the header's version macros match the loaded library.
 */
#include "test_util.h"

static void test_version_number_matches_header_macro(void **state)
{
    (void)state;
    assert_int_equal(swiftmlp_version_number(), SWIFTMLP_VERSION_NUMBER);
}

static void test_version_string_macro_matches_library(void **state)
{
    (void)state;
    assert_string_equal(swiftmlp_version_string(), SWIFTMLP_VERSION_STRING);
}

static void test_version_string_equals_major_dot_minor_dot_patch(void **state)
{
    (void)state;
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", SWIFTMLP_VERSION_MAJOR,
             SWIFTMLP_VERSION_MINOR, SWIFTMLP_VERSION_PATCH);
    const char *got = swiftmlp_version_string();
    assert_non_null(got);
    assert_string_equal(got, expected);
}

static void test_version_string_is_stable_static_text(void **state)
{
    (void)state;
    /* Static text: the same pointer (and text) on every call. */
    const char *a = swiftmlp_version_string();
    const char *b = swiftmlp_version_string();
    assert_ptr_equal(a, b);
    assert_string_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_number_matches_header_macro),
        cmocka_unit_test(test_version_string_macro_matches_library),
        cmocka_unit_test(test_version_string_equals_major_dot_minor_dot_patch),
        cmocka_unit_test(test_version_string_is_stable_static_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
