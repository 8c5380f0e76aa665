/* tests/unit/check_engine_names.c - the engine knows nothing of certctl: no file of engine/
 * spells a name sim registers (actors, endpoints, actor metrics and their tags, taken from
 * sim/names.h through the engine's own registry) in its code or messages, no comment names a
 * registered identifier (a name with '_'), and a line mentioning certctl only says that the
 * engine does not know it. The scanner is first run on texts that break each rule, so the
 * check can fail. */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/metric_names.h"
#include "sim/names.h"
#include "tests/lib/testenv.h"

#define PATH_MAX_LEN 4096
#define REPORT_MAX 4096
/* What a line mentioning certctl must also say. */
#define DISCLAIMER "nothing of"

/* A file's text and its code view: comments blanked, strings and identifiers kept. */
struct scanned {
    char *text;
    char *code;
};

/* Blanks C comments of text into a new string (same length, newlines kept). */
static char *code_view(const char *text)
{
    char *out = strdup(text);
    ck_assert_ptr_nonnull(out);
    enum { CODE, LINE, BLOCK, STRING, CHAR } st = CODE;
    for (size_t i = 0; out[i]; i++) {
        char c = text[i], next = text[i + 1];
        if (st == CODE && c == '/' && next == '/')
            st = LINE;
        else if (st == CODE && c == '/' && next == '*')
            st = BLOCK;
        else if (st == CODE && (c == '"' || c == '\''))
            st = c == '"' ? STRING : CHAR;
        else if ((st == STRING || st == CHAR) && c == '\\' && next)
            i++;
        else if ((st == STRING && c == '"') || (st == CHAR && c == '\''))
            st = CODE;
        if (st == LINE || st == BLOCK) {
            if (st == BLOCK && c == '*' && next == '/') {
                out[i] = out[i + 1] = ' ';
                i++;
                st = CODE;
                continue;
            }
            if (c == '\n')
                st = st == LINE ? CODE : BLOCK;
            else
                out[i] = ' ';
        }
    }
    return out;
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Line number of the first whole-word occurrence of word in text, or 0. */
static int find_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        if ((p == text || !word_char(p[-1])) && !word_char(p[n])) {
            int line = 1;
            for (const char *q = text; q < p; q++)
                line += *q == '\n';
            return line;
        }
    }
    return 0;
}

/* Appends "where: what" to report (REPORT_MAX bytes). */
static void complain(char *report, const char *where, int line, const char *what)
{
    size_t len = strlen(report);
    snprintf(report + len, REPORT_MAX - len, "%s:%d: %s\n", where, line, what);
}

/* Rule 1 and 2 for one name. */
static void check_name(const struct scanned *f, const char *where, const char *name, char *report)
{
    int line = find_word(f->code, name);
    if (line)
        complain(report, where, line, name);
    else if (strchr(name, '_') && (line = find_word(f->text, name)))
        complain(report, where, line, name);
}

/* Rule 3: every line with "certctl" (any case) also says the engine knows nothing of it. */
static void check_certctl(const char *text, const char *where, char *report)
{
    int line = 1;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), p);
        if (strcasestr(buf, "certctl") && !strstr(buf, DISCLAIMER))
            complain(report, where, line, "certctl");
        p += n + (end ? 1 : 0);
        line++;
    }
}

/* Every rule over one text; the findings go to report. */
static void scan_text(const char *text, const char *where, bool c_source, char *report)
{
    check_certctl(text, where, report);
    if (!c_source)
        return;
    struct scanned f = {(char *)text, code_view(text)};
    for (size_t i = 0; i < metric_names_actor_count(); i++)
        check_name(&f, where, metric_names_actor_at(i), report);
    for (size_t i = 0; i < metric_names_endpoint_count(); i++)
        check_name(&f, where, metric_names_endpoint_at(i), report);
    for (size_t i = 0; i < metric_names_metric_count(); i++) {
        const struct metric_name *m = metric_names_metric_at(i);
        if (metric_names_metric(m->name) != m || strncmp(m->name, "http_", 5) == 0 ||
            strcmp(m->name, METRIC_DROPPED_REQUESTS) == 0 ||
            strcmp(m->name, METRIC_UNANSWERED_REQUESTS) == 0 ||
            strcmp(m->name, METRIC_UNSERVED_REQUESTS) == 0)
            continue; /* the engine's own */
        check_name(&f, where, m->name, report);
        if (m->extra_tag)
            check_name(&f, where, m->extra_tag, report);
    }
    free(f.code);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The scanner finds each kind of breach, and only breaches. */
START_TEST(test_scanner_can_fail)
{
    char report[REPORT_MAX] = "";
    scan_text("static const char *x = \"heartbeat\";\n", "t1", true, report);
    ck_assert_msg(strstr(report, "t1:1: heartbeat"), "%s", report);
    report[0] = '\0';
    scan_text("int a;\n/* counts acme_problems */\n", "t2", true, report);
    ck_assert_msg(strstr(report, "t2:2: acme_problems"), "%s", report);
    report[0] = '\0';
    scan_text("int x = f(\"known: agent, operator\");\n", "t3", true, report);
    ck_assert_msg(strstr(report, "t3:1: agent"), "%s", report);
    report[0] = '\0';
    scan_text("# talks to certctl\n", "t4", false, report);
    ck_assert_msg(strstr(report, "t4:1: certctl"), "%s", report);
    report[0] = '\0';
    scan_text("/* an operator < in English, heartbeats, work */\nint operators;\n"
              "/* knows nothing of certctl */ char *s = \"a\\\"b\"; // c\n",
              "ok", true, report);
    ck_assert_msg(report[0] == '\0', "%s", report);
}
END_TEST

/* Every file of engine/ keeps the rules. */
START_TEST(test_engine_knows_no_certctl_name)
{
    char dir[PATH_MAX_LEN], path[PATH_MAX_LEN + 256], report[REPORT_MAX] = "";
    ck_assert_int_gt(testenv_src_path("engine", dir, sizeof dir), 0);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        bool c_source = ends_with(e->d_name, ".c") || ends_with(e->d_name, ".h");
        if (!c_source && !ends_with(e->d_name, ".am"))
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name) >= sizeof path)
            continue;
        char *text = testenv_slurp(path);
        scan_text(text, e->d_name, c_source, report);
        free(text);
        files++;
    }
    closedir(d);
    ck_assert_int_gt(files, 20);
    ck_assert_msg(report[0] == '\0', "engine/ spells certctl names:\n%s", report);
}
END_TEST

int main(void)
{
    if (sim_names_register(NULL) != 0)
        return 1;
    Suite *s = suite_create("engine_names");
    TCase *tc = testenv_tcase(s, "core", 30);
    tcase_add_test(tc, test_scanner_can_fail);
    tcase_add_test(tc, test_engine_knows_no_certctl_name);
    return testenv_run(s);
}
