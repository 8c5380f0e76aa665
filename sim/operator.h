/* sim/operator.h - the operator actor (docs/scenarios.md, "bulk-renewal"): bulk-renew calls at a
 * fixed arrival rate (open model: each call leaves at its scheduled time whether or not earlier
 * ones returned), bodies of explicit certificate_ids batches cycling over mc-<prefix>-00001..N, a
 * progress poll of the certificate list, and the campaign: how long until every certificate
 * the first pass enqueued has been renewed (by the agents) as the server reports it.
 * The pure parts (schedule, batches, bodies, response parsing, campaign bookkeeping) are
 * separate from the actor, which runs on one event_base and is not thread-safe. */
#ifndef FLEETSIM_SIM_OPERATOR_H
#define FLEETSIM_SIM_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/http_client.h"
#include "engine/metrics.h"
#include "sim/names.h"

struct event_base;

/* Its metric tags are SIM_ACTOR_OPERATOR and SIM_EP_NAME_BULK_RENEW / SIM_EP_NAME_CERT_LIST
 * (sim/names.h). */

/* certctl's endpoints (docs/certctl.md, "Operator endpoints"), below the URL's base path. */
#define OPERATOR_BULK_PATH "/api/v1/certificates/bulk-renew"
#define OPERATOR_PROGRESS_PATH "/api/v1/certificates?status=RenewalInProgress&per_page=1"

/* Defaults: certctl clamps filtered matches at 50, so batches of 50 explicit ids; at most 32
 * calls in flight (one per pooled connection); the progress poll every 2 s. */
#define OPERATOR_DEFAULT_BATCH 50u
#define OPERATOR_MAX_BATCH 10000u
#define OPERATOR_DEFAULT_MAX_IN_FLIGHT 32u
#define OPERATOR_DEFAULT_PROGRESS_NS (2ULL * 1000000000ULL)
/* How often the loop checks for a stop request and the end of the drain. */
#define OPERATOR_TICK_NS (20ULL * 1000000ULL)

/* Counter names the operator adds to its metrics registry (tags scenario, actor operator;
 * the bulk_renew_* ones also endpoint bulk_renew). */
#define OPERATOR_M_MATCHED "bulk_renew_matched"   /* sum of total_matched */
#define OPERATOR_M_ENQUEUED "bulk_renew_enqueued" /* sum of total_enqueued */
#define OPERATOR_M_SKIPPED "bulk_renew_skipped"   /* sum of total_skipped */
#define OPERATOR_M_FAILED "bulk_renew_failed"     /* sum of total_failed */
#define OPERATOR_M_UNPARSED "bulk_renew_unparsed" /* 200 answers that were not the JSON shape */
#define OPERATOR_M_CAMPAIGN_RENEWED "campaign_renewed" /* first-pass certs seen renewed */
#define OPERATOR_M_CAMPAIGN_PENDING "campaign_pending" /* still RenewalInProgress at the end */
#define OPERATOR_M_CAMPAIGN_SKIPPED "campaign_skipped" /* first pass: skipped by the server */
#define OPERATOR_M_CAMPAIGN_FAILED \
    "campaign_failed" /* first pass: failed, unanswered or not found */

/* ---- pure helpers ------------------------------------------------------------------------ */

/* Intended offset (ns after the start) of call k (0-based) at rate_per_s calls per second:
 * round(k * 1e9 / rate_per_s), computed from k so it never drifts. rate_per_s > 0. */
uint64_t operator_call_offset_ns(uint64_t k, double rate_per_s);

/* Number of batches covering n_certs certificates in batches of batch: ceil(n / batch). */
uint32_t operator_batch_count(uint32_t n_certs, uint32_t batch);

/* The certificates of call k: batch (k mod batch_count), first index (1-based) and count.
 * n_certs, batch > 0. */
void operator_batch_of_call(uint64_t k, uint32_t n_certs, uint32_t batch, uint32_t *first_index,
                            uint32_t *count);

/* Bytes operator_bulk_body needs at most for count certificates of prefix (NUL included). */
size_t operator_bulk_body_max(const char *prefix, uint32_t count);

/* Writes {"certificate_ids":["mc-P-00001","mc-P-00002",...]} for indexes first..first+count-1
 * into buf (size n). Returns the length (without NUL), or -ENOSPC. */
int operator_bulk_body(char *buf, size_t n, const char *prefix, uint32_t first, uint32_t count);

/* A parsed bulk-renew answer (docs/certctl.md, "Operator endpoints"). */
struct operator_bulk_result {
    int64_t matched, enqueued, skipped, failed; /* total_* */
};

/* Called for each certificate id the answer lists (enqueued_jobs, then errors). */
typedef void (*operator_cert_cb)(const char *certificate_id, bool enqueued, void *arg);

/* Parses a bulk-renew answer body: the four total_* integers (required) and, when cb is not
 * NULL, calls cb for every enqueued_jobs[].certificate_id (enqueued = true) and
 * errors[].certificate_id (false). Returns 0, or -EINVAL when the body is not that shape. */
int operator_parse_bulk(const char *body, size_t len, struct operator_bulk_result *out,
                        operator_cert_cb cb, void *arg);

/* Parses the certificate list answer {"data":[...],"total":N,...}: stores total.
 * Returns 0 or -EINVAL. */
int operator_parse_list_total(const char *body, size_t len, int64_t *total);

/* ---- campaign bookkeeping (pure) ----------------------------------------------------------
 * The first pass is calls 0 .. batch_count-1. A certificate the first pass enqueued counts as
 * renewed when the operator sees it out of RenewalInProgress afterwards: a later bulk-renew
 * call lists it (the server enqueues or attempts only certificates not in progress), or the
 * progress poll reports no certificate RenewalInProgress at all. The campaign completes at the
 * first such observation after every first-pass call has ended with nothing left pending (and
 * something enqueued: a first pass that enqueued nothing never completes). */
struct operator_campaign {
    uint32_t n_certs, batch, n_batches;
    const char *prefix;         /* borrowed */
    uint8_t *state;             /* per certificate: OPERATOR_CERT_* */
    uint32_t batches_done;      /* first-pass calls ended (any outcome) */
    uint64_t first_pass_end_ns; /* when the last first-pass call ended; 0 = not yet */
    uint64_t start_ns;          /* intended time of call 0; 0 = not started */
    uint64_t done_ns;           /* when the campaign completed; 0 = not yet */
    uint64_t enqueued;          /* first-pass certificates enqueued */
    uint64_t renewed, pending, skipped, failed;
};

/* Per-certificate campaign state. */
enum { OPERATOR_CERT_NONE = 0, OPERATOR_CERT_PENDING, OPERATOR_CERT_RENEWED };

/* Initialises the bookkeeping for n_certs in batches of batch. Returns 0 or -ENOMEM. */
int operator_campaign_init(struct operator_campaign *c, const char *prefix, uint32_t n_certs,
                           uint32_t batch);

/* Frees what init allocated. */
void operator_campaign_destroy(struct operator_campaign *c);

/* Call 0 is intended at start_ns: the campaign's clock starts there. */
void operator_campaign_begin(struct operator_campaign *c, uint64_t start_ns);

/* Call k's answer listed certificate_id, as enqueued (enqueued_jobs) or attempted (errors):
 * on the first pass (k < n_batches) an enqueued certificate becomes pending; on a later pass a
 * pending certificate becomes renewed (the server only touches certificates that are not in
 * progress). Ids of other fleets or outside 1..n_certs are ignored. */
void operator_campaign_note(struct operator_campaign *c, uint64_t k, const char *certificate_id,
                            bool enqueued, uint64_t now_ns);

/* First-pass call k (k < n_batches) was answered with totals r after its ids were noted: its
 * skipped and failed totals count, and so do the ids sent that the server did not find
 * (as failed). now_ns: the answer's done time. */
void operator_campaign_first_answer(struct operator_campaign *c, uint64_t k,
                                    const struct operator_bulk_result *r, uint64_t now_ns);

/* First-pass call k ended without a usable answer (dropped, transport error, timeout, an
 * unexpected status or body): its certificates count as failed. */
void operator_campaign_first_lost(struct operator_campaign *c, uint64_t k, uint64_t now_ns);

/* The progress poll sent at sent_ns read total certificates RenewalInProgress at now_ns: 0
 * renews every pending one, when the poll was sent after the whole first pass had been
 * answered (an earlier poll may predate some first-pass enqueues). */
void operator_campaign_progress(struct operator_campaign *c, int64_t total, uint64_t sent_ns,
                                uint64_t now_ns);

/* True once the campaign completed (done_ns set). */
bool operator_campaign_complete(const struct operator_campaign *c);

/* done_ns - start_ns once complete, else 0. */
uint64_t operator_campaign_duration_ns(const struct operator_campaign *c);

/* ---- the actor ----------------------------------------------------------------------------- */

/* What an operator does. Strings are borrowed and must outlive the operator. */
struct operator_config {
    const char *scenario;                /* metrics tag */
    const char *prefix;                  /* fleet prefix of the certificate ids */
    uint32_t n_certs;                    /* N: certificates mc-<prefix>-00001..N, > 0 */
    uint32_t batch;                      /* ids per call, 1..OPERATOR_MAX_BATCH */
    double rate_per_s;                   /* bulk-renew calls per second, > 0 */
    uint32_t max_in_flight;              /* pooled connections = calls in flight; 0 = default 32 */
    uint64_t progress_ns;                /* progress poll period; 0 = default 2 s */
    uint64_t max_calls;                  /* no call k >= max_calls is scheduled; 0 = no limit */
    uint64_t duration_ns;                /* no call is scheduled at or after this offset (the
                                      progress poll goes on until the campaign completes or
                                      operator_stop); 0 = until operator_stop */
    const char *base_path;               /* URL base path, "" or "/prefix" */
    const char *headers_get;             /* extra header lines for GETs (User-Agent, Authorization):
                                      a secret, borrowed */
    const char *headers_post;            /* the same plus Content-Type: application/json */
    const struct http_conn_config *conn; /* destination, TLS, timeout */
};

/* Final figures of a run (after the loop ended). */
struct operator_summary {
    uint64_t calls_scheduled, calls_sent, calls_dropped, calls_ok;
    uint64_t passes; /* complete passes over the batches scheduled */
    uint64_t progress_polls;
    int64_t last_in_progress;          /* the last total read by the progress poll; -1 = none */
    struct operator_campaign campaign; /* copy of the counters (state pointer NULL) */
    int64_t in_flight;                 /* requests still in flight when the loop ended */
};

struct operator;

/* Creates an operator on base recording into metrics (both borrowed; metrics must belong to
 * base's thread). Nothing is scheduled yet. Returns NULL with a reason in err. */
struct operator* operator_new(struct event_base *base, const struct operator_config *cfg,
                              struct metrics *metrics, char *err, size_t errlen);

/* Schedules call k at start_ns + operator_call_offset_ns(k) (clock_now_ns time) and the
 * progress poll. Returns 0 or -EIO. */
int operator_start(struct operator* op, uint64_t start_ns);

/* Stops scheduling (calls and polls); requests in flight go on. Loop thread only. */
void operator_stop(struct operator* op);

/* Requests in flight (bulk calls and the progress poll). */
unsigned operator_in_flight(const struct operator* op);

/* True after operator_stop with nothing in flight. */
bool operator_idle(const struct operator* op);

/* The campaign's bookkeeping so far (read-only; valid until operator_free). */
const struct operator_campaign *operator_campaign_of(const struct operator* op);

/* Adds the campaign's counters (renewed, pending, skipped, failed) to the metrics registry
 * (once, at the end) and fills out. */
void operator_finish(struct operator* op, struct operator_summary *out);

/* Frees the operator; requests in flight are abandoned (they stay in flight in the
 * accounting). NULL is fine. */
void operator_free(struct operator* op);

#endif
