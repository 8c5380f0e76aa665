/* engine/out_file.h - output files that never destroy anything and never lose data silently
 * (docs/outputs.md): "-" is standard output; an existing regular file (also through a symbolic
 * link) or a new path in a writable directory is written whole to a temporary file in the same
 * directory and renamed over it; a directory, device node, FIFO or socket is refused. Every
 * write, flush and close is checked and reported with strerror (ENOSPC reads "No space left on
 * device"). A stream (the interval log) is written one whole line per write(2) and, on a
 * regular file, cut back to its last complete line when a write fails. */
#ifndef FLEETSIM_ENGINE_OUT_FILE_H
#define FLEETSIM_ENGINE_OUT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The path that means standard output. */
#define OUT_FILE_STDOUT "-"

/* True when path is "-" (standard output). */
bool out_file_is_stdout(const char *path);

/* path for messages: "standard output" for "-", else path itself. */
const char *out_file_name(const char *path);

/* Checks, without creating anything, that path may be written by out_file_write or
 * out_file_stream_open: "-", an existing regular file that can be written, or a new name in an
 * existing writable directory. Returns 0, or a negative errno with a reason such as `is a FIFO
 * (expected a regular file, a new file or - for standard output)` in err. */
int out_file_check(const char *path, char *err, size_t errlen);

/* Writes the content of one output into f; returns 0, or a negative errno with a reason in err
 * (a failed stdio call leaves errno, so returning -errno is right). */
typedef int (*out_file_fill_fn)(FILE *f, void *arg, char *err, size_t errlen);

/* Writes the whole output made by fill to path: to standard output for "-", else through a
 * temporary file beside the target (mode of the replaced file, or 0666 less the umask),
 * flushed, fsync'ed and renamed over it after checking again that the target is still a
 * regular file or absent. Returns 0, or a negative errno with the reason in err (no path in
 * it; the caller names the output). On failure the target is untouched. */
int out_file_write(const char *path, out_file_fill_fn fill, void *arg, char *err, size_t errlen);

/* A line-oriented output written while the program runs (the interval log). */
struct out_stream;

/* Opens path for a stream ("-": standard output; a regular file is truncated; anything else is
 * refused as out_file_check says; a FIFO is refused without waiting for a reader). Returns
 * NULL with a reason in err. */
struct out_stream *out_stream_open(const char *path, char *err, size_t errlen);

/* Appends one line (len bytes, ending in '\n') in one write(2) (retrying short writes). On an
 * error the stream keeps the first errno, stops writing, and a regular file is cut back to its
 * last complete line. Returns 0, or the negative errno of the first failure (again on every
 * later call). */
int out_stream_write_line(struct out_stream *s, const char *line, size_t len);

/* The first error of s as a negative errno (0 when none). */
int out_stream_error(const struct out_stream *s);

/* Syncs and closes s (standard output is left open) and frees it. Returns 0, or the negative
 * errno of the first write error or of the close. NULL is a no-op returning 0. */
int out_stream_close(struct out_stream *s);

#endif
