/* refserver/endpoint.h - the endpoint names fleetsim-target counts requests under and applies
 * faults to: fleetsim's endpoint tags (docs/metrics.md) plus health, agent_retire, cert_create, a
 * few operator reads, and other. Pure lookups, no state. */
#ifndef FLEETSIM_TARGET_ENDPOINT_H
#define FLEETSIM_TARGET_ENDPOINT_H

enum target_endpoint {
    EP_HEARTBEAT = 0,
    EP_WORK,
    EP_CSR,
    EP_JOB_STATUS,
    EP_CERT_FETCH,
    EP_REGISTER,
    EP_BULK_RENEW,
    EP_CERT_LIST,
    EP_ACME_DIRECTORY,
    EP_ACME_NONCE,
    EP_ACME_ACCOUNT,
    EP_ACME_ORDER,
    EP_ACME_AUTHZ,
    EP_ACME_CHALLENGE,
    EP_ACME_FINALIZE,
    EP_ACME_CERT,
    EP_ACME_RENEWAL_INFO,
    EP_HEALTH,
    EP_AGENT_RETIRE,
    EP_CERT_CREATE,
    EP_CERT_GET,
    EP_JOB_GET,
    EP_PROFILE_CREATE,
    EP_VERIFY,
    EP_DISCOVERIES,
    EP_OTHER,
    EP_COUNT
};

/* The endpoint's name ("heartbeat", "acme_nonce", "other", ...); static storage. */
const char *endpoint_name(enum target_endpoint ep);

/* The endpoint called name, or -1 when there is none. */
int endpoint_from_name(const char *name);

/* True for the endpoints answered by the ACME server. */
int endpoint_is_acme(enum target_endpoint ep);

#endif
