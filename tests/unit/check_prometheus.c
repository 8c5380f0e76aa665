/* tests/unit/check_prometheus.c - the Prometheus exposition (engine/prometheus) parsed back line
 * by line: names, one HELP/TYPE per family with its samples together, labels and their escaping,
 * cumulative `le` buckets (monotonic, equal to a brute-force count, +Inf = _count = the
 * histogram's count), counters and rates equal to the registry's; and the --metrics-listen
 * endpoint (engine/metrics_http) over a real loopback socket: snapshot served, republished,
 * 404/405, and a port already in use refused. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "engine/metrics_http.h"
#include "engine/prometheus.h"
#include "sim/names.h"
#include "tests/lib/testenv.h"
#include "tests/unit/outputs_fixture.h"

#define MAX_SAMPLES 8192
#define MAX_LABELS 6
#define MAX_FAMILIES 256
#define NAME_BYTES 128
#define VALUE_BYTES 160

struct sample {
    char name[NAME_BYTES];
    size_t n_labels;
    char key[MAX_LABELS][NAME_BYTES];
    char val[MAX_LABELS][VALUE_BYTES];
    double value;
};

struct family {
    char name[NAME_BYTES];
    char type[16];
    bool help, closed;
};

struct exposition {
    struct sample *s;
    size_t n;
    struct family fam[MAX_FAMILIES];
    size_t n_fam;
};

static bool valid_name(const char *s, bool colon_ok)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon_ok && *s == ':')))
            return false;
    return true;
}

static struct family *family_find(struct exposition *e, const char *name)
{
    for (size_t i = 0; i < e->n_fam; i++)
        if (strcmp(e->fam[i].name, name) == 0)
            return &e->fam[i];
    return NULL;
}

/* "# HELP name text" or "# TYPE name type": a family opens; the previous one closes. */
static void comment_line(struct exposition *e, const char *line)
{
    char kind[8], name[NAME_BYTES], rest[512] = "";
    ck_assert_msg(sscanf(line, "# %7s %127s %511[^\n]", kind, name, rest) >= 2, "%s", line);
    ck_assert_msg(strncmp(name, "fleetsim_", 9) == 0 && valid_name(name, true), "%s", line);
    struct family *f = family_find(e, name);
    if (f == NULL) {
        ck_assert_uint_lt(e->n_fam, MAX_FAMILIES);
        for (size_t i = 0; i < e->n_fam; i++)
            e->fam[i].closed = true;
        f = &e->fam[e->n_fam++];
        snprintf(f->name, sizeof f->name, "%s", name);
    }
    ck_assert_msg(!f->closed, "family %s reopened", name);
    if (strcmp(kind, "HELP") == 0) {
        ck_assert_msg(!f->help && f->type[0] == '\0', "second HELP or HELP after TYPE: %s", line);
        ck_assert(rest[0] != '\0');
        f->help = true;
    } else {
        ck_assert_str_eq(kind, "TYPE");
        ck_assert_msg(f->type[0] == '\0', "second TYPE: %s", line);
        ck_assert(strcmp(rest, "counter") == 0 || strcmp(rest, "gauge") == 0 ||
                  strcmp(rest, "histogram") == 0);
        snprintf(f->type, sizeof f->type, "%s", rest);
    }
}

/* One label value "..." with \\, \" and \n escapes; returns the text after the quote. */
static const char *label_value(const char *p, char *out, size_t n)
{
    size_t o = 0;
    ck_assert_int_eq(*p, '"');
    for (p++; *p != '"'; p++) {
        ck_assert_msg(*p != '\0' && *p != '\n', "unterminated label value");
        char c = *p;
        if (c == '\\') {
            p++;
            ck_assert_msg(*p == '\\' || *p == '"' || *p == 'n', "bad escape \\%c", *p);
            c = *p == 'n' ? '\n' : *p;
        }
        ck_assert_uint_lt(o, n - 1);
        out[o++] = c;
    }
    out[o] = '\0';
    return p + 1;
}

static void sample_line(struct exposition *e, const char *line)
{
    ck_assert_uint_lt(e->n, MAX_SAMPLES);
    struct sample *s = &e->s[e->n++];
    size_t len = strcspn(line, "{ ");
    ck_assert_uint_lt(len, NAME_BYTES);
    memcpy(s->name, line, len);
    s->name[len] = '\0';
    ck_assert_msg(strncmp(s->name, "fleetsim_", 9) == 0 && valid_name(s->name, true), "%s", line);
    const char *p = line + len;
    s->n_labels = 0;
    if (*p == '{') {
        for (p++; *p != '}';) {
            ck_assert_uint_lt(s->n_labels, MAX_LABELS);
            size_t kl = strcspn(p, "=");
            ck_assert_uint_lt(kl, NAME_BYTES);
            memcpy(s->key[s->n_labels], p, kl);
            s->key[s->n_labels][kl] = '\0';
            ck_assert_msg(valid_name(s->key[s->n_labels], false) &&
                              strncmp(s->key[s->n_labels], "__", 2) != 0,
                          "label %s", line);
            for (size_t k = 0; k < s->n_labels; k++)
                ck_assert_str_ne(s->key[k], s->key[s->n_labels]);
            p = label_value(p + kl + 1, s->val[s->n_labels], VALUE_BYTES);
            s->n_labels++;
            if (*p == ',')
                p++;
        }
        p++;
    }
    ck_assert_msg(*p == ' ', "%s", line);
    char *end;
    s->value = strtod(p + 1, &end);
    ck_assert_msg(*end == '\0' && end != p + 1, "value of %s", line);
    /* the sample belongs to the family opened last */
    ck_assert_uint_gt(e->n_fam, 0);
    struct family *f = &e->fam[e->n_fam - 1];
    ck_assert_msg(f->help && f->type[0], "%s before its HELP/TYPE", line);
    if (strcmp(f->type, "histogram") == 0) {
        size_t fl = strlen(f->name);
        ck_assert_msg(strncmp(s->name, f->name, fl) == 0 && (strcmp(s->name + fl, "_bucket") == 0 ||
                                                             strcmp(s->name + fl, "_sum") == 0 ||
                                                             strcmp(s->name + fl, "_count") == 0),
                      "%s outside family %s", line, f->name);
    } else {
        ck_assert_msg(strcmp(s->name, f->name) == 0, "%s outside family %s", line, f->name);
    }
}

static void parse(struct exposition *e, const char *text)
{
    memset(e, 0, sizeof *e);
    e->s = calloc(MAX_SAMPLES, sizeof *e->s);
    ck_assert_ptr_nonnull(e->s);
    ck_assert(text[0] != '\0' && text[strlen(text) - 1] == '\n');
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            comment_line(e, line);
        else
            sample_line(e, line);
    }
    free(copy);
}

static void render_parse(struct exposition *e, const struct metrics *m)
{
    char *text;
    size_t len;
    ck_assert_int_eq(prometheus_render(m, &text, &len), 0);
    ck_assert_uint_eq(strlen(text), len);
    parse(e, text);
    free(text);
}

/* The value of the one sample called name whose labels are exactly the NULL-terminated
 * key/value pairs given; NAN when there is none (two matches fail the test). */
static double value_of(const struct exposition *e, const char *name, ...)
{
    const char *kv[2 * MAX_LABELS];
    size_t n = 0;
    va_list ap;
    va_start(ap, name);
    for (const char *k; (k = va_arg(ap, const char *)) != NULL && n < 2 * MAX_LABELS;) {
        kv[n++] = k;
        kv[n++] = va_arg(ap, const char *);
    }
    va_end(ap);
    double found = NAN;
    int matches = 0;
    for (size_t i = 0; i < e->n; i++) {
        const struct sample *s = &e->s[i];
        if (strcmp(s->name, name) != 0 || s->n_labels != n / 2)
            continue;
        bool all = true;
        for (size_t j = 0; j < n && all; j += 2) {
            bool one = false;
            for (size_t k = 0; k < s->n_labels && !one; k++)
                one = strcmp(s->key[k], kv[j]) == 0 && strcmp(s->val[k], kv[j + 1]) == 0;
            all = one;
        }
        if (all) {
            found = s->value;
            matches++;
        }
    }
    ck_assert_msg(matches <= 1, "%s matched %d samples", name, matches);
    return found;
}

/* le text as the exposition writes it. */
static void le_text(char *buf, size_t n, uint64_t le_us)
{
    snprintf(buf, n, "%.10g", (double)le_us / 1e6);
}

/* Every bucket series of a histogram family for this series' labels: monotonic, +Inf = _count
 * = want_count. */
static void check_histogram(const struct exposition *e, const char *family,
                            const struct metrics_series *s, uint64_t want_count)
{
    char name[NAME_BYTES], le[32];
    double prev = 0;
    snprintf(name, sizeof name, "%s_bucket", family);
    for (size_t i = 0; i < prometheus_bucket_count(); i++) {
        le_text(le, sizeof le, prometheus_bucket_le_us(i));
        double v = value_of(e, name, "scenario", s->scenario, "actor", s->actor, "endpoint",
                            s->endpoint, "le", le, NULL);
        ck_assert_msg(!isnan(v), "%s le=%s missing", name, le);
        ck_assert_msg(v >= prev, "%s le=%s: %g < %g", name, le, v, prev);
        prev = v;
    }
    double inf = value_of(e, name, "scenario", s->scenario, "actor", s->actor, "endpoint",
                          s->endpoint, "le", "+Inf", NULL);
    snprintf(name, sizeof name, "%s_count", family);
    double count = value_of(e, name, "scenario", s->scenario, "actor", s->actor, "endpoint",
                            s->endpoint, NULL);
    ck_assert(inf >= prev);
    ck_assert_double_eq(inf, count);
    ck_assert_double_eq(count, (double)want_count);
}

START_TEST(buckets_match_brute_force)
{
    static const uint64_t values_us[] = {
        50, 300, 800, 1000, 1500, 3000, 40000, 2000000, 7200000000ULL /* above 1 h: only +Inf */};
    const size_t n = sizeof values_us / sizeof values_us[0];
    struct metrics *m = metrics_new(false);
    struct metrics_series *s = metrics_series(m, "default", "agent", "heartbeat");
    double sum_us = 0;
    for (size_t i = 0; i < n; i++) {
        fx_answered(s, values_us[i], 0, i == 2 ? 500 : 200, i == 2);
        sum_us += (double)(values_us[i] > 3600000000ULL ? 3600000000ULL : values_us[i]);
    }
    struct exposition e;
    render_parse(&e, m);
    char le[32];
    for (size_t i = 0; i < prometheus_bucket_count(); i++) {
        uint64_t bound = prometheus_bucket_le_us(i), want = 0;
        for (size_t k = 0; k < n; k++)
            want += values_us[k] <= bound;
        le_text(le, sizeof le, bound);
        ck_assert_msg(value_of(&e, "fleetsim_http_req_duration_seconds_bucket", "scenario",
                               "default", "actor", "agent", "endpoint", "heartbeat", "le", le,
                               NULL) == (double)want,
                      "le %s", le);
        ck_assert_uint_eq(prometheus_cumulative_le(&s->duration, bound), want);
    }
    ck_assert_str_eq(le, "3600"); /* the last finite bound is the histogram's top */
    check_histogram(&e, "fleetsim_http_req_duration_seconds", s, n);
    double sum = value_of(&e, "fleetsim_http_req_duration_seconds_sum", "scenario", "default",
                          "actor", "agent", "endpoint", "heartbeat", NULL);
    ck_assert_msg(fabs(sum - sum_us / 1e6) <= 1e-3 * sum_us / 1e6, "sum %g vs %g", sum,
                  sum_us / 1e6);
    ck_assert_double_eq(value_of(&e, "fleetsim_http_responses_total", "scenario", "default",
                                 "actor", "agent", "endpoint", "heartbeat", "status", "500", NULL),
                        1);
    ck_assert_double_eq(value_of(&e, "fleetsim_http_req_5xx_hits_total", "scenario", "default",
                                 "actor", "agent", "endpoint", "heartbeat", NULL),
                        1);
    ck_assert_double_eq(value_of(&e, "fleetsim_http_req_5xx_samples_total", "scenario", "default",
                                 "actor", "agent", "endpoint", "heartbeat", NULL),
                        (double)n);
    free(e.s);
    metrics_free(m);
}
END_TEST

static void check_series(const struct exposition *e, const struct metrics_series *s)
{
    const struct metrics_outcomes *o = &s->total;
#define V(name, ...)                                                                       \
    value_of(e, name, "scenario", s->scenario, "actor", s->actor, "endpoint", s->endpoint, \
             ##__VA_ARGS__, NULL)
    check_histogram(e, "fleetsim_http_req_duration_seconds", s, hist_count(&s->duration));
    check_histogram(e, "fleetsim_http_req_service_seconds", s, hist_count(&s->service));
    check_histogram(e, "fleetsim_http_req_lag_seconds", s, hist_count(&s->lag));
    ck_assert_double_eq(V("fleetsim_http_reqs_total"), (double)metrics_outcomes_completed(o));
    ck_assert_double_eq(V("fleetsim_scheduled_requests_total"), (double)o->scheduled);
    ck_assert_double_eq(V("fleetsim_http_responses_total", "status", "200"),
                        (double)o->status[100]);
    ck_assert_double_eq(V("fleetsim_http_responses_total", "status", "429"),
                        (double)o->status[329]);
    ck_assert_double_eq(V("fleetsim_http_429_total"), (double)o->status[329]);
    ck_assert_double_eq(V("fleetsim_transport_errors_total", "kind", "connect"),
                        (double)o->transport_errors[METRICS_ERR_CONNECT]);
    ck_assert_double_eq(V("fleetsim_transport_errors_total", "kind", "tls"), 0);
    ck_assert_double_eq(V("fleetsim_timed_out_requests_total"), (double)o->timed_out);
    ck_assert_double_eq(V("fleetsim_dropped_requests_total"), (double)o->dropped);
    ck_assert_double_eq(V("fleetsim_http_req_failed_hits_total"), (double)o->failed);
    ck_assert_double_eq(V("fleetsim_http_req_failed_samples_total"),
                        (double)metrics_outcomes_completed(o));
    ck_assert_double_eq(V("fleetsim_in_flight_requests"),
                        (double)(o->scheduled - metrics_outcomes_completed(o) - o->dropped));
    ck_assert(o->failed > 0 && o->timed_out > 0 && o->dropped > 0 && o->status[329] > 0);
#undef V
}

START_TEST(registry_round_trip)
{
    struct metrics *m = fx_registry(5000, -1, 1, 60);
    struct exposition e;
    render_parse(&e, m);
    for (size_t i = 0; i < metrics_series_count(m); i++)
        check_series(&e, metrics_series_at(m, i));
    /* the odd scenario name came back through the escaping unchanged */
    ck_assert(!isnan(value_of(&e, "fleetsim_http_reqs_total", "scenario", FX_ODD_SCENARIO, "actor",
                              "operator", "endpoint", "bulk_renew", NULL)));
    /* actor metrics */
    const struct metrics_tagged *t = metrics_tagged_find(m, "acme_problems", "acme-burst", "acme",
                                                         "acme_nonce", "problem", "badNonce");
    ck_assert_ptr_nonnull(t);
    ck_assert_double_eq(value_of(&e, "fleetsim_acme_problems_total", "scenario", "acme-burst",
                                 "actor", "acme", "endpoint", "acme_nonce", "problem", "badNonce",
                                 NULL),
                        (double)t->value);
    t = metrics_tagged_find(m, "acme_rate_limit_shape_ok", "acme-burst", "acme", "acme_directory",
                            NULL, NULL);
    ck_assert_double_eq(value_of(&e, "fleetsim_acme_rate_limit_shape_ok_hits_total", "scenario",
                                 "acme-burst", "actor", "acme", "endpoint", "acme_directory", NULL),
                        (double)t->value);
    ck_assert_double_eq(value_of(&e, "fleetsim_acme_rate_limit_shape_ok_samples_total", "scenario",
                                 "acme-burst", "actor", "acme", "endpoint", "acme_directory", NULL),
                        (double)t->total);
    t = metrics_tagged_find(m, "campaign_duration", "bulk-renewal", "operator", NULL, NULL, NULL);
    ck_assert_double_eq(value_of(&e, "fleetsim_campaign_duration_seconds_count", "scenario",
                                 "bulk-renewal", "actor", "operator", NULL),
                        (double)hist_count(t->trend));
    ck_assert(!isnan(value_of(&e, "fleetsim_acme_orders_completed_total", "scenario", "fleet",
                              "actor", "acme", NULL)));
    ck_assert_double_eq(value_of(&e, "fleetsim_elapsed_seconds", NULL), 60);
    /* every family has both HELP and TYPE */
    for (size_t i = 0; i < e.n_fam; i++)
        ck_assert_msg(e.fam[i].help && e.fam[i].type[0], "%s", e.fam[i].name);
    ck_assert_uint_ge(e.n_fam, 22);
    free(e.s);
    metrics_free(m);
}
END_TEST

START_TEST(names_and_escaping)
{
    char buf[64], *text = NULL;
    size_t len;
    ck_assert_str_eq(prometheus_sanitize_name(buf, sizeof buf, "acme-problems.x"),
                     "acme_problems_x");
    ck_assert_str_eq(prometheus_sanitize_name(buf, sizeof buf, "9lives"), "_9lives");
    ck_assert_str_eq(prometheus_sanitize_name(buf, sizeof buf, ""), "_");
    ck_assert_str_eq(prometheus_sanitize_name(buf, 4, "abcdef"), "abc");
    FILE *f = open_memstream(&text, &len);
    prometheus_escape_label_value(f, "a\"b\\c\nd");
    fclose(f);
    ck_assert_str_eq(text, "a\\\"b\\\\c\\nd");
    free(text);
    /* a tagged metric cannot take a request-series family, an extra tag cannot be `le` */
    struct metrics *m = metrics_new(false);
    ck_assert_int_eq(metrics_counter_add(m, "http_reqs", "s", NULL, NULL, NULL, NULL, 5), 0);
    ck_assert_int_eq(metrics_counter_add(m, "weird-name", "s", NULL, NULL, "le", "x", 2), 0);
    ck_assert_int_eq(metrics_counter_add(m, "weird-name", "s", NULL, NULL, "le", "y", 3), 0);
    ck_assert_int_eq(metrics_counter_add(m, "retries_total", "s", NULL, NULL, NULL, NULL, 4), 0);
    struct exposition e;
    render_parse(&e, m); /* the parser asserts one family per name */
    ck_assert_double_eq(value_of(&e, "fleetsim_tagged_http_reqs_total", "scenario", "s", NULL), 5);
    ck_assert_double_eq(
        value_of(&e, "fleetsim_weird_name_total", "scenario", "s", "tag_le", "y", NULL), 3);
    ck_assert_double_eq(value_of(&e, "fleetsim_retries_total", "scenario", "s", NULL), 4);
    free(e.s);
    metrics_free(m);
    /* an empty registry is a valid exposition too */
    m = metrics_new(false);
    render_parse(&e, m);
    ck_assert_uint_eq(e.n, 1); /* only fleetsim_elapsed_seconds */
    ck_assert_double_eq(value_of(&e, "fleetsim_elapsed_seconds", NULL), 0);
    free(e.s);
    metrics_free(m);
}
END_TEST

/* ---- the HTTP endpoint ---- */

struct http_reply {
    int status;
    char content_type[128];
    char *body;
};

static void *loop_thread(void *arg)
{
    event_base_dispatch(arg);
    return NULL;
}

/* A blocking HTTP/1.1 request to 127.0.0.1:port (5 s timeouts). */
static void http_do(uint16_t port, const char *method, const char *path, struct http_reply *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {5, 0};
    char req[256];
    static char buf[1 << 20];
    size_t len = 0;
    ssize_t got;
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n",
             method, path, strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = '\0';
    ck_assert_msg(sscanf(buf, "HTTP/1.1 %d", &r->status) == 1, "reply: %.200s", buf);
    char *ct = strcasestr(buf, "\r\nContent-Type: ");
    r->content_type[0] = '\0';
    if (ct)
        snprintf(r->content_type, sizeof r->content_type, "%.*s", (int)strcspn(ct + 16, "\r"),
                 ct + 16);
    char *body = strstr(buf, "\r\n\r\n");
    r->body = body ? body + 4 : buf + len;
}

START_TEST(http_endpoint)
{
    char err[256], *want;
    size_t want_len;
    struct parsed_listen addr;
    struct http_reply r;
    pthread_t th;
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    struct event_base *base = event_base_new();
    ck_assert_int_eq(parse_listen_addr("127.0.0.1:0", &addr, err, sizeof err), 0);
    struct metrics_http *srv = metrics_http_start(base, &addr, err, sizeof err);
    ck_assert_msg(srv != NULL, "%s", err);
    uint16_t port = metrics_http_port(srv);
    ck_assert_uint_gt(port, 0);
    /* the same port again: refused with a reason */
    addr.port = port;
    ((struct sockaddr_in *)&addr.addr)->sin_port = htons(port);
    ck_assert_ptr_null(metrics_http_start(base, &addr, err, sizeof err));
    ck_assert_msg(strstr(err, "cannot listen on 127.0.0.1:") != NULL, "%s", err);
    ck_assert_int_eq(pthread_create(&th, NULL, loop_thread, base), 0);

    /* before any publish: the empty registry */
    http_do(port, "GET", "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, PROMETHEUS_CONTENT_TYPE);
    ck_assert(strstr(r.body, "fleetsim_elapsed_seconds 0.000\n") != NULL);
    /* published from this thread while the loop serves in the other */
    struct metrics *m = fx_registry(3000, -1, 1, 30);
    ck_assert_int_eq(metrics_http_publish(srv, m), 0);
    ck_assert_int_eq(prometheus_render(m, &want, &want_len), 0);
    http_do(port, "GET", "/metrics", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(strlen(r.body), want_len);
    ck_assert(strcmp(r.body, want) == 0);
    struct exposition e;
    parse(&e, r.body);
    check_series(&e, metrics_series_at(m, 0));
    free(e.s);
    free(want);
    http_do(port, "GET", "/other", &r);
    ck_assert_int_eq(r.status, 404);
    http_do(port, "POST", "/metrics", &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert_uint_eq(metrics_http_scrapes(srv), 2);

    event_base_loopexit(base, NULL);
    pthread_join(th, NULL);
    metrics_http_free(srv);
    event_base_free(base);
    metrics_free(m);
}
END_TEST

static Suite *prometheus_suite(void)
{
    Suite *s = suite_create("prometheus");
    TCase *tc = testenv_tcase(s, "exposition", 30);
    tcase_add_test(tc, buckets_match_brute_force);
    tcase_add_test(tc, registry_round_trip);
    tcase_add_test(tc, names_and_escaping);
    TCase *http = testenv_tcase(s, "http", 30);
    tcase_add_test(http, http_endpoint);
    return s;
}

int main(void)
{
    sim_names_register(NULL);
    return testenv_run(prometheus_suite());
}
