/* src/main.c - fleetsim's entry point: dispatches `fleetsim [run] ...` (options_parse, then
 * cmd_run), `fleetsim seed ...` (cmd_seed_main), `fleetsim merge ...` (cmd_merge_main) and
 * `fleetsim report ...` (cmd_report_main); a usage error prints one line on stderr and exits 2. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/exit_status.h"
#include "src/actor.h"
#include "src/cmd_merge.h"
#include "src/cmd_report.h"
#include "src/cmd_run.h"
#include "src/cmd_seed.h"
#include "src/help.h"
#include "src/options.h"

/* Buffer of standard output when it is not a terminal. */
#define STDOUT_BUFFER_BYTES (1024 * 1024)

/* Longest usage error line options_parse writes. */
#define ERR_LINE_MAX 1024

/* Flushes standard output; when it failed (a full disk, a closed pipe) says so and turns a
 * successful exit code into 1, as a lost output does. */
static int finish_stdout(const char *prog, int rc)
{
    bool failed_before = ferror(stdout);
    errno = 0;
    int flushed = fflush(stdout);
    int e = errno;
    if (flushed == 0 && !failed_before)
        return rc;
    fprintf(stderr, "%s: standard output: %s (the output is incomplete)\n", prog,
            flushed != 0 && e != 0 ? strerror(e) : "a write failed");
    return rc == EXIT_STATUS_OK ? EXIT_STATUS_FAILED : rc;
}

static int run_main(int argc, char **argv)
{
    struct run_config cfg;
    char err[ERR_LINE_MAX];
    int rc = options_parse(argc, argv, &cfg, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        options_free(&cfg);
        return rc;
    }
    switch (cfg.action) {
    case OPTIONS_ACTION_HELP:
        help_print(stdout);
        rc = EXIT_STATUS_OK;
        break;
    case OPTIONS_ACTION_VERSION:
        help_print_version(stdout);
        rc = EXIT_STATUS_OK;
        break;
    case OPTIONS_ACTION_LIST_SCENARIOS:
        help_print_scenarios(stdout, &cfg);
        rc = EXIT_STATUS_OK;
        break;
    case OPTIONS_ACTION_RUN:
        rc = cmd_run(&cfg);
        break;
    }
    options_free(&cfg);
    return finish_stdout("fleetsim", rc);
}

int main(int argc, char **argv)
{
    /* into a file or pipe, the whole output leaves at the end, so a failure has its errno */
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOFBF, STDOUT_BUFFER_BYTES);
    if (actor_register_names() != 0) {
        fprintf(stderr, "fleetsim: cannot register the actors' metric names\n");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "seed") == 0)
        return cmd_seed_main(argc - 1, argv + 1); /* its argv[0] is "seed" */
    if (argc > 1 && (strcmp(argv[1], "merge") == 0 || strcmp(argv[1], "report") == 0)) {
        int rc = argv[1][0] == 'm' ? cmd_merge_main(argc - 1, argv + 1)
                                   : cmd_report_main(argc - 1, argv + 1);
        return finish_stdout(argv[1][0] == 'm' ? "fleetsim merge" : "fleetsim report", rc);
    }
    return run_main(argc, argv);
}
