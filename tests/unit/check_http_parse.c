/* tests/unit/check_http_parse.c - the incremental HTTP/1.1 response parser: every case is fed
 * in one piece and byte by byte and must give the same result, status, body and headers;
 * malformed and oversized input must give the specific error, never a crash or a hang. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/http_parse.h"
#include "tests/lib/testenv.h"

struct pcase {
    const char *name;
    const char *text;
    size_t max_body;
    bool head;
    bool eof;         /* call http_parser_eof after feeding everything */
    int rc;           /* expected final result */
    int status;       /* expected status (checked when > 0) */
    const char *body; /* expected body (checked when rc is DONE) */
    bool keep_alive;  /* expected when rc is DONE */
};

#define CAP 1000

static const struct pcase cases[] = {
    {"content-length",
     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
     "Replay-Nonce: abc-123\r\n\r\nhello",
     CAP, false, false, HTTP_PARSE_DONE, 200, "hello", true},
    {"zero length", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", CAP, false, false,
     HTTP_PARSE_DONE, 201, "", true},
    {"no reason phrase", "HTTP/1.1 404\r\nContent-Length: 2\r\n\r\nno", CAP, false, false,
     HTTP_PARSE_DONE, 404, "no", true},
    {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", CAP, false, false, HTTP_PARSE_DONE,
     200, "abc", true},
    {"chunked with extensions and trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5;name=value\r\nhello\r\n6 ; x\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n"
     "Another: u\r\n\r\n",
     CAP, false, false, HTTP_PARSE_DONE, 200, "hello world0123456789", true},
    {"chunked, no trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n"
     "0\r\n\r\n",
     CAP, false, false, HTTP_PARSE_DONE, 200, "abc", true},
    {"close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", CAP,
     false, true, HTTP_PARSE_DONE, 200, "until close", false},
    {"non-chunked transfer coding reads to close",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
     "\r\nzz",
     CAP, false, true, HTTP_PARSE_DONE, 200, "zz", false},
    {"connection close", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\nx", CAP,
     false, false, HTTP_PARSE_DONE, 200, "x", false},
    {"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", CAP, false, false,
     HTTP_PARSE_DONE, 200, "x", false},
    {"http/1.0 keep-alive",
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", CAP, false, false,
     HTTP_PARSE_DONE, 200, "x", true},
    {"HEAD has no body", "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", CAP, true, false,
     HTTP_PARSE_DONE, 200, "", true},
    {"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", CAP, false, false,
     HTTP_PARSE_DONE, 204, "", true},
    {"304 has no body", "HTTP/1.1 304 Not Modified\r\n\r\n", CAP, false, false, HTTP_PARSE_DONE,
     304, "", true},
    {"100 continue first",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
     "\r\nok",
     CAP, false, false, HTTP_PARSE_DONE, 200, "ok", true},
    {"duplicate equal content-length",
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
     "Content-Length: 2\r\n\r\nok",
     CAP, false, false, HTTP_PARSE_DONE, 200, "ok", true},
    {"body exactly at the cap", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", 4, false, false,
     HTTP_PARSE_DONE, 200, "abcd", true},
    /* malformed */
    {"garbage", "\x16\x03\x01\x02\x00 binary junk\r\n\r\n", CAP, false, false,
     HTTP_PARSE_ERR_STATUS_LINE, 0, NULL, false},
    {"lowercase protocol", "http/1.1 200 OK\r\n\r\n", CAP, false, false, HTTP_PARSE_ERR_STATUS_LINE,
     0, NULL, false},
    {"bad status code", "HTTP/1.1 2x0 OK\r\n\r\n", CAP, false, false, HTTP_PARSE_ERR_STATUS_LINE, 0,
     NULL, false},
    {"status below 100", "HTTP/1.1 099 Odd\r\n\r\n", CAP, false, false, HTTP_PARSE_ERR_STATUS_LINE,
     0, NULL, false},
    {"HTTP/2 status line", "HTTP/2 200\r\n\r\n", CAP, false, false, HTTP_PARSE_ERR_STATUS_LINE, 0,
     NULL, false},
    {"no space after code", "HTTP/1.1 200OK\r\n\r\n", CAP, false, false, HTTP_PARSE_ERR_STATUS_LINE,
     0, NULL, false},
    {"header without colon", "HTTP/1.1 200 OK\r\nBadHeader\r\n\r\n", CAP, false, false,
     HTTP_PARSE_ERR_HEADER_LINE, 200, NULL, false},
    {"space in header name", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", CAP, false, false,
     HTTP_PARSE_ERR_HEADER_LINE, 200, NULL, false},
    {"obsolete folding", "HTTP/1.1 200 OK\r\nA: b\r\n  c\r\n\r\n", CAP, false, false,
     HTTP_PARSE_ERR_HEADER_LINE, 200, NULL, false},
    {"control char in value", "HTTP/1.1 200 OK\r\nA: b\x01 c\r\n\r\n", CAP, false, false,
     HTTP_PARSE_ERR_HEADER_LINE, 200, NULL, false},
    {"non-numeric content-length", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", CAP, false,
     false, HTTP_PARSE_ERR_CONTENT_LENGTH, 200, NULL, false},
    {"overflowing content-length",
     "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n"
     "\r\n",
     CAP, false, false, HTTP_PARSE_ERR_CONTENT_LENGTH, 200, NULL, false},
    {"conflicting content-length",
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
     "\r\nabc",
     CAP, false, false, HTTP_PARSE_ERR_CONTENT_LENGTH, 200, NULL, false},
    {"non-hex chunk size",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n"
     "\r\n",
     CAP, false, false, HTTP_PARSE_ERR_CHUNK_SIZE, 200, NULL, false},
    {"empty chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", CAP, false,
     false, HTTP_PARSE_ERR_CHUNK_SIZE, 200, NULL, false},
    {"chunk size overflow",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "10000000000000000\r\n",
     CAP, false, false, HTTP_PARSE_ERR_CHUNK_SIZE, 200, NULL, false},
    {"chunk size CR without LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\rabc", CAP,
     false, false, HTTP_PARSE_ERR_CHUNK_SIZE, 200, NULL, false},
    {"chunk data without CRLF",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX"
     "\r\n0\r\n\r\n",
     CAP, false, false, HTTP_PARSE_ERR_CHUNK_DATA, 200, NULL, false},
    {"content-length over the cap", "HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n", CAP, false,
     false, HTTP_PARSE_ERR_BODY_TOO_LARGE, 200, NULL, false},
    {"chunks over the cap",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
     "3\r\ndef\r\n0\r\n\r\n",
     5, false, false, HTTP_PARSE_ERR_BODY_TOO_LARGE, 200, NULL, false},
    {"close-delimited over the cap", "HTTP/1.1 200 OK\r\n\r\n0123456789", 9, false, false,
     HTTP_PARSE_ERR_BODY_TOO_LARGE, 200, NULL, false},
    {"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", CAP, false, true,
     HTTP_PARSE_ERR_TRUNCATED, 200, NULL, false},
    {"truncated headers", "HTTP/1.1 200 OK\r\nContent-Len", CAP, false, true,
     HTTP_PARSE_ERR_TRUNCATED, 200, NULL, false},
    {"truncated chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", CAP,
     false, true, HTTP_PARSE_ERR_TRUNCATED, 200, NULL, false},
    {"nothing at all", "", CAP, false, true, HTTP_PARSE_ERR_EMPTY, 0, NULL, false},
    {"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", CAP, false,
     false, HTTP_PARSE_ERR_UNSUPPORTED, 101, NULL, false},
};
#define NCASES (int)(sizeof(cases) / sizeof(cases[0]))

/* Feeds text in pieces of `step` bytes (0 = one piece), stopping at DONE or an error. */
static int feed(struct http_parser *p, const char *text, size_t len, size_t step, bool eof,
                size_t *total_consumed)
{
    int rc = HTTP_PARSE_MORE;
    size_t off = 0;
    *total_consumed = 0;
    while (off < len) {
        size_t n = step ? (len - off < step ? len - off : step) : len - off;
        size_t used = 0;
        rc = http_parser_feed(p, text + off, n, &used);
        ck_assert_uint_le(used, n);
        *total_consumed += used;
        if (rc != HTTP_PARSE_MORE)
            return rc;
        ck_assert_uint_eq(used, n);
        off += n;
    }
    if (eof)
        rc = http_parser_eof(p);
    return rc;
}

static void run_case(const struct pcase *c, size_t step)
{
    struct http_parser p;
    size_t used;
    http_parser_begin(&p, c->max_body, c->head);
    int rc = feed(&p, c->text, strlen(c->text), step, c->eof, &used);
    ck_assert_msg(rc == c->rc, "%s (step %zu): got %d (%s), want %d (%s)", c->name, step, rc,
                  http_parse_rc_str(rc), c->rc, http_parse_rc_str(c->rc));
    if (c->status > 0)
        ck_assert_int_eq(p.status, c->status);
    if (rc == HTTP_PARSE_DONE) {
        size_t blen;
        const char *body = http_parser_body(&p, &blen);
        ck_assert_uint_eq(blen, strlen(c->body));
        ck_assert_str_eq(body, c->body);
        ck_assert_int_eq(http_parser_keep_alive(&p), c->keep_alive);
    }
    /* results are sticky: feeding more changes nothing */
    size_t more = 99;
    ck_assert_int_eq(http_parser_feed(&p, "HTTP/1.1 200 OK\r\n", 17, &more), rc);
    ck_assert_uint_eq(more, 0);
    http_parser_release(&p);
}

START_TEST(test_table_one_piece)
{
    run_case(&cases[_i], 0);
}
END_TEST

START_TEST(test_table_byte_by_byte)
{
    run_case(&cases[_i], 1);
}
END_TEST

START_TEST(test_table_odd_pieces)
{
    run_case(&cases[_i], 7);
}
END_TEST

START_TEST(test_headers_lookup)
{
    const char *t = "HTTP/1.1 201 Created\r\nReplay-Nonce:   nonce-value-1  \r\n"
                    "location: https://x.test/acme/order/1\r\nContent-Type: application/json\r\n"
                    "Retry-After: 120\r\nX-Empty:\r\nContent-Length: 2\r\n\r\n{}";
    for (size_t step = 0; step <= 1; step++) {
        struct http_parser p;
        size_t used;
        http_parser_begin(&p, CAP, false);
        ck_assert_ptr_null(http_parser_header(&p, "Location"));
        ck_assert_int_eq(feed(&p, t, strlen(t), step, false, &used), HTTP_PARSE_DONE);
        ck_assert_str_eq(http_parser_header(&p, "replay-nonce"), "nonce-value-1");
        ck_assert_str_eq(http_parser_header(&p, "REPLAY-NONCE"), "nonce-value-1");
        ck_assert_str_eq(http_parser_header(&p, "Location"), "https://x.test/acme/order/1");
        ck_assert_str_eq(http_parser_header(&p, "content-type"), "application/json");
        ck_assert_str_eq(http_parser_header(&p, "Retry-After"), "120");
        ck_assert_str_eq(http_parser_header(&p, "X-Empty"), "");
        ck_assert_ptr_null(http_parser_header(&p, "X-Missing"));
        ck_assert_ptr_null(http_parser_header(&p, "Replay"));
        http_parser_release(&p);
    }
}
END_TEST

START_TEST(test_extra_bytes_not_consumed)
{
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
    struct http_parser p;
    size_t used = 0;
    http_parser_begin(&p, CAP, false);
    ck_assert_int_eq(http_parser_feed(&p, t, strlen(t), &used), HTTP_PARSE_DONE);
    ck_assert_uint_eq(used, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    http_parser_release(&p);
}
END_TEST

START_TEST(test_garbage_detected_at_once)
{
    struct http_parser p;
    size_t used;
    http_parser_begin(&p, CAP, false);
    ck_assert_int_eq(http_parser_feed(&p, "HT", 2, &used), HTTP_PARSE_MORE);
    ck_assert_int_eq(http_parser_feed(&p, "X", 1, &used), HTTP_PARSE_ERR_STATUS_LINE);
    http_parser_release(&p);
}
END_TEST

static char *repeat_headers(size_t count, size_t value_len, size_t *len_out)
{
    size_t cap = 64 + count * (value_len + 32);
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "HTTP/1.1 200 OK\r\n");
    for (size_t i = 0; i < count; i++) {
        n += (size_t)snprintf(s + n, cap - n, "X-H%zu: ", i);
        memset(s + n, 'v', value_len);
        n += value_len;
        s[n++] = '\r';
        s[n++] = '\n';
    }
    n += (size_t)snprintf(s + n, cap - n, "Content-Length: 0\r\n\r\n");
    *len_out = n;
    return s;
}

START_TEST(test_header_section_over_64k)
{
    size_t len;
    char *s = repeat_headers(70, 1000, &len); /* ~70 KiB */
    for (size_t step = 0; step <= 1; step++) {
        struct http_parser p;
        size_t used;
        http_parser_begin(&p, CAP, false);
        ck_assert_int_eq(feed(&p, s, len, step, false, &used), HTTP_PARSE_ERR_HEADERS_TOO_LARGE);
        ck_assert_uint_le(p.head_cap, HTTP_PARSE_MAX_HEADER_BYTES);
        ck_assert_uint_le(used, HTTP_PARSE_MAX_HEADER_BYTES);
        http_parser_release(&p);
    }
    free(s);
    /* one line without an end, also bounded */
    char *line = malloc(70000);
    memcpy(line, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(line + 20, 'a', 70000 - 20);
    struct http_parser p;
    size_t used;
    http_parser_begin(&p, CAP, false);
    ck_assert_int_eq(feed(&p, line, 70000, 0, false, &used), HTTP_PARSE_ERR_HEADERS_TOO_LARGE);
    http_parser_release(&p);
    free(line);
}
END_TEST

START_TEST(test_too_many_headers)
{
    size_t len;
    char *ok = repeat_headers(HTTP_PARSE_MAX_HEADERS - 1, 4, &len); /* + Content-Length */
    struct http_parser p;
    size_t used;
    http_parser_begin(&p, CAP, false);
    ck_assert_int_eq(feed(&p, ok, len, 0, false, &used), HTTP_PARSE_DONE);
    ck_assert_str_eq(http_parser_header(&p, "X-H98"), "vvvv");
    http_parser_release(&p);
    free(ok);
    char *bad = repeat_headers(HTTP_PARSE_MAX_HEADERS, 4, &len);
    for (size_t step = 0; step <= 1; step++) {
        http_parser_begin(&p, CAP, false);
        ck_assert_int_eq(feed(&p, bad, len, step, false, &used), HTTP_PARSE_ERR_TOO_MANY_HEADERS);
        http_parser_release(&p);
    }
    free(bad);
}
END_TEST

START_TEST(test_chunk_line_too_long)
{
    char buf[3000];
    int n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;");
    memset(buf + n, 'e', 2000);
    struct http_parser p;
    size_t used;
    http_parser_begin(&p, CAP, false);
    ck_assert_int_eq(feed(&p, buf, (size_t)n + 2000, 0, false, &used), HTTP_PARSE_ERR_CHUNK_SIZE);
    http_parser_release(&p);
}
END_TEST

START_TEST(test_large_body_grows_within_cap)
{
    /* a close-delimited 300 KiB body in 4 KiB pieces: kept whole, capacity within cap + 1 */
    const size_t body_len = 300 * 1024, cap = 512 * 1024;
    struct http_parser p;
    size_t used;
    http_parser_begin(&p, cap, false);
    const char *h = "HTTP/1.1 200 OK\r\n\r\n";
    ck_assert_int_eq(http_parser_feed(&p, h, strlen(h), &used), HTTP_PARSE_MORE);
    char piece[4096];
    for (size_t off = 0; off < body_len; off += sizeof(piece)) {
        memset(piece, 'a' + (int)(off / sizeof(piece) % 26), sizeof(piece));
        size_t n = body_len - off < sizeof(piece) ? body_len - off : sizeof(piece);
        ck_assert_int_eq(http_parser_feed(&p, piece, n, &used), HTTP_PARSE_MORE);
    }
    ck_assert_int_eq(http_parser_eof(&p), HTTP_PARSE_DONE);
    size_t blen;
    const char *b = http_parser_body(&p, &blen);
    ck_assert_uint_eq(blen, body_len);
    ck_assert_int_eq(b[0], 'a');
    ck_assert_int_eq(b[4096], 'b');
    ck_assert_int_eq(b[blen], '\0');
    ck_assert_uint_le(p.body_cap, cap + 1);
    http_parser_release(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http_parse");
    TCase *t = testenv_tcase(s, "table", 0);
    tcase_add_loop_test(t, test_table_one_piece, 0, NCASES);
    tcase_add_loop_test(t, test_table_byte_by_byte, 0, NCASES);
    tcase_add_loop_test(t, test_table_odd_pieces, 0, NCASES);
    TCase *o = testenv_tcase(s, "other", 0);
    tcase_add_test(o, test_headers_lookup);
    tcase_add_test(o, test_extra_bytes_not_consumed);
    tcase_add_test(o, test_garbage_detected_at_once);
    tcase_add_test(o, test_header_section_over_64k);
    tcase_add_test(o, test_too_many_headers);
    tcase_add_test(o, test_chunk_line_too_long);
    tcase_add_test(o, test_large_body_grows_within_cap);
    return s;
}

int main(void)
{
    return testenv_run(suite());
}
