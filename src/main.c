/* src/main.c - fleetsim's entry point: dispatches `fleetsim [run] ...` (options_parse, then
 * cmd_run), `fleetsim seed ...` (seed_cmd_main), `fleetsim merge ...` (cmd_merge_main) and
 * `fleetsim report ...` (cmd_report_main); a usage error prints one line on stderr and exits 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd_merge.h"
#include "src/cmd_report.h"
#include "src/cmd_run.h"
#include "src/help.h"
#include "src/options.h"
#include "seed/seed_cmd.h"

/* Longest usage error line options_parse writes. */
#define ERR_LINE_MAX 1024

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
        rc = 0;
        break;
    case OPTIONS_ACTION_VERSION:
        help_print_version(stdout);
        rc = 0;
        break;
    case OPTIONS_ACTION_LIST_SCENARIOS:
        help_print_scenarios(stdout, &cfg);
        rc = 0;
        break;
    case OPTIONS_ACTION_RUN:
        rc = cmd_run(&cfg);
        break;
    }
    options_free(&cfg);
    if (fflush(stdout) != 0 && rc == 0)
        rc = 1; /* e.g. stdout is a full disk: the report was not written */
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "seed") == 0)
        return seed_cmd_main(argc - 1, argv + 1); /* its argv[0] is "seed" */
    if (argc > 1 && (strcmp(argv[1], "merge") == 0 || strcmp(argv[1], "report") == 0)) {
        int rc = argv[1][0] == 'm' ? cmd_merge_main(argc - 1, argv + 1)
                                   : cmd_report_main(argc - 1, argv + 1);
        if (fflush(stdout) != 0 && rc == 0)
            rc = 1; /* the summary was not written */
        return rc;
    }
    return run_main(argc, argv);
}
