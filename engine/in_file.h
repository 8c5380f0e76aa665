/* engine/in_file.h - reading an input file that may be forged or damaged (docs/outputs.md):
 * regular files only (a device such as /dev/zero or a FIFO is refused without reading or
 * waiting), at most a size cap, read whole; and control characters escaped before any text
 * from a file reaches a terminal. */
#ifndef FLEETSIM_ENGINE_IN_FILE_H
#define FLEETSIM_ENGINE_IN_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* The largest summary JSON or interval log `fleetsim merge` and `fleetsim report` read. */
#define IN_FILE_MAX_BYTES ((size_t)256 << 20)

/* Reads the whole regular file at path, at most max bytes, into a new NUL-terminated buffer
 * *text (caller frees) of *len bytes. Returns 0, or a negative errno with a reason in err
 * without the path, e.g. `is a character device, not a regular file` or `is larger than 256
 * MiB (the input size limit)`. */
int in_file_read(const char *path, size_t max, char **text, size_t *len, char *err, size_t errlen);

/* What a file of this mode is, for messages: "a directory", "a character device", "a FIFO",
 * ... ("a special file" for any other kind that is not a regular file). */
const char *in_file_kind_name(mode_t mode);

/* Rewrites the NUL-terminated s (buffer of n bytes) in place so that it holds no control
 * character: each byte below 0x20 (tab included) and 0x7f becomes \xHH, as long as it fits
 * (the end is cut otherwise). Returns s. */
char *in_file_escape_controls(char *s, size_t n);

#endif
