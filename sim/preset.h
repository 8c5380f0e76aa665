/* sim/preset.h - scenario presets (DESIGN §5): the load each preset sets and the thresholds
 * it brings, expressed without the command line's types so src/ can apply them to a run
 * configuration while options given explicitly keep their values. */
#ifndef FLEETSIM_SIM_PRESET_H
#define FLEETSIM_SIM_PRESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most thresholds one preset brings. */
#define PRESET_MAX_THRESHOLDS 16

/* A preset's settings; a field applies only when its has_ flag is set. */
struct preset {
    const char *name;               /* e.g. "agent-storm": also the scenario tag */
    const char *description;        /* one line for --help and docs */
    bool has_agents;      uint32_t agents;
    bool has_heartbeat;   uint64_t heartbeat_ns;
    bool has_poll;        uint64_t poll_ns;       /* 0 = no polling */
    bool has_duration;    uint64_t duration_ns;
    bool has_certs;       uint32_t certs;         /* certificates the operator renews */
    bool has_bulk_rate;   double bulk_rate_per_s; /* operator bulk-renew calls per second */
    bool has_bulk_batch;  uint32_t bulk_batch;    /* certificate ids per call */
    bool has_acme_clients; uint32_t acme_clients; /* ACME client actors (sim/acme.h) */
    bool has_acme_mode;   bool acme_order_mode;   /* true: full orders; false: burst */
    const char *thresholds[PRESET_MAX_THRESHOLDS]; /* k6 threshold specs, NULL-terminated */
};

/* The preset called name, or NULL when there is none. */
const struct preset *preset_find(const char *name);

/* Number of presets, and the i-th (NULL past the end). */
size_t preset_count(void);
const struct preset *preset_at(size_t i);

/* Number of threshold specs of p. */
size_t preset_threshold_count(const struct preset *p);

#endif
