/* sim/agent.h - one simulated certctl agent: its timers (heartbeat, work poll), its connection
 * (own keep-alive or borrowed from a pool), a queue of at most one waiting request per kind
 * (docs/architecture.md, "Agents" and "Concurrency within an agent"), the job work (CSR,
 * deployment) and the keys it keeps, and the measurement of every request it sends. Agents of one event loop share a
 * struct agent_loop; nothing here is thread-safe (one loop = one thread). */
#ifndef FLEETSIM_SIM_AGENT_H
#define FLEETSIM_SIM_AGENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "engine/http_client.h"
#include "engine/metrics.h"
#include "sim/names.h"
#include "sim/csr.h"
#include "sim/identity.h"
#include "sim/schedule.h"

/* Versions the agent reports (contracts: default profile = certctl's k6 fixture, certctl-1.0 =
 * the real agent). */
#define AGENT_VERSION_DEFAULT "2.1.0"
#define AGENT_VERSION_CERTCTL_1_0 "1.0.0"
/* User-Agent of every profile: Go's default client over HTTP/1.1, as the real agent sends it
 * (it sets none of its own). */
#define AGENT_USER_AGENT_GO "Go-http-client/1.1"
/* The real agent's poll back-off: consecutive failures x 30 s, at most 5 min. */
#define AGENT_POLL_BACKOFF_STEP_NS (30ULL * 1000000000ULL)
#define AGENT_POLL_BACKOFF_MAX_NS (300ULL * 1000000000ULL)
/* The real agent's wait between deploying and probing a target that has a host (for the
 * target's reload to take effect). */
#define AGENT_VERIFY_WAIT_NS (2ULL * 1000000000ULL)
/* Default range of a simulated verification probe (a TLS handshake with the target; the real
 * agent gives up after 10 s). */
#define AGENT_PROBE_MIN_DEFAULT_NS (5ULL * 1000000ULL)
#define AGENT_PROBE_MAX_DEFAULT_NS (50ULL * 1000000ULL)
/* The real agent's probe timeout: how long a failing probe (--agent-failures verify) takes. */
#define AGENT_PROBE_TIMEOUT_NS (10ULL * 1000000000ULL)
/* CSRs generated per loop iteration at most (each ~70 us), so other agents are not stalled. */
#define AGENT_CSR_PER_ITERATION 4u
/* Per-loop scratch: request paths take the first AGENT_PATH_BYTES, small bodies the rest. */
#define AGENT_PATH_BYTES 1536u
#define AGENT_SCRATCH_BYTES 4096u
/* Longest agent, job or certificate id accepted, bytes. */
#define AGENT_ID_MAX 128u
/* The agents' wake-up slot (--timer-slot): intended times fall on a grid of this width from
 * the run start, so every agent due in the same slot is served by one wake-up of its loop
 * (exact per-agent timers cost 1.8 times the CPU per TLS heartbeat, bench/fleet_bench.sh).
 * A request is never sent before its intended time; http_req_lag records how late fleetsim
 * was beyond it (docs/fleet.md). */
#define AGENT_TIMER_SLOT_DEFAULT_NS 5000000ULL

/* The endpoints an agent uses: the first ones of sim/names.h. */
enum agent_endpoint {
    AGENT_EP_HEARTBEAT = SIM_EP_HEARTBEAT,
    AGENT_EP_WORK = SIM_EP_WORK,
    AGENT_EP_CSR = SIM_EP_CSR,
    AGENT_EP_JOB_STATUS = SIM_EP_JOB_STATUS,
    AGENT_EP_CERT_FETCH = SIM_EP_CERT_FETCH,
    AGENT_EP_VERIFY = SIM_EP_VERIFY,
    AGENT_EP_COUNT
};

/* Request kinds: an agent has at most one request per kind waiting or in flight. */
enum agent_kind { AGENT_KIND_HEARTBEAT = 0, AGENT_KIND_POLL, AGENT_KIND_JOB, AGENT_KIND_COUNT };

/* The agent profiles (--agent-profile, a scenario's "agent_profile"): fleetsim's default
 * timers, or the real certctl 1.0 agent's (agent_settings_profile). */
enum agent_profile { AGENT_PROFILE_DEFAULT = 0, AGENT_PROFILE_CERTCTL_1_0 };

/* Settings all agents of a fleet share; read-only while agents run. Strings are borrowed. */
struct agent_settings {
    const char *scenario; /* metrics tag, e.g. "default" or "agent-storm" */
    const char *prefix;   /* fleet prefix (identity) */
    uint64_t seed;        /* run seed */
    struct identity_os_mix os_mix;
    enum agent_profile profile;
    const char *version;      /* reported in heartbeats */
    const char *user_agent;   /* User-Agent header value (Go-http-client/1.1) */
    bool accept_gzip;         /* send Accept-Encoding: gzip (Go's transport does) */
    bool content_type_on_get; /* send Content-Type: application/json on GETs too (certctl-1.0) */
    struct schedule_params heartbeat;    /* interval 0 = no heartbeats */
    struct schedule_params poll;         /* interval 0 = no work polling */
    bool poll_backoff;                   /* consecutive failures delay polls (certctl-1.0) */
    const char *base_path;               /* URL base path, "" or "/prefix" */
    const char *api_key;                 /* Bearer key or "" (no Authorization header); a secret */
    const char *const *agent_ids;        /* NULL: identity ids; else agent_ids[index - 1] (from
                                     --register / --agents-file; NULL entries fall back) */
    uint32_t source_first;               /* first source IPv4 (host order) when source_count > 0 */
    uint32_t source_count;               /* 0: no source addresses (ip_address "") */
    uint64_t verify_wait_ns;             /* wait before a deployment's probe (2 s) */
    uint64_t probe_min_ns, probe_max_ns; /* simulated probe duration, drawn uniformly */
    uint64_t probe_timeout_ns; /* how long a failing probe takes (the real agent's 10 s) */
    double fail_csr, fail_deploy, fail_verify; /* --agent-failures: share of those steps that
                                                  fail on the agent's side (0..1) */
    uint64_t timer_slot_ns;  /* wake-up slot and grid of intended times; 0 = each agent at its
                                own time (set with agent_settings_timer_slot) */
    char user_agent_buf[64]; /* storage agent_settings_profile may point user_agent at */
    char local_ip[48];       /* heartbeats' ip_address without source addresses: the local
                                address toward the target (agent_settings_local_ip), or "" */
};

/* Events an agent's loop counts besides the request metrics. */
struct agent_counters {
    uint64_t retired;        /* agents retired by a 410 on heartbeat */
    uint64_t unknown_agents; /* distinct agents whose heartbeat got 404 */
    uint32_t first_unknown;  /* index of the first such agent (0 = none) */
    uint64_t jobs_received;  /* distinct jobs taken from polls */
    uint64_t work_unparsed;  /* 200 work answers that were not the expected JSON */
    uint64_t csr_generated;
    uint64_t csr_accepted; /* 202 */
    uint64_t csr_failed;   /* CSR not accepted: job reported Failed */
    uint64_t deploy_completed;
    uint64_t deploy_failed;
    uint64_t key_match; /* fetched certificate carries the kept key */
    uint64_t key_mismatch;
    uint64_t key_missing;   /* no key kept for the certificate (never made by this agent) */
    uint64_t keys_kept;     /* keys the loop's agents keep now (one per certificate) */
    uint64_t verify_probes; /* simulated post-deployment probes (targets with a host) */
    uint64_t fail_csr;      /* agent-side failures (--agent-failures): key storage, */
    uint64_t fail_deploy;   /* connector, */
    uint64_t fail_verify;   /* probe; not server errors */
    uint64_t tls_full;      /* TLS handshakes of fresh connections: full */
    uint64_t tls_resumed;   /* ... and resumed (only with --tls-resume on) */
};

struct agent;
struct agent_work;

/* What the agents of one event loop share. Fill with agent_loop_init. */
struct agent_loop {
    struct event_base *base;
    const struct agent_settings *set;
    const struct http_conn_config *conn_cfg;
    struct metrics *metrics;
    struct metrics_series *series[AGENT_EP_COUNT]; /* created on first use */
    uint64_t run_start_ns;                         /* offsets of the schedule count from here */
    bool stopping;                                 /* no new requests (drain) */
    uint64_t busy;                                 /* requests waiting or in flight */
    char *hdr_get, *hdr_post; /* extra header lines (secret: contain the key) */
    struct http_conn **pool;  /* pool:N connections, NULL in per-agent mode */
    uint32_t pool_size;
    struct agent *pool_head, *pool_tail; /* agents waiting for a pool connection */
    struct csr_gen *csr;
    struct event *csr_ev; /* zero-timeout event pacing CSR generation */
    struct agent *csr_head, *csr_tail;
    struct agent_counters counters;
    uint32_t *pool_free; /* indexes of idle pool connections (a stack) */
    uint32_t n_pool_free;
    struct schedule_queue timers; /* started agents by the time they next want to run */
    int timer_fd;                 /* timerfd (CLOCK_MONOTONIC) waking the loop for the queue */
    struct event *timer_ev;
    uint64_t timer_armed_ns; /* when timer_fd fires; 0 = disarmed, UINT64_MAX = unknown */
    uint64_t timer_slot_ns;  /* wake-up slot width (set->timer_slot_ns); 0 = exact */
    uint64_t timer_batch_ns; /* during a timer wake-up: its time, else 0 */
    uint64_t connects;       /* requests that opened a fresh connection (churn indicator) */
    uint64_t pool_freed_ns;  /* when the last pool connection was given back (an answer) */
    char scratch[AGENT_SCRATCH_BYTES]; /* request path, then small bodies */
};

/* One agent. Allocated by the fleet in arrays; fields are private to sim/agent*.c. */
struct agent {
    struct agent_loop *loop;
    struct http_conn *conn;    /* own connection, or the pool one while a request is in flight */
    struct agent_work *work;   /* jobs and keys; NULL when it has none */
    struct agent *next_wait;   /* pool wait list */
    struct schedule_entry due; /* in loop->timers: the earliest of its due times */
    struct schedule_timer hb, poll;
    uint64_t wait_intended_ns[AGENT_KIND_COUNT]; /* intended time of the waiting request */
    uint64_t poll_due_ns;           /* certctl-1.0: delayed poll's intended time (0 = none) */
    uint64_t hold_until_ns;         /* reconnect back-off: nothing is sent before this */
    uint64_t free_ns;               /* when the agent was last freed by the server: its previous
                                       answer, the end of a back-off, a pool connection */
    uint64_t inflight_ready_ns;     /* the request in flight was free to go from this time */
    uint64_t rng;                   /* reconnect jitter */
    uint32_t index;                 /* 1-based fleet index */
    uint32_t failures;              /* consecutive heartbeat/poll failures */
    uint32_t reconnects;            /* consecutive connection-level failures */
    uint32_t pool_slot;             /* pool connection in use while in flight (pool mode) */
    uint8_t slot[AGENT_KIND_COUNT]; /* agent_slot */
    uint8_t inflight_kind;
    uint8_t job_ep; /* endpoint of the waiting or in-flight job request */
    bool inflight, retired, stopped, seen_404, in_pool_wait, started;
};

/* Name of an endpoint ("heartbeat", "work", "csr", "job_status", "cert_fetch", "verify"). */
const char *agent_endpoint_name(enum agent_endpoint ep);

/* True when status is the success answer of ep (heartbeat/work/job_status/cert_fetch/verify
 * 200, csr 202). */
bool agent_status_expected(enum agent_endpoint ep, int status);

/* Records the outcome of one request in series s: answered (failed unless expected),
 * timed out, or a transport error of the matching kind. The sent time recorded is when the
 * request was begun (before a fresh connection's connect and TLS handshake), so lag measures
 * fleetsim's lateness only and service includes connection set-up (with the connect and TLS
 * handshake also in their own histograms). ready_ns: when the actor was first free to send it
 * (after waiting on the server; 0 = at its intended time). */
void agent_record_result(struct metrics_series *s, const struct http_result *res, bool expected,
                         uint64_t ready_ns);

/* Fills set with the profile's timers, version and headers (docs/fleet.md, "When they send"):
 * default = heartbeat 30 s, jitter 10 %, poll 30 s, ramp 30 s, version 2.1.0; certctl-1.0 =
 * heartbeat 60 s, poll 30 s, no jitter, both timers at the agent's start, poll back-off,
 * version 1.0.0, Content-Type on every request. Both send Go's User-Agent and
 * Accept-Encoding: gzip, and deploy with a 2 s wait and a 5-50 ms probe before verifying.
 * Both profiles use the wake-up slot AGENT_TIMER_SLOT_DEFAULT_NS. Other fields are zeroed;
 * the caller sets prefix, seed, mix, base path, key, ids. */
void agent_settings_profile(struct agent_settings *set, enum agent_profile profile);

/* The profile's name as the command line and scenario files spell it: "default",
 * "certctl-1.0". Static storage. */
const char *agent_profile_name(enum agent_profile profile);

/* Sets the agents' wake-up slot (ns; 0 = each agent woken at its own time): set->timer_slot_ns
 * and the grid that both timers' intended times are rounded up to. */
void agent_settings_timer_slot(struct agent_settings *set, uint64_t slot_ns);

/* Sets set->local_ip to the local address the system picks toward cc's destination (a UDP
 * socket connected to it and getsockname; nothing is sent), as the real agent fills
 * ip_address from a UDP dial. Leaves "" when that fails. */
void agent_settings_local_ip(struct agent_settings *set, const struct http_conn_config *cc);

/* The extra header lines every agent request carries: User-Agent, Accept-Encoding: gzip (when
 * set->accept_gzip), Authorization: Bearer (when an API key is set) and, when content_type,
 * Content-Type: application/json. Returns a
 * malloc'd string (it holds the key: overwrite before freeing), or NULL. */
char *agent_headers(const struct agent_settings *set, bool content_type);

/* Prepares a loop context: its timer queue with a timerfd event on base (wake-up slot
 * set->timer_slot_ns, slots counted from l->run_start_ns). pool_size 0 =
 * per-agent connections. Returns 0, -ENOMEM, -EIO (OpenSSL) or the negative errno of timerfd_create. */
int agent_loop_init(struct agent_loop *l, struct event_base *base, const struct agent_settings *set,
                    const struct http_conn_config *conn_cfg, struct metrics *metrics,
                    uint32_t pool_size);

/* Releases what agent_loop_init made (after every agent of the loop was destroyed). */
void agent_loop_destroy(struct agent_loop *l);

/* Writes agent index's id (from set->agent_ids, else sim/identity) into buf (n bytes).
 * Returns the length or -ENOSPC. */
int agent_id(const struct agent_settings *set, uint32_t index, char *buf, size_t n);

/* The source IPv4 (host order) of agent index, or 0 when no source addresses are set. */
uint32_t agent_source_ipv4(const struct agent_settings *set, uint32_t index);

/* Writes the heartbeat body of agent index (sorted keys: architecture, hostname, ip_address,
 * os, version) into buf; ip_address is the agent's source address when set, else
 * set->local_ip. Returns the length, or -ENOSPC. */
int agent_heartbeat_body(const struct agent_settings *set, uint32_t index, char *buf, size_t n);

/* Initialises an agent (no timer armed yet, nothing allocated). */
void agent_init(struct agent *a, struct agent_loop *l, uint32_t index);

/* Starts the agent's timers relative to l->run_start_ns (reserving its place in the loop's
 * timer queue). Returns 0 or -ENOMEM. */
int agent_start(struct agent *a);

/* Stops scheduling new requests (drain): timers stop; waiting and in-flight requests go on. */
void agent_stop(struct agent *a);

/* The run has ended (now_ns): every request of the agent still waiting or in flight is recorded
 * as unanswered (failed, its duration from its intended time to now_ns) and its slot freed. */
void agent_end_unanswered(struct agent *a, uint64_t now_ns);

/* Frees the agent's connection, work and keys; a request in flight is abandoned (it stays in
 * flight in the accounting). */
void agent_destroy(struct agent *a);

/* Requests of this agent waiting or in flight. */
unsigned agent_pending(const struct agent *a);

#endif
