/* src/help.h - fleetsim's --help text and --version report (program version plus the runtime
 * versions of libevent, OpenSSL, libpq and json-c). */
#ifndef FLEETSIM_SRC_HELP_H
#define FLEETSIM_SRC_HELP_H

#include <stdio.h>

/* Writes the `fleetsim [run]` help text (every option with its default) to out. */
void help_print(FILE *out);

struct run_config; /* src/options.h */

/* Writes every built-in preset (name, description, the options it sets, its thresholds), then
 * the scenario files loaded by cfg's --scenario FILE options (cfg may be NULL), to out; the
 * output of `fleetsim --list-scenarios`. */
void help_print_scenarios(FILE *out, const struct run_config *cfg);

/* Writes "fleetsim VERSION" and one line per library with its runtime version to out. */
void help_print_version(FILE *out);

#endif
