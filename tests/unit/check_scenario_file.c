/* tests/unit/check_scenario_file.c - tests of JSON scenario files (sim/scenario_file.h): good
 * files (every key, the minimum, the shipped examples), a table of bad files each with its
 * exact one-line message, unreadable files, and through options_parse that a file is applied
 * exactly like the equivalent command line or built-in preset while explicit options win. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/threshold.h"
#include "sim/names.h"
#include "sim/preset.h"
#include "sim/scenario_file.h"
#include "src/options.h"
#include "tests/lib/testenv.h"

#define SEC 1000000000ULL
#define MS 1000000ULL
#define MAX_ARGS 40

static char dir[64];

static void write_file(const char *path, const char *content, size_t len)
{
    ck_assert_int_eq(testenv_write_file(path, content, len, 0600), 0);
}

/* Writes content to DIR/name; returns the path (static buffer per call site is not enough:
 * the caller passes its own). */
static void put(const char *name, const char *content, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    write_file(path, content, strlen(content));
}

static void setup(void)
{
    testenv_mkdtemp(dir, sizeof dir, "check_scenario_file");
}

static void teardown(void)
{
    ck_assert_int_eq(testenv_rmtree(dir), 0);
}

static void clear_env(void)
{
    unsetenv("CERTCTL_SERVER_URL");
    unsetenv("CERTCTL_API_KEY");
}

static char err[2048];

/* Parses text; returns the result, *p owned by the caller. */
static int parse_text(const char *text, struct preset **p)
{
    err[0] = '\0';
    return scenario_file_parse(text, strlen(text), p, err, sizeof(err));
}

/* ---- good files ---- */

static const char full_file[] =
    "{\n"
    "  \"name\": \"nightly-soak\",\n"
    "  \"description\": \"eight hours of everything\",\n"
    "  \"agents\": 20000, \"heartbeat\": \"45s\", \"jitter\": \"12.5%\", \"poll\": \"20s\",\n"
    "  \"agent_profile\": \"certctl-1.0\", \"os_mix\": \"70/20/10\", \"ramp\": \"2m\",\n"
    "  \"duration\": \"8h\", \"certs\": 10000, \"bulk_rate\": \"120/m\", \"bulk_batch\": 25,\n"
    "  \"bulk_passes\": 3, \"acme_clients\": 20, \"acme_mode\": \"burst\",\n"
    "  \"thresholds\": [\"http_req_duration{scenario:nightly-soak,endpoint:heartbeat}:p(99)<1s\",\n"
    "                 \"http_req_failed:rate<0.01\"]\n"
    "}\n";

START_TEST(good_full)
{
    struct preset *p = NULL;
    ck_assert_msg(parse_text(full_file, &p) == 0, "%s", err);
    ck_assert_str_eq(p->name, "nightly-soak");
    ck_assert_str_eq(p->description, "eight hours of everything");
    ck_assert(p->has_agents && p->agents == 20000);
    ck_assert(p->has_heartbeat && p->heartbeat_ns == 45 * SEC);
    ck_assert(p->has_jitter && p->jitter_pct == 12.5);
    ck_assert(p->has_poll && p->poll_ns == 20 * SEC);
    ck_assert(p->has_agent_profile && p->agent_profile == AGENT_PROFILE_CERTCTL_1_0);
    ck_assert(p->has_os_mix);
    ck_assert_uint_eq(p->os_mix.pct[0], 70);
    ck_assert_uint_eq(p->os_mix.pct[1], 20);
    ck_assert_uint_eq(p->os_mix.pct[2], 10);
    ck_assert(p->has_ramp && p->ramp_ns == 120 * SEC);
    ck_assert(p->has_duration && p->duration_ns == 8 * 3600 * SEC);
    ck_assert(p->has_certs && p->certs == 10000);
    ck_assert(p->has_bulk_rate && p->bulk_rate_per_s == 2.0);
    ck_assert(p->has_bulk_batch && p->bulk_batch == 25);
    ck_assert(p->has_bulk_passes && p->bulk_passes == 3);
    ck_assert(p->has_acme_clients && p->acme_clients == 20);
    ck_assert(p->has_acme_mode && p->acme_mode == ACME_MODE_BURST);
    ck_assert_uint_eq(preset_threshold_count(p), 2);
    ck_assert_str_eq(p->thresholds[1], "http_req_failed:rate<0.01");
    for (int s = 0; s < PRESET_SET__COUNT; s++)
        ck_assert(preset_has(p, (enum preset_setting)s));
    char sets[512];
    ck_assert_int_gt(preset_format_settings(p, sets, sizeof(sets)), 0);
    ck_assert_str_eq(sets, "--agents 20000 --heartbeat 45s --jitter 12.5% --poll 20s "
                           "--agent-profile certctl-1.0 --os-mix 70/20/10 --ramp 2m --duration 8h "
                           "--certs 10000 --bulk-rate 2/s --bulk-batch 25 --bulk-passes 3 "
                           "--acme-clients 20 --acme-mode burst");
    ck_assert_int_eq(preset_format_settings(p, sets, 20), -ENOSPC);
    scenario_file_free(p);
}
END_TEST

START_TEST(good_minimal)
{
    struct preset *p = NULL;
    ck_assert_msg(parse_text("{\"name\": \"x\"}", &p) == 0, "%s", err);
    ck_assert_str_eq(p->name, "x");
    ck_assert_str_eq(p->description, "");
    for (int s = 0; s < PRESET_SET__COUNT; s++)
        ck_assert(!preset_has(p, (enum preset_setting)s));
    ck_assert_uint_eq(preset_threshold_count(p), 0);
    char sets[64];
    ck_assert_int_eq(preset_format_settings(p, sets, sizeof(sets)), 0);
    ck_assert_str_eq(sets, "");
    scenario_file_free(p);

    /* numbers for text settings are read as their text; 0 agents is allowed in a file */
    ck_assert_msg(
        parse_text("{\"poll\": 0, \"agents\": 0, \"name\": \"acme-only\", \"thresholds\": []}",
                   &p) == 0,
        "%s", err);
    ck_assert(p->has_poll && p->poll_ns == 0);
    ck_assert(p->has_agents && p->agents == 0);
    scenario_file_free(p);

    /* a name of 32 characters, the longest */
    ck_assert_msg(parse_text("{\"name\": \"a234567890123456789012345678901-\"}", &p) == 0, "%s",
                  err);
    scenario_file_free(p);
    scenario_file_free(NULL);
}
END_TEST

START_TEST(shipped_examples)
{
    static const char *const names[] = {"nightly-soak", "renewal-wave", "acme-orders"};
    char rel[128], path[700];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(rel, sizeof(rel), "docs/examples/%s.json", names[i]);
        ck_assert_int_ge(testenv_src_path(rel, path, sizeof(path)), 0);
        struct preset *p = NULL;
        ck_assert_msg(scenario_file_load(path, &p, err, sizeof(err)) == 0, "%s: %s", path, err);
        ck_assert_str_eq(p->name, names[i]);
        ck_assert(p->description[0] != '\0');
        ck_assert_uint_gt(preset_threshold_count(p), 0);
        scenario_file_free(p);
    }
}
END_TEST

START_TEST(is_file_and_names)
{
    ck_assert(scenario_is_file("./x"));
    ck_assert(scenario_is_file("x.json"));
    ck_assert(scenario_is_file("/etc/fleetsim/nightly"));
    ck_assert(!scenario_is_file("agent-storm"));
    ck_assert(!scenario_is_file("json"));
    ck_assert(!scenario_is_file(".jso"));
    char reason[256];
    ck_assert_int_eq(scenario_name_check("nightly-soak", reason, sizeof(reason)), 0);
    ck_assert_int_eq(scenario_name_check("a", reason, sizeof(reason)), 0);
    ck_assert_int_eq(scenario_name_check("", reason, sizeof(reason)), -EINVAL);
    ck_assert_int_eq(scenario_name_check("1abc", reason, sizeof(reason)), -EINVAL);
    ck_assert_int_eq(scenario_name_check("a_b", reason, sizeof(reason)), -EINVAL);
    ck_assert_int_eq(
        scenario_name_check("a23456789012345678901234567890123", reason, sizeof(reason)), -EINVAL);
    ck_assert_int_eq(scenario_name_check("fleet", reason, sizeof(reason)), -EINVAL);
    ck_assert_str_eq(reason, "is the name of a built-in preset (expected another name; --scenario "
                             "fleet runs the preset)");
    ck_assert_int_eq(scenario_name_check("default", reason, sizeof(reason)), -EINVAL);
}
END_TEST

/* ---- bad files: the exact line ---- */

struct bad_file {
    const char *text;
    const char *expect;
};

#define AGENTS_EXPECT "(expected 0 for no agents, or an integer from 1 to 1000000)"
#define DUR_EXPECT "(expected a duration from 10ms to 1d, e.g. 250ms, 30s, 5m or 1h30m)"
#define THR_EXPECT                                                     \
    "(expected a threshold string METRIC[{tag:value,...}]:EXPR, e.g. " \
    "\"http_req_failed:rate<0.001\")"
#define NAME_EXP                                                                             \
    "(expected a lowercase letter then up to 31 lowercase letters, digits or hyphens, e.g. " \
    "\"nightly-soak\")"

static const struct bad_file bad_files[] = {
    /* the text as a whole */
    {"", "is empty (expected a JSON object with at least \"name\")"},
    {" \n\t", "is empty (expected a JSON object with at least \"name\")"},
    {"{\"name\": \"x\",\n \"agents\": 5,}",
     "is not valid JSON: unexpected character at line 2, column 14 (expected a JSON object of "
     "scenario settings)"},
    {"{\"name\": \"x\",\n \"agents\": 5",
     "is not valid JSON: it ends early at line 2, column 13 (expected a complete JSON object)"},
    {"{\"name\": \"x\"} {}", "is not valid JSON: unexpected character at line 1, column 15 "
                             "(expected a JSON object of scenario settings)"},
    {"[\"name\", \"x\"]", "is an array, not an object (expected {\"name\": \"...\", ...})"},
    {"\"x\"", "is a string, not an object (expected {\"name\": \"...\", ...})"},
    /* keys */
    {"{\"name\": \"x\", \"agnets\": 5}",
     "\"agnets\": is not a key of a scenario file (expected name, description, agents, heartbeat, "
     "jitter, poll, agent_profile, os_mix, ramp, duration, certs, bulk_rate, bulk_batch, "
     "bulk_passes, acme_clients, acme_mode or thresholds)"},
    {"{\"name\": \"x\", \"bulk-rate\": \"5/s\"}",
     "\"bulk-rate\": is not a key of a scenario file (expected \"bulk_rate\": keys are written "
     "with underscores)"},
    {"{\"name\": \"x\", \"duration\": \"1m\", \"agents\": 3, \"duration\": \"2m\"}",
     "\"duration\": is given twice (expected each key once)"},
    /* the name */
    {"{\"agents\": 5}", "\"name\": is missing " NAME_EXP},
    {"{\"name\": 7}", "\"name\": 7 is an integer " NAME_EXP},
    {"{\"name\": \"Nightly\"}", "\"name\": \"Nightly\" is not a scenario name " NAME_EXP},
    {"{\"name\": \"a23456789012345678901234567890123\"}",
     "\"name\": \"a23456789012345678901234567890123\" is not a scenario name " NAME_EXP},
    {"{\"name\": \"agent-storm\"}",
     "\"name\": \"agent-storm\" is the name of a built-in preset (expected another name; "
     "--scenario agent-storm runs the preset)"},
    {"{\"name\": \"default\"}",
     "\"name\": \"default\" is the name of the run without --scenario (expected another name)"},
    /* wrong types */
    {"{\"name\": \"x\", \"agents\": \"20000\"}",
     "\"agents\": \"20000\" is a string " AGENTS_EXPECT},
    {"{\"name\": \"x\", \"agents\": 1.5}",
     "\"agents\": 1.5 is a number with a fraction " AGENTS_EXPECT},
    {"{\"name\": \"x\", \"heartbeat\": true}", "\"heartbeat\": true is a boolean " DUR_EXPECT},
    {"{\"name\": \"x\", \"heartbeat\": null}", "\"heartbeat\": is null " DUR_EXPECT},
    {"{\"name\": \"x\", \"os_mix\": [70, 20, 10]}",
     "\"os_mix\": [70,20,10] is an array (expected three percentages linux/windows/darwin adding "
     "up to 100, e.g. 80/10/10)"},
    {"{\"name\": \"x\", \"description\": 5}",
     "\"description\": 5 is an integer (expected one line of text of at most 200 bytes)"},
    {"{\"name\": \"x\", \"description\": \"two\\nlines\"}",
     "\"description\": has a control character (expected one line of text of at most 200 bytes)"},
    {"{\"name\": \"x\", \"heartbeat\": \"30\\u0000s\"}",
     "\"heartbeat\": has a NUL character " DUR_EXPECT},
    {"{\"name\": \"x\", \"description\": \""
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "01234567890123456789012345678901234567890123456789012345678901\"}",
     "\"description\": is 202 bytes long (expected one line of text of at most 200 bytes)"},
    /* bad values: the command line's rules and messages */
    {"{\"name\": \"x\", \"heartbeat\": \"5x\"}", "\"heartbeat\": \"5x\" has an unknown unit \"x\" "
                                                 "(expected ms, s, m, h or d, e.g. 30s or 1h30m)"},
    {"{\"name\": \"x\", \"heartbeat\": 30}", "\"heartbeat\": 30 has no unit " DUR_EXPECT},
    {"{\"name\": \"x\", \"heartbeat\": \"2d\"}", "\"heartbeat\": \"2d\" is too long " DUR_EXPECT},
    {"{\"name\": \"x\", \"poll\": \"5ms\"}", "\"poll\": \"5ms\" is too short (expected 0 for off, "
                                             "or a duration from 10ms to 1d, e.g. 30s)"},
    {"{\"name\": \"x\", \"agents\": -5}", "\"agents\": -5 is negative " AGENTS_EXPECT},
    {"{\"name\": \"x\", \"agents\": 1000001}", "\"agents\": 1000001 is too large " AGENTS_EXPECT},
    {"{\"name\": \"x\", \"certs\": 0}",
     "\"certs\": 0 is zero (expected an integer from 1 to 10000000)"},
    {"{\"name\": \"x\", \"jitter\": \"60%\"}",
     "\"jitter\": \"60%\" is too large (expected a percentage from 0% to 50%, e.g. 10%)"},
    {"{\"name\": \"x\", \"jitter\": 10}",
     "\"jitter\": 10 has no % sign (expected a percentage from 0% to 50%, e.g. 10%)"},
    {"{\"name\": \"x\", \"os_mix\": \"70/20/20\"}",
     "\"os_mix\": \"70/20/20\" adds up to 110 (expected three percentages linux/windows/darwin "
     "adding up to 100, e.g. 80/10/10)"},
    {"{\"name\": \"x\", \"agent_profile\": \"certctl-2.0\"}",
     "\"agent_profile\": \"certctl-2.0\" is not an agent profile (expected default or "
     "certctl-1.0)"},
    {"{\"name\": \"x\", \"acme_mode\": \"storm\"}",
     "\"acme_mode\": \"storm\" is not an ACME mode (expected burst or order)"},
    {"{\"name\": \"x\", \"bulk_rate\": \"0/s\"}",
     "\"bulk_rate\": \"0/s\" is too low (expected a rate from 0.01/s to 10000/s written N/s, N/m "
     "or N/h, e.g. 5/s or 300/m)"},
    {"{\"name\": \"x\", \"bulk_batch\": 10001}",
     "\"bulk_batch\": 10001 is too large (expected an integer from 1 to 10000)"},
    {"{\"name\": \"x\", \"duration\": \"50ms\"}",
     "\"duration\": \"50ms\" is too short (expected a duration from 100ms to 30d, e.g. 250ms, 30s, "
     "5m or 1h30m)"},
    /* thresholds */
    {"{\"name\": \"x\", \"thresholds\": \"http_reqs:count>1\"}",
     "\"thresholds\": \"http_reqs:count>1\" is a string (expected an array of threshold strings, "
     "e.g. [\"http_req_failed:rate<0.001\"])"},
    {"{\"name\": \"x\", \"thresholds\": [\"http_reqs:count>1\", 5]}",
     "\"thresholds\"[1]: 5 is an integer " THR_EXPECT},
    {"{\"name\": \"x\", \"thresholds\": [\"http_req_failed:rate<<1\"]}",
     "~\"thresholds\"[0]: \"http_req_failed:rate<<1\" "},
    {"{\"name\": \"x\", \"thresholds\": [\"http_req_nope:rate<1\"]}",
     "~\"thresholds\"[0]: \"http_req_nope:rate<1\" unknown metric 'http_req_nope' (known: "
     "http_req_duration,"},
    {"{\"name\": \"x\", \"thresholds\": [\"http_req_failed{endpoint:nope}:rate<1\"]}",
     "\"thresholds\"[0]: \"http_req_failed{endpoint:nope}:rate<1\" unknown endpoint 'nope'"},
    {"{\"name\": \"x\", \"thresholds\": [\"http_req_failed{scenario:agent-storm}:rate<1\"]}",
     "\"thresholds\"[0]: \"http_req_failed{scenario:agent-storm}:rate<1\" filters on another "
     "scenario "
     "(expected scenario:x, the file's own name, or no scenario tag)"},
    {"{\"name\": \"x\", \"thresholds\": [\"http_reqs:count>1\", \"http_reqs:count>1\", "
     "\"http_reqs:count>1\","
     "\"http_reqs:count>1\", \"http_reqs:count>1\", \"http_reqs:count>1\", \"http_reqs:count>1\", "
     "\"http_reqs:count>1\","
     "\"http_reqs:count>1\", \"http_reqs:count>1\", \"http_reqs:count>1\", \"http_reqs:count>1\", "
     "\"http_reqs:count>1\","
     "\"http_reqs:count>1\", \"http_reqs:count>1\", \"http_reqs:count>1\", \"http_reqs:count>1\"]}",
     "\"thresholds\": has 17 entries (expected at most 16)"},
};
#define N_BAD_FILES (sizeof(bad_files) / sizeof(bad_files[0]))

START_TEST(bad_file)
{
    const struct bad_file *b = &bad_files[_i];
    struct preset *p = (struct preset *)1;
    int rc = parse_text(b->text, &p);
    ck_assert_msg(rc == -EINVAL, "case %d: rc %d (%s)", _i, rc, err);
    ck_assert_ptr_null(p);
    ck_assert_msg(strchr(err, '\n') == NULL, "case %d: more than one line: %s", _i, err);
    if (b->expect[0] == '~')
        ck_assert_msg(strstr(err, b->expect + 1) == err, "case %d:\n got  %s\n want %s...", _i, err,
                      b->expect + 1);
    else
        ck_assert_msg(strcmp(err, b->expect) == 0, "case %d:\n got  %s\n want %s", _i, err,
                      b->expect);
}
END_TEST

START_TEST(unreadable_files)
{
    struct preset *p = NULL;
    char path[128];
    snprintf(path, sizeof(path), "%s/missing.json", dir);
    ck_assert_int_eq(scenario_file_load(path, &p, err, sizeof(err)), -ENOENT);
    ck_assert_str_eq(err, "cannot be read: No such file or directory (expected a readable file)");
    ck_assert_ptr_null(p);
    ck_assert_int_eq(scenario_file_load(dir, &p, err, sizeof(err)), -EISDIR);
    ck_assert_str_eq(err, "is a directory (expected a readable file)");
    if (geteuid() != 0) { /* root reads any file */
        put("secret.json", "{\"name\": \"x\"}", path, sizeof(path));
        ck_assert_int_eq(chmod(path, 0), 0);
        ck_assert_int_eq(scenario_file_load(path, &p, err, sizeof(err)), -EACCES);
        ck_assert_str_eq(err, "cannot be read: Permission denied (expected a readable file)");
    }
    /* larger than the limit: refused before parsing */
    size_t big = SCENARIO_FILE_MAX_BYTES + 2;
    char *text = malloc(big);
    ck_assert_ptr_nonnull(text);
    memset(text, ' ', big);
    memcpy(text, "{\"name\": \"x\"}", 13);
    snprintf(path, sizeof(path), "%s/big.json", dir);
    write_file(path, text, big);
    free(text);
    ck_assert_int_eq(scenario_file_load(path, &p, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "is larger than 1048576 bytes (expected a scenario file)");
    ck_assert_ptr_null(p);
    /* and a good one through the file path */
    put("ok.json", "{\"name\": \"ok\", \"agents\": 3}\n", path, sizeof(path));
    ck_assert_int_eq(scenario_file_load(path, &p, err, sizeof(err)), 0);
    ck_assert_uint_eq(p->agents, 3);
    scenario_file_free(p);
}
END_TEST

/* ---- applied through options_parse ---- */

static int parse_args(struct run_config *cfg, const char *const *args)
{
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup("fleetsim");
    for (size_t i = 0; args[i]; i++) {
        ck_assert_int_lt(argc, MAX_ARGS + 1);
        argv[argc++] = strdup(args[i]);
    }
    argv[argc] = NULL;
    err[0] = '\0';
    int rc = options_parse(argc, argv, cfg, err, sizeof(err));
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The values a scenario can set are equal in a and b. */
static void assert_same_load(const struct run_config *a, const struct run_config *b)
{
    ck_assert_uint_eq(a->agents, b->agents);
    ck_assert_uint_eq(a->heartbeat_ns, b->heartbeat_ns);
    ck_assert(a->jitter_pct == b->jitter_pct);
    ck_assert_uint_eq(a->poll_ns, b->poll_ns);
    ck_assert_int_eq(a->agent_profile, b->agent_profile);
    ck_assert_mem_eq(a->os_mix.pct, b->os_mix.pct, sizeof(a->os_mix.pct));
    ck_assert_uint_eq(a->ramp_ns, b->ramp_ns);
    ck_assert_uint_eq(a->duration_ns, b->duration_ns);
    ck_assert_uint_eq(a->certs, b->certs);
    ck_assert(a->bulk_rate_per_s == b->bulk_rate_per_s);
    ck_assert_uint_eq(a->bulk_batch, b->bulk_batch);
    ck_assert_uint_eq(a->bulk_passes, b->bulk_passes);
    ck_assert_uint_eq(a->acme_clients, b->acme_clients);
    ck_assert_int_eq(a->acme_mode, b->acme_mode);
}

START_TEST(file_equals_command_line)
{
    char path[128];
    put("soak.json",
        "{\"name\": \"soak\", \"agents\": 300, \"heartbeat\": \"45s\", \"jitter\": \"5%\", "
        "\"poll\": \"0\", \"agent_profile\": \"certctl-1.0\", \"os_mix\": \"70/20/10\", "
        "\"ramp\": \"2m\", \"duration\": \"8h\", \"certs\": 600, \"bulk_rate\": \"2/s\", "
        "\"bulk_batch\": 25, \"bulk_passes\": 2, \"acme_clients\": 4, \"acme_mode\": \"burst\", "
        "\"thresholds\": [\"http_req_failed:rate<0.01\", \"http_reqs{scenario:soak}:count>10\"]}",
        path, sizeof(path));
    struct run_config f, c;
    ck_assert_msg(parse_args(&f, ARGS("--scenario", path, "--seed", "1")) == 0, "%s", err);
    ck_assert_msg(
        parse_args(&c,
                   ARGS("--agents", "300", "--heartbeat", "45s", "--jitter", "5%", "--poll", "0",
                        "--agent-profile", "certctl-1.0", "--os-mix", "70/20/10", "--ramp", "2m",
                        "--duration", "8h", "--certs", "600", "--bulk-rate", "2/s", "--bulk-batch",
                        "25", "--bulk-passes", "2", "--acme-clients", "4", "--acme-mode", "burst",
                        "--threshold", "http_req_failed:rate<0.01", "--seed", "1")) == 0,
        "%s", err);
    assert_same_load(&f, &c);
    ck_assert_uint_eq(f.n_scenarios, 1);
    ck_assert_str_eq(f.scenarios[0], "soak"); /* the tag is the file's name */
    ck_assert_str_eq(f.scenario_files[0], path);
    ck_assert_ptr_eq(options_scenario_preset(&f, 0), f.scenario_presets[0]);
    ck_assert_ptr_null(options_scenario_preset(&f, 1));
    ck_assert_str_eq(options_actor_scenario(&f, OPTIONS_ACTOR_AGENTS), "soak");
    ck_assert_str_eq(options_actor_scenario(&f, OPTIONS_ACTOR_OPERATOR), "soak");
    ck_assert_str_eq(options_actor_scenario(&f, OPTIONS_ACTOR_ACME), "soak");
    ck_assert_str_eq(options_actor_scenario(&c, OPTIONS_ACTOR_AGENTS), "default");
    /* the file's values are "given" (not explicit), the command line's explicit */
    static const enum run_opt set_by_file[] = {
        RUN_OPT_AGENTS,        RUN_OPT_HEARTBEAT, RUN_OPT_JITTER,     RUN_OPT_POLL,
        RUN_OPT_AGENT_PROFILE, RUN_OPT_OS_MIX,    RUN_OPT_RAMP,       RUN_OPT_DURATION,
        RUN_OPT_CERTS,         RUN_OPT_BULK_RATE, RUN_OPT_BULK_BATCH, RUN_OPT_BULK_PASSES,
        RUN_OPT_ACME_CLIENTS,  RUN_OPT_ACME_MODE};
    for (size_t i = 0; i < sizeof(set_by_file) / sizeof(set_by_file[0]); i++) {
        ck_assert(options_explicit(&c, set_by_file[i]) && !options_given(&c, RUN_OPT_TIMEOUT));
        ck_assert_msg(options_given(&f, set_by_file[i]), "option %d not set by the file",
                      (int)set_by_file[i]);
        ck_assert(!options_explicit(&f, set_by_file[i]));
    }
    ck_assert(!options_given(&f, RUN_OPT_TIMEOUT));
    /* thresholds: the file's follow the command line's, parsed */
    ck_assert_uint_eq(f.n_thresholds, 2);
    ck_assert_str_eq(f.threshold_specs[0], "http_req_failed:rate<0.01");
    ck_assert_str_eq(f.thresholds[1].spec, "http_reqs{scenario:soak}:count>10");
    json_object *j = options_config_json(&f), *v;
    ck_assert(json_object_object_get_ex(j, "scenario_files", &v));
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), path);
    ck_assert(json_object_object_get_ex(j, "from_scenarios", &v));
    ck_assert_int_eq((int)json_object_array_length(v), PRESET_SET__COUNT);
    json_object_put(j);
    options_free(&f);
    options_free(&c);
    ck_assert_ptr_null(f.scenario_presets[0]);
}
END_TEST

START_TEST(file_equals_preset)
{
    char path[128], sets[256];
    /* agent-storm's settings under another name: the same load */
    const struct preset *storm = preset_find("agent-storm");
    ck_assert_int_gt(preset_format_settings(storm, sets, sizeof(sets)), 0);
    ck_assert_str_eq(sets, "--agents 5000 --heartbeat 30s --poll 0 --duration 5m");
    put("storm.json",
        "{\"name\": \"my-storm\", \"agents\": 5000, \"heartbeat\": \"30s\", \"poll\": 0, "
        "\"duration\": \"5m\"}",
        path, sizeof(path));
    struct run_config f, p;
    ck_assert_msg(parse_args(&f, ARGS("--scenario", path, "--agents", "40")) == 0, "%s", err);
    ck_assert_msg(parse_args(&p, ARGS("--scenario", "agent-storm", "--agents", "40")) == 0, "%s",
                  err);
    assert_same_load(&f, &p);
    ck_assert_uint_eq(f.agents, 40); /* explicit wins over both */
    ck_assert_uint_eq(f.scenario_mask, p.scenario_mask);
    ck_assert_uint_eq(p.n_thresholds, 4);
    ck_assert_uint_eq(f.n_thresholds, 0);
    options_free(&f);
    options_free(&p);
}
END_TEST

START_TEST(explicit_options_win)
{
    char path[128];
    put("a.json",
        "{\"name\": \"a\", \"agents\": 100, \"heartbeat\": \"10s\", \"ramp\": \"1m\", "
        "\"jitter\": \"20%\", \"os_mix\": \"50/25/25\", \"thresholds\": "
        "[\"http_reqs{scenario:a}:count>0\"]}",
        path, sizeof(path));
    struct run_config cfg;
    ck_assert_msg(parse_args(&cfg, ARGS("--scenario", path, "--agents", "7", "--jitter", "0%",
                                        "--no-thresholds")) == 0,
                  "%s", err);
    ck_assert_uint_eq(cfg.agents, 7);
    ck_assert(cfg.jitter_pct == 0.0);
    ck_assert_uint_eq(cfg.heartbeat_ns, 10 * SEC);
    ck_assert_uint_eq(cfg.ramp_ns, 60 * SEC);
    ck_assert_uint_eq(cfg.os_mix.pct[0], 50);
    ck_assert_uint_eq(cfg.n_thresholds, 0);
    ck_assert(options_explicit(&cfg, RUN_OPT_AGENTS) &&
              !(cfg.scenario_mask & (1ULL << RUN_OPT_AGENTS)));
    options_free(&cfg);

    /* the first scenario that sets a value wins; each actor group takes one scenario's name */
    ck_assert_msg(parse_args(&cfg, ARGS("--scenario", "acme-burst", "--scenario", path,
                                        "--scenario", "bulk-renewal")) == 0,
                  "%s", err);
    ck_assert_uint_eq(cfg.agents, 0);              /* acme-burst's */
    ck_assert_uint_eq(cfg.heartbeat_ns, 10 * SEC); /* the file's */
    ck_assert_uint_eq(cfg.poll_ns, 30 * SEC);      /* bulk-renewal's */
    ck_assert_uint_eq(cfg.certs, 10000);
    ck_assert_str_eq(options_actor_scenario(&cfg, OPTIONS_ACTOR_AGENTS), "a");
    ck_assert_str_eq(options_actor_scenario(&cfg, OPTIONS_ACTOR_OPERATOR), "bulk-renewal");
    ck_assert_str_eq(options_actor_scenario(&cfg, OPTIONS_ACTOR_ACME), "acme-burst");
    ck_assert_uint_eq(cfg.n_thresholds, 5 + 1 + 4);
    options_free(&cfg);

    /* without a ramp in the file, the ramp follows the file's heartbeat */
    put("b.json", "{\"name\": \"b\", \"heartbeat\": \"12s\"}", path, sizeof(path));
    ck_assert_msg(parse_args(&cfg, ARGS("--scenario", path)) == 0, "%s", err);
    ck_assert_uint_eq(cfg.ramp_ns, 12 * SEC);
    options_free(&cfg);
}
END_TEST

START_TEST(errors_through_options)
{
    char path[128], want[512];
    struct run_config cfg;
    put("bad.json", "{\"name\": \"bad\", \"heartbeat\": \"5x\"}", path, sizeof(path));
    ck_assert_int_eq(parse_args(&cfg, ARGS("--agents", "5", "--scenario", path)), 2);
    snprintf(want, sizeof(want),
             "fleetsim: --scenario %s: \"heartbeat\": \"5x\" has an unknown unit "
             "\"x\" (expected ms, s, m, h or d, e.g. 30s or 1h30m)",
             path);
    ck_assert_str_eq(err, want);
    options_free(&cfg);

    ck_assert_int_eq(parse_args(&cfg, ARGS("--scenario", "nope/missing.json")), 2);
    ck_assert_str_eq(err, "fleetsim: --scenario nope/missing.json: cannot be read: No such file or "
                          "directory (expected a readable file)");
    options_free(&cfg);

    /* two files with one name */
    put("one.json", "{\"name\": \"same\"}", path, sizeof(path));
    char other[128];
    put("two.json", "{\"name\": \"same\", \"agents\": 3}", other, sizeof(other));
    ck_assert_int_eq(parse_args(&cfg, ARGS("--scenario", path, "--scenario", other)), 2);
    snprintf(want, sizeof(want),
             "fleetsim: --scenario %s: \"name\": \"same\" is the name of an "
             "earlier --scenario (expected each scenario once)",
             other);
    ck_assert_str_eq(err, want);
    options_free(&cfg);

    /* a --threshold may name the file's scenario, not an absent one */
    ck_assert_int_eq(parse_args(&cfg, ARGS("--scenario", path, "--threshold",
                                           "http_reqs{scenario:same}:count>0")),
                     0);
    options_free(&cfg);
    ck_assert_int_eq(parse_args(&cfg, ARGS("--scenario", path, "--threshold",
                                           "http_reqs{scenario:other}:count>0")),
                     2);
    ck_assert(strstr(err, "scenario 'other' is not part of this run") != NULL);
    options_free(&cfg);
}
END_TEST

static Suite *scenario_file_suite(void)
{
    Suite *s = suite_create("scenario_file");
    TCase *good = testenv_tcase(s, "good", 0);
    tcase_add_unchecked_fixture(good, setup, teardown);
    tcase_add_checked_fixture(good, clear_env, NULL);
    tcase_add_test(good, good_full);
    tcase_add_test(good, good_minimal);
    tcase_add_test(good, shipped_examples);
    tcase_add_test(good, is_file_and_names);
    tcase_add_test(good, unreadable_files);
    TCase *bad = testenv_tcase(s, "bad", 0);
    tcase_add_loop_test(bad, bad_file, 0, (int)N_BAD_FILES);
    TCase *opt = testenv_tcase(s, "options", 0);
    tcase_add_unchecked_fixture(opt, setup, teardown);
    tcase_add_checked_fixture(opt, clear_env, NULL);
    tcase_add_test(opt, file_equals_command_line);
    tcase_add_test(opt, file_equals_preset);
    tcase_add_test(opt, explicit_options_win);
    tcase_add_test(opt, errors_through_options);
    return s;
}

int main(void)
{
    sim_names_register(NULL);
    printf("check_scenario_file: %zu bad files in the table\n", (size_t)N_BAD_FILES);
    return testenv_run(scenario_file_suite());
}
