/* sim/acme_internal.h - internal to sim/acme*.c: one event loop's actors and what they share, the
 * actor's state machine steps, and the request helpers (send, sign, record) the burst and
 * order flows are written with. Not a public interface. */
#ifndef FLEETSIM_SIM_ACME_INT_H
#define FLEETSIM_SIM_ACME_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/evp.h>

#include "sim/acme.h"
#include "sim/acme_proto.h"
#include "sim/csr.h"

/* Longest order name "acme-<index>-<n>.<suffix>", bytes including the NUL. */
#define ACME_NAME_MAX 256u
/* Longest renewal-info id we build, bytes including the NUL. */
#define ACME_RENEWAL_ID_MAX 256u
/* Longest failure reason word, bytes including the NUL. */
#define ACME_REASON_MAX 64u

/* The request in flight (or the one a timer will send). */
enum acme_step {
    ACME_STEP_NONE = 0,
    ACME_STEP_NONCE,       /* HEAD new-nonce before a signed request */
    ACME_STEP_B_DIRECTORY, /* burst: GET directory */
    ACME_STEP_B_NONCE,     /* burst: HEAD new-nonce */
    ACME_STEP_B_RENEWAL,   /* burst: GET renewal-info/aaaa.bbbb */
    ACME_STEP_DIRECTORY,   /* order: GET directory (once per actor) */
    ACME_STEP_ACCOUNT,     /* POST new-account (once per actor) */
    ACME_STEP_NEW_ORDER,
    ACME_STEP_AUTHZ,
    ACME_STEP_CHALLENGE,
    ACME_STEP_POLL_READY,
    ACME_STEP_FINALIZE,
    ACME_STEP_POLL_VALID,
    ACME_STEP_CERT,
    ACME_STEP_RENEWAL, /* order: GET renewal-info of the new certificate */
};

/* What an actor's timer does when it fires. */
enum acme_timer_what { ACME_TIMER_BEGIN = 0, ACME_TIMER_POLL };

struct acme_group;

/* What the actors of one loop share. */
struct acme_loop {
    struct acme_group *group;
    const struct acme_config *cfg; /* the group's copy */
    const char *dir_path;          /* request target of the directory URL */
    const char *authority;         /* Host the server builds its URLs from */
    bool tls;
    struct event_base *base; /* the loop group's (engine/loop_group.h) */
    struct metrics *metrics; /* the loop group's */
    struct metrics_series *series[ACME_EP_COUNT];
    struct csr_gen *csr;
    char *hdr_get, *hdr_post; /* extra header lines (secret: may hold the key) */
    struct acme_actor *actors;
    uint32_t n_actors;
    uint32_t active; /* actors not done */
    uint64_t busy;   /* requests in flight */
    bool stopping;   /* draining: start nothing new */
    struct acme_counters counters;
    uint64_t run_start_ns;
};

/* A signed request being sent (kept for badNonce resends). */
struct acme_post {
    enum acme_endpoint ep;
    enum acme_step step;
    char *url;     /* malloc'd */
    char *payload; /* malloc'd ("" for POST-as-GET) */
    bool use_jwk;  /* new-account: jwk instead of kid */
    uint32_t retries;
};

/* One actor. Fields are private to sim/acme*.c. */
struct acme_actor {
    struct acme_loop *loop;
    uint32_t index; /* 1-based over all shards */
    struct http_conn *conn;
    struct event timer;
    enum acme_timer_what timer_what;
    uint64_t timer_due_ns; /* intended time of what the timer starts */
    EVP_PKEY *key;         /* account key, made on first use */
    char *kid;             /* account URL */
    char *nonce;           /* next Replay-Nonce to use, or NULL */
    struct acme_directory dir;
    bool have_dir;
    enum acme_step step;   /* of the request in flight */
    enum acme_endpoint ep; /* of the request in flight */
    bool in_flight, in_iteration, done;
    struct acme_post post; /* valid while post.url != NULL */
    uint64_t cursor_ns;    /* next schedule slot (absolute) */
    uint32_t iterations;   /* begun */
    uint32_t failures;     /* consecutive failed orders (back-off) */
    bool iteration_bad;    /* burst: a step was answered unexpectedly */
    char bad_reason[ACME_REASON_MAX];
    /* order in progress */
    uint32_t order_seq;
    char name[ACME_NAME_MAX];
    char *order_url;
    struct acme_order_info order;
    size_t authz_i;
    bool challenged;
    uint32_t polls;
    enum acme_step poll_step; /* ACME_STEP_POLL_READY or ACME_STEP_POLL_VALID */
    bool counted;             /* the iteration's success is already counted */
    uint64_t retry_after_ns;  /* from the last answer, 0 = none */
    struct csr_key csr_key;
    bool have_csr_key;
};

/* ---- sim/acme_send.c ---- */

/* Sends method (GET/HEAD) to url as step ep/step with intended_ns. Returns 0, or -EINVAL when
 * url is not on the directory's origin (the caller fails the flow), -EIO when it could not be
 * sent. */
int acme_send_plain(struct acme_actor *a, const char *method, const char *url,
                    enum acme_endpoint ep, enum acme_step step, uint64_t intended_ns);

/* Starts a signed POST of payload (copied; "" = POST-as-GET) to url (copied): fetches a nonce
 * first when the actor has none. Returns 0 or a negative errno with the reason word in
 * a->bad_reason (the caller fails the flow). */
int acme_send_signed(struct acme_actor *a, const char *url, const char *payload, bool use_jwk,
                     enum acme_endpoint ep, enum acme_step step, uint64_t intended_ns);

/* Sends the stored signed request now with the actor's nonce (consumed). Returns as above. */
int acme_post_now(struct acme_actor *a, uint64_t intended_ns);

/* Forgets the stored signed request. */
void acme_post_clear(struct acme_actor *a);

/* Generates the actor's account key for cfg->key_alg. Returns 0 or -EIO. */
int acme_actor_keygen(struct acme_actor *a);

/* Adds one to the loop's counter metric (scenario, actor acme, no endpoint) with an optional
 * reason tag. */
void acme_count(struct acme_loop *l, const char *metric, const char *reason);

/* Assigns the actor's timer event to its loop (once, before acme_arm). */
void acme_timer_init(struct acme_actor *a);

/* Arms the actor's timer to start `what` at due_ns (absolute clock_now_ns time). */
void acme_arm(struct acme_actor *a, enum acme_timer_what what, uint64_t due_ns);

/* ---- sim/acme_flow.c ---- */

/* Starts the next iteration (timer fired or called directly) with intended time intended_ns. */
void acme_begin(struct acme_actor *a, uint64_t intended_ns);

/* The timer of a poll fired: sends the poll. */
void acme_poll_due(struct acme_actor *a, uint64_t intended_ns);

/* Handles a complete answer (or error) of the request in flight; called by acme_send.c after
 * recording its metrics. expected: the status was the step's success answer. */
void acme_on_answer(struct acme_actor *a, const struct http_result *res, bool expected,
                    const char *problem);

/* The loop stops: an actor between requests abandons its iteration. */
void acme_actor_stop(struct acme_actor *a);

/* Ends the actor's iteration: ok or failed with reason (copied), then schedules the next. */
void acme_iteration_end(struct acme_actor *a, bool ok, const char *reason);

/* The run ends with the iteration in progress: counted abandoned (unless its success was
 * already counted) and its order state freed. */
void acme_iteration_abandon(struct acme_actor *a);

/* True when status is the success answer of the step (burst renewal-info: 200 or 404). */
bool acme_step_expected(enum acme_step step, int status);

/* Releases what an actor holds (connection, key, order, nonce). */
void acme_actor_release(struct acme_actor *a);

#endif
