/* engine/http_parse.h - incremental HTTP/1.1 response parser with bounded storage: fed any
 * split of the bytes (even one at a time), it keeps the header section (at most 64 KiB and
 * HTTP_PARSE_MAX_HEADERS lines) and the body (at most a cap) and reports malformed input as a
 * specific error. Pure: no I/O, no clock. Used by engine/http_client. */
#ifndef FLEETSIM_ENGINE_HTTP_PARSE_H
#define FLEETSIM_ENGINE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PARSE_MAX_HEADER_BYTES 65536 /* status line + header lines + blank line */
#define HTTP_PARSE_MAX_HEADERS 100
#define HTTP_PARSE_MAX_CHUNK_LINE 1024 /* chunk-size line with extensions */

/* http_parser_feed / http_parser_eof results: >= 0 progress, < 0 errors. */
enum http_parse_rc {
    HTTP_PARSE_MORE = 0,             /* need more bytes */
    HTTP_PARSE_DONE = 1,             /* the response is complete */
    HTTP_PARSE_ERR_STATUS_LINE = -1, /* not "HTTP/1.x NNN reason" (also garbage) */
    HTTP_PARSE_ERR_HEADER_LINE = -2, /* header line without a valid "name:" */
    HTTP_PARSE_ERR_HEADERS_TOO_LARGE = -3,
    HTTP_PARSE_ERR_TOO_MANY_HEADERS = -4,
    HTTP_PARSE_ERR_CONTENT_LENGTH = -5, /* non-numeric, overflowing or conflicting */
    HTTP_PARSE_ERR_CHUNK_SIZE = -6,     /* non-hex, empty, overflowing or too long line */
    HTTP_PARSE_ERR_CHUNK_DATA = -7,     /* chunk data not followed by CRLF */
    HTTP_PARSE_ERR_BODY_TOO_LARGE = -8,
    HTTP_PARSE_ERR_TRUNCATED = -9,    /* end of stream before the response was complete */
    HTTP_PARSE_ERR_EMPTY = -10,       /* end of stream before any byte */
    HTTP_PARSE_ERR_UNSUPPORTED = -11, /* 101 Switching Protocols (never requested) */
    HTTP_PARSE_ERR_NOMEM = -12,
};

struct http_header_ref { /* offsets into the parser's header storage */
    uint32_t name_off, value_off;
    uint16_t name_len, value_len;
};

/* Parser and response storage. Treat fields as read-only; use the functions below. */
struct http_parser {
    uint8_t state;
    int8_t result;     /* sticky error code once in the error state */
    uint8_t ndigits;   /* hex digits of the current chunk size */
    bool head_request; /* response to HEAD: never a body */
    bool chunked, te_present, has_length, conn_close, http10, keep_alive_hdr;
    int status;              /* status code once the status line is parsed, else 0 */
    uint64_t content_length; /* declared Content-Length */
    uint64_t remaining;      /* bytes left in the body or chunk; chunk size being parsed */
    size_t max_body_bytes;
    size_t total_bytes; /* bytes consumed so far */
    size_t line_start;  /* offset in head of the line being collected */
    size_t aux_len;     /* bytes of the current chunk-size line or trailer section */
    char *head;         /* header section copy (status line + headers), grows to 64 KiB */
    size_t head_len, head_cap;
    struct http_header_ref *hdrs;
    size_t nhdrs, hdrs_cap;
    char *body; /* body, kept NUL-terminated; NULL until the first body byte */
    size_t body_len, body_cap;
};

/* Prepares p for one response; max_body_bytes caps the body (0 = no body allowed beyond 0
 * bytes); head_request = the request was HEAD (no body whatever the headers say). (Not
 * "_init": http_parser_init is the nodejs http_parser library's, which the programs link.) */
void http_parser_begin(struct http_parser *p, size_t max_body_bytes, bool head_request);

/* Frees the storage of p (p itself is the caller's). Safe after init or after any result. */
void http_parser_release(struct http_parser *p);

/* Feeds len bytes. Sets *consumed to how many were used (< len only with HTTP_PARSE_DONE:
 * the rest belongs to no response). Returns HTTP_PARSE_MORE, HTTP_PARSE_DONE or an error;
 * after DONE or an error, further feeding returns the same result and consumes nothing. */
int http_parser_feed(struct http_parser *p, const char *data, size_t len, size_t *consumed);

/* The stream ended: returns HTTP_PARSE_DONE when that completes the response (a body
 * delimited by close, or an already complete response), else HTTP_PARSE_ERR_EMPTY (no byte
 * ever) or HTTP_PARSE_ERR_TRUNCATED. */
int http_parser_eof(struct http_parser *p);

/* Case-insensitive header lookup once the header section is complete: first value,
 * NUL-terminated and trimmed, or NULL. Valid until release. */
const char *http_parser_header(const struct http_parser *p, const char *name);

/* After DONE: true when the connection may carry another request (HTTP/1.1 without
 * "Connection: close", HTTP/1.0 with "keep-alive", and a body not delimited by close). */
bool http_parser_keep_alive(const struct http_parser *p);

/* After DONE: the body (NUL-terminated; "" when empty) and its length. */
const char *http_parser_body(const struct http_parser *p, size_t *len);

/* Short constant description of a parse result code ("bad status line", ...). */
const char *http_parse_rc_str(int rc);

#endif
