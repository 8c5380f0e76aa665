/* engine/text_out.h - text assembled into a fixed buffer without printf: strings and unsigned
 * decimal numbers (optionally zero-padded). The per-request paths (request line and headers,
 * ids and paths, small request bodies) use it: glibc's snprintf costs about a thousand
 * instructions a call, about a sixth of the user-space work of a small request (docs/fleet.md).
 * Header-only, so that every library can use it without a link dependency. */
#ifndef FLEETSIM_ENGINE_TEXT_OUT_H
#define FLEETSIM_ENGINE_TEXT_OUT_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* A string being assembled into p[0, cap); len counts on past cap, so the caller learns the
 * size a retry needs (bytes past cap are dropped). */
struct text_out {
    char *p;
    size_t len, cap;
};

/* Starts assembling into buf (cap bytes). */
static inline struct text_out text_out_start(char *buf, size_t cap)
{
    return (struct text_out){buf, 0, cap};
}

/* Appends s[0, n). */
static inline void text_out_add(struct text_out *o, const char *s, size_t n)
{
    if (o->len < o->cap)
        memcpy(o->p + o->len, s, o->len + n <= o->cap ? n : o->cap - o->len);
    o->len += n;
}

/* Appends the NUL-terminated s. */
static inline void text_out_str(struct text_out *o, const char *s)
{
    text_out_add(o, s, strlen(s));
}

/* Appends v in decimal with at least min_digits digits (zero-padded, as printf's "%05u" with
 * min_digits 5; at most 20). */
static inline void text_out_uint(struct text_out *o, unsigned long long v, unsigned min_digits)
{
    char d[20];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    while (sizeof d - i < min_digits && i > 0)
        d[--i] = '0';
    text_out_add(o, d + i, sizeof d - i);
}

/* NUL-terminates the text. Returns its length (without the NUL), or -ENOSPC when it and its
 * NUL did not fit in cap (the buffer then holds "" when cap > 0), as a checked snprintf. */
static inline int text_out_end(struct text_out *o)
{
    if (o->len >= o->cap) {
        if (o->cap > 0)
            o->p[0] = '\0';
        return -ENOSPC;
    }
    o->p[o->len] = '\0';
    return (int)o->len;
}

#endif
