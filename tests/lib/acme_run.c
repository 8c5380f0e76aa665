/* tests/lib/acme_run.c - an ACME client group run to its end in a Check test (see
 * acme_run.h). */
#include "tests/lib/acme_run.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"

/* How often the test thread looks whether the actors are done. */
#define FINISHED_POLL_US 5000

void acme_run_certs_init(struct acme_run_certs *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void acme_run_keep_cert(void *arg, uint32_t actor, const char *pem, size_t len)
{
    struct acme_run_certs *c = arg;
    pthread_mutex_lock(&c->mu);
    if (c->n < ACME_RUN_MAX_CERTS && (c->pem[c->n] = strndup(pem, len)))
        c->actor[c->n++] = actor;
    pthread_mutex_unlock(&c->mu);
}

void acme_run_certs_free(struct acme_run_certs *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->pem[i]);
    c->n = 0;
    pthread_mutex_destroy(&c->mu);
}

struct acme_group *acme_run_go(const struct acme_config *cfg, uint64_t limit_ns, const char *stuck,
                               struct metrics **m, struct acme_counters *k,
                               struct metrics_accounting *acc)
{
    char err[200];
    struct acme_group *g = acme_group_new(cfg, err, sizeof err);
    ck_assert_msg(g != NULL, "%s", err);
    uint64_t t0 = clock_now_ns();
    ck_assert_int_eq(acme_group_start(g, t0), 0);
    while (!acme_group_finished(g) && clock_now_ns() - t0 < limit_ns)
        usleep(FINISHED_POLL_US);
    bool finished = acme_group_finished(g);
    acme_group_stop(g);
    acme_group_join(g);
    *m = metrics_new(false);
    ck_assert_ptr_nonnull(*m);
    ck_assert_int_eq(acme_group_metrics_merge(g, *m), 0);
    acme_group_counters(g, k);
    ck_assert_msg(finished, "%s", stuck);
    metrics_accounting(*m, acc);
    ck_assert(metrics_accounting_balanced(acc, acme_group_in_flight(g)));
    ck_assert_uint_eq(k->started, k->completed + k->failed + k->abandoned);
    return g;
}
