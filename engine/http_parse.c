/* engine/http_parse.c - incremental HTTP/1.1 response parser (see http_parse.h): a byte-driven
 * state machine that copies the header section and the body into bounded buffers and turns
 * every malformed or oversized input into a specific error code. */
#include "engine/http_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/parse.h"

enum {
    S_STATUS,        /* collecting the status line */
    S_HEADERS,       /* collecting header lines */
    S_BODY_LEN,      /* Content-Length body */
    S_BODY_EOF,      /* body delimited by close */
    S_CHUNK_SIZE,    /* hex digits of a chunk size */
    S_CHUNK_EXT,     /* chunk extensions up to LF */
    S_CHUNK_SIZE_LF, /* LF after CR of the size line */
    S_CHUNK_DATA,
    S_CHUNK_DATA_CR, /* CR (or LF) after chunk data */
    S_CHUNK_DATA_LF,
    S_TRAILER_START, /* start of a trailer line or the final empty line */
    S_TRAILER_LINE,
    S_TRAILER_END_LF,
    S_DONE,
    S_ERROR,
};

#define HEAD_INITIAL_CAP 512
#define HDRS_INITIAL_CAP 16
#define BODY_INITIAL_CAP 1024

void http_parser_begin(struct http_parser *p, size_t max_body_bytes, bool head_request)
{
    memset(p, 0, sizeof(*p));
    p->state = S_STATUS;
    p->max_body_bytes = max_body_bytes;
    p->head_request = head_request;
}

void http_parser_release(struct http_parser *p)
{
    free(p->head);
    free(p->hdrs);
    free(p->body);
    p->head = NULL;
    p->hdrs = NULL;
    p->body = NULL;
    p->head_len = p->head_cap = p->nhdrs = p->hdrs_cap = p->body_len = p->body_cap = 0;
}

static int fail(struct http_parser *p, int rc)
{
    p->state = S_ERROR;
    p->result = (int8_t)rc;
    return rc;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Appends n bytes to the header copy, enforcing the 64 KiB section limit. */
static int head_append(struct http_parser *p, const char *data, size_t n)
{
    if (p->head_len + n > HTTP_PARSE_MAX_HEADER_BYTES)
        return HTTP_PARSE_ERR_HEADERS_TOO_LARGE;
    if (p->head_len + n > p->head_cap) {
        size_t cap = p->head_cap ? p->head_cap : HEAD_INITIAL_CAP;
        while (cap < p->head_len + n)
            cap *= 2;
        if (cap > HTTP_PARSE_MAX_HEADER_BYTES)
            cap = HTTP_PARSE_MAX_HEADER_BYTES;
        char *h = realloc(p->head, cap);
        if (!h)
            return HTTP_PARSE_ERR_NOMEM;
        p->head = h;
        p->head_cap = cap;
    }
    memcpy(p->head + p->head_len, data, n);
    p->head_len += n;
    return 0;
}

/* Appends n body bytes, enforcing the body cap; keeps the body NUL-terminated. */
static int body_append(struct http_parser *p, const char *data, size_t n)
{
    if (n > p->max_body_bytes - p->body_len)
        return HTTP_PARSE_ERR_BODY_TOO_LARGE;
    if (p->body_len + n + 1 > p->body_cap) {
        size_t cap = p->body_cap ? p->body_cap : BODY_INITIAL_CAP;
        while (cap < p->body_len + n + 1)
            cap *= 2;
        if (cap > p->max_body_bytes + 1)
            cap = p->max_body_bytes + 1;
        char *b = realloc(p->body, cap);
        if (!b)
            return HTTP_PARSE_ERR_NOMEM;
        p->body = b;
        p->body_cap = cap;
    }
    memcpy(p->body + p->body_len, data, n);
    p->body_len += n;
    p->body[p->body_len] = '\0';
    return 0;
}

/* "HTTP/1.x NNN[ reason]" */
static int parse_status_line(struct http_parser *p, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
        return HTTP_PARSE_ERR_STATUS_LINE;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return HTTP_PARSE_ERR_STATUS_LINE;
    if (n > 12 && s[12] != ' ')
        return HTTP_PARSE_ERR_STATUS_LINE;
    int status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (status < 100)
        return HTTP_PARSE_ERR_STATUS_LINE;
    for (size_t i = 12; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return HTTP_PARSE_ERR_STATUS_LINE;
    }
    p->status = status;
    p->http10 = s[7] == '0';
    return 0;
}

/* Does the comma-separated list v (length n) contain token tok (case-insensitive)? */
static bool list_has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (ows(v[i]) || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && ows(v[end - 1]))
            end--;
        if (end - start == tl && strncasecmp(v + start, tok, tl) == 0)
            return true;
    }
    return false;
}

static int note_content_length(struct http_parser *p, const char *v, size_t n)
{
    uint64_t len = 0;
    if (n == 0 || n > 18) /* 18 digits cannot overflow */
        return HTTP_PARSE_ERR_CONTENT_LENGTH;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return HTTP_PARSE_ERR_CONTENT_LENGTH;
        len = len * 10 + (uint64_t)(v[i] - '0');
    }
    if (p->has_length && len != p->content_length)
        return HTTP_PARSE_ERR_CONTENT_LENGTH;
    p->has_length = true;
    p->content_length = len;
    return 0;
}

static void note_transfer_encoding(struct http_parser *p, const char *v, size_t n)
{
    size_t start = n;
    while (start > 0 && v[start - 1] != ',')
        start--;
    while (start < n && ows(v[start]))
        start++;
    p->te_present = true;
    p->chunked = n - start == 7 && strncasecmp(v + start, "chunked", 7) == 0;
}

/* One complete header line (without its line ending) starting at head offset off. */
static int parse_header_line(struct http_parser *p, size_t off, size_t n)
{
    char *s = p->head + off;
    size_t colon = 0;
    while (colon < n && is_tchar((unsigned char)s[colon]))
        colon++;
    if (colon == 0 || colon >= n || s[colon] != ':')
        return HTTP_PARSE_ERR_HEADER_LINE;
    size_t vs = colon + 1, ve = n;
    while (vs < ve && ows(s[vs]))
        vs++;
    while (ve > vs && ows(s[ve - 1]))
        ve--;
    for (size_t i = vs; i < ve; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return HTTP_PARSE_ERR_HEADER_LINE;
    }
    if (p->nhdrs >= HTTP_PARSE_MAX_HEADERS)
        return HTTP_PARSE_ERR_TOO_MANY_HEADERS;
    if (p->nhdrs == p->hdrs_cap) {
        size_t cap = p->hdrs_cap ? p->hdrs_cap * 2 : HDRS_INITIAL_CAP;
        if (cap > HTTP_PARSE_MAX_HEADERS)
            cap = HTTP_PARSE_MAX_HEADERS;
        struct http_header_ref *h = realloc(p->hdrs, cap * sizeof(*h));
        if (!h)
            return HTTP_PARSE_ERR_NOMEM;
        p->hdrs = h;
        p->hdrs_cap = cap;
    }
    p->hdrs[p->nhdrs++] = (struct http_header_ref){.name_off = (uint32_t)off,
                                                   .name_len = (uint16_t)colon,
                                                   .value_off = (uint32_t)(off + vs),
                                                   .value_len = (uint16_t)(ve - vs)};
    if (colon == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
        int rc = note_content_length(p, s + vs, ve - vs);
        if (rc)
            return rc;
    } else if (colon == 17 && strncasecmp(s, "Transfer-Encoding", 17) == 0) {
        note_transfer_encoding(p, s + vs, ve - vs);
    } else if (colon == 10 && strncasecmp(s, "Connection", 10) == 0) {
        if (list_has_token(s + vs, ve - vs, "close"))
            p->conn_close = true;
        if (list_has_token(s + vs, ve - vs, "keep-alive"))
            p->keep_alive_hdr = true;
    }
    s[colon] = '\0'; /* the line is complete: terminate name and value in place */
    s[ve] = '\0';
    return 0;
}

/* The blank line ended the header section: choose how the body is delimited. */
static int end_of_headers(struct http_parser *p)
{
    if (p->status == 101)
        return HTTP_PARSE_ERR_UNSUPPORTED;
    if (p->status < 200) { /* interim response: forget it, parse the next one */
        size_t max_body = p->max_body_bytes, total = p->total_bytes;
        bool head = p->head_request;
        p->head_len = p->nhdrs = p->line_start = 0;
        char *hd = p->head, *bd = p->body;
        struct http_header_ref *hr = p->hdrs;
        size_t hc = p->head_cap, hrc = p->hdrs_cap, bc = p->body_cap;
        http_parser_begin(p, max_body, head);
        p->head = hd, p->head_cap = hc, p->hdrs = hr, p->hdrs_cap = hrc;
        p->body = bd, p->body_cap = bc, p->total_bytes = total;
        return 0;
    }
    if (p->head_request || p->status == 204 || p->status == 304) {
        p->state = S_DONE;
    } else if (p->te_present) {
        if (p->has_length)
            p->conn_close = true; /* RFC 9112 6.3: TE wins, and the connection must close */
        if (p->chunked) {
            p->state = S_CHUNK_SIZE;
        } else {
            p->conn_close = true;
            p->state = S_BODY_EOF;
        }
    } else if (p->has_length) {
        if (p->content_length > p->max_body_bytes)
            return HTTP_PARSE_ERR_BODY_TOO_LARGE;
        if (p->content_length == 0) {
            p->state = S_DONE;
        } else {
            p->body = malloc((size_t)p->content_length + 1);
            if (!p->body)
                return HTTP_PARSE_ERR_NOMEM;
            p->body_cap = (size_t)p->content_length + 1;
            p->remaining = p->content_length;
            p->state = S_BODY_LEN;
        }
    } else {
        p->conn_close = true;
        p->state = S_BODY_EOF;
    }
    return 0;
}

/* S_STATUS / S_HEADERS: copy up to the next LF; process each complete line. */
static int feed_head(struct http_parser *p, const char *d, size_t n, size_t *used)
{
    const char *lf = memchr(d, '\n', n);
    size_t take = lf ? (size_t)(lf - d) + 1 : n;
    int rc = head_append(p, d, take);
    if (rc)
        return rc;
    *used = take;
    if (p->state == S_STATUS) { /* reject garbage as soon as it cannot be "HTTP/" */
        size_t k = p->head_len < 5 ? p->head_len : 5;
        if (memcmp(p->head, "HTTP/", k) != 0)
            return HTTP_PARSE_ERR_STATUS_LINE;
    }
    if (!lf)
        return 0;
    size_t off = p->line_start, len = p->head_len - 1 - off;
    if (len > 0 && p->head[off + len - 1] == '\r')
        len--;
    p->line_start = p->head_len;
    if (p->state == S_STATUS) {
        rc = parse_status_line(p, p->head + off, len);
        if (rc == 0)
            p->state = S_HEADERS;
        return rc;
    }
    if (len == 0)
        return end_of_headers(p);
    if (p->head[off] == ' ' || p->head[off] == '\t')
        return HTTP_PARSE_ERR_HEADER_LINE; /* obsolete line folding */
    return parse_header_line(p, off, len);
}

static int end_of_size_line(struct http_parser *p)
{
    if (p->ndigits == 0)
        return HTTP_PARSE_ERR_CHUNK_SIZE;
    p->ndigits = 0;
    p->aux_len = 0;
    if (p->remaining == 0) {
        p->state = S_TRAILER_START;
        return 0;
    }
    if (p->remaining > p->max_body_bytes - p->body_len)
        return HTTP_PARSE_ERR_BODY_TOO_LARGE;
    p->state = S_CHUNK_DATA;
    return 0;
}

/* One byte of chunk framing (size lines, CRLF after data, trailers). */
static int feed_chunk_byte(struct http_parser *p, unsigned char c)
{
    switch (p->state) {
    case S_CHUNK_SIZE: {
        if (++p->aux_len > HTTP_PARSE_MAX_CHUNK_LINE)
            return HTTP_PARSE_ERR_CHUNK_SIZE;
        int v = parse_hex_digit(c);
        if (v >= 0) {
            if (p->ndigits >= 16)
                return HTTP_PARSE_ERR_CHUNK_SIZE;
            if (p->ndigits == 0)
                p->remaining = 0;
            p->remaining = p->remaining * 16 + (uint64_t)v;
            p->ndigits++;
            return 0;
        }
        if (p->ndigits == 0)
            return HTTP_PARSE_ERR_CHUNK_SIZE;
        if (c == ';' || c == ' ' || c == '\t')
            p->state = S_CHUNK_EXT;
        else if (c == '\r')
            p->state = S_CHUNK_SIZE_LF;
        else if (c == '\n')
            return end_of_size_line(p);
        else
            return HTTP_PARSE_ERR_CHUNK_SIZE;
        return 0;
    }
    case S_CHUNK_EXT:
        if (++p->aux_len > HTTP_PARSE_MAX_CHUNK_LINE)
            return HTTP_PARSE_ERR_CHUNK_SIZE;
        return c == '\n' ? end_of_size_line(p) : 0;
    case S_CHUNK_SIZE_LF:
        return c == '\n' ? end_of_size_line(p) : HTTP_PARSE_ERR_CHUNK_SIZE;
    case S_CHUNK_DATA_CR:
        if (c == '\r')
            p->state = S_CHUNK_DATA_LF;
        else if (c == '\n')
            p->state = S_CHUNK_SIZE;
        else
            return HTTP_PARSE_ERR_CHUNK_DATA;
        return 0;
    case S_CHUNK_DATA_LF:
        if (c != '\n')
            return HTTP_PARSE_ERR_CHUNK_DATA;
        p->state = S_CHUNK_SIZE;
        return 0;
    default:
        break;
    }
    /* trailer section: counted against the header limit, not stored */
    if (++p->aux_len > HTTP_PARSE_MAX_HEADER_BYTES)
        return HTTP_PARSE_ERR_HEADERS_TOO_LARGE;
    if (p->state == S_TRAILER_START)
        p->state = c == '\r' ? S_TRAILER_END_LF : c == '\n' ? S_DONE : S_TRAILER_LINE;
    else if (p->state == S_TRAILER_LINE)
        p->state = c == '\n' ? S_TRAILER_START : S_TRAILER_LINE;
    else if (c == '\n')
        p->state = S_DONE;
    else
        return HTTP_PARSE_ERR_HEADER_LINE;
    return 0;
}

/* Body bytes (Content-Length, chunk data or close-delimited). */
static int feed_body(struct http_parser *p, const char *d, size_t n, size_t *used)
{
    size_t take = n;
    if (p->state != S_BODY_EOF && take > p->remaining)
        take = (size_t)p->remaining;
    int rc = body_append(p, d, take);
    if (rc)
        return rc;
    *used = take;
    if (p->state == S_BODY_EOF)
        return 0;
    p->remaining -= take;
    if (p->remaining == 0)
        p->state = p->state == S_BODY_LEN ? S_DONE : S_CHUNK_DATA_CR;
    return 0;
}

int http_parser_feed(struct http_parser *p, const char *data, size_t len, size_t *consumed)
{
    size_t i = 0;
    *consumed = 0;
    while (i < len && p->state != S_DONE && p->state != S_ERROR) {
        size_t used = 1;
        int rc;
        switch (p->state) {
        case S_STATUS:
        case S_HEADERS:
            rc = feed_head(p, data + i, len - i, &used);
            break;
        case S_BODY_LEN:
        case S_BODY_EOF:
        case S_CHUNK_DATA:
            rc = feed_body(p, data + i, len - i, &used);
            break;
        default:
            rc = feed_chunk_byte(p, (unsigned char)data[i]);
            break;
        }
        if (rc < 0) {
            p->total_bytes += i;
            *consumed = i;
            return fail(p, rc);
        }
        i += used;
    }
    p->total_bytes += i;
    *consumed = i;
    if (p->state == S_DONE)
        return HTTP_PARSE_DONE;
    return p->state == S_ERROR ? p->result : HTTP_PARSE_MORE;
}

int http_parser_eof(struct http_parser *p)
{
    switch (p->state) {
    case S_DONE:
        return HTTP_PARSE_DONE;
    case S_ERROR:
        return p->result;
    case S_BODY_EOF:
        p->state = S_DONE;
        return HTTP_PARSE_DONE;
    default:
        return fail(p, p->total_bytes == 0 ? HTTP_PARSE_ERR_EMPTY : HTTP_PARSE_ERR_TRUNCATED);
    }
}

const char *http_parser_header(const struct http_parser *p, const char *name)
{
    if (p->state == S_STATUS || p->state == S_HEADERS || !p->head)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < p->nhdrs; i++) {
        const struct http_header_ref *h = &p->hdrs[i];
        if (h->name_len == n && strncasecmp(p->head + h->name_off, name, n) == 0)
            return p->head + h->value_off;
    }
    return NULL;
}

bool http_parser_keep_alive(const struct http_parser *p)
{
    if (p->state != S_DONE || p->conn_close)
        return false;
    return !p->http10 || p->keep_alive_hdr;
}

const char *http_parser_body(const struct http_parser *p, size_t *len)
{
    *len = p->body ? p->body_len : 0;
    return p->body ? p->body : "";
}

const char *http_parse_rc_str(int rc)
{
    switch (rc) {
    case HTTP_PARSE_MORE:
        return "incomplete";
    case HTTP_PARSE_DONE:
        return "complete";
    case HTTP_PARSE_ERR_STATUS_LINE:
        return "bad status line";
    case HTTP_PARSE_ERR_HEADER_LINE:
        return "bad header line";
    case HTTP_PARSE_ERR_HEADERS_TOO_LARGE:
        return "header section over 64 KiB";
    case HTTP_PARSE_ERR_TOO_MANY_HEADERS:
        return "too many headers";
    case HTTP_PARSE_ERR_CONTENT_LENGTH:
        return "bad Content-Length";
    case HTTP_PARSE_ERR_CHUNK_SIZE:
        return "bad chunk size";
    case HTTP_PARSE_ERR_CHUNK_DATA:
        return "bad chunk framing";
    case HTTP_PARSE_ERR_BODY_TOO_LARGE:
        return "body over the cap";
    case HTTP_PARSE_ERR_TRUNCATED:
        return "truncated response";
    case HTTP_PARSE_ERR_EMPTY:
        return "closed before any response byte";
    case HTTP_PARSE_ERR_UNSUPPORTED:
        return "unsupported response (101)";
    case HTTP_PARSE_ERR_NOMEM:
        return "out of memory";
    default:
        return "unknown parse result";
    }
}
