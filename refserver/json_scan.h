/* refserver/json_scan.h - a strict, allocation-free JSON reader for the hot request bodies
 * (heartbeat, job status): validates one JSON object and copies the string members asked for
 * into caller buffers (escapes decoded to UTF-8). Like Go's json.Decoder.Decode it reads the
 * first JSON value and ignores what follows it. */
#ifndef FLEETSIM_TARGET_JSON_SCAN_H
#define FLEETSIM_TARGET_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting accepted inside the object. */
#define JSCAN_MAX_DEPTH 64

/* A string member to extract. out gets the decoded value, NUL-terminated. */
struct jscan_field {
    const char *name; /* member name (exact, case-sensitive) */
    char *out;        /* buffer of cap bytes */
    size_t cap;
    size_t len;   /* decoded length (set when present) */
    bool present; /* the member was there with a string value (null leaves it false) */
};

/* Scans buf (len bytes) as a JSON object. For each member named in fields[0..n) with a string
 * value the value is copied out (the last one wins for duplicates); a null value is ignored.
 * Returns 0; -EINVAL when the input is not one valid JSON object (empty input included) or a
 * wanted member has a non-string, non-null value; -ENOSPC when a wanted value does not fit. */
int jscan_object(const char *buf, size_t len, struct jscan_field *fields, size_t n);

#endif
