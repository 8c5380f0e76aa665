/* engine/cmdline.c - the command-line parser of every program (see cmdline.h): walks argv
 * once, long options spelled out in full, bundled one-letter flags, "--", built-in help and
 * version, and the one-line usage errors. The suggestions live in cmdline_suggest.c. */
#include "engine/cmdline.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/exit_status.h"
#include "engine/parse.h"

/* Longest option name shown in an error, bytes. */
#define SHOWN_MAX 64
/* Longest reason a handler writes (scenario files' lines are long). */
#define REASON_MAX 1024

/* The value a flag's handler gets, and the one an option's handler is asked about for the
 * message of a missing value: static, as a handler may keep the pointer (handlers never
 * write into an empty value). */
static char empty_value[1];

/* One parse: the table, the caller's context and where the result goes. */
struct parse_state {
    const struct cmdline_spec *spec;
    void *ctx;
    struct cmdline_result *res;
    char *err;
    size_t errlen;
};

int cmdline_usage_error(char *err, size_t errlen, const char *prog, const char *fmt, ...)
{
    if (err && errlen) {
        int w = snprintf(err, errlen, "%s: ", prog);
        va_list ap;
        va_start(ap, fmt);
        if (w >= 0 && (size_t)w < errlen)
            vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
        va_end(ap);
    }
    return EXIT_STATUS_USAGE;
}

int cmdline_value_error(char *err, size_t errlen, const char *prog, const char *name,
                        const char *value, const char *reason)
{
    char opt[SHOWN_MAX + 2];
    snprintf(opt, sizeof(opt), "--%s", name);
    parse_error_line(err, errlen, prog, opt, value, reason);
    return EXIT_STATUS_USAGE;
}

/* The option whose long name is name[0..len), or NULL. */
static const struct cmdline_opt *find_long(const struct cmdline_spec *spec, const char *name,
                                           size_t len)
{
    for (size_t i = 0; i < spec->n_opts; i++) {
        const struct cmdline_opt *o = &spec->opts[i];
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

/* The option whose one-letter form is c, or NULL. */
static const struct cmdline_opt *find_short(const struct cmdline_spec *spec, char c)
{
    for (size_t i = 0; i < spec->n_opts; i++) {
        if (spec->opts[i].short_name == c)
            return &spec->opts[i];
    }
    return NULL;
}

/* `unknown option "--word" (did you mean --x? see PROG --help)`; word is the element as
 * given (a value after '=' left out). */
static int unknown_long(struct parse_state *st, const char *word, size_t len)
{
    const char *prog = st->spec->prog;
    char shown[SHOWN_MAX], name[SHOWN_MAX], hint[256];
    snprintf(shown, sizeof(shown), "--%.*s", (int)len, word);
    snprintf(name, sizeof(name), "%.*s", (int)len, word);
    if (cmdline_suggest(st->spec, name, hint, sizeof(hint)) > 0)
        return cmdline_usage_error(st->err, st->errlen, prog,
                                   "unknown option \"%s\" (did you mean %s? see %s --help)", shown,
                                   hint, prog);
    return cmdline_usage_error(st->err, st->errlen, prog, "unknown option \"%s\" (see %s --help)",
                               shown, prog);
}

/* The error for a handler's verdict rc on arg. */
static int bad_value(struct parse_state *st, const struct cmdline_opt *o, int rc, const char *arg,
                     const char *reason)
{
    const char *prog = st->spec->prog;
    if (rc == CMDLINE_BAD_LINE)
        return cmdline_usage_error(st->err, st->errlen, prog, "%s", reason);
    if (rc == CMDLINE_BAD_HIDDEN)
        return cmdline_value_error(st->err, st->errlen, prog, o->name, NULL, reason);
    if (rc == CMDLINE_BAD_REDACTED) {
        char shown[PARSE_PATH_MAX];
        parse_url_redact(arg, shown, sizeof(shown));
        return cmdline_value_error(st->err, st->errlen, prog, o->name, shown, reason);
    }
    return cmdline_value_error(st->err, st->errlen, prog, o->name, arg, reason);
}

/* Records one occurrence of o and runs its handler on arg. */
static int apply(struct parse_state *st, const struct cmdline_opt *o, char *arg)
{
    uint64_t bit = 1ULL << o->id;
    if ((st->res->given & bit) && !o->repeatable)
        return cmdline_usage_error(st->err, st->errlen, st->spec->prog,
                                   "--%s: given more than once (expected it at most once)",
                                   o->name);
    st->res->given |= bit;
    char reason[REASON_MAX] = "";
    int rc = o->handler(st->ctx, o->id, arg, reason, sizeof(reason));
    return rc == CMDLINE_OK ? 0 : bad_value(st, o, rc, arg, reason);
}

/* `--NAME: missing value (expected ...)`, the tail from the handler's answer to "". */
static int missing_value(struct parse_state *st, const struct cmdline_opt *o)
{
    char reason[REASON_MAX] = "";
    empty_value[0] = '\0';
    o->handler(st->ctx, o->id, empty_value, reason, sizeof(reason));
    const char *expect = strstr(reason, "(expected");
    char see[128];
    snprintf(see, sizeof(see), "(see %s --help)", st->spec->prog);
    return cmdline_usage_error(st->err, st->errlen, st->spec->prog, "--%s: missing value %s",
                               o->name, expect ? expect : see);
}

/* -h/--help and -V/--version: true (with the action set) when c or name is one of them. */
static bool builtin(struct parse_state *st, char c, const char *name, size_t len)
{
    bool help = c ? c == 'h' : (len == 4 && strncmp(name, "help", 4) == 0);
    bool version =
        st->spec->has_version && (c ? c == 'V' : (len == 7 && strncmp(name, "version", 7) == 0));
    if (help)
        st->res->action = CMDLINE_ACTION_HELP;
    else if (version)
        st->res->action = CMDLINE_ACTION_VERSION;
    return help || version;
}

/* argv[*i] is "--name[=value]"; a separate value advances *i. */
static int long_option(struct parse_state *st, int argc, char **argv, int *i)
{
    char *name = argv[*i] + 2;
    size_t len = strcspn(name, "=");
    char *eq = name[len] == '=' ? name + len + 1 : NULL;
    const char *prog = st->spec->prog;
    if (builtin(st, 0, name, len)) {
        if (eq)
            return cmdline_usage_error(st->err, st->errlen, prog, "--%.*s: takes no value",
                                       (int)len, name);
        return 0;
    }
    const struct cmdline_opt *o = find_long(st->spec, name, len);
    if (!o)
        return unknown_long(st, name, len);
    if (!o->takes_value) {
        if (eq)
            return cmdline_usage_error(st->err, st->errlen, prog,
                                       "--%s: takes no value (expected --%s alone)", o->name,
                                       o->name);
        return apply(st, o, empty_value);
    }
    if (eq)
        return apply(st, o, eq);
    if (*i + 1 >= argc)
        return missing_value(st, o);
    *i += 1;
    return apply(st, o, argv[*i]);
}

/* argv[*i] is "-abc": one-letter options, the last may take a value (the rest of the word,
 * else the next one). */
static int short_options(struct parse_state *st, int argc, char **argv, int *i)
{
    char *w = argv[*i];
    for (size_t k = 1; w[k]; k++) {
        if (builtin(st, w[k], NULL, 0))
            return 0;
        const struct cmdline_opt *o = find_short(st->spec, w[k]);
        if (!o)
            return cmdline_usage_error(st->err, st->errlen, st->spec->prog,
                                       "unknown option \"-%c\" (see %s --help)", w[k],
                                       st->spec->prog);
        if (!o->takes_value) {
            int rc = apply(st, o, empty_value);
            if (rc != 0)
                return rc;
            continue;
        }
        if (w[k + 1])
            return apply(st, o, w + k + 1);
        if (*i + 1 >= argc)
            return missing_value(st, o);
        *i += 1;
        return apply(st, o, argv[*i]);
    }
    return 0;
}

/* A word that is not an option. */
static int operand(struct parse_state *st, char *arg)
{
    const struct cmdline_spec *spec = st->spec;
    if (!spec->operand) {
        char see[128];
        snprintf(see, sizeof(see), "(expected only options; see %s --help)", spec->prog);
        parse_error_line(st->err, st->errlen, spec->prog, "unexpected argument", arg, see);
        return EXIT_STATUS_USAGE;
    }
    char reason[REASON_MAX] = "";
    int rc = spec->operand(st->ctx, arg, reason, sizeof(reason));
    if (rc == CMDLINE_OK)
        return 0;
    if (rc == CMDLINE_BAD_LINE)
        return cmdline_usage_error(st->err, st->errlen, spec->prog, "%s", reason);
    parse_error_line(st->err, st->errlen, spec->prog, arg, NULL, reason);
    return EXIT_STATUS_USAGE;
}

int cmdline_parse(const struct cmdline_spec *spec, int argc, char **argv, void *ctx,
                  struct cmdline_result *res, char *err, size_t errlen)
{
    struct parse_state st = {spec, ctx, res, err, errlen};
    memset(res, 0, sizeof(*res));
    if (err && errlen)
        err[0] = '\0';
    bool operands_only = false;
    for (int i = 1; i < argc && res->action == CMDLINE_ACTION_RUN; i++) {
        char *w = argv[i];
        int rc;
        if (operands_only || w[0] != '-' || w[1] == '\0') {
            rc = operand(&st, w);
        } else if (strcmp(w, "--") == 0) {
            operands_only = true;
            rc = 0;
        } else if (w[1] == '-') {
            rc = long_option(&st, argc, argv, &i);
        } else {
            rc = short_options(&st, argc, argv, &i);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}
