/* tests/unit/check_cmdline.c - tests of engine/cmdline, the command-line table every program
 * uses: the edit distance and the suggestions for typos, the parser on a small table (value
 * forms, one-letter bundles, "--", operands, repeats, the verdicts' error lines, help and
 * version), and the real fleetsim-target and `fleetsim seed` answering a typo, a missing
 * value, -h and -V as fleetsim does. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/cmdline.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define MAX_ARGS 12

/* ---- a small table ---- */

enum toy_opt {
    TOY_NAME = 0,
    TOY_COUNT,
    TOY_TAG,
    TOY_FLAG,
    TOY_QUIET,
    TOY_SECRET,
    TOY_URL,
    TOY_FILE
};

/* What the handlers saw. */
struct toy {
    char calls[512]; /* "id=value;" per handler call */
    char operands[128];
    int quiet;
};

static void record(struct toy *t, int id, const char *arg)
{
    size_t len = strlen(t->calls);
    snprintf(t->calls + len, sizeof(t->calls) - len, "%d=%s;", id, arg);
}

/* Accepts anything but "bad" or ".../bad"; an empty value is refused with an "(expected ...)"
 * reason. */
static int toy_value(void *ctx, int id, char *arg, char *reason, size_t n)
{
    size_t len = strlen(arg);
    if (len == 0 || strcmp(arg, "bad") == 0 || (len > 4 && strcmp(arg + len - 4, "/bad") == 0)) {
        snprintf(reason, n, "is not good (expected a word other than bad)");
        return id == TOY_SECRET ? CMDLINE_BAD_HIDDEN
                                : (id == TOY_URL ? CMDLINE_BAD_REDACTED : CMDLINE_BAD);
    }
    record(ctx, id, arg);
    return CMDLINE_OK;
}

/* Accepts everything, so a missing value gets the generic hint. */
static int toy_any(void *ctx, int id, char *arg, char *reason, size_t n)
{
    (void)reason;
    (void)n;
    record(ctx, id, arg);
    return CMDLINE_OK;
}

/* A scenario-file-like failure: the reason is the whole line. */
static int toy_file(void *ctx, int id, char *arg, char *reason, size_t n)
{
    if (strcmp(arg, "broken.json") == 0) {
        snprintf(reason, n, "--file %s: \"key\": is wrong", arg);
        return CMDLINE_BAD_LINE;
    }
    return toy_any(ctx, id, arg, reason, n);
}

static int toy_flag(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct toy *t = ctx;
    (void)reason;
    (void)n;
    if (id == TOY_QUIET)
        t->quiet++;
    record(t, id, arg);
    return CMDLINE_OK;
}

static int toy_operand(void *ctx, char *arg, char *reason, size_t n)
{
    struct toy *t = ctx;
    if (strcmp(arg, "nope") == 0) {
        snprintf(reason, n, "is not an input (expected a file)");
        return CMDLINE_BAD;
    }
    size_t len = strlen(t->operands);
    snprintf(t->operands + len, sizeof(t->operands) - len, "%s;", arg);
    return CMDLINE_OK;
}

static const struct cmdline_opt toy_opts[] = {
    {"name", TOY_NAME, true, false, 'n', toy_value},
    {"count", TOY_COUNT, true, false, 0, toy_any},
    {"tag", TOY_TAG, true, true, 0, toy_value},
    {"flag", TOY_FLAG, false, false, 'f', toy_flag},
    {"quiet", TOY_QUIET, false, true, 'q', toy_flag},
    {"secret", TOY_SECRET, true, false, 0, toy_value},
    {"url", TOY_URL, true, false, 0, toy_value},
    {"file", TOY_FILE, true, false, 0, toy_file},
};
#define N_TOY (sizeof(toy_opts) / sizeof(toy_opts[0]))

static const struct cmdline_spec toy_spec = {"toy", toy_opts, N_TOY, true, NULL};
static const struct cmdline_spec toy_files_spec = {"toy files", toy_opts, N_TOY, false,
                                                   toy_operand};

static char err[1024];
static struct toy seen;
static struct cmdline_result res;

/* Parses "toy ARGS..." with spec into the globals above; returns cmdline_parse's result. */
static int run(const struct cmdline_spec *spec, const char *const *args)
{
    static char store[MAX_ARGS][128];
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = (char *)"toy";
    for (size_t i = 0; args[i]; i++) {
        ck_assert_int_lt(argc, MAX_ARGS);
        snprintf(store[i], sizeof(store[i]), "%s", args[i]);
        argv[argc++] = store[i];
    }
    argv[argc] = NULL;
    memset(&seen, 0, sizeof(seen));
    return cmdline_parse(spec, argc, argv, &seen, &res, err, sizeof(err));
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- edit distance and suggestions ---- */

START_TEST(edit_distance)
{
    ck_assert_uint_eq(cmdline_edit_distance("agents", "agents"), 0);
    ck_assert_uint_eq(cmdline_edit_distance("agnets", "agents"), 1);            /* swap */
    ck_assert_uint_eq(cmdline_edit_distance("treshold", "threshold"), 1);       /* omission */
    ck_assert_uint_eq(cmdline_edit_distance("sumary-json", "summary-json"), 1); /* omission */
    ck_assert_uint_eq(cmdline_edit_distance("duraation", "duration"), 1);       /* insertion */
    ck_assert_uint_eq(cmdline_edit_distance("grase", "grace"), 1);              /* substitution */
    ck_assert_uint_eq(cmdline_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(cmdline_edit_distance("", "abc"), 3);
    ck_assert_uint_eq(cmdline_edit_distance("abc", ""), 3);
    /* one swap, not a swap and an edit on the swapped pair (optimal string alignment) */
    ck_assert_uint_eq(cmdline_edit_distance("ca", "abc"), 3);
    char longer[80];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ck_assert_uint_eq(cmdline_edit_distance(longer, "a"), SIZE_MAX);
}
END_TEST

START_TEST(suggestions)
{
    char buf[256];
    /* the options a word begins, in table order */
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "f", buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "--flag or --file");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "co", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--count");
    /* else the nearest by edit distance, ties all listed */
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "nmae", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--name");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "secert", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--secret");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "fil", buf, sizeof(buf)), 1); /* a prefix */
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "fla", buf, sizeof(buf)), 1);
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "fiag", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--flag");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "tat", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--tag");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "fle", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--file");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "fag", buf, sizeof(buf)), 2); /* 1 from both */
    ck_assert_str_eq(buf, "--tag or --flag");
    /* the built-in options too; --version only where the program has it */
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "hepl", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--help");
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "verison", buf, sizeof(buf)), 1);
    ck_assert_str_eq(buf, "--version");
    ck_assert_uint_eq(cmdline_suggest(&toy_files_spec, "verison", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "");
    /* too far: 2 edits on a 4-letter word, 3 on a 6-letter one, or nothing alike */
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "nxmz", buf, sizeof(buf)), 0);
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "sceert", buf, sizeof(buf)), 1); /* 2 of 6 */
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "xcxrxt", buf, sizeof(buf)), 0);
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "bogus", buf, sizeof(buf)), 0);
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "", buf, sizeof(buf)), 0);
    /* a small buffer is cut, never overrun */
    char tiny[8];
    ck_assert_uint_eq(cmdline_suggest(&toy_spec, "f", tiny, sizeof(tiny)), 2);
    ck_assert_uint_lt(strlen(tiny), sizeof(tiny));
}
END_TEST

/* ---- the parser ---- */

START_TEST(value_forms)
{
    ck_assert_int_eq(run(&toy_spec, ARGS("--name", "a", "--count=", "--tag=x=y", "-n", "b")), 2);
    ck_assert_str_eq(err, "toy: --name: given more than once (expected it at most once)");
    ck_assert_int_eq(run(&toy_spec, ARGS("--name", "a", "--count=", "--tag=x=y", "--tag", "-q")),
                     0);
    ck_assert_str_eq(seen.calls, "0=a;1=;2=x=y;2=-q;"); /* a value may start with '-' */
    ck_assert_uint_eq(res.given, (1u << TOY_NAME) | (1u << TOY_COUNT) | (1u << TOY_TAG));
    ck_assert_int_eq(res.action, CMDLINE_ACTION_RUN);
    /* one-letter forms: bundled flags, a value attached or in the next word */
    ck_assert_int_eq(run(&toy_spec, ARGS("-qfq", "-nabc")), 0);
    ck_assert_str_eq(seen.calls, "4=;3=;4=;0=abc;");
    ck_assert_int_eq(seen.quiet, 2);
    ck_assert_int_eq(run(&toy_spec, ARGS("-qn", "word")), 0);
    ck_assert_str_eq(seen.calls, "4=;0=word;");
    ck_assert_int_eq(run(&toy_spec, (const char *const[]){NULL}), 0);
    ck_assert_uint_eq(res.given, 0);
}
END_TEST

START_TEST(errors)
{
    static const struct {
        const char *args[MAX_ARGS];
        const char *expect;
    } lines[] = {
        {{"--nmae", "x"}, "toy: unknown option \"--nmae\" (did you mean --name? see toy --help)"},
        {{"--nam=x"}, "toy: unknown option \"--nam\" (did you mean --name? see toy --help)"},
        {{"--bogus"}, "toy: unknown option \"--bogus\" (see toy --help)"},
        {{"-x"}, "toy: unknown option \"-x\" (see toy --help)"},
        {{"-qz"}, "toy: unknown option \"-z\" (see toy --help)"},
        {{"--name"}, "toy: --name: missing value (expected a word other than bad)"},
        {{"-n"}, "toy: --name: missing value (expected a word other than bad)"},
        {{"--count"}, "toy: --count: missing value (see toy --help)"},
        {{"--flag=1"}, "toy: --flag: takes no value (expected --flag alone)"},
        {{"--help=1"}, "toy: --help: takes no value"},
        {{"--flag", "--flag"}, "toy: --flag: given more than once (expected it at most once)"},
        {{"--name", "bad"}, "toy: --name: \"bad\" is not good (expected a word other than bad)"},
        {{"--secret", "bad"}, "toy: --secret: is not good (expected a word other than bad)"},
        {{"--file", "broken.json"}, "toy: --file broken.json: \"key\": is wrong"},
        {{"word"}, "toy: unexpected argument: \"word\" (expected only options; see toy --help)"},
        {{"--", "--name"},
         "toy: unexpected argument: \"--name\" (expected only options; see toy --help)"},
        {{"-"}, "toy: unexpected argument: \"-\" (expected only options; see toy --help)"},
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ck_assert_int_eq(run(&toy_spec, lines[i].args), 2);
        ck_assert_msg(strcmp(err, lines[i].expect) == 0, "case %zu:\n got  %s\n want %s", i, err,
                      lines[i].expect);
    }
    /* a URL is shown without its password */
    ck_assert_int_eq(run(&toy_spec, ARGS("--url", "https://u:pw-s3cret@h.example:1/bad")), 2);
    ck_assert_msg(strstr(err, "toy: --url: \"https://") == err, "%s", err);
    ck_assert_msg(strstr(err, "h.example:1/bad\" is not good") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "s3cret") == NULL, "%s", err);
}
END_TEST

START_TEST(operands)
{
    ck_assert_int_eq(run(&toy_files_spec, ARGS("a.json", "-q", "b.json", "--", "-c", "--name")), 0);
    ck_assert_str_eq(seen.operands, "a.json;b.json;-c;--name;");
    ck_assert_str_eq(seen.calls, "4=;");
    ck_assert_int_eq(run(&toy_files_spec, ARGS("a.json", "nope")), 2);
    ck_assert_str_eq(err, "toy files: nope: is not an input (expected a file)");
    /* without --version in the table, -V and --version are unknown */
    ck_assert_int_eq(run(&toy_files_spec, ARGS("-V")), 2);
    ck_assert_str_eq(err, "toy files: unknown option \"-V\" (see toy files --help)");
    ck_assert_int_eq(run(&toy_files_spec, ARGS("--version")), 2);
    ck_assert_int_eq(run(&toy_files_spec, ARGS("-h")), 0);
    ck_assert_int_eq(res.action, CMDLINE_ACTION_HELP);
}
END_TEST

START_TEST(help_and_version)
{
    /* help and version stop the parse: what follows is not read, what precedes is */
    ck_assert_int_eq(run(&toy_spec, ARGS("--help", "--bogus")), 0);
    ck_assert_int_eq(res.action, CMDLINE_ACTION_HELP);
    ck_assert_int_eq(run(&toy_spec, ARGS("-q", "-V", "--name", "bad")), 0);
    ck_assert_int_eq(res.action, CMDLINE_ACTION_VERSION);
    ck_assert_str_eq(seen.calls, "4=;");
    ck_assert_int_eq(run(&toy_spec, ARGS("-qh")), 0);
    ck_assert_int_eq(res.action, CMDLINE_ACTION_HELP);
    ck_assert_int_eq(run(&toy_spec, ARGS("--version")), 0);
    ck_assert_int_eq(res.action, CMDLINE_ACTION_VERSION);
    ck_assert_int_eq(run(&toy_spec, ARGS("--name", "bad", "--help")), 2);
}
END_TEST

/* ---- the programs ---- */

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Runs $top_builddir/prog with args; asserts the exit status and, for 2, that stderr is
 * exactly the line expect (with '~' first: contains it) and stdout is empty. */
static void expect_exit(const char *prog, const char *const *args, int status, const char *expect,
                        struct procs_output *r)
{
    ck_assert_msg(procs_exec(prog, args, 15000, r), "$top_builddir/%s is not built", prog);
    ck_assert_msg(r->status == status, "%s %s: exit %d: %s", prog, args[0], r->status, r->errb);
    if (status != 2)
        return;
    ck_assert_uint_eq(r->out_len, 0);
    ck_assert_msg(count_lines(r->errb) == 1, "%s", r->errb);
    r->errb[r->err_len - 1] = '\0';
    if (expect[0] == '~')
        ck_assert_msg(strstr(r->errb, expect + 1) != NULL, "%s", r->errb);
    else
        ck_assert_str_eq(r->errb, expect);
}

START_TEST(target_program)
{
    struct procs_output r;
    const char *p = "fleetsim-target";
    expect_exit(p, ARGS("--lisen", "127.0.0.1:0"), 2,
                "fleetsim-target: unknown option \"--lisen\" (did you mean --listen? see "
                "fleetsim-target --help)",
                &r);
    expect_exit(p, ARGS("--seed-agent", "5"), 2,
                "fleetsim-target: unknown option \"--seed-agent\" (did you mean --seed-agents? "
                "see fleetsim-target --help)",
                &r);
    expect_exit(p, ARGS("--rate-limt=off"), 2,
                "fleetsim-target: unknown option \"--rate-limt\" (did you mean --rate-limit? see "
                "fleetsim-target --help)",
                &r);
    expect_exit(p, ARGS("--listen"), 2,
                "~fleetsim-target: --listen: missing value (expected ADDR:PORT", &r);
    expect_exit(p, ARGS("--fault"), 2,
                "fleetsim-target: --fault: missing value (see fleetsim-target --help)", &r);
    expect_exit(p, ARGS("--plain=yes"), 2,
                "fleetsim-target: --plain: takes no value (expected --plain alone)", &r);
    expect_exit(p, ARGS("--api-key", "k1", "--api-key"), 2,
                "~fleetsim-target: --api-key: missing value (expected 1 to", &r);
    expect_exit(p, ARGS("-x"), 2,
                "fleetsim-target: unknown option \"-x\" (see fleetsim-target --help)", &r);
    expect_exit(p, ARGS("--bulk-clamp", "maybe"), 2,
                "fleetsim-target: --bulk-clamp: \"maybe\" is not on or off (expected on or off)",
                &r);
    expect_exit(p, ARGS("-h"), 0, NULL, &r);
    ck_assert(strncmp(r.out, "Usage: fleetsim-target [OPTIONS]\n", 33) == 0);
    ck_assert(strstr(r.out, "  -V, --version ") != NULL);
    expect_exit(p, ARGS("-V"), 0, NULL, &r);
    ck_assert(strncmp(r.out, "fleetsim-target ", 16) == 0);
    ck_assert_uint_eq(count_lines(r.out), 1);
    ck_assert_uint_eq(r.err_len, 0);
}
END_TEST

START_TEST(seed_program)
{
    struct procs_output r;
    expect_exit("fleetsim", ARGS("seed", "--agnets", "5"), 2,
                "fleetsim seed: unknown option \"--agnets\" (did you mean --agents? see fleetsim "
                "seed --help)",
                &r);
    expect_exit("fleetsim", ARGS("seed", "--expiry-windw", "1d-2d"), 2,
                "fleetsim seed: unknown option \"--expiry-windw\" (did you mean --expiry-window? "
                "see fleetsim seed --help)",
                &r);
    expect_exit("fleetsim", ARGS("seed", "--expiry-window"), 2,
                "fleetsim seed: --expiry-window: missing value (expected FROM-TO, e.g. 32d-90d)",
                &r);
    expect_exit("fleetsim", ARGS("seed", "--db"), 2,
                "fleetsim seed: --db: missing value (see fleetsim seed --help)", &r);
    expect_exit("fleetsim", ARGS("seed", "--agents", "x"), 2,
                "~fleetsim seed: --agents: \"x\" is not", &r);
    expect_exit("fleetsim", ARGS("seed", "--dry-run=1"), 2,
                "fleetsim seed: --dry-run: takes no value (expected --dry-run alone)", &r);
    expect_exit("fleetsim", ARGS("seed", "--reset", "--clean"), 2,
                "fleetsim seed: --reset and --clean exclude each other", &r);
    expect_exit("fleetsim", ARGS("seed", "-h"), 0, NULL, &r);
    ck_assert(strncmp(r.out, "Usage: fleetsim seed ", 21) == 0);
    expect_exit("fleetsim", ARGS("seed", "-V"), 0, NULL, &r);
    ck_assert(strncmp(r.out, "fleetsim ", 9) == 0);
    expect_exit("fleetsim", ARGS("seed", "--dry-run", "-q", "--agents", "3", "--certs", "4"), 0,
                NULL, &r);
    ck_assert(strstr(r.out, "fleetsim seed --dry-run:") == r.out);
}
END_TEST

static Suite *cmdline_suite(void)
{
    Suite *s = suite_create("cmdline");
    const struct TTest *const table[] = {edit_distance, suggestions, value_forms,
                                         errors,        operands,    help_and_version};
    const struct TTest *const programs[] = {target_program, seed_program};
    testenv_tcase_tests(s, "table", 0, table, sizeof(table) / sizeof(table[0]));
    testenv_tcase_tests(s, "programs", 0, programs, sizeof(programs) / sizeof(programs[0]));
    return s;
}

int main(void)
{
    return testenv_run(cmdline_suite());
}
