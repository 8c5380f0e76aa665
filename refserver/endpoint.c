/* refserver/endpoint.c - names of fleetsim-target's endpoints (see endpoint.h). */
#include <string.h>

#include "refserver/endpoint.h"

static const char *const endpoint_names[EP_COUNT] = {
    [EP_HEARTBEAT] = "heartbeat",
    [EP_WORK] = "work",
    [EP_CSR] = "csr",
    [EP_JOB_STATUS] = "job_status",
    [EP_CERT_FETCH] = "cert_fetch",
    [EP_REGISTER] = "register",
    [EP_BULK_RENEW] = "bulk_renew",
    [EP_CERT_LIST] = "cert_list",
    [EP_ACME_DIRECTORY] = "acme_directory",
    [EP_ACME_NONCE] = "acme_nonce",
    [EP_ACME_ACCOUNT] = "acme_account",
    [EP_ACME_ORDER] = "acme_order",
    [EP_ACME_AUTHZ] = "acme_authz",
    [EP_ACME_CHALLENGE] = "acme_challenge",
    [EP_ACME_FINALIZE] = "acme_finalize",
    [EP_ACME_CERT] = "acme_cert",
    [EP_ACME_RENEWAL_INFO] = "acme_renewal_info",
    [EP_HEALTH] = "health",
    [EP_AGENT_RETIRE] = "agent_retire",
    [EP_CERT_CREATE] = "cert_create",
    [EP_CERT_GET] = "cert_get",
    [EP_JOB_GET] = "job_get",
    [EP_PROFILE_CREATE] = "profile_create",
    [EP_VERIFY] = "job_verify",
    [EP_DISCOVERIES] = "discoveries",
    [EP_OTHER] = "other",
};

const char *endpoint_name(enum target_endpoint ep)
{
    if ((unsigned)ep >= EP_COUNT)
        return "other";
    return endpoint_names[ep];
}

int endpoint_from_name(const char *name)
{
    for (int i = 0; i < EP_COUNT; i++)
        if (strcmp(endpoint_names[i], name) == 0)
            return i;
    return -1;
}

int endpoint_is_acme(enum target_endpoint ep)
{
    return ep >= EP_ACME_DIRECTORY && ep <= EP_ACME_RENEWAL_INFO;
}
