/* engine/cmdline.h - one command-line parser for every program of the project: a table of
 * long options (some with a one-letter form), each with a value handler, parsed in the same
 * way and with the same one-line errors whichever program owns the table. Long options are
 * spelled out in full (no abbreviations, so adding an option never changes what an existing
 * command line means), given as "--name VALUE" or "--name=VALUE"; one-letter forms may be
 * bundled ("-qv"); "--" ends the options. -h/--help and (optionally) -V/--version are built
 * in. An unknown option gets a suggestion: the options it is the beginning of, else the
 * nearest by edit distance (a typo: a letter left out, added, changed or two swapped).
 * Errors read `PROG: MESSAGE`, e.g. `fleetsim-target: unknown option "--lisen" (did you mean
 * --listen? see fleetsim-target --help)`; the caller prints them and exits with
 * EXIT_STATUS_USAGE (engine/exit_status.h). */
#ifndef FLEETSIM_ENGINE_CMDLINE_H
#define FLEETSIM_ENGINE_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most options in one table (ids are bits of a 64-bit mask). */
#define CMDLINE_MAX_OPTS 64

/* What a value handler returns. */
enum cmdline_verdict {
    CMDLINE_OK = 0,
    CMDLINE_BAD,          /* bad value: the error quotes it */
    CMDLINE_BAD_HIDDEN,   /* bad value that is a secret: the error never quotes it */
    CMDLINE_BAD_REDACTED, /* bad URL: quoted with user:password@ redacted */
    CMDLINE_BAD_LINE,     /* the reason is the whole message after "PROG: " */
};

/* Checks arg (never NULL; "" for an option without a value) for option id and stores it in
 * ctx (the caller's configuration). arg points into argv, so a handler may overwrite a secret
 * there once it has a copy. On failure writes a reason such as `is not a number (expected an
 * integer from 1 to 100)` into reason (size n) and returns a CMDLINE_BAD* verdict. A handler
 * should answer an empty value with its "(expected ...)" reason: the parser asks it that way
 * for the message of an option given without its value. */
typedef int (*cmdline_value_fn)(void *ctx, int id, char *arg, char *reason, size_t n);

/* One option of a table. */
struct cmdline_opt {
    const char *name;         /* long name without "--", e.g. "agents" */
    int id;                   /* the caller's id, 0 .. CMDLINE_MAX_OPTS - 1, unique */
    bool takes_value;         /* "--name VALUE", else a flag */
    bool repeatable;          /* may be given more than once (else a usage error) */
    char short_name;          /* one-letter form ('q' for -q), or 0 */
    cmdline_value_fn handler; /* called for each occurrence */
};

/* A program's command line. */
struct cmdline_spec {
    const char *prog; /* starts every error line and names the help: "fleetsim seed" */
    const struct cmdline_opt *opts;
    size_t n_opts;
    bool has_version; /* -V/--version (else only -h/--help is built in) */
    /* Words that are not options (and every word after "--"), in order; NULL: each is a
     * usage error `unexpected argument: "WORD" (expected only options; ...)`. Returns as a
     * value handler. */
    int (*operand)(void *ctx, char *arg, char *reason, size_t n);
};

/* What the program should do after a successful parse. */
enum cmdline_action {
    CMDLINE_ACTION_RUN = 0, /* carry on with the parsed configuration */
    CMDLINE_ACTION_HELP,    /* -h/--help: print the usage on stdout, exit 0 */
    CMDLINE_ACTION_VERSION, /* -V/--version: print the version on stdout, exit 0 */
};

/* The outcome of cmdline_parse. */
struct cmdline_result {
    enum cmdline_action action;
    uint64_t given; /* bit id set for each option given */
};

/* Parses argv[1..argc-1] (argv[0] is the program or command word, not read) against spec,
 * calling the handlers with ctx. Stops at -h/--help or -V/--version (the options after it are
 * not read). Returns 0 with *res filled, or EXIT_STATUS_USAGE with exactly one line (no
 * newline) in err (size errlen): an unknown option with its suggestion, a missing value
 * (`--agents: missing value (expected an integer from 1 to 100)`, the tail taken from the
 * handler's answer to an empty value), a value given to a flag, an option given twice that is
 * not repeatable, a handler's bad value (`--agents: "abc" is not a number (...)`) or an
 * unexpected argument. Handlers may have stored values in ctx before an error: the caller
 * releases ctx as usual. Reentrant (no getopt state). */
int cmdline_parse(const struct cmdline_spec *spec, int argc, char **argv, void *ctx,
                  struct cmdline_result *res, char *err, size_t errlen);

/* Writes the long options of spec (and help, version) that word (without "--") is most
 * likely a misspelling of, as "--a, --b or --c", into buf (size n): those it is the
 * beginning of, else those at the smallest edit distance (insertions, deletions,
 * substitutions and swaps of two neighbouring letters; at most 1 for words up to 4 letters,
 * 2 up to 9, else 3). Returns how many; 0 leaves "" in buf. */
size_t cmdline_suggest(const struct cmdline_spec *spec, const char *word, char *buf, size_t n);

/* The edit distance between a and b described above (optimal string alignment). Words longer
 * than 63 bytes count as far from everything (SIZE_MAX). */
size_t cmdline_edit_distance(const char *a, const char *b);

/* Writes `PROG: MESSAGE` into err (size errlen). Returns EXIT_STATUS_USAGE. */
int cmdline_usage_error(char *err, size_t errlen, const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes `PROG: --NAME: "VALUE" REASON` (value NULL: `PROG: --NAME: REASON`) into err, the
 * value quoted as engine/parse.h's parse_error_line does. Returns EXIT_STATUS_USAGE. */
int cmdline_value_error(char *err, size_t errlen, const char *prog, const char *name,
                        const char *value, const char *reason);

#endif
