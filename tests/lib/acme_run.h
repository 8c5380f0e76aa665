/* tests/lib/acme_run.h - running a group of ACME client actors (sim/acme.h) to its end in a
 * Check test, with the checks every such test makes, and keeping the certificate chains the
 * actors download. */
#ifndef FLEETSIM_TESTS_LIB_ACME_RUN_H
#define FLEETSIM_TESTS_LIB_ACME_RUN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/metrics.h"
#include "sim/acme.h"

#define ACME_RUN_MAX_CERTS 256

/* Certificate chains the actors downloaded (acme_config.on_cert, called from loop threads). */
struct acme_run_certs {
    pthread_mutex_t mu;
    char *pem[ACME_RUN_MAX_CERTS]; /* malloc'd copies */
    uint32_t actor[ACME_RUN_MAX_CERTS];
    size_t n;
};

void acme_run_certs_init(struct acme_run_certs *c);
/* acme_config.on_cert with arg a struct acme_run_certs: keeps a copy of the first
 * ACME_RUN_MAX_CERTS chains and the actor of each. */
void acme_run_keep_cert(void *arg, uint32_t actor, const char *pem, size_t len);
void acme_run_certs_free(struct acme_run_certs *c);

/* Makes a group from cfg, starts it, waits up to limit_ns for every actor to finish, stops and
 * joins it, and collects its metrics (*m, a new registry the caller frees), counters (*k) and
 * request accounting (*acc). The test fails unless the group was made and started, finished in
 * time (else with the message stuck), its accounting balances with the requests it abandoned in
 * flight, and every started iteration ended once (completed, failed or abandoned). Returns the
 * group (the caller frees it). */
struct acme_group *acme_run_go(const struct acme_config *cfg, uint64_t limit_ns, const char *stuck,
                               struct metrics **m, struct acme_counters *k,
                               struct metrics_accounting *acc);

#endif
