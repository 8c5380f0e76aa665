/* src/cmd_outputs.h - the small command line shared by `fleetsim merge` and `fleetsim
 * report`: input files and the options --summary-json, --html, --interval-log, --threshold,
 * --allow-partial, --help, spelled out in full (no abbreviations), "--name VALUE" or "--name=VALUE", anywhere
 * among the files; "--" ends the options. Private to src/cmd_merge.c and src/cmd_report.c. */
#ifndef FLEETSIM_SRC_CMD_OUTPUTS_H
#define FLEETSIM_SRC_CMD_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine/metrics.h"
#include "engine/threshold.h"

/* Options a command accepts (bits of outputs_args_parse's allowed). */
enum outputs_opt {
    OUTPUTS_OPT_SUMMARY_JSON = 1u << 0,
    OUTPUTS_OPT_HTML = 1u << 1,
    OUTPUTS_OPT_INTERVAL_LOG = 1u << 2,
    OUTPUTS_OPT_THRESHOLD = 1u << 3,
    OUTPUTS_OPT_ALLOW_PARTIAL = 1u << 4, /* a flag, no value */
};

/* A parsed command line; strings point into argv. */
struct outputs_args {
    const char **files; /* input files in order (owned array) */
    size_t n_files;
    const char *summary_json; /* --summary-json OUT (checked writable, "-" stdout), or NULL */
    const char *html;         /* --html OUT (checked writable, "-" stdout), or NULL */
    const char *interval_log; /* --interval-log FILE (checked readable), or NULL */
    const char **thresholds;  /* --threshold SPEC, repeatable (owned array) */
    size_t n_thresholds;
    bool allow_partial; /* --allow-partial: merge interrupted shards too */
    bool help;          /* --help was given: print the usage, exit 0 */
};

/* Parse argv[1..argc-1] (argv[0] is the command word, e.g. "merge") for command prog (e.g.
 * "fleetsim merge"), accepting the options in allowed. Returns 0, or EXIT_STATUS_USAGE with
 * one line (no newline) in err such as `fleetsim merge: --html: "/x/y.html" cannot be written:
 * its directory does not exist (expected a regular file, a new file or - for standard
 * output)`. Always call outputs_args_free afterwards. */
int outputs_args_parse(int argc, char **argv, const char *prog, unsigned allowed,
                       struct outputs_args *a, char *err, size_t errlen);

/* Where the text summary goes: standard error when --summary-json or --html is "-" (standard
 * output), else standard output. */
FILE *outputs_text_stream(const struct outputs_args *a);

/* Free the arrays of a. */
void outputs_args_free(struct outputs_args *a);

/* Parse the n threshold specs (origins[i] names where spec i came from in errors, e.g.
 * "a.json" or "--threshold") and evaluate each on m into a new array *results (caller frees;
 * NULL when n is 0). Specs from index check_from on must also name only scenarios present in m
 * (as the run checks its own). Returns 0, or EXIT_STATUS_USAGE with one line in err for a
 * spec that does not parse or names an absent scenario, or EXIT_STATUS_FAILED when out of
 * memory. */
int outputs_thresholds_eval(const char *prog, const char *const *origins, const char *const *specs,
                            size_t n, size_t check_from, const struct metrics *m,
                            struct threshold_result **results, char *err, size_t errlen);

/* Number of results that did not pass. */
size_t outputs_thresholds_failed(const struct threshold_result *results, size_t n);

#endif
