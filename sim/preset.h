/* sim/preset.h - scenario presets (docs/scenarios.md): the load each preset sets and the thresholds
 * it brings, expressed without the command line's types so src/ can apply them to a run
 * configuration while options given explicitly keep their values. */
#ifndef FLEETSIM_SIM_PRESET_H
#define FLEETSIM_SIM_PRESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/acme.h"
#include "sim/agent.h"
#include "sim/identity.h"

/* Most thresholds one preset brings. */
#define PRESET_MAX_THRESHOLDS 16

/* Ranges of the settings below: the command line's (src/options.h aliases them) and a scenario
 * file's (sim/scenario_file.h), one copy. Chosen to catch typos, not to police. */
#define PRESET_MAX_AGENTS 1000000u
#define PRESET_MIN_INTERVAL_NS (10ULL * 1000000ULL)           /* heartbeat, poll: 10ms */
#define PRESET_MAX_INTERVAL_NS (24ULL * 3600 * 1000000000ULL) /* heartbeat, poll, ramp: 24h */
#define PRESET_MAX_JITTER_PCT 50.0
#define PRESET_MIN_DURATION_NS (100ULL * 1000000ULL)               /* 100ms */
#define PRESET_MAX_DURATION_NS (30ULL * 24 * 3600 * 1000000000ULL) /* 30d */
#define PRESET_MAX_CERTS 10000000u
#define PRESET_MIN_BULK_RATE_PER_S 0.01 /* 0.6/m */
#define PRESET_MAX_BULK_RATE_PER_S 10000.0
#define PRESET_MAX_BULK_BATCH 10000u /* certctl's body limit: ~25k ids */
#define PRESET_MAX_BULK_PASSES 1000000u
#define PRESET_MAX_ACME_CLIENTS 100000u

/* A preset's settings; a field applies only when its has_ flag is set. */
struct preset {
    const char *name;        /* e.g. "agent-storm": also the scenario tag */
    const char *description; /* one line for --help and docs */
    bool has_agents;
    uint32_t agents;
    bool has_heartbeat;
    uint64_t heartbeat_ns;
    bool has_poll;
    uint64_t poll_ns; /* 0 = no polling */
    bool has_duration;
    uint64_t duration_ns;
    bool has_certs;
    uint32_t certs; /* certificates the operator renews */
    bool has_bulk_rate;
    double bulk_rate_per_s; /* operator bulk-renew calls per second */
    bool has_bulk_batch;
    uint32_t bulk_batch; /* certificate ids per call */
    bool has_acme_clients;
    uint32_t acme_clients; /* ACME client actors (sim/acme.h) */
    bool has_acme_mode;
    enum acme_mode acme_mode;                      /* full orders or burst */
    const char *thresholds[PRESET_MAX_THRESHOLDS]; /* k6 threshold specs, NULL-terminated
                                                      unless all PRESET_MAX_THRESHOLDS are used */
    /* Settings the built-in presets leave to the defaults; scenario files may set them. */
    bool has_jitter;
    double jitter_pct; /* percent, e.g. 10.0 */
    bool has_agent_profile;
    enum agent_profile agent_profile;
    bool has_os_mix;
    struct identity_os_mix os_mix;
    bool has_ramp;
    uint64_t ramp_ns; /* spread of the agents' first events */
    bool has_bulk_passes;
    uint32_t bulk_passes; /* passes over the certificates */
};

/* The settings a preset can carry, one per `fleetsim run` option of the same meaning. */
enum preset_setting {
    PRESET_SET_AGENTS = 0,    /* --agents N */
    PRESET_SET_HEARTBEAT,     /* --heartbeat DUR */
    PRESET_SET_JITTER,        /* --jitter PCT */
    PRESET_SET_POLL,          /* --poll DUR (0 = off) */
    PRESET_SET_AGENT_PROFILE, /* --agent-profile default|certctl-1.0 */
    PRESET_SET_OS_MIX,        /* --os-mix L/W/D */
    PRESET_SET_RAMP,          /* --ramp DUR */
    PRESET_SET_DURATION,      /* --duration DUR */
    PRESET_SET_CERTS,         /* --certs N */
    PRESET_SET_BULK_RATE,     /* --bulk-rate RATE */
    PRESET_SET_BULK_BATCH,    /* --bulk-batch N */
    PRESET_SET_BULK_PASSES,   /* --bulk-passes N */
    PRESET_SET_ACME_CLIENTS,  /* --acme-clients N */
    PRESET_SET_ACME_MODE,     /* --acme-mode burst|order */
    PRESET_SET__COUNT
};

/* The preset called name, or NULL when there is none. */
const struct preset *preset_find(const char *name);

/* Number of presets, and the i-th (NULL past the end). */
size_t preset_count(void);
const struct preset *preset_at(size_t i);

/* Number of threshold specs of p. */
size_t preset_threshold_count(const struct preset *p);

/* The scenario-file key of setting s ("agent_profile"); NULL for an unknown s. */
const char *preset_setting_key(enum preset_setting s);

/* True when setting s takes a count (a JSON integer in a scenario file), false when it takes
 * text such as "30s", "10%", "5/s", "80/10/10" or "order". */
bool preset_setting_is_count(enum preset_setting s);

/* Parses text as the value of setting s with the command line's syntax and range (the one
 * copy of each rule: src/options_values.c calls it for the options) and stores it in p with
 * its has_ flag set. Returns 0, or -EINVAL / -ERANGE with a reason phrase meant to follow the
 * quoted value, e.g. `is too large (expected an integer from 1 to 1000000)`; p is then left
 * untouched. */
int preset_set(struct preset *p, enum preset_setting s, const char *text, char *reason, size_t n);

/* True when p sets s (its has_ flag). */
bool preset_has(const struct preset *p, enum preset_setting s);

/* A duration that is 0 (off) or within [min_ns, max_ns] into *out_ns (the rule of --poll and
 * of fleetsim's other "0 = off" durations). Returns 0 or a negative code with a reason as
 * preset_set's. */
int preset_parse_duration_or_off(const char *text, uint64_t min_ns, uint64_t max_ns,
                                 uint64_t *out_ns, char *reason, size_t n);

/* Writes the settings p sets as the equivalent options, in enum order, e.g.
 * "--agents 5000 --heartbeat 30s --poll 0 --duration 5m", into buf (size n; "" when p sets
 * none). Returns the length, or -ENOSPC when it did not fit (buf then holds a cut string). */
int preset_format_settings(const struct preset *p, char *buf, size_t n);

#endif
