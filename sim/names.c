/* sim/names.c - the table of actors, endpoints and actor metrics (see names.h) and their
 * registration with the engine. */
#include "sim/names.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "engine/metric_names.h"
#include "sim/operator.h"

struct endpoint_def {
    const char *name;
    const char *actor;
};

static const struct endpoint_def endpoints[SIM_EP_COUNT] = {
    [SIM_EP_HEARTBEAT] = {SIM_EP_NAME_HEARTBEAT, SIM_ACTOR_AGENT},
    [SIM_EP_WORK] = {SIM_EP_NAME_WORK, SIM_ACTOR_AGENT},
    [SIM_EP_CSR] = {SIM_EP_NAME_CSR, SIM_ACTOR_AGENT},
    [SIM_EP_JOB_STATUS] = {SIM_EP_NAME_JOB_STATUS, SIM_ACTOR_AGENT},
    [SIM_EP_CERT_FETCH] = {SIM_EP_NAME_CERT_FETCH, SIM_ACTOR_AGENT},
    [SIM_EP_VERIFY] = {SIM_EP_NAME_VERIFY, SIM_ACTOR_AGENT},
    [SIM_EP_REGISTER] = {SIM_EP_NAME_REGISTER, SIM_ACTOR_AGENT},
    [SIM_EP_BULK_RENEW] = {SIM_EP_NAME_BULK_RENEW, SIM_ACTOR_OPERATOR},
    [SIM_EP_CERT_LIST] = {SIM_EP_NAME_CERT_LIST, SIM_ACTOR_OPERATOR},
    [SIM_EP_ACME_DIRECTORY] = {SIM_EP_NAME_ACME_DIRECTORY, SIM_ACTOR_ACME},
    [SIM_EP_ACME_NONCE] = {SIM_EP_NAME_ACME_NONCE, SIM_ACTOR_ACME},
    [SIM_EP_ACME_ACCOUNT] = {SIM_EP_NAME_ACME_ACCOUNT, SIM_ACTOR_ACME},
    [SIM_EP_ACME_ORDER] = {SIM_EP_NAME_ACME_ORDER, SIM_ACTOR_ACME},
    [SIM_EP_ACME_AUTHZ] = {SIM_EP_NAME_ACME_AUTHZ, SIM_ACTOR_ACME},
    [SIM_EP_ACME_CHALLENGE] = {SIM_EP_NAME_ACME_CHALLENGE, SIM_ACTOR_ACME},
    [SIM_EP_ACME_FINALIZE] = {SIM_EP_NAME_ACME_FINALIZE, SIM_ACTOR_ACME},
    [SIM_EP_ACME_CERT] = {SIM_EP_NAME_ACME_CERT, SIM_ACTOR_ACME},
    [SIM_EP_ACME_RENEWAL_INFO] = {SIM_EP_NAME_ACME_RENEWAL_INFO, SIM_ACTOR_ACME},
};

struct metric_def {
    const char *name;
    enum metrics_kind kind;
    const char *extra_tag;
    const char *actor;
};

static const struct metric_def metrics[] = {
    {METRIC_CAMPAIGN_DURATION, METRICS_TREND, NULL, SIM_ACTOR_OPERATOR},
    {METRIC_AGENT_BUSY, METRICS_TREND, NULL, SIM_ACTOR_AGENT},
    {METRIC_ACME_RATE_LIMIT_SHAPE_OK, METRICS_RATE, NULL, SIM_ACTOR_ACME},
    {METRIC_ACME_ORDERS_COMPLETED, METRICS_COUNTER, NULL, SIM_ACTOR_ACME},
    {METRIC_ACME_PROBLEMS, METRICS_COUNTER, SIM_TAG_PROBLEM, SIM_ACTOR_ACME},
    {OPERATOR_M_MATCHED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_ENQUEUED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_SKIPPED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_FAILED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_CAMPAIGN_RENEWED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_CAMPAIGN_PENDING, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_CAMPAIGN_SKIPPED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
    {OPERATOR_M_CAMPAIGN_FAILED, METRICS_COUNTER, NULL, SIM_ACTOR_OPERATOR},
};

static const char *const actors[] = {SIM_ACTOR_AGENT, SIM_ACTOR_OPERATOR, SIM_ACTOR_ACME};

const char *sim_endpoint_name(enum sim_endpoint ep)
{
    return (unsigned)ep < SIM_EP_COUNT ? endpoints[ep].name : "other";
}

const char *sim_endpoint_actor(enum sim_endpoint ep)
{
    return (unsigned)ep < SIM_EP_COUNT ? endpoints[ep].actor : NULL;
}

/* Registers one actor of the table with its endpoints and metrics. */
static int register_actor(const char *actor)
{
    int rc = metric_names_add_actor(actor);
    for (size_t i = 0; rc == 0 && i < SIM_EP_COUNT; i++)
        if (strcmp(endpoints[i].actor, actor) == 0)
            rc = metric_names_add_endpoint(endpoints[i].name);
    for (size_t i = 0; rc == 0 && i < sizeof metrics / sizeof metrics[0]; i++)
        if (strcmp(metrics[i].actor, actor) == 0)
            rc = metric_names_add_metric(metrics[i].name, metrics[i].kind, metrics[i].extra_tag);
    return rc;
}

int sim_names_register(const char *actor)
{
    bool known = false;
    for (size_t i = 0; i < sizeof actors / sizeof actors[0]; i++) {
        if (actor != NULL && strcmp(actor, actors[i]) != 0)
            continue;
        known = true;
        int rc = register_actor(actors[i]);
        if (rc != 0)
            return rc;
    }
    return known ? 0 : -EINVAL;
}
