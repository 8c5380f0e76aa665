/* refserver/json_write.c - JSON output helpers over evbuffers (see json_write.h). */
#include <errno.h>
#include <string.h>

#include <event2/buffer.h>

#include "refserver/json_write.h"

/* Bytes that need no escaping are copied in runs; the rest are escaped one by one. */
static int needs_escape(const unsigned char *p, size_t left)
{
    unsigned char c = *p;
    if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
        return 1;
    /* U+2028 / U+2029 are E2 80 A8 / E2 80 A9 */
    if (c == 0xe2 && left >= 3 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
        return 3;
    return 0;
}

int jw_string_len(struct evbuffer *buf, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    if (evbuffer_add(buf, "\"", 1) < 0)
        return -ENOMEM;
    while (p < end) {
        int n = needs_escape(p, (size_t)(end - p));
        if (n == 0) {
            p++;
            continue;
        }
        if (p > run && evbuffer_add(buf, run, (size_t)(p - run)) < 0)
            return -ENOMEM;
        char esc[8];
        size_t elen = 2;
        esc[0] = '\\';
        if (n == 3) {
            memcpy(esc + 1, p[2] == 0xa8 ? "u2028" : "u2029", 5);
            elen = 6;
        } else {
            switch (*p) {
            case '"':
                esc[1] = '"';
                break;
            case '\\':
                esc[1] = '\\';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                elen = 6;
            }
        }
        if (evbuffer_add(buf, esc, elen) < 0)
            return -ENOMEM;
        p += n;
        run = p;
    }
    if (p > run && evbuffer_add(buf, run, (size_t)(p - run)) < 0)
        return -ENOMEM;
    return evbuffer_add(buf, "\"", 1) < 0 ? -ENOMEM : 0;
}

int jw_string(struct evbuffer *buf, const char *s)
{
    return jw_string_len(buf, s ? s : "", s ? strlen(s) : 0);
}

int jw_object(struct evbuffer *buf, json_object *obj)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!text)
        return -ENOMEM;
    return evbuffer_add(buf, text, len) < 0 ? -ENOMEM : 0;
}
