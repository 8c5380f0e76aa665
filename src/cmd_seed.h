/* src/cmd_seed.h - the `fleetsim seed` sub-command: its options (engine/cmdline.h), --help,
 * output and exit codes around seed_run_db (seed/seed.h). src/main.c calls cmd_seed_main for
 * "fleetsim seed ...". */
#ifndef FLEETSIM_SRC_CMD_SEED_H
#define FLEETSIM_SRC_CMD_SEED_H

/* Runs `fleetsim seed`: argv[0] is the sub-command word ("seed", ignored), options follow.
 * Prints the result table on stdout (nothing with --quiet) and one-line errors on stderr.
 * A password given in --db is overwritten in argv after parsing. Returns the exit code
 * (engine/exit_status.h): 0; 1 (unreachable database, authentication, missing tables/issuer,
 * permissions, SQL error); 2 (bad options). */
int cmd_seed_main(int argc, char **argv);

#endif
