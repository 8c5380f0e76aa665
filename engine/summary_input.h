/* engine/summary_input.h - the files `fleetsim merge` and `fleetsim report` read, trusted for
 * nothing (docs/outputs.md): a summary JSON is read through engine/in_file (regular files,
 * size cap) and recognised (a summary, an interval log, other JSON, not JSON), and its
 * entries checked before they are loaded: no series or counter twice, every rate's hits at
 * most its total. */
#ifndef FLEETSIM_ENGINE_SUMMARY_INPUT_H
#define FLEETSIM_ENGINE_SUMMARY_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "engine/metrics.h"

/* The summary JSON object in the file at path (caller owns it), or NULL with one line in err
 * naming the file and what it is instead, e.g. `key.txt is not a fleetsim result (not JSON;
 * expected a summary JSON written by --summary-json or fleetsim merge)` or `run.jsonl is an
 * interval log (--interval-log), not a summary ...`. */
json_object *summary_input_parse(const char *path, char *err, size_t errlen);

/* True when o looks like one record of an interval log ("interval_s" and a "series" array). */
bool summary_input_is_interval(const json_object *o);

/* Checks the series[] and counters[] of a parsed summary before it is loaded: each entry's
 * identity (metric, type and tags) appears once, and a rate's hits are at most its total.
 * Linear in the entries (n log n for the duplicate search). Returns 0, or -EINVAL with one
 * line in err naming the entry. */
int summary_input_check_entries(const json_object *summary, char *err, size_t errlen);

/* Checks the request series of a loaded summary: every counter sum fits in 64 bits, no more
 * requests settled (answered, transport errors, timed out, dropped) than scheduled, none
 * failed that did not complete. Returns 0, or -EINVAL with one line in err. */
int summary_input_check_loaded(const struct metrics *m, char *err, size_t errlen);

#endif
