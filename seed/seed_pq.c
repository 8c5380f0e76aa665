/* seed/seed_pq.c - the seed's small libpq layer: statements with text parameters, COPY FROM
 * STDIN streaming, and server errors turned into one line with a hint. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed/seed_internal.h"

/* Replaces line breaks and tabs with spaces, squeezes runs of spaces, trims the end. */
static void one_line(char *s)
{
    char *w = s;
    bool space = false;
    for (const char *r = s; *r; r++) {
        char c = (*r == '\n' || *r == '\r' || *r == '\t') ? ' ' : *r;
        if (c == ' ') {
            if (space || w == s)
                continue;
            space = true;
        } else {
            space = false;
        }
        *w++ = c;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

int seed_fail(struct seed_ctx *ctx, const char *fmt, ...)
{
    if (ctx->err != NULL && ctx->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err, ctx->errlen, fmt, ap);
        va_end(ap);
        one_line(ctx->err);
    }
    return -EIO;
}

static const char *hint_for(const char *sqlstate)
{
    if (sqlstate == NULL)
        return NULL;
    if (strcmp(sqlstate, "42501") == 0)
        return "the database user lacks a privilege on certctl's tables";
    if (strcmp(sqlstate, "42P01") == 0 || strcmp(sqlstate, "42703") == 0)
        return "run certctl's migrations first";
    if (strcmp(sqlstate, "23505") == 0)
        return "a row with the same name but another id already exists; fleetsim only adds rows "
               "with its own ids (choose another --fleet-prefix, or remove that row)";
    if (strcmp(sqlstate, "23503") == 0)
        return "rows fleetsim does not own still refer to the fleet";
    if (strcmp(sqlstate, "25006") == 0)
        return "the server is read-only (a standby?)";
    return NULL;
}

int seed_fail_pg(struct seed_ctx *ctx, const PGresult *r, const char *what)
{
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary == NULL) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(ctx->conn));
        one_line(msg);
        if (msg[0] == '\0')
            snprintf(msg, sizeof msg, "lost the connection to the server");
        return seed_fail(ctx, "%s: %s", what, msg);
    }
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = hint_for(PQresultErrorField(r, PG_DIAG_SQLSTATE));
    return seed_fail(ctx, "%s: %s%s%s%s%s%s", what, primary, detail ? " (" : "",
                     detail ? detail : "", detail ? ")" : "", hint ? "; " : "", hint ? hint : "");
}

int seed_sql(struct seed_ctx *ctx, const char *what, const char *sql, int nparams,
             const char *const *params, uint64_t *affected, PGresult **out)
{
    PGresult *r = PQexecParams(ctx->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = seed_fail_pg(ctx, r, what);
        PQclear(r);
        return rc;
    }
    if (affected != NULL) {
        const char *n = PQcmdTuples(r);
        *affected = (n && *n) ? strtoull(n, NULL, 10) : 0;
    }
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return 0;
}

int seed_copy_begin(struct seed_copy *cp, struct seed_ctx *ctx, const char *copy_sql)
{
    cp->ctx = ctx;
    cp->used = 0;
    cp->active = false;
    cp->failed = false;
    PGresult *r = PQexec(ctx->conn, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        int rc = seed_fail_pg(ctx, r, "starting COPY");
        PQclear(r);
        return rc;
    }
    PQclear(r);
    cp->active = true;
    return 0;
}

static int copy_flush(struct seed_copy *cp)
{
    if (cp->used == 0)
        return 0;
    if (PQputCopyData(cp->ctx->conn, cp->buf, (int)cp->used) != 1) {
        cp->failed = true;
        return seed_fail_pg(cp->ctx, NULL, "sending COPY data");
    }
    cp->used = 0;
    return 0;
}

int seed_copy_row(struct seed_copy *cp, const char *row, size_t len)
{
    if (!cp->active || cp->failed)
        return -EIO;
    if (len > sizeof cp->buf) {
        cp->failed = true;
        return seed_fail(cp->ctx, "internal error: COPY row too long");
    }
    if (cp->used + len > sizeof cp->buf) {
        int rc = copy_flush(cp);
        if (rc != 0)
            return rc;
    }
    memcpy(cp->buf + cp->used, row, len);
    cp->used += len;
    return 0;
}

int seed_copy_end(struct seed_copy *cp)
{
    if (!cp->active)
        return cp->failed ? -EIO : 0;
    cp->active = false;
    bool failed = cp->failed || copy_flush(cp) != 0;
    int rc = failed ? -EIO : 0;
    if (PQputCopyEnd(cp->ctx->conn, failed ? "aborted by fleetsim" : NULL) != 1 && !failed)
        rc = seed_fail_pg(cp->ctx, NULL, "ending COPY");
    PGresult *r;
    while ((r = PQgetResult(cp->ctx->conn)) != NULL) {
        if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = seed_fail_pg(cp->ctx, r, "COPY");
        PQclear(r);
    }
    return rc;
}
