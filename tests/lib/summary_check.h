/* tests/lib/summary_check.h - reading a fleetsim summary JSON in the tests that run the real
 * program: a member that must exist, an accounting field, and the accounting identity every
 * summary keeps (scheduled = answered + transport errors + timed out + unanswered + dropped +
 * in flight). */
#ifndef FLEETSIM_TESTS_LIB_SUMMARY_CHECK_H
#define FLEETSIM_TESTS_LIB_SUMMARY_CHECK_H

#include <stdint.h>

#include <json-c/json.h>

/* o[key]; the test fails when o has no such member. */
json_object *tsum_member(json_object *o, const char *key);

/* sum.accounting[field] as an integer (the test fails when absent). */
int64_t tsum_acct(json_object *sum, const char *field);

/* Checks the accounting identity of sum. */
void tsum_ck_balanced(json_object *sum);

#endif
