/* test_json.c - the JSON writer: nesting, commas, escaping, bad UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render(void (*fn)(json_writer *))
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    json_writer w;
    json_init(&w, f, false);
    fn(&w);
    fclose(f);
    return out;
}

static void nested(json_writer *w)
{
    json_begin_object(w);
    json_key(w, "a");
    json_begin_array(w);
    json_int(w, -1);
    json_uint(w, 18446744073709551615ULL);
    json_null(w);
    json_begin_object(w);
    json_end_object(w);
    json_end_array(w);
    json_key(w, "b");
    json_bool(w, true);
    json_end_object(w);
}

static void test_nesting(void **state)
{
    (void)state;
    char *s = render(nested);
    assert_string_equal(s, "{\"a\":[-1,18446744073709551615,null,{}],\"b\":true}");
    free(s);
}

static void strings(json_writer *w)
{
    json_begin_array(w);
    json_cstring(w, "q\"b\\n\n\t\x01");
    json_string(w, "ok\xc3\xa9", 4);           /* valid UTF-8 passes */
    json_string(w, "bad\xff\xc3", 5);          /* invalid bytes become U+FFFD */
    json_string(w, "\xed\xa0\x80", 3);         /* a surrogate is not UTF-8 */
    json_end_array(w);
}

static void test_escaping(void **state)
{
    (void)state;
    char *s = render(strings);
    assert_string_equal(s, "[\"q\\\"b\\\\n\\n\\t\\u0001\",\"ok\xc3\xa9\",\"bad\xef\xbf\xbd\xef\xbf\xbd\","
                           "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
