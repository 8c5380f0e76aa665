/* tests/lib/store_cases_internal.h - helpers shared by the two halves of the store's behavioural
 * cases (store_cases.c, store_cases_cert.c). Test-only. */
#ifndef FLEETSIM_TESTS_STORE_CASES_INT_H
#define FLEETSIM_TESTS_STORE_CASES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/lib/store_cases.h"

/* 2030-01-01T00:00:00Z: later than any real "now", so rows the store dates itself sort after
 * rows PostgreSQL seeding dates with now(), as in the memory store. */
#define T0_NS (1893456000LL * 1000000000LL)
#define DAY_S 86400LL
#define P "loadtest"

/* The fake wall clock every test store reads (ns); open_store resets it to T0_NS. */
extern int64_t fake_now_ns;

/* A fresh empty store of the backend under test (bulk_clamp as given). */
struct store *sc_open_store(bool clamp);
/* A store holding agents 1..n_agents and certs 1..n_certs of fleet "loadtest" (run seed 7). */
struct store *sc_seeded(int n_agents, int n_certs, bool clamp);
/* JSON field access; jint fails the test when the key is missing. */
const char *sc_jstr(json_object *o, const char *key);
int64_t sc_jint(json_object *o, const char *key);
bool sc_jhas(json_object *o, const char *key);
/* Seconds since the epoch of an RFC 3339 UTC time (fraction ignored). */
int64_t sc_rfc3339_s(const char *t);
/* Ids of fleet "loadtest" (rotating static buffers: up to 4 live at once). */
char *sc_agent_id(int i);
char *sc_cert_id(int j);
/* Polls agent; returns the item count and keeps the array in *items_out when not NULL. */
int sc_poll_n(struct store *s, const char *agent, json_object **items_out);
/* A job's status into buf. */
const char *sc_job_status(struct store *s, const char *job_id, char *buf, size_t n);
/* An issued certificate with fingerprint fp expiring at not_after_s. */
void sc_issued(struct store_issued_cert *ic, const char *fp, int64_t not_after_s);
/* Adds part 2's tests to tc. */
void store_cases_add_certs(TCase *tc);

#endif
