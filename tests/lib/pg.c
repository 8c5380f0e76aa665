/* tests/lib/pg.c - throwaway PostgreSQL clusters for tests: runs tests/lib/pgtmp.sh to start and
 * stop them, and small libpq helpers to run SQL and read one value back. */
#include "tests/lib/pg.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define PGTMP_SCRIPT "tests/lib/pgtmp.sh"
#define PGTMP_OUT_MAX 4096
/* Longest wait for pgtmp.sh (initdb and a start bounded by pg_ctl -t 30 take seconds). */
#define PGTMP_SCRIPT_WAIT_MS 180000u

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* keep it one line */
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = (p[1] == '\0') ? '\0' : ' ';
}

/* Runs `sh pgtmp.sh ARGS...` with PGTMP_PASSWORD set to password (or unset); captures stdout and
 * stderr. Returns the exit status (0 success), or -1 when the script could not be run. */
static int run_script(const char *const *args, size_t nargs, const char *password, char *out,
                      size_t outlen, char *errout, size_t errlen)
{
    char script[PGTMP_PATH_MAX];
    if (testenv_src_path(PGTMP_SCRIPT, script, sizeof script) < 0)
        return -1;
    char *argv[8] = {"/bin/sh", script};
    size_t k = 2;
    for (size_t i = 0; i < nargs && k < 7; i++)
        argv[k++] = (char *)args[i];
    argv[k] = NULL;
    char pw[PGTMP_PASSWORD_MAX + 32];
    snprintf(pw, sizeof pw, "PGTMP_PASSWORD=%s", password ? password : "");
    const char *env[] = {password && password[0] ? pw : "PGTMP_PASSWORD", NULL};
    char out_path[64], err_path[64];
    snprintf(out_path, sizeof out_path, "/tmp/pgtmp_script.%d.out", (int)getpid());
    snprintf(err_path, sizeof err_path, "/tmp/pgtmp_script.%d.err", (int)getpid());
    pid_t pid = procs_spawn(argv, out_path, err_path, env);
    int rc = pid > 0 ? procs_wait(pid, PGTMP_SCRIPT_WAIT_MS) : -1;
    char *text = testenv_slurp(out_path), *etext = testenv_slurp(err_path);
    snprintf(out, outlen, "%s", text);
    snprintf(errout, errlen, "%s", etext);
    free(text);
    free(etext);
    unlink(out_path);
    unlink(err_path);
    return rc;
}

static int fill_urls(struct pgtmp *pg)
{
    if (pgtmp_conninfo_db(pg, "postgres", pg->conninfo, sizeof pg->conninfo) < 0)
        return -1;
    return pgtmp_url_db(pg, "postgres", pg->url, sizeof pg->url) < 0 ? -1 : 0;
}

int pgtmp_start_opts(struct pgtmp *pg, const struct pgtmp_options *opts, char *err, size_t errlen)
{
    memset(pg, 0, sizeof *pg);
    const char *password = (opts != NULL && opts->password != NULL) ? opts->password : "";
    if (strlen(password) >= sizeof pg->password) {
        set_err(err, errlen, "pgtmp: password too long");
        return -1;
    }
    char owner[24];
    snprintf(owner, sizeof owner, "%ld", (long)getpid());
    const char *args[] = {"start", "--owner-pid", owner};
    char out[PGTMP_OUT_MAX], errout[PGTMP_OUT_MAX];
    int rc = run_script(args, 3, password, out, sizeof out, errout, sizeof errout);
    if (rc != 0) {
        set_err(err, errlen, "%s", errout[0] ? errout : "pgtmp: could not run " PGTMP_SCRIPT);
        return -1;
    }
    const char *d = strstr(out, "PGTMP_DIR=");
    const char *p = strstr(out, "PGTMP_PORT=");
    unsigned port = 0;
    if (d == NULL || p == NULL || sscanf(p, "PGTMP_PORT=%u", &port) != 1 || port == 0 ||
        port > 65535) {
        set_err(err, errlen, "pgtmp: unexpected output from " PGTMP_SCRIPT ": %s", out);
        return -1;
    }
    d += strlen("PGTMP_DIR=");
    size_t dl = strcspn(d, "\n");
    if (dl == 0 || dl >= sizeof pg->dir) {
        set_err(err, errlen, "pgtmp: bad directory in script output");
        return -1;
    }
    memcpy(pg->dir, d, dl);
    pg->dir[dl] = '\0';
    pg->port = (uint16_t)port;
    snprintf(pg->password, sizeof pg->password, "%s", password);
    pg->running = true;
    if (fill_urls(pg) != 0) {
        pgtmp_stop(pg);
        set_err(err, errlen, "pgtmp: connection string too long");
        return -1;
    }
    return 0;
}

int pgtmp_start(struct pgtmp *pg, char *err, size_t errlen)
{
    return pgtmp_start_opts(pg, NULL, err, errlen);
}

int pgtmp_stop(struct pgtmp *pg)
{
    if (pg == NULL || !pg->running)
        return 0;
    const char *args[] = {"stop", pg->dir};
    char out[PGTMP_OUT_MAX], errout[PGTMP_OUT_MAX];
    int rc = run_script(args, 2, NULL, out, sizeof out, errout, sizeof errout);
    pg->running = false;
    return rc == 0 ? 0 : -1;
}

/* Runs `pgtmp.sh CMD DIR` on pg's cluster. */
static int dir_command(const struct pgtmp *pg, const char *cmd, char *err, size_t errlen)
{
    char out[PGTMP_OUT_MAX], errout[PGTMP_OUT_MAX];
    if (pg == NULL || !pg->running) {
        set_err(err, errlen, "pgtmp: no cluster running");
        return -1;
    }
    const char *args[] = {cmd, pg->dir};
    if (run_script(args, 2, NULL, out, sizeof out, errout, sizeof errout) == 0)
        return 0;
    set_err(err, errlen, "%s", errout[0] ? errout : "pgtmp: could not run " PGTMP_SCRIPT);
    return -1;
}

int pgtmp_pause(const struct pgtmp *pg, char *err, size_t errlen)
{
    return dir_command(pg, "pause", err, errlen);
}

int pgtmp_resume(const struct pgtmp *pg, char *err, size_t errlen)
{
    return dir_command(pg, "resume", err, errlen);
}

int pgtmp_conninfo_db(const struct pgtmp *pg, const char *dbname, char *buf, size_t n)
{
    int len;
    if (pg->password[0] != '\0')
        len = snprintf(buf, n,
                       "host=127.0.0.1 port=%u user=postgres dbname=%s password=%s "
                       "connect_timeout=10",
                       (unsigned)pg->port, dbname, pg->password);
    else
        len = snprintf(buf, n, "host=127.0.0.1 port=%u user=postgres dbname=%s connect_timeout=10",
                       (unsigned)pg->port, dbname);
    return (len < 0 || (size_t)len >= n) ? -1 : len;
}

int pgtmp_url_db(const struct pgtmp *pg, const char *dbname, char *buf, size_t n)
{
    int len = snprintf(buf, n, "postgresql://postgres@127.0.0.1:%u/%s", (unsigned)pg->port, dbname);
    return (len < 0 || (size_t)len >= n) ? -1 : len;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *connect_db(const struct pgtmp *pg, const char *dbname, char *err, size_t errlen)
{
    char ci[PGTMP_CONNINFO_MAX];
    if (pgtmp_conninfo_db(pg, dbname ? dbname : "postgres", ci, sizeof ci) < 0) {
        set_err(err, errlen, "pgtmp: conninfo too long");
        return NULL;
    }
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        set_err(err, errlen, "pgtmp: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    return c;
}

int pgtmp_exec(const struct pgtmp *pg, const char *dbname, const char *sql, char *err,
               size_t errlen)
{
    PGconn *c = connect_db(pg, dbname, err, errlen);
    if (c == NULL)
        return -1;
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_err(err, errlen, "pgtmp: %s", PQresultErrorMessage(r));
        rc = -1;
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

int pgtmp_exec_file(const struct pgtmp *pg, const char *dbname, const char *path, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, errlen, "pgtmp: %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *sql = malloc(cap);
    while (sql != NULL) {
        if (len + 4096 + 1 > cap) {
            char *more = realloc(sql, cap * 2);
            if (more == NULL) {
                free(sql);
                sql = NULL;
                break;
            }
            sql = more;
            cap *= 2;
        }
        size_t r = fread(sql + len, 1, 4096, f);
        len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    if (sql == NULL) {
        set_err(err, errlen, "pgtmp: out of memory reading %s", path);
        return -1;
    }
    sql[len] = '\0';
    int rc = pgtmp_exec(pg, dbname, sql, err, errlen);
    free(sql);
    return rc;
}

int pgtmp_query_i64(const struct pgtmp *pg, const char *dbname, const char *sql, int64_t *out,
                    char *err, size_t errlen)
{
    PGconn *c = connect_db(pg, dbname, err, errlen);
    if (c == NULL)
        return -1;
    PGresult *r = PQexec(c, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 1) {
        set_err(err, errlen, "pgtmp: query did not return one value: %s", PQresultErrorMessage(r));
        rc = -1;
    } else if (PQgetisnull(r, 0, 0)) {
        *out = 0;
        rc = 1;
    } else {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(PQgetvalue(r, 0, 0), &end, 10);
        if (errno != 0 || end == PQgetvalue(r, 0, 0) || *end != '\0') {
            set_err(err, errlen, "pgtmp: not an integer: %s", PQgetvalue(r, 0, 0));
            rc = -1;
        } else {
            *out = (int64_t)v;
        }
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

int pgtmp_create_db(const struct pgtmp *pg, const char *dbname, bool with_schema, char *err,
                    size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", dbname);
    if (pgtmp_exec(pg, "postgres", sql, err, errlen) != 0)
        return -1;
    if (!with_schema)
        return 0;
    char path[PGTMP_PATH_MAX];
    if (testenv_src_path("seed/schema.sql", path, sizeof path) < 0) {
        set_err(err, errlen, "pgtmp: source path too long");
        return -1;
    }
    return pgtmp_exec_file(pg, dbname, path, err, errlen);
}

int pgtmp_run_suite(struct Suite *s, struct pgtmp *pg, bool *up, const char *name)
{
    char err[512];
    *up = pgtmp_start(pg, err, sizeof err) == 0;
    if (!*up)
        fprintf(stderr, "%s: PostgreSQL: %s\n", name, err);
    int rc = testenv_run(s);
    if (*up)
        pgtmp_stop(pg);
    return rc;
}
