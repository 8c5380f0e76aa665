/* seed/seed_internal.h - what the seed's source files share and nothing outside seed/ uses: the
 * per-run context (fleet ids and id-shape regexes) and small libpq helpers with one-line errors. */
#ifndef FLEETSIM_SEED_SEED_PRIVATE_H
#define FLEETSIM_SEED_SEED_PRIVATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "seed/seed.h"

/* Longest id-shape regex: "^tgt-" + prefix + "-[0-9]+$". */
#define SEED_REGEX_MAX (IDENTITY_PREFIX_MAX + 16)

/* One run's context. */
struct seed_ctx {
    PGconn *conn;
    const struct seed_options *o;
    const char *prefix;
    const char *issuer_id;
    char team_id[IDENTITY_NAME_MAX], owner_id[IDENTITY_NAME_MAX], policy_id[IDENTITY_NAME_MAX];
    char re_agent[SEED_REGEX_MAX], re_target[SEED_REGEX_MAX], re_cert[SEED_REGEX_MAX];
    struct seed_result *res;
    char *err;
    size_t errlen;
};

/* Writes a one-line message into ctx->err and returns -EIO. */
int seed_fail(struct seed_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "WHAT: <server message> (<detail>)[; hint]" for a failed result into ctx->err and
 * returns -EIO. r may be NULL (the connection's error is used). */
int seed_fail_pg(struct seed_ctx *ctx, const PGresult *r, const char *what);

/* Runs sql with text parameters (nparams may be 0). On success returns 0 and, when affected is
 * not NULL, the row count the command reported; when out is not NULL the result is handed over
 * (caller PQclear()s it), else it is cleared. On failure returns -EIO via seed_fail_pg. */
int seed_sql(struct seed_ctx *ctx, const char *what, const char *sql, int nparams,
             const char *const *params, uint64_t *affected, PGresult **out);

/* Streams rows into "COPY table FROM STDIN" (text format). Call seed_copy_begin, then
 * seed_copy_row for each row (already tab-separated, newline-terminated), then always
 * seed_copy_end (a no-op when begin failed; aborts the COPY after a failed row, keeping the
 * first error message). Each returns 0 or -EIO. */
struct seed_copy {
    struct seed_ctx *ctx;
    char buf[65536];
    size_t used;
    bool active; /* COPY started and not ended */
    bool failed; /* a row could not be sent: end aborts the COPY */
};
int seed_copy_begin(struct seed_copy *cp, struct seed_ctx *ctx, const char *copy_sql);
int seed_copy_row(struct seed_copy *cp, const char *row, size_t len);
int seed_copy_end(struct seed_copy *cp);

/* The three actions; each runs inside the transaction seed_run opened. */
int seed_do_create(struct seed_ctx *ctx);
int seed_do_reset(struct seed_ctx *ctx);
int seed_do_clean(struct seed_ctx *ctx);

#endif
