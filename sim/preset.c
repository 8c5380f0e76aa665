/* sim/preset.c - the table of scenario presets (see preset.h). agent-storm reproduces
 * certctl's k6 agent scenario: 5,000 agents heartbeating every 30 s without polling;
 * bulk-renewal adds an operator renewing 10,000 certificates that the polling fleet carries out;
 * acme-burst is certctl's k6 acme_flow with 200 clients; fleet runs all of it at once. */
#include "sim/preset.h"

#include <string.h>

#define NS_PER_S 1000000000ULL

static const struct preset presets[] = {
    {
        .name = "agent-storm",
        .description = "5,000 agents heartbeating every 30 s (about 167 req/s), no work polling, 5 min",
        .has_agents = true, .agents = 5000,
        .has_heartbeat = true, .heartbeat_ns = 30 * NS_PER_S,
        .has_poll = true, .poll_ns = 0,
        .has_duration = true, .duration_ns = 300 * NS_PER_S,
        .thresholds = {
            "http_req_duration{scenario:agent-storm,endpoint:heartbeat}:p(99)<1000",
            "http_req_duration{scenario:agent-storm,endpoint:heartbeat}:p(95)<500",
            "http_req_failed{scenario:agent-storm}:rate<0.001",
            NULL,
        },
    },
    {
        .name = "bulk-renewal",
        .description = "an operator bulk-renews 10,000 seeded certificates at 5 calls/s in batches "
                       "of 50 for 5 min while 5,000 agents poll every 30 s and carry out the renewals",
        .has_agents = true, .agents = 5000,
        .has_poll = true, .poll_ns = 30 * NS_PER_S,
        .has_duration = true, .duration_ns = 300 * NS_PER_S,
        .has_certs = true, .certs = 10000,
        .has_bulk_rate = true, .bulk_rate_per_s = 5.0,
        .has_bulk_batch = true, .bulk_batch = 50,
        .thresholds = {
            "http_req_duration{scenario:bulk-renewal,endpoint:bulk_renew}:p(99)<5000",
            "http_req_duration{scenario:bulk-renewal,endpoint:bulk_renew}:p(95)<2000",
            "http_req_failed{scenario:bulk-renewal,endpoint:bulk_renew}:rate<0.01",
            NULL,
        },
    },
    {
        .name = "acme-burst",
        .description = "200 ACME clients each fetching the directory, a nonce and renewal-info "
                       "once per second (certctl's k6 acme_flow), no agents, 5 min",
        .has_agents = true, .agents = 0,
        .has_duration = true, .duration_ns = 300 * NS_PER_S,
        .has_acme_clients = true, .acme_clients = 200,
        .has_acme_mode = true, .acme_order_mode = false,
        .thresholds = {
            "http_req_duration{scenario:acme-burst,endpoint:acme_directory}:p(95)<500",
            "http_req_duration{scenario:acme-burst,endpoint:acme_nonce}:p(95)<300",
            "http_req_duration{scenario:acme-burst,endpoint:acme_renewal_info}:p(95)<800",
            "http_req_5xx{scenario:acme-burst}:rate<0.001",
            NULL,
        },
    },
    {
        /* The union of the other presets' thresholds on one scenario tag. ACME clients run
         * full orders here: nonces chain from answer to answer, so there is no new-nonce
         * threshold (it would have no data). */
        .name = "fleet",
        .description = "all at once: 5,000 agents heartbeating and polling, an operator "
                       "bulk-renewing 10,000 certificates at 5 calls/s, 20 ACME clients "
                       "completing JWS-signed orders, 5 min",
        .has_agents = true, .agents = 5000,
        .has_poll = true, .poll_ns = 30 * NS_PER_S,
        .has_duration = true, .duration_ns = 300 * NS_PER_S,
        .has_certs = true, .certs = 10000,
        .has_bulk_rate = true, .bulk_rate_per_s = 5.0,
        .has_bulk_batch = true, .bulk_batch = 50,
        .has_acme_clients = true, .acme_clients = 20,
        .has_acme_mode = true, .acme_order_mode = true,
        .thresholds = {
            "http_req_duration{scenario:fleet,endpoint:heartbeat}:p(99)<1000",
            "http_req_duration{scenario:fleet,endpoint:heartbeat}:p(95)<500",
            "http_req_failed{scenario:fleet,actor:agent}:rate<0.001",
            "http_req_duration{scenario:fleet,endpoint:bulk_renew}:p(99)<5000",
            "http_req_duration{scenario:fleet,endpoint:bulk_renew}:p(95)<2000",
            "http_req_failed{scenario:fleet,endpoint:bulk_renew}:rate<0.01",
            "http_req_duration{scenario:fleet,endpoint:acme_directory}:p(95)<500",
            "http_req_duration{scenario:fleet,endpoint:acme_renewal_info}:p(95)<800",
            "http_req_5xx{scenario:fleet,actor:acme}:rate<0.001",
            NULL,
        },
    },
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

const struct preset *preset_find(const char *name)
{
    for (size_t i = 0; name && i < N_PRESETS; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

size_t preset_count(void)
{
    return N_PRESETS;
}

const struct preset *preset_at(size_t i)
{
    return i < N_PRESETS ? &presets[i] : NULL;
}

size_t preset_threshold_count(const struct preset *p)
{
    size_t n = 0;
    while (n < PRESET_MAX_THRESHOLDS && p->thresholds[n])
        n++;
    return n;
}
