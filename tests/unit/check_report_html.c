/* tests/unit/check_report_html.c - the HTML report (engine/report_html): every opened tag is
 * closed (a small checker below), text is escaped, nothing external is referenced; the page
 * holds each series, each threshold with pass/fail, the accounting identity, the config, one
 * percentile chart per series with its curves and, given an interval log, the rate and p99
 * charts; files are written atomically and bad inputs are refused with a reason. */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/report_html.h"
#include "engine/report_json.h"
#include "engine/threshold.h"
#include "sim/names.h"
#include "tests/lib/testenv.h"
#include "tests/unit/outputs_fixture.h"

#define MAX_DEPTH 64
#define TAG_BYTES 16

static char dir[64];

static void setup(void)
{
    testenv_mkdtemp(dir, sizeof dir, "check_report_html");
}

static void teardown(void)
{
    testenv_rmtree(dir);
}

/* ---- a small well-formedness checker ---- */

static char problem[160]; /* what the checker found wrong */

static bool is_void(const char *tag)
{
    static const char *const v[] = {"meta", "br", "hr", "img", "input", "link"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(tag, v[i]) == 0)
            return true;
    return false;
}

/* Skip the attributes of a tag from p past its '>' (quotes honoured); *self: ended with "/>".
 * NULL when the tag does not end or a value holds '<'. */
static const char *skip_attributes(const char *p, bool *self)
{
    char quote = 0;
    for (; *p; p++) {
        if (quote) {
            if (*p == '<')
                return NULL;
            quote = *p == quote ? 0 : quote;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            *self = p[-1] == '/';
            return p + 1;
        }
    }
    return NULL;
}

/* An entity must be one the writer uses. */
static bool entity_ok(const char *p)
{
    static const char *const ok[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strncmp(p, ok[i], strlen(ok[i])) == 0)
            return true;
    return false;
}

#define BAD(...) (snprintf(problem, sizeof problem, __VA_ARGS__), false)

/* True when html starts with the doctype, every element opened is closed in order, every
 * '<' starts a tag and every '&' an entity; *elements counts them. Else problem says why. */
static bool well_formed(const char *html, size_t *elements)
{
    char stack[MAX_DEPTH][TAG_BYTES];
    size_t depth = 0;
    const char *p = html;
    *elements = 0;
    if (strncmp(p, "<!DOCTYPE html>", 15) != 0)
        return BAD("no doctype");
    for (p += 15; *p;) {
        if (*p == '&' && !entity_ok(p))
            return BAD("bare '&' or unknown entity at: %.20s", p);
        if (*p != '<') {
            p++;
            continue;
        }
        bool closing = p[1] == '/', self = false;
        const char *name = p + 1 + closing;
        size_t len = 0;
        while (isalnum((unsigned char)name[len]))
            len++;
        if (len == 0 || len >= TAG_BYTES || !isalpha((unsigned char)name[0]))
            return BAD("not a tag at: %.30s", p);
        char tag[TAG_BYTES];
        memcpy(tag, name, len);
        tag[len] = '\0';
        if ((p = skip_attributes(name + len, &self)) == NULL)
            return BAD("<%s> does not end properly", tag);
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], tag) != 0)
                return BAD("</%s> closes <%s>", tag, depth ? stack[depth - 1] : "nothing");
            depth--;
            continue;
        }
        (*elements)++;
        if (self || is_void(tag))
            continue;
        if (depth == MAX_DEPTH)
            return BAD("nested too deep");
        snprintf(stack[depth++], TAG_BYTES, "%s", tag);
        if (strcmp(tag, "style") == 0) { /* raw text up to </style> */
            const char *end = strstr(p, "</style>");
            if (end == NULL || memchr(p, '<', (size_t)(end - p)) != NULL)
                return BAD("bad <style>");
            p = end;
        }
    }
    if (depth != 0)
        return BAD("%zu elements left open, innermost <%s>", depth, stack[depth - 1]);
    return true;
}

static size_t check_well_formed(const char *html)
{
    size_t elements;
    ck_assert_msg(well_formed(html, &elements), "%s", problem);
    return elements;
}

/* The table row <tr>...</tr> holding needle, copied into buf. */
static void row_with(const char *html, const char *needle, char *buf, size_t n)
{
    const char *at = strstr(html, needle), *start = at, *end;
    ck_assert_msg(at != NULL, "no %s", needle);
    while (start > html && strncmp(start, "<tr>", 4) != 0)
        start--;
    end = strstr(at, "</tr>");
    ck_assert(end != NULL && strncmp(start, "<tr>", 4) == 0);
    ck_assert_uint_lt((size_t)(end + 5 - start), n);
    memcpy(buf, start, (size_t)(end + 5 - start));
    buf[end + 5 - start] = '\0';
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The text as the report escapes it. */
static void escaped(char *out, size_t n, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < n; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&#39;"
                                     : NULL;
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

/* ---- fixtures ---- */

static const char *const specs[] = {"http_req_failed:rate<0.5",
                                    "http_req_duration{scenario:agent-storm}:p(99)<1"};

static json_object *summary_of(const struct metrics *m)
{
    struct threshold_result res[2];
    struct threshold t;
    char err[256];
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(threshold_parse(specs[i], &t, err, sizeof err), 0);
        ck_assert_int_eq(threshold_evaluate(&t, m, &res[i]), 0);
    }
    ck_assert(res[0].ok && !res[1].ok);
    json_object *config = json_object_new_object();
    json_object_object_add(config, "agents", json_object_new_int(100));
    json_object_object_add(config, "note", json_object_new_string("</pre><b>x</b>"));
    struct report_meta meta = {"0.1.0-test", 42, 0, 1, 1795000000, 1795000300, config, NULL};
    json_object *s = report_json_build(&meta, m, res, 2);
    json_object_put(config);
    ck_assert_ptr_nonnull(s);
    return s;
}

static char *render(const json_object *summary, const json_object *intervals)
{
    char *text = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(report_html_write(f, summary, intervals, err, sizeof err), 0);
    fclose(f);
    return text;
}

/* Writes n interval records of growing load to path. */
static void write_interval_log(const char *path, size_t n)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++) {
        struct metrics *iv = fx_registry(200 * (i + 1), -1, 1, 10);
        ck_assert_int_eq(report_interval_jsonl(f, iv, iv, 1795000010 + 10 * (time_t)i,
                                               10.0 * (double)(i + 1), 10.0),
                         0);
        metrics_free(iv);
    }
    fclose(f);
}

/* ---- tests ---- */

START_TEST(page_content)
{
    struct metrics *m = fx_registry(4000, -1, 1, 60);
    json_object *summary = summary_of(m);
    char *html = render(summary, NULL);
    char want[512], label[256];
    ck_assert_uint_gt(check_well_formed(html), 100);
    /* each series, escaped */
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        snprintf(label, sizeof label, "%s/%s/%s", s->scenario, s->actor, s->endpoint);
        escaped(want, sizeof want, label);
        ck_assert_msg(count(html, want) >= 3, "series %s: %zu", want, count(html, want));
    }
    ck_assert(strstr(html, "odd\"<") == NULL);
    /* each threshold with its result, in its own row */
    escaped(label, sizeof label, specs[0]);
    row_with(html, label, want, sizeof want);
    ck_assert_msg(strstr(want, "<td class=\"pass\">pass</td></tr>") != NULL, "%s", want);
    escaped(label, sizeof label, specs[1]);
    row_with(html, label, want, sizeof want);
    ck_assert_msg(strstr(want, " ms</td><td class=\"fail\">FAIL</td></tr>") != NULL, "%s", want);
    ck_assert(strstr(html, "FAIL</span>: 1 of 2 thresholds failed.") != NULL);
    /* the accounting identity with the registry's figures */
    struct metrics_accounting a;
    metrics_accounting(m, &a);
    snprintf(want, sizeof want,
             "scheduled %" PRIu64 " = answered %" PRIu64 " + transport errors %" PRIu64
             " + timed out %" PRIu64 " + unanswered %" PRIu64 " + dropped %" PRIu64
             " + in flight %" PRId64 " <span class=\"pass\">(balanced)</span>",
             a.scheduled, a.answered, a.transport_errors, a.timed_out, a.unanswered, a.dropped,
             a.in_flight);
    ck_assert_msg(strstr(html, want) != NULL, "no %s", want);
    /* the config, escaped inside <pre> */
    ck_assert(strstr(html, "&quot;agents&quot;:100") != NULL ||
              strstr(html, "&quot;agents&quot;: 100") != NULL);
    ck_assert(strstr(html, "&lt;/pre&gt;&lt;b&gt;x&lt;/b&gt;") != NULL);
    /* one percentile chart per series, three curves each; no time charts without a log */
    ck_assert_uint_eq(count(html, "<svg "), metrics_series_count(m));
    ck_assert_uint_eq(count(html, "<polyline "), 3 * metrics_series_count(m));
    ck_assert(strstr(html, "Request rate over time") == NULL);
    ck_assert(strstr(html, ">99%</text>") != NULL && strstr(html, ">99.9%</text>") != NULL);
    /* actor metrics */
    ck_assert(
        strstr(
            html,
            "acme_problems{scenario:acme-burst,actor:acme,endpoint:acme_nonce,problem:badNonce}") !=
        NULL);
    /* self-contained */
    ck_assert(strstr(html, "<script") == NULL && strstr(html, " src=") == NULL &&
              strstr(html, " href=") == NULL && strstr(html, "@import") == NULL &&
              strstr(html, "url(") == NULL && strstr(html, "<link") == NULL);
    ck_assert_uint_eq(count(html, "http://"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert_uint_eq(count(html, "https://"), 0);
    free(html);
    json_object_put(summary);
    metrics_free(m);
}
END_TEST

START_TEST(charts_over_time)
{
    char path[160], err[256];
    snprintf(path, sizeof path, "%s/intervals.jsonl", dir);
    write_interval_log(path, 4);
    json_object *iv = report_html_read_intervals(path, err, sizeof err);
    ck_assert_msg(iv != NULL, "%s", err);
    ck_assert_uint_eq(json_object_array_length(iv), 4);
    struct metrics *m = fx_registry(1000, -1, 1, 40);
    json_object *summary = summary_of(m);
    char *html = render(summary, iv);
    check_well_formed(html);
    ck_assert_uint_eq(count(html, "<svg "), metrics_series_count(m) + 2);
    const char *rate = strstr(html, "<title>Request rate over time</title>");
    const char *p99 = strstr(html, "<title>http_req_duration p99 over time</title>");
    ck_assert(rate != NULL && p99 != NULL && rate < p99);
    /* the rate chart: the total and one line per series, 4 points each */
    const char *line = strstr(rate, "<polyline ");
    ck_assert(line != NULL && line < p99);
    const char *pts = strstr(line, "points=\"") + 8;
    size_t spaces = 0;
    for (const char *q = pts; *q != '"'; q++)
        spaces += *q == ' ';
    ck_assert_uint_eq(spaces + 1, 4); /* one point per interval record */
    ck_assert(
        strstr(rate,
               "<li><span class=\"swatch\" style=\"background:#1f77b4\"></span>all series</li>") !=
        NULL);
    ck_assert(strstr(rate, ">elapsed s</text>") != NULL);
    free(html);
    json_object_put(summary);
    json_object_put(iv);
    metrics_free(m);
    /* a line that is not JSON is named */
    FILE *f = fopen(path, "a");
    fputs("\n{not json\n", f);
    fclose(f);
    ck_assert_ptr_null(report_html_read_intervals(path, err, sizeof err));
    ck_assert_msg(strstr(err, "line 6 is not an interval record") != NULL, "%s", err);
    ck_assert_ptr_null(report_html_read_intervals("/nonexistent/x.jsonl", err, sizeof err));
    ck_assert(strstr(err, "interval log /nonexistent/x.jsonl cannot be read") != NULL);
}
END_TEST

static size_t files_in(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(dp)) != NULL)
        n += e->d_name[0] != '.';
    closedir(dp);
    return n;
}

START_TEST(files_atomic_and_refused)
{
    char summary[160], out[160], bad[160], err[512];
    snprintf(summary, sizeof summary, "%s/summary.json", dir);
    snprintf(out, sizeof out, "%s/report.html", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    struct metrics *m = fx_registry(2000, -1, 1, 30);
    ck_assert_int_eq(fx_write_summary(summary, m, 42, 0, 1, specs, 2), 0);
    ck_assert_int_eq(report_html_write_file(summary, NULL, out, err, sizeof err), 0);
    ck_assert_uint_eq(files_in(dir), 2); /* no temporary file left */
    FILE *f = fopen(out, "r");
    static char html[1 << 20];
    size_t len = fread(html, 1, sizeof html - 1, f);
    fclose(f);
    html[len] = '\0';
    check_well_formed(html);
    ck_assert(strstr(html, "<td class=\"l\">42</td>") != NULL); /* the seed */
    unlink(out);
    /* not JSON; JSON but not a summary: refused, nothing written */
    f = fopen(bad, "w");
    fputs("{\"series\": [", f);
    fclose(f);
    ck_assert_int_ne(report_html_write_file(bad, NULL, out, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "is not a fleetsim result (not JSON") != NULL, "%s", err);
    f = fopen(bad, "w");
    fputs("{\"series\": []}", f);
    fclose(f);
    ck_assert_int_ne(report_html_write_file(bad, NULL, out, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "is not a fleetsim result (JSON without") != NULL, "%s", err);
    ck_assert_int_ne(access(out, F_OK), 0);
    ck_assert_uint_eq(files_in(dir), 2); /* summary.json and bad.json */
    /* an unwritable place */
    ck_assert_int_ne(
        report_html_write_file(summary, NULL, "/nonexistent/dir/r.html", err, sizeof err), 0);
    ck_assert(strstr(err, "cannot write HTML report /nonexistent/dir/r.html") != NULL);
    metrics_free(m);
}
END_TEST

START_TEST(empty_run)
{
    struct metrics *m = metrics_new(false);
    struct report_meta meta = {"0.1.0-test", 1, 0, 1, 1795000000, 1795000001, NULL, NULL};
    json_object *summary = report_json_build(&meta, m, NULL, 0);
    char *html = render(summary, NULL);
    check_well_formed(html);
    ck_assert(strstr(html, "No thresholds were set.") != NULL);
    ck_assert(strstr(html, "No request series.") != NULL);
    ck_assert_uint_eq(count(html, "<svg "), 0);
    free(html);
    json_object_put(summary);
    metrics_free(m);
}
END_TEST

START_TEST(checker_rejects)
{
    static const char *const bad[] = {
        "<html></html>",                                   /* no doctype */
        "<!DOCTYPE html>\n<html><body><p>x</body></html>", /* <p> not closed */
        "<!DOCTYPE html>\n<html><b><i>x</b></i></html>",   /* crossed */
        "<!DOCTYPE html>\n<html><p>a < b</p></html>",      /* bare < */
        "<!DOCTYPE html>\n<html><p>a & b</p></html>",      /* bare & */
        "<!DOCTYPE html>\n<html><p title=\"x>",            /* unterminated tag */
        "<!DOCTYPE html>\n<html>",                         /* left open */
    };
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!well_formed(bad[i], &n), "accepted: %s", bad[i]);
    ck_assert(well_formed(
        "<!DOCTYPE html>\n<html><meta charset=\"utf-8\"/><br><p a=\"1>2\">&lt;&amp;</p></html>",
        &n));
    ck_assert_uint_eq(n, 4);
}
END_TEST

static Suite *html_suite(void)
{
    Suite *s = suite_create("report_html");
    TCase *tc = testenv_tcase(s, "report_html", 0);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, page_content);
    tcase_add_test(tc, charts_over_time);
    tcase_add_test(tc, files_atomic_and_refused);
    tcase_add_test(tc, empty_run);
    tcase_add_test(tc, checker_rejects);
    return s;
}

int main(void)
{
    sim_names_register(NULL);
    return testenv_run(html_suite());
}
