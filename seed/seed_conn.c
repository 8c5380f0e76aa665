/* seed/seed_conn.c - connecting to certctl's database for the seed, with one-line errors that
 * say what failed (unreachable, authentication, missing database) and never show a password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed/seed.h"

/* Applied unless the connection string sets its own. */
#define SEED_CONNECT_TIMEOUT_S "10"
#define SEED_APPLICATION_NAME "fleetsim-seed"

static const char *effective_db(const char *db)
{
    if (db != NULL && db[0] != '\0')
        return db;
    const char *env = getenv("DATABASE_URL");
    return env != NULL ? env : "";
}

/* Appends "key part" of a redacted URL. */
static void url_add(char *buf, size_t n, const char *fmt, const char *value)
{
    size_t used = strlen(buf);
    if (used < n)
        snprintf(buf + used, n - used, fmt, value);
}

static void format_display(char *buf, size_t n, const char *user, const char *host,
                           const char *port, const char *dbname)
{
    snprintf(buf, n, "postgresql://");
    if (user != NULL && user[0] != '\0')
        url_add(buf, n, "%s@", user);
    url_add(buf, n, "%s", (host != NULL && host[0] != '\0') ? host : "(default host)");
    if (port != NULL && port[0] != '\0')
        url_add(buf, n, ":%s", port);
    if (dbname != NULL && dbname[0] != '\0')
        url_add(buf, n, "/%s", dbname);
}

int seed_redact_db(const char *db, char *buf, size_t n)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(effective_db(db), &errmsg);
    if (opts == NULL) {
        PQfreemem(errmsg); /* may quote parts of the string: never shown */
        snprintf(buf, n, "(invalid connection string)");
        return -EINVAL;
    }
    const char *user = NULL, *host = NULL, *hostaddr = NULL, *port = NULL, *dbname = NULL;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL)
            continue;
        if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            hostaddr = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            dbname = o->val;
    }
    format_display(buf, n, user, host ? host : hostaddr, port, dbname);
    PQconninfoFree(opts);
    return 0;
}

/* Overwrites every occurrence of secret in s with '*' (same length). */
static void scrub(char *s, const char *secret)
{
    if (secret == NULL || secret[0] == '\0')
        return;
    size_t len = strlen(secret);
    for (char *p = strstr(s, secret); p != NULL; p = strstr(p + len, secret))
        memset(p, '*', len);
}

static void one_line(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        char c = (*r == '\n' || *r == '\r' || *r == '\t') ? ' ' : *r;
        if (c == ' ' && (w == s || w[-1] == ' '))
            continue;
        *w++ = c;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

static const char *connect_hint(const char *msg)
{
    if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied") ||
        strstr(msg, "authentication failed") || strstr(msg, "password is required"))
        return "check the user name and the password (PGPASSWORD or ~/.pgpass)";
    if (strstr(msg, "does not exist"))
        return "check the database and user names in --db";
    if (strstr(msg, "no pg_hba.conf entry"))
        return "the server does not accept this client, user or database (pg_hba.conf)";
    if (strstr(msg, "Is the server running"))
        return NULL; /* libpq said it already */
    if (strstr(msg, "Connection refused") || strstr(msg, "could not connect") ||
        strstr(msg, "timeout expired") || strstr(msg, "could not translate host name") ||
        strstr(msg, "No such file or directory") || strstr(msg, "No route to host"))
        return "is PostgreSQL running there, and is --db (or PGHOST/PGPORT) right?";
    return NULL;
}

PGconn *seed_connect(const char *db, char *err, size_t errlen)
{
    const char *eff = effective_db(db);
    char display[512];
    if (seed_redact_db(eff, display, sizeof display) != 0) {
        snprintf(err, errlen,
                 "the database connection string does not parse (expected a "
                 "postgresql:// URL or libpq key=value pairs)");
        return NULL;
    }
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {SEED_CONNECT_TIMEOUT_S, SEED_APPLICATION_NAME, eff, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL) {
        snprintf(err, errlen, "cannot connect to the database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) == CONNECTION_OK)
        return conn;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
    one_line(msg);
    scrub(msg, PQpass(conn));
    scrub(msg, getenv("PGPASSWORD"));
    /* what libpq actually used (environment included), still without the password */
    format_display(display, sizeof display, PQuser(conn), PQhost(conn), PQport(conn), PQdb(conn));
    const char *hint = connect_hint(msg);
    snprintf(err, errlen, "cannot connect to the database %s: %s%s%s", display, msg,
             hint ? "; " : "", hint ? hint : "");
    scrub(err, PQpass(conn));
    PQfinish(conn);
    return NULL;
}
