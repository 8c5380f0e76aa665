/* tests/lib/summary_check.c - summary JSON reads for the tests (see summary_check.h). */
#include "tests/lib/summary_check.h"

#include <check.h>

json_object *tsum_member(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(o && json_object_object_get_ex(o, key, &v), "no \"%s\"", key);
    return v;
}

int64_t tsum_acct(json_object *sum, const char *field)
{
    return json_object_get_int64(tsum_member(tsum_member(sum, "accounting"), field));
}

void tsum_ck_balanced(json_object *sum)
{
    ck_assert_int_eq(tsum_acct(sum, "scheduled"),
                     tsum_acct(sum, "answered") + tsum_acct(sum, "transport_errors") +
                         tsum_acct(sum, "timed_out") + tsum_acct(sum, "unanswered") +
                         tsum_acct(sum, "dropped") + tsum_acct(sum, "in_flight"));
}
