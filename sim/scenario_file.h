/* sim/scenario_file.h - JSON scenario files (docs/scenarios.md): a file holds the
 * same settings and thresholds as a built-in preset (sim/preset.h), so `--scenario FILE` is
 * applied exactly like `--scenario NAME`; values use the command line's syntax and ranges. */
#ifndef FLEETSIM_SIM_SCENARIO_FILE_H
#define FLEETSIM_SIM_SCENARIO_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/preset.h"

/* Largest scenario file read, bytes. */
#define SCENARIO_FILE_MAX_BYTES (1024 * 1024)
/* Longest scenario name, bytes without the NUL ([a-z][a-z0-9-]{0,31}). */
#define SCENARIO_NAME_MAX 32
/* Longest description, bytes without the NUL. */
#define SCENARIO_DESCRIPTION_MAX 200

/* True when a --scenario value names a file rather than a preset: it contains '/' or ends in
 * ".json". */
bool scenario_is_file(const char *arg);

/* Checks a scenario file's name: [a-z][a-z0-9-]{0,31}, and neither a built-in preset's name
 * nor "default" (the tag of the run without --scenario). Returns 0, or -EINVAL with a reason
 * phrase meant to follow the quoted name, e.g. `is the name of a built-in preset (expected ...)`. */
int scenario_name_check(const char *name, char *reason, size_t n);

/* Parses the JSON text (len bytes, need not be NUL-terminated) of a scenario file into a new
 * preset, stored in *out and owned by the caller (release with scenario_file_free). Every key
 * but "name" is optional; unknown keys, a key given twice, wrong JSON types and bad values
 * are refused; counts are JSON integers, the other settings strings in the command line's
 * syntax (a JSON number is read as its text, so "poll": 0 means off); thresholds are parsed
 * (engine/threshold.h) and may filter only on the file's own scenario name. Returns 0, or
 * -EINVAL (-ENOMEM) with one line in err (size errlen), either about one key,
 * `"heartbeat": "5x" is not a duration (expected ...)`, `"thresholds"[1]: "SPEC" REASON`, or
 * about the text as a whole, `not valid JSON: unexpected character at line 3, column 9 (...)`.
 * *out is NULL on failure. */
int scenario_file_parse(const char *text, size_t len, struct preset **out, char *err,
                        size_t errlen);

/* Reads the scenario file at path (a regular file of at most SCENARIO_FILE_MAX_BYTES) and
 * parses it as scenario_file_parse does. Returns 0, a negative errno when the file cannot be
 * read (err: `cannot be read: No such file or directory (expected a readable file)`), or
 * scenario_file_parse's result. */
int scenario_file_load(const char *path, struct preset **out, char *err, size_t errlen);

/* Releases a preset returned by scenario_file_parse / scenario_file_load (NULL is fine). Never
 * pass a built-in preset. */
void scenario_file_free(struct preset *p);

#endif
