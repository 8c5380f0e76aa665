/* engine/run_result.c - a run's status, exit code, interruption and verdict, and their JSON form
 * (see run_result.h). */
#include "engine/run_result.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[RUN_STATUS_COUNT] = {"passed", "thresholds_failed", "aborted",
                                                           "invalid", "interrupted"};
static const char *const verdict_names[RUN_VERDICT_COUNT] = {"kept_up", "server_slow",
                                                             "client_saturated", "setup_error"};
static const char *const phase_names[RUN_PHASE_COUNT] = {"", "pre-flight", "registration", "load",
                                                         "drain"};

const char *run_status_name(enum run_status s)
{
    return (unsigned)s < RUN_STATUS_COUNT ? status_names[s] : "invalid";
}

const char *run_verdict_name(enum run_verdict v)
{
    return (unsigned)v < RUN_VERDICT_COUNT ? verdict_names[v] : "kept_up";
}

const char *run_verdict_sentence(enum run_verdict v)
{
    switch (v) {
    case RUN_VERDICT_SERVER_SLOW:
        return "agents waited on the server; the latencies are the server's";
    case RUN_VERDICT_CLIENT_SATURATED:
        return "fleetsim itself was saturated; the latencies overstate the server's and the run "
               "judges nothing";
    case RUN_VERDICT_SETUP_ERROR:
        return "the fleet does not exist in the server; the run judges nothing";
    default:
        return "fleetsim kept to its schedule; the latencies are the server's";
    }
}

const char *run_phase_name(enum run_phase p)
{
    return (unsigned)p < RUN_PHASE_COUNT ? phase_names[p] : "";
}

/* The index of name in names[0..n), or -1. */
static int index_of(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

enum run_status run_result_decide(const struct run_result *r, size_t thresholds_failed,
                                  bool aborted)
{
    if (r->phase != RUN_PHASE_NONE)
        return RUN_STATUS_INTERRUPTED;
    if (r->verdict == RUN_VERDICT_CLIENT_SATURATED || r->verdict == RUN_VERDICT_SETUP_ERROR)
        return RUN_STATUS_INVALID;
    if (aborted)
        return RUN_STATUS_ABORTED;
    return thresholds_failed > 0 ? RUN_STATUS_THRESHOLDS_FAILED : RUN_STATUS_PASSED;
}

int run_result_exit_code(const struct run_result *r)
{
    switch (r->status) {
    case RUN_STATUS_PASSED:
        return EXIT_STATUS_OK;
    case RUN_STATUS_THRESHOLDS_FAILED:
    case RUN_STATUS_ABORTED:
        return EXIT_STATUS_THRESHOLDS;
    case RUN_STATUS_INTERRUPTED:
        return EXIT_STATUS_INTERRUPTED;
    default:
        return r->verdict == RUN_VERDICT_SETUP_ERROR ? EXIT_STATUS_FAILED
                                                     : EXIT_STATUS_CLIENT_SATURATED;
    }
}

const char *run_signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

static void put(json_object *o, const char *key, json_object *v, int *ok)
{
    if (v == NULL || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        *ok = 0;
    }
}

static json_object *seconds(double s)
{
    char text[32];
    snprintf(text, sizeof text, "%.3f", s);
    return json_object_new_double_s(s, text);
}

static json_object *interrupted_at(const struct run_result *r, int *ok)
{
    if (r->phase == RUN_PHASE_NONE)
        return NULL;
    json_object *at = json_object_new_object();
    if (at == NULL) {
        *ok = 0;
        return NULL;
    }
    put(at, "phase", json_object_new_string(run_phase_name(r->phase)), ok);
    put(at, "signal", json_object_new_string(run_signal_name(r->signal)), ok);
    put(at, "elapsed_s", seconds(r->interrupted_at_s), ok);
    return at;
}

json_object *run_result_json(const struct run_result *r)
{
    json_object *o = json_object_new_object();
    int ok = o != NULL;
    if (!ok)
        return NULL;
    put(o, "status", json_object_new_string(run_status_name(r->status)), &ok);
    put(o, "exit_code", json_object_new_int(run_result_exit_code(r)), &ok);
    json_object *at = interrupted_at(r, &ok);
    if (json_object_object_add(o, "interrupted_at", at) != 0)
        ok = 0;
    put(o, "drain_s", seconds(r->drain_s), &ok);
    put(o, "drain_cut", json_object_new_boolean(r->drain_cut), &ok);
    put(o, "verdict", json_object_new_string(run_verdict_name(r->verdict)), &ok);
    put(o, "verdict_why", json_object_new_string(r->verdict_why), &ok);
    put(o, "partial", json_object_new_boolean(r->partial), &ok);
    json_object *cpu = json_object_new_object();
    put(o, "loop_cpu", cpu, &ok);
    if (cpu) {
        put(cpu, "ran", seconds(r->loop_ran), &ok);
        put(cpu, "wanted", seconds(r->loop_wanted), &ok);
    }
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static json_object *member(const json_object *o, const char *key, json_type type)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

static double number(const json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)
               ? json_object_get_double(v)
               : 0;
}

static bool flag(const json_object *o, const char *key)
{
    json_object *v = member(o, key, json_type_boolean);
    return v && json_object_get_boolean(v);
}

int run_result_from_json(const json_object *o, struct run_result *r)
{
    memset(r, 0, sizeof *r);
    json_object *st = o ? member(o, "status", json_type_string) : NULL;
    int status = st ? index_of(status_names, RUN_STATUS_COUNT, json_object_get_string(st)) : -1;
    if (status < 0)
        return -EINVAL;
    r->status = (enum run_status)status;
    json_object *v = member(o, "verdict", json_type_string);
    int verdict = v ? index_of(verdict_names, RUN_VERDICT_COUNT, json_object_get_string(v)) : -1;
    r->verdict = verdict < 0 ? RUN_VERDICT_KEPT_UP : (enum run_verdict)verdict;
    json_object *why = member(o, "verdict_why", json_type_string);
    snprintf(r->verdict_why, sizeof r->verdict_why, "%s", why ? json_object_get_string(why) : "");
    json_object *at = member(o, "interrupted_at", json_type_object);
    if (at) {
        json_object *ph = member(at, "phase", json_type_string);
        int phase = ph ? index_of(phase_names, RUN_PHASE_COUNT, json_object_get_string(ph)) : -1;
        r->phase = phase <= 0 ? RUN_PHASE_LOAD : (enum run_phase)phase;
        json_object *sig = member(at, "signal", json_type_string);
        const char *name = sig ? json_object_get_string(sig) : "";
        r->signal = strcmp(name, "SIGINT") == 0    ? SIGINT
                    : strcmp(name, "SIGTERM") == 0 ? SIGTERM
                                                   : 0;
        r->interrupted_at_s = number(at, "elapsed_s");
    }
    r->drain_s = number(o, "drain_s");
    r->drain_cut = flag(o, "drain_cut");
    r->partial = flag(o, "partial");
    json_object *cpu = member(o, "loop_cpu", json_type_object);
    if (cpu) {
        r->loop_ran = number(cpu, "ran");
        r->loop_wanted = number(cpu, "wanted");
    }
    return 0;
}

char *run_result_line(const struct run_result *r, char *buf, size_t n)
{
    char where[160] = "", at[32] = "", verdict[64] = "";
    if (r->phase == RUN_PHASE_LOAD || r->phase == RUN_PHASE_DRAIN)
        snprintf(at, sizeof at, " at %.1f s", r->interrupted_at_s);
    if (r->phase != RUN_PHASE_NONE)
        snprintf(where, sizeof where, " (%s during the %s%s; drained %.1f s%s)",
                 run_signal_name(r->signal), run_phase_name(r->phase), at, r->drain_s,
                 r->drain_cut ? ", cut short by a second signal" : "");
    if (r->status == RUN_STATUS_INVALID)
        snprintf(verdict, sizeof verdict, " (verdict %s)", run_verdict_name(r->verdict));
    snprintf(buf, n, "result: %s%s%s%s: exit %d", run_status_name(r->status), where, verdict,
             r->partial ? " (partial: interrupted shards merged)" : "", run_result_exit_code(r));
    return buf;
}
