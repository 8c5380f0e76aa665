/* tests/lib/store_cases.h - the store's behavioural test cases, written once and run against
 * every backend: check_store_mem (memory) and check_store_pg (a throwaway PostgreSQL). */
#ifndef FLEETSIM_TESTS_STORE_CASES_H
#define FLEETSIM_TESTS_STORE_CASES_H

#include <check.h>

#include "refserver/store.h"

/* How a test gets a fresh, empty store of one backend. open() receives a config already set
 * up (fake clock, bulk_clamp); it fills in what the backend needs (db_url) and returns
 * store_new's result, failing the test itself when it cannot. */
struct store_backend {
    const char *name;
    struct store *(*open)(struct store_config *cfg);
};

/* Adds the shared cases to s as one TCase named after the backend, with timeout_s per test. */
void store_cases_add(Suite *s, const struct store_backend *b, double timeout_s);

#endif
