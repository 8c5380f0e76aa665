/* refserver/store_pg_conn.c - the PostgreSQL backend's connection: statements prepared on each
 * new session, a lost connection (the server restarted, the backend was terminated) detected
 * at the next request and re-established with back-off (100 ms doubling to 5 s between
 * attempts), as certctl's pool reconnects; while it is down the target answers 503 and /ready
 * says so (docs/target.md). */
#include <stdio.h>
#include <string.h>

#include "engine/clock.h"
#include "refserver/store_pg.h"

#define RECONNECT_FIRST_MS 100
#define RECONNECT_MAX_MS 5000
#define NS_PER_MS 1000000ULL

void pg_first_line(const char *msg, char *err, size_t errlen)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    snprintf(err, errlen, "%.*s", (int)n, msg ? msg : "");
}

int pg_prepare_all(PGconn *conn, char *err, size_t errlen)
{
    PGresult *r;
    for (int i = 0; i < PG_STMT_COUNT; i++) {
        r = PQprepare(conn, pg_stmts[i].name, pg_stmts[i].sql, pg_stmts[i].nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            char line[256];
            pg_first_line(PQresultErrorMessage(r), line, sizeof(line));
            snprintf(err, errlen,
                     "database does not have certctl's tables (load seed/schema.sql or run "
                     "certctl's migrations): %s",
                     line);
            PQclear(r);
            return -1;
        }
        PQclear(r);
    }
    return 0;
}

/* One attempt to re-establish the session, unless the back-off says not yet. */
static bool reconnect(struct pg *pg)
{
    uint64_t now_ms = clock_now_ns() / NS_PER_MS;
    char err[256];
    if (pg->backoff_ms != 0 && now_ms < pg->retry_at_ms)
        return false;
    PQreset(pg->conn);
    if (PQstatus(pg->conn) == CONNECTION_OK && pg_prepare_all(pg->conn, err, sizeof err) == 0) {
        pg->backoff_ms = 0;
        pg->reconnects++;
        return true;
    }
    pg->backoff_ms = pg->backoff_ms == 0                     ? RECONNECT_FIRST_MS
                     : pg->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS
                                                             : pg->backoff_ms * 2;
    pg->retry_at_ms = now_ms + pg->backoff_ms;
    return false;
}

bool pg_available(struct store *s, bool probe)
{
    struct pg *pg = s->be;
    if (pg->in_tx)
        return PQstatus(pg->conn) == CONNECTION_OK;
    /* Reading what is pending notices a connection the server closed: the first read takes
     * its farewell message (e.g. "terminating connection due to administrator command"), the
     * second meets the end of the stream. On an idle session both find nothing. */
    bool ok = PQstatus(pg->conn) == CONNECTION_OK && PQconsumeInput(pg->conn) == 1 &&
              PQconsumeInput(pg->conn) == 1 && PQstatus(pg->conn) == CONNECTION_OK;
    if (ok && probe) {
        PGresult *r = PQexec(pg->conn, "SELECT 1");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    return ok || (PQstatus(pg->conn) != CONNECTION_OK && reconnect(pg));
}

bool pg_recovered(struct store *s)
{
    struct pg *pg = s->be;
    return PQstatus(pg->conn) == CONNECTION_BAD && !pg->in_tx && reconnect(pg);
}
