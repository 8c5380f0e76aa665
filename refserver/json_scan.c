/* refserver/json_scan.c - strict allocation-free JSON object scanner (see json_scan.h). A small
 * recursive-descent validator over RFC 8259's grammar; strings are decoded only when wanted. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "engine/parse.h"
#include "refserver/json_scan.h"

struct jscan {
    const char *p, *end;
    int depth;
};

static void skip_ws(struct jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int read_hex4(struct jscan *s, uint32_t *out)
{
    if (s->end - s->p < 4)
        return -EINVAL;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = parse_hex_digit(s->p[i]);
        if (h < 0)
            return -EINVAL;
        v = v << 4 | (uint32_t)h;
    }
    s->p += 4;
    *out = v;
    return 0;
}

/* Appends one code point as UTF-8 when out is non-NULL. */
static int put_utf8(char *out, size_t cap, size_t *len, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (!out)
        return 0;
    if (*len + n >= cap)
        return -ENOSPC;
    memcpy(out + *len, b, n);
    *len += n;
    return 0;
}

static int read_escape(struct jscan *s, char *out, size_t cap, size_t *len)
{
    if (s->p >= s->end)
        return -EINVAL;
    char c = *s->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit)
        return put_utf8(out, cap, len, (uint32_t)(unsigned char)to[hit - from]);
    if (c != 'u')
        return -EINVAL;
    uint32_t cp;
    if (read_hex4(s, &cp) < 0)
        return -EINVAL;
    if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u') {
        struct jscan look = *s;
        look.p += 2;
        uint32_t lo;
        if (read_hex4(&look, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
            s->p = look.p;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
    }
    if (cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd; /* lone surrogate: replaced, as Go does */
    return put_utf8(out, cap, len, cp);
}

/* Reads a string (s->p at the opening quote); decodes into out when non-NULL. */
static int read_string(struct jscan *s, char *out, size_t cap, size_t *len)
{
    s->p++;
    *len = 0;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            if (out)
                out[*len] = '\0';
            return 0;
        }
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\') {
            s->p++;
            int rc = read_escape(s, out, cap, len);
            if (rc < 0)
                return rc;
            continue;
        }
        if (out) {
            if (*len + 1 >= cap)
                return -ENOSPC;
            out[(*len)++] = (char)c;
        }
        s->p++;
    }
    return -EINVAL;
}

static int skip_value(struct jscan *s);

static int skip_number(struct jscan *s)
{
    const char *p = s->p;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return -EINVAL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return -EINVAL;
    }
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return -EINVAL;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return -EINVAL;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static int skip_literal(struct jscan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return -EINVAL;
    s->p += n;
    return 0;
}

static int skip_container(struct jscan *s, char close)
{
    if (++s->depth > JSCAN_MAX_DEPTH)
        return -EINVAL;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(s);
        if (close == '}') {
            size_t l;
            if (s->p >= s->end || *s->p != '"' || read_string(s, NULL, 0, &l) < 0)
                return -EINVAL;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return -EINVAL;
        }
        if (skip_value(s) < 0)
            return -EINVAL;
        skip_ws(s);
        if (s->p >= s->end)
            return -EINVAL;
        char c = *s->p++;
        if (c == close) {
            s->depth--;
            return 0;
        }
        if (c != ',')
            return -EINVAL;
    }
}

static int skip_value(struct jscan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return -EINVAL;
    size_t l;
    switch (*s->p) {
    case '"':
        return read_string(s, NULL, 0, &l);
    case '{':
        return skip_container(s, '}');
    case '[':
        return skip_container(s, ']');
    case 't':
        return skip_literal(s, "true");
    case 'f':
        return skip_literal(s, "false");
    case 'n':
        return skip_literal(s, "null");
    default:
        return skip_number(s);
    }
}

static struct jscan_field *find_field(struct jscan_field *f, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(f[i].name) == len && memcmp(f[i].name, name, len) == 0)
            return &f[i];
    return NULL;
}

static int scan_member(struct jscan *s, struct jscan_field *fields, size_t n)
{
    char name[64];
    size_t nlen;
    if (s->p >= s->end || *s->p != '"')
        return -EINVAL;
    const char *start = s->p;
    int rc = read_string(s, name, sizeof name, &nlen);
    struct jscan_field *f = NULL;
    if (rc == 0) {
        f = find_field(fields, n, name, nlen);
    } else if (rc == -ENOSPC) {
        /* a long name is no field of ours: validate it without decoding */
        s->p = start;
        rc = read_string(s, NULL, 0, &nlen);
    }
    if (rc < 0)
        return rc;
    skip_ws(s);
    if (s->p >= s->end || *s->p++ != ':')
        return -EINVAL;
    skip_ws(s);
    if (!f)
        return skip_value(s);
    if (s->p < s->end && *s->p == '"') {
        rc = read_string(s, f->out, f->cap, &f->len);
        if (rc < 0)
            return rc;
        f->present = true;
        return 0;
    }
    if (skip_literal(s, "null") == 0)
        return 0;
    return -EINVAL; /* a wanted member with a non-string value */
}

int jscan_object(const char *buf, size_t len, struct jscan_field *fields, size_t n)
{
    struct jscan s = {.p = buf, .end = buf + len, .depth = 0};
    for (size_t i = 0; i < n; i++) {
        fields[i].present = false;
        fields[i].len = 0;
        if (fields[i].cap)
            fields[i].out[0] = '\0';
    }
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -EINVAL;
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}')
        return 0;
    for (;;) {
        skip_ws(&s);
        int rc = scan_member(&s, fields, n);
        if (rc < 0)
            return rc;
        skip_ws(&s);
        if (s.p >= s.end)
            return -EINVAL;
        char c = *s.p++;
        if (c == '}')
            return 0;
        if (c != ',')
            return -EINVAL;
    }
}
