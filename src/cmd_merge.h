/* src/cmd_merge.h - `fleetsim merge FILE.json... [--summary-json OUT] [--html OUT]
 * [--threshold SPEC]...`: adds the summaries of the shards of one run exactly (histograms bucket
 * for bucket), refuses inputs that cannot be parts of one run, prints the text summary and
 * judges the thresholds stored in the inputs (plus the given ones) on the whole. */
#ifndef FLEETSIM_SRC_CMD_MERGE_H
#define FLEETSIM_SRC_CMD_MERGE_H

#include <stddef.h>

#include "engine/metrics.h"
#include "engine/report_json.h"

/* What the inputs say about the merged run. */
struct merge_inputs {
    struct report_info first; /* metadata of the first file (owned; report_info_clear) */
    time_t started_at;        /* earliest start of the inputs */
    time_t ended_at;          /* latest end */
    uint32_t shard_n;         /* N of every input's shard K/N */
    size_t n_files;
    uint32_t *shards;  /* the K of each file, in file order (owned) */
    char **thresholds; /* the inputs' threshold specs, duplicates removed (owned) */
    size_t n_thresholds;
    size_t n_interrupted;     /* inputs whose result is interrupted */
    size_t first_interrupted; /* the first of them (index into the paths) */
    struct run_result first_interrupted_result;
    bool any_aborted;               /* an input was stopped by an abort-on-fail threshold */
    enum run_verdict worst_verdict; /* setup_error, then client_saturated, server_slow, kept_up */
};

/* Read the summary files paths[0..n-1] and add them into m exactly. Refuses (returns 2 with
 * one line in err, m then unspecified) a file that cannot be read or is not a summary, a
 * histogram configuration that differs from the first file's, a different seed, a shard of a
 * different N or a shard K given twice. Fills *in (free with merge_inputs_free). Returns 0. */
int merge_read(const char *const *paths, size_t n, struct metrics *m, struct merge_inputs *in,
               char *err, size_t errlen);

/* Free what merge_read put in in. */
void merge_inputs_free(struct merge_inputs *in);

/* The command: argv[0] is "merge". Returns the exit code of the merged result (0 every threshold
 * passed, 99 a threshold failed, 98 an input was saturated: see man fleetsim), 2 a usage error
 * or inputs refused (an interrupted shard without --allow-partial too), 1 an output could not
 * be written. */
int cmd_merge_main(int argc, char **argv);

#endif
