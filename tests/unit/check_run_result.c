/* tests/unit/check_run_result.c - a run's result: the status from what happened (interrupted,
 * invalid by verdict, aborted, thresholds failed, passed, in that precedence), the exit code of
 * each status, the "result" JSON object read back to the same fields, and the result line. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "engine/run_result.h"
#include "tests/lib/testenv.h"

START_TEST(test_precedence)
{
    struct run_result r = {0};
    ck_assert_int_eq(run_result_decide(&r, 0, false), RUN_STATUS_PASSED);
    ck_assert_int_eq(run_result_decide(&r, 2, false), RUN_STATUS_THRESHOLDS_FAILED);
    ck_assert_int_eq(run_result_decide(&r, 2, true), RUN_STATUS_ABORTED);
    r.verdict = RUN_VERDICT_SERVER_SLOW; /* blames the server: the thresholds still decide */
    ck_assert_int_eq(run_result_decide(&r, 0, false), RUN_STATUS_PASSED);
    r.verdict = RUN_VERDICT_CLIENT_SATURATED; /* never passes */
    ck_assert_int_eq(run_result_decide(&r, 0, false), RUN_STATUS_INVALID);
    ck_assert_int_eq(run_result_decide(&r, 1, true), RUN_STATUS_INVALID);
    r.phase = RUN_PHASE_DRAIN; /* an interruption wins over everything */
    ck_assert_int_eq(run_result_decide(&r, 1, true), RUN_STATUS_INTERRUPTED);
}
END_TEST

START_TEST(test_exit_codes)
{
    struct run_result r = {0};
    static const struct {
        enum run_status s;
        enum run_verdict v;
        int code;
    } cases[] = {{RUN_STATUS_PASSED, RUN_VERDICT_KEPT_UP, 0},
                 {RUN_STATUS_THRESHOLDS_FAILED, RUN_VERDICT_SERVER_SLOW, 99},
                 {RUN_STATUS_ABORTED, RUN_VERDICT_KEPT_UP, 99},
                 {RUN_STATUS_INVALID, RUN_VERDICT_CLIENT_SATURATED, 98},
                 {RUN_STATUS_INVALID, RUN_VERDICT_SETUP_ERROR, 1},
                 {RUN_STATUS_INTERRUPTED, RUN_VERDICT_CLIENT_SATURATED, 105}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r.status = cases[i].s;
        r.verdict = cases[i].v;
        ck_assert_int_eq(run_result_exit_code(&r), cases[i].code);
    }
}
END_TEST

START_TEST(test_json_round_trip)
{
    struct run_result r = {.status = RUN_STATUS_INTERRUPTED,
                           .verdict = RUN_VERDICT_SERVER_SLOW,
                           .phase = RUN_PHASE_LOAD,
                           .signal = SIGTERM,
                           .interrupted_at_s = 25.004,
                           .drain_s = 0.5,
                           .drain_cut = true,
                           .partial = false};
    strcpy(r.verdict_why, "200 unanswered at the end");
    json_object *o = run_result_json(&r);
    ck_assert_ptr_nonnull(o);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    ck_assert_ptr_nonnull(strstr(text, "\"status\":\"interrupted\""));
    ck_assert_ptr_nonnull(strstr(text, "\"exit_code\":105"));
    ck_assert_ptr_nonnull(strstr(text, "\"phase\":\"load\""));
    ck_assert_ptr_nonnull(strstr(text, "\"signal\":\"SIGTERM\""));
    struct run_result back;
    ck_assert_int_eq(run_result_from_json(o, &back), 0);
    ck_assert_int_eq(back.status, r.status);
    ck_assert_int_eq(back.verdict, r.verdict);
    ck_assert_int_eq(back.phase, r.phase);
    ck_assert_int_eq(back.signal, SIGTERM);
    ck_assert_double_eq_tol(back.interrupted_at_s, 25.004, 1e-9);
    ck_assert(back.drain_cut);
    ck_assert_str_eq(back.verdict_why, r.verdict_why);
    char line[256];
    ck_assert_str_eq(run_result_line(&r, line, sizeof line),
                     "result: interrupted (SIGTERM during the load at 25.0 s; drained 0.5 s, cut "
                     "short by a second signal): exit 105");
    json_object_put(o);
    /* not interrupted: interrupted_at is null; an unknown status is refused */
    struct run_result ok = {0};
    o = run_result_json(&ok);
    ck_assert_ptr_nonnull(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                                 "\"interrupted_at\":null"));
    json_object_put(o);
    o = json_tokener_parse("{\"status\": \"fine\"}");
    ck_assert_int_eq(run_result_from_json(o, &back), -EINVAL);
    json_object_put(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run_result");
    TCase *tc = testenv_tcase(s, "run_result", 10);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_test(tc, test_json_round_trip);
    return testenv_run(s);
}
