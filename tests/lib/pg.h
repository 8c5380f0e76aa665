/* tests/lib/pg.h - start and stop a throwaway PostgreSQL cluster for tests (data dir under /tmp,
 * 127.0.0.1 on an ephemeral port, fsync off), run SQL on it and read single values back.
 * The work is done by tests/lib/pgtmp.sh (also usable from shell scripts and benches). */
#ifndef FLEETSIM_TESTS_LIB_PG_H
#define FLEETSIM_TESTS_LIB_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGTMP_PATH_MAX 256
#define PGTMP_CONNINFO_MAX 512
#define PGTMP_PASSWORD_MAX 64

/* A running throwaway cluster. Fill nothing in: pgtmp_start writes every field. */
struct pgtmp {
    char dir[PGTMP_PATH_MAX];          /* /tmp/pgtmp.XXXXXX: data/, server.log, socket */
    uint16_t port;                     /* TCP port on 127.0.0.1 */
    char password[PGTMP_PASSWORD_MAX]; /* "" for trust auth, else the postgres user's password */
    char conninfo[PGTMP_CONNINFO_MAX]; /* "host=127.0.0.1 port=N user=postgres dbname=postgres"
                                             (+ " password=..." when password is set) */
    char url[PGTMP_CONNINFO_MAX]; /* postgresql://postgres@127.0.0.1:N/postgres (no password) */
    bool running;
};

/* Options for pgtmp_start_opts. */
struct pgtmp_options {
    const char *password; /* NULL or "": trust authentication; else scram-sha-256 with this
                             password for user postgres (the password is kept in struct pgtmp) */
};

/* Starts a cluster with trust authentication (initdb + pg_ctl start as user postgres when run as
 * root, ~1.5 s). Database "postgres" exists. A watchdog stops the cluster and removes its dir if
 * this process dies without pgtmp_stop. Returns 0, or -1 with a one-line reason in err. */
int pgtmp_start(struct pgtmp *pg, char *err, size_t errlen);

/* As pgtmp_start, with options (password authentication). */
int pgtmp_start_opts(struct pgtmp *pg, const struct pgtmp_options *opts, char *err, size_t errlen);

/* Stops the cluster (immediate mode) and removes its directory. Safe to call twice or on a
 * cluster that never started. Returns 0, or -1 when pg_ctl stop failed. */
int pgtmp_stop(struct pgtmp *pg);

/* Stops the server (fast shutdown: its clients are disconnected) and keeps its data, so that
 * pgtmp_resume starts it again on the same port: a restart as clients see it. Returns 0, or -1
 * with a one-line reason in err. */
int pgtmp_pause(const struct pgtmp *pg, char *err, size_t errlen);

/* Starts a paused server again. Returns 0, or -1 with a one-line reason in err. */
int pgtmp_resume(const struct pgtmp *pg, char *err, size_t errlen);

/* Writes a conninfo string for database dbname on this cluster into buf (size n), including the
 * password when the cluster has one. Returns the length, or -1 when it does not fit. */
int pgtmp_conninfo_db(const struct pgtmp *pg, const char *dbname, char *buf, size_t n);

/* Writes a URL "postgresql://postgres@127.0.0.1:PORT/dbname" (never with the password) into buf
 * (size n). Returns the length, or -1 when it does not fit. */
int pgtmp_url_db(const struct pgtmp *pg, const char *dbname, char *buf, size_t n);

/* Runs sql (one or more statements, as PQexec does) on database dbname (NULL = "postgres").
 * Returns 0, or -1 with the server's message in err. */
int pgtmp_exec(const struct pgtmp *pg, const char *dbname, const char *sql, char *err,
               size_t errlen);

/* Runs the SQL in file path (e.g. seed/schema.sql) on dbname in one PQexec. Returns 0 or -1. */
int pgtmp_exec_file(const struct pgtmp *pg, const char *dbname, const char *path, char *err,
                    size_t errlen);

/* Runs a query returning one row of one column and parses it as an integer into *out (NULL
 * value reads as 0 and returns 1). Returns 0, 1 (NULL), or -1 with the reason in err. */
int pgtmp_query_i64(const struct pgtmp *pg, const char *dbname, const char *sql, int64_t *out,
                    char *err, size_t errlen);

/* Creates database dbname (CREATE DATABASE) and loads seed/schema.sql from $top_srcdir into it
 * when with_schema. Returns 0 or -1. */
int pgtmp_create_db(const struct pgtmp *pg, const char *dbname, bool with_schema, char *err,
                    size_t errlen);

struct Suite; /* Check's suite (check.h) */

/* Runs the Check suite s (tests/lib/testenv.h) with a cluster in pg started before its (forked)
 * tests and stopped after; *up tells the tests whether it runs (when it could not start, the
 * reason goes to stderr after name). Returns as testenv_run. */
int pgtmp_run_suite(struct Suite *s, struct pgtmp *pg, bool *up, const char *name);

#endif
