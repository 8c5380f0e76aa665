/* sim/agent_work.h - an agent's job work, as the real agent does it (docs/fleet.md): parsing
 * the work poll's answer, the CSR flow (P-256 key kept for the certificate, CSR paced so the
 * loop is never stalled, POST csr) and the deployment flow (status Running, fetch the
 * certificate, check it against the kept key, and for a target whose config names a host a
 * 2 s wait, a simulated probe and POST /api/v1/jobs/{id}/verify, then status Completed or
 * Failed). Used by sim/agent.c. */
#ifndef FLEETSIM_SIM_AGENT_WORK_H
#define FLEETSIM_SIM_AGENT_WORK_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/http_client.h"
#include "sim/agent.h"

enum agent_job_type {
    AGENT_JOB_CSR = 0, /* any job in AwaitingCSR: make a key and a CSR */
    AGENT_JOB_DEPLOY,  /* Deployment: fetch the certificate and install it */
};

/* One job of a work answer. Strings are malloc'd; free with agent_job_clear. */
struct agent_job {
    enum agent_job_type type;
    char *id;
    char *cert_id;
    char *cn;    /* CSR jobs: common_name ("" when absent) */
    char **sans; /* CSR jobs: SANs */
    size_t n_sans;
    char *target_id; /* deployment jobs: target_id, NULL when absent (no verify report) */
    bool has_type;   /* deployment jobs: a non-empty target_type (the connector runs) */
    bool probe;      /* deployment jobs: target_config names a host and a valid port */
    char *host;      /* ... that host (probe jobs) */
    int port;        /* ... and port (default 443) */
};

/* Parses a work answer {"jobs":[...],"count":n} (body, len bytes) into a malloc'd array of
 * the jobs an agent acts on, in order (any AwaitingCSR job, else Deployment; others are
 * skipped, as are items whose ids hold characters other than [A-Za-z0-9._~-]). A deployment's
 * probe flag follows the real agent: target_config has a non-empty string host, hostname,
 * target or address (first found) and port, when a number, is 1..65535 (default 443).
 * *jobs_out is NULL when there are none. Returns 0, -EBADMSG when the body is not such JSON,
 * -ENOMEM. */
int agent_work_parse(const char *body, size_t len, struct agent_job **jobs_out, size_t *n_out);

/* Frees what a job holds and zeroes it. */
void agent_job_clear(struct agent_job *job);

/* Builds the body of a verify report for target_id (Go's sorted keys: actual_fingerprint,
 * error, expected_fingerprint, target_id, verified): the probe saw fingerprint fp, or, when
 * error is not NULL, failed with that error (both fingerprints empty, verified false, as the
 * real agent reports a failed probe). Returns a malloc'd string or NULL. */
char *agent_work_verify_body(const char *target_id, const char *fp, const char *error,
                             size_t *len_out);

/* Builds the JSON body of a job status call ({"status":S} or {"error":E,"status":S}) into a
 * malloc'd string. Returns NULL on out of memory. */
char *agent_work_status_body(const char *status, const char *error, size_t *len_out);

/* Extracts "certificate_pem" from a certificate answer; returns a pointer into a json object
 * kept in *holder (json_object_put it), or NULL when absent. */
const char *agent_work_cert_pem(const char *body, size_t len, void **holder, size_t *pem_len);

/* Takes a 200 work answer: queues the new jobs and starts the first when the agent is free. */
void agent_work_on_poll(struct agent *a, const struct http_result *res);

/* Fills method, path and body of the agent's waiting job request (path in the loop's
 * scratch). Returns 0, or -ENOENT when there is no job request. */
int agent_work_request(struct agent *a, struct http_request *req);

/* The job request of endpoint ep ended (res: answer or transport error; ok: expected status).
 * Advances the job. */
void agent_work_on_result(struct agent *a, enum agent_endpoint ep, const struct http_result *res,
                          bool ok);

/* Drops the agent's job work and kept keys (retirement, destruction). */
void agent_work_free(struct agent *a);

/* Zero-timeout event callback of the loop's CSR pacing (arg: struct agent_loop *). */
void agent_work_csr_cb(int fd, short what, void *arg);

/* Keys the agent currently keeps. */
size_t agent_work_keys(const struct agent *a);

#endif
