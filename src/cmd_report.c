/* src/cmd_report.c - `fleetsim report`: loads one summary JSON into a registry, prints the
 * same text summary the run printed (its thresholds evaluated again on its data) and, with
 * --html, writes the HTML report, with charts over time from --interval-log. */
#include "src/cmd_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/exit_status.h"
#include "engine/in_file.h"
#include "engine/report_html.h"
#include "engine/report_json.h"
#include "engine/report_text.h"
#include "src/cmd_outputs.h"

#define PROG "fleetsim report"
#define ERR_LINE_MAX 1024

static const char usage_text[] =
    "Usage: fleetsim report FILE.json [--html OUT] [--interval-log FILE]\n"
    "Print the text summary of a summary JSON written by fleetsim run --summary-json\n"
    "or fleetsim merge --summary-json, and write its HTML report.\n"
    "\n"
    "  --html OUT             write the HTML report (inline charts, no external files)\n"
    "  --interval-log FILE    the run's --interval-log, for the charts over time\n"
    "  -h, --help             print this help and exit\n"
    "\n"
    "Exit status: 0 the report was made (report does not judge thresholds; the run\n"
    "and fleetsim merge exit 99 when one fails), 2 a usage error or an invalid input,\n"
    "1 the HTML could not be written.\n";

/* Load the file into m and evaluate its stored thresholds. Returns an exit code, with err. */
static int load(const char *path, struct metrics *m, struct report_info *info,
                struct threshold_result **res, char *err, size_t errlen)
{
    char why[ERR_LINE_MAX - 32];
    if (report_json_read(path, m, info, why, sizeof why) != 0) {
        snprintf(err, errlen, PROG ": %s", why);
        return EXIT_STATUS_USAGE;
    }
    const char **origins = calloc(info->n_thresholds ? info->n_thresholds : 1, sizeof *origins);
    if (origins == NULL) {
        snprintf(err, errlen, PROG ": out of memory");
        return EXIT_STATUS_FAILED;
    }
    for (size_t i = 0; i < info->n_thresholds; i++)
        origins[i] = path;
    int rc = outputs_thresholds_eval(PROG, origins, (const char *const *)info->threshold_exprs,
                                     info->n_thresholds, info->n_thresholds, m, res, err, errlen);
    free(origins);
    return rc;
}

static void print_header(FILE *out, const char *path, const struct report_info *info)
{
    char start[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(start, sizeof start, info->started_at);
    fprintf(out, PROG ": %s (fleetsim %s, seed %" PRIu64 ", shard %u/%u, started %s)\n\n", path,
            info->version, info->seed, info->shard_k, info->shard_n, start);
}

int cmd_report_main(int argc, char **argv)
{
    char err[ERR_LINE_MAX] = "";
    struct outputs_args a;
    struct report_info info = {0};
    struct threshold_result *res = NULL;
    struct metrics *m = NULL;
    int rc = outputs_args_parse(argc, argv, PROG, OUTPUTS_OPT_HTML | OUTPUTS_OPT_INTERVAL_LOG, &a,
                                err, sizeof err);
    if (rc == 0 && a.help) {
        fputs(usage_text, stdout);
        outputs_args_free(&a);
        return EXIT_STATUS_OK;
    }
    if (rc == 0 && a.n_files != 1) {
        snprintf(err, sizeof err, PROG ": %s (expected one FILE.json, see " PROG " --help)",
                 a.n_files == 0 ? "no summary file given" : "more than one file given");
        rc = EXIT_STATUS_USAGE;
    }
    if (rc == 0 && (m = metrics_new(false)) == NULL) {
        snprintf(err, sizeof err, PROG ": out of memory");
        rc = EXIT_STATUS_FAILED;
    }
    if (rc == 0)
        rc = load(a.files[0], m, &info, &res, err, sizeof err);
    if (rc == 0) {
        struct report_text_opts opts = {
            .thresholds = res, .n_thresholds = info.n_thresholds, .known_in_flight = -1};
        print_header(outputs_text_stream(&a), a.files[0], &info);
        report_text_write(outputs_text_stream(&a), m, &opts);
        char why[ERR_LINE_MAX - 32];
        if (a.html &&
            report_html_write_file(a.files[0], a.interval_log, a.html, why, sizeof why) != 0) {
            snprintf(err, sizeof err, PROG ": %s", why);
            rc = EXIT_STATUS_FAILED;
        } else if (a.html && why[0] != '\0') {
            fprintf(stderr, PROG ": %s\n", in_file_escape_controls(why, sizeof why));
        }
    }
    if (rc != 0)
        fprintf(stderr, "%s\n", in_file_escape_controls(err, sizeof err));
    free(res);
    report_info_clear(&info);
    metrics_free(m);
    outputs_args_free(&a);
    return rc;
}
