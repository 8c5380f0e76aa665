/* engine/run_result.h - what a run (or a merge of runs) ended as: one status (passed,
 * thresholds_failed, aborted, invalid, interrupted), the exit code it maps to, where a signal
 * interrupted it and how its drain ended, and the bottleneck verdict. Written as the top-level
 * "result" object of the summary JSON and read back from it (docs/metrics.md, man fleetsim
 * EXIT STATUS). */
#ifndef FLEETSIM_ENGINE_RUN_RESULT_H
#define FLEETSIM_ENGINE_RUN_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "engine/exit_status.h"

enum run_status {
    RUN_STATUS_PASSED = 0,        /* every threshold passed (or none was set) */
    RUN_STATUS_THRESHOLDS_FAILED, /* a threshold failed at the end */
    RUN_STATUS_ABORTED,           /* a threshold with abort-on-fail stopped the run early */
    RUN_STATUS_INVALID,           /* the numbers cannot judge the server (see the verdict) */
    RUN_STATUS_INTERRUPTED,       /* SIGINT or SIGTERM ended it before its duration */
    RUN_STATUS_COUNT
};

/* Who the run's numbers blame (docs/metrics.md, "The verdict"). */
enum run_verdict {
    RUN_VERDICT_KEPT_UP = 0, /* fleetsim kept to its schedule: the latencies are the server's */
    RUN_VERDICT_SERVER_SLOW, /* agents waited on the server's unanswered requests */
    RUN_VERDICT_CLIENT_SATURATED, /* fleetsim's own loops lagged: the numbers overstate */
    RUN_VERDICT_SETUP_ERROR,      /* the fleet does not exist in the server */
    RUN_VERDICT_COUNT
};

/* Where a run was when the first signal came. */
enum run_phase {
    RUN_PHASE_NONE = 0, /* not interrupted */
    RUN_PHASE_PREFLIGHT,
    RUN_PHASE_REGISTRATION,
    RUN_PHASE_LOAD,  /* scheduling requests */
    RUN_PHASE_DRAIN, /* after --duration, draining */
    RUN_PHASE_COUNT
};

struct run_result {
    enum run_status status;
    enum run_verdict verdict;
    char verdict_why[384];   /* the figures behind the verdict, "" when none */
    enum run_phase phase;    /* where the first signal came (RUN_PHASE_NONE: not interrupted) */
    int signal;              /* its number */
    double interrupted_at_s; /* seconds since the load started (0 before the load) */
    double drain_s;          /* how long the drain lasted (the end of scheduling to the end) */
    bool drain_cut;          /* a second signal ended the drain before --grace */
    bool partial;            /* a merge that includes interrupted shards (--allow-partial) */
    double loop_ran;         /* the busiest loop thread's share of a core (0..1) */
    double loop_wanted;      /* its share of time running or queued for a CPU (0..1) */
};

/* The status of a run from what happened, in this order of precedence: interrupted (phase set),
 * invalid (verdict client_saturated or setup_error), aborted, thresholds_failed, passed. */
enum run_status run_result_decide(const struct run_result *r, size_t thresholds_failed,
                                  bool aborted);

/* The exit code of r's status (and verdict, for invalid). */
int run_result_exit_code(const struct run_result *r);

/* Names as written in the summary JSON: "passed", "thresholds_failed", "aborted", "invalid",
 * "interrupted"; "kept_up", "server_slow", "client_saturated", "setup_error"; "pre-flight",
 * "registration", "load", "drain" ("" for RUN_PHASE_NONE). */
const char *run_status_name(enum run_status s);
const char *run_verdict_name(enum run_verdict v);
const char *run_phase_name(enum run_phase p);

/* What a verdict means, in a few words ("agents waited on the server"). */
const char *run_verdict_sentence(enum run_verdict v);

/* "SIGINT", "SIGTERM", or "signal" for any other number. */
const char *run_signal_name(int sig);

/* The "result" object: {"status", "exit_code", "interrupted_at": null or {"phase", "signal",
 * "elapsed_s"}, "drain_s", "drain_cut", "verdict", "verdict_why", "partial", "loop_cpu":
 * {"ran", "wanted"}}. NULL on out of memory. */
json_object *run_result_json(const struct run_result *r);

/* Reads a "result" object back into r. Returns 0, or -EINVAL when it is not one. */
int run_result_from_json(const json_object *o, struct run_result *r);

/* One line for the text summary ("result: interrupted (SIGINT at 25.0 s, during the load;
 * drain cut after 0.4 s): exit 105"), into buf (n bytes). Returns buf. */
char *run_result_line(const struct run_result *r, char *buf, size_t n);

#endif
