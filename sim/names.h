/* sim/names.h - the one table of the names the simulated certctl world puts on its metrics:
 * the actors (agent, operator, acme), every endpoint they call, and the actor metrics a
 * threshold may judge. The engine knows none of them: sim_names_register hands them to
 * engine/metric_names.h at start. The agents, the operator, the ACME client, the presets and
 * src/ take every endpoint and actor name from here; the reference server (refserver/) keeps
 * its own routing table and meets these names only in the metrics it reports. */
#ifndef FLEETSIM_SIM_NAMES_H
#define FLEETSIM_SIM_NAMES_H

/* Actor tags. */
#define SIM_ACTOR_AGENT "agent"
#define SIM_ACTOR_OPERATOR "operator"
#define SIM_ACTOR_ACME "acme"

/* Endpoint tags as literals, so presets can build their threshold texts from them. */
#define SIM_EP_NAME_HEARTBEAT "heartbeat"
#define SIM_EP_NAME_WORK "work"
#define SIM_EP_NAME_CSR "csr"
#define SIM_EP_NAME_JOB_STATUS "job_status"
#define SIM_EP_NAME_CERT_FETCH "cert_fetch"
#define SIM_EP_NAME_VERIFY "job_verify"
#define SIM_EP_NAME_REGISTER "register"
#define SIM_EP_NAME_BULK_RENEW "bulk_renew"
#define SIM_EP_NAME_CERT_LIST "cert_list"
#define SIM_EP_NAME_ACME_DIRECTORY "acme_directory"
#define SIM_EP_NAME_ACME_NONCE "acme_nonce"
#define SIM_EP_NAME_ACME_ACCOUNT "acme_account"
#define SIM_EP_NAME_ACME_ORDER "acme_order"
#define SIM_EP_NAME_ACME_AUTHZ "acme_authz"
#define SIM_EP_NAME_ACME_CHALLENGE "acme_challenge"
#define SIM_EP_NAME_ACME_FINALIZE "acme_finalize"
#define SIM_EP_NAME_ACME_CERT "acme_cert"
#define SIM_EP_NAME_ACME_RENEWAL_INFO "acme_renewal_info"

/* Every endpoint, grouped by actor: the agent's (in the order of enum agent_endpoint), the
 * registration, the operator's, then the ACME client's (in the order of enum acme_endpoint). */
enum sim_endpoint {
    SIM_EP_HEARTBEAT = 0,
    SIM_EP_WORK,
    SIM_EP_CSR,
    SIM_EP_JOB_STATUS,
    SIM_EP_CERT_FETCH,
    SIM_EP_VERIFY,
    SIM_EP_REGISTER,
    SIM_EP_BULK_RENEW,
    SIM_EP_CERT_LIST,
    SIM_EP_ACME_DIRECTORY,
    SIM_EP_ACME_NONCE,
    SIM_EP_ACME_ACCOUNT,
    SIM_EP_ACME_ORDER,
    SIM_EP_ACME_AUTHZ,
    SIM_EP_ACME_CHALLENGE,
    SIM_EP_ACME_FINALIZE,
    SIM_EP_ACME_CERT,
    SIM_EP_ACME_RENEWAL_INFO,
    SIM_EP_COUNT
};

/* Actor metrics a threshold may judge, besides the operator's counters (sim/operator.h). */
#define METRIC_CAMPAIGN_DURATION "campaign_duration" /* trend, operator */
#define METRIC_AGENT_BUSY "agent_busy" /* trend, agent: its own deliberate waits (key making) */
#define METRIC_ACME_ORDERS_COMPLETED "acme_orders_completed"       /* counter, acme */
#define METRIC_ACME_PROBLEMS "acme_problems"                       /* counter, tag problem */
#define METRIC_ACME_RATE_LIMIT_SHAPE_OK "acme_rate_limit_shape_ok" /* rate, acme */
/* The extra tag of acme_problems: the ACME problem type, e.g. badNonce. */
#define SIM_TAG_PROBLEM "problem"

/* The endpoint's tag ("heartbeat", "acme_nonce", ...), or "other" for a value outside the
 * enum; static storage. */
const char *sim_endpoint_name(enum sim_endpoint ep);

/* The actor tag of the endpoint's caller (SIM_ACTOR_*), or NULL outside the enum. */
const char *sim_endpoint_actor(enum sim_endpoint ep);

/* Registers actor (one of SIM_ACTOR_*), its endpoints and its metrics with the engine
 * (engine/metric_names.h); NULL registers every actor of the table. Call at start, before
 * options or scenario files are parsed and before threads start. Returns 0, or -EINVAL for an
 * actor the table does not know (or a negative errno from the engine). */
int sim_names_register(const char *actor);

#endif
