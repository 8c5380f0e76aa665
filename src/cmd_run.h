/* src/cmd_run.h - `fleetsim run`: carries out a parsed run configuration (owner "fleet").
 * Returns the process exit code: 0 pass, 99 thresholds failed, 1 the run could not be carried out. */
#ifndef FLEETSIM_SRC_CMD_RUN_H
#define FLEETSIM_SRC_CMD_RUN_H

struct run_config;

int cmd_run(const struct run_config *cfg);

#endif
