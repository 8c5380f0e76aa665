/* seed/seed_cmd.h - the `fleetsim seed` sub-command: option parsing, --help, output and exit
 * codes around seed_run (seed/seed.h). src/main.c calls seed_cmd_main for "fleetsim seed ...". */
#ifndef FLEETSIM_SEED_SEED_CMD_H
#define FLEETSIM_SEED_SEED_CMD_H

/* Runs `fleetsim seed`: argv[0] is the sub-command word ("seed", ignored), options follow.
 * Prints the result table on stdout (nothing with --quiet) and one-line errors on stderr.
 * A password given in --db is overwritten in argv after parsing. Returns the exit code:
 * 0, 1 (unreachable database, authentication, missing tables/issuer, permissions, SQL error)
 * or 2 (bad options). Not thread-safe (getopt). */
int seed_cmd_main(int argc, char **argv);

#endif
