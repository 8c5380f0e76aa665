/* refserver/json_write.h - writing JSON text straight into an evbuffer without building objects:
 * Go-compatible string escaping (encoding/json escapes <, >, & and U+2028/2029 too) and
 * serialising json-c objects the store returns. */
#ifndef FLEETSIM_TARGET_JSON_WRITE_H
#define FLEETSIM_TARGET_JSON_WRITE_H

#include <stddef.h>

#include <json-c/json.h>

struct evbuffer;

/* Appends s (len bytes) as a quoted, escaped JSON string. Returns 0 or -ENOMEM. */
int jw_string_len(struct evbuffer *buf, const char *s, size_t len);

/* As jw_string_len for a NUL-terminated string (NULL writes ""). */
int jw_string(struct evbuffer *buf, const char *s);

/* Appends the compact serialisation of obj (NULL writes null). Returns 0 or -ENOMEM. */
int jw_object(struct evbuffer *buf, json_object *obj);

#endif
