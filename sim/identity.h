/* sim/identity.h - the one place that names the simulated fleet (docs/architecture.md, "Fleet
 * identity"). Pure functions of (run seed, fleet prefix, 1-based index): no I/O, no globals.
 * fleetsim run, fleetsim seed and fleetsim-target all call these, so a fleet seeded by any of
 * them is the same. */
#ifndef FLEETSIM_SIM_IDENTITY_H
#define FLEETSIM_SIM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

/* Longest accepted fleet prefix ([a-z][a-z0-9]{0,23}). */
#define IDENTITY_PREFIX_MAX 24
/* Buffer size that holds any id, name, hostname or CN this module formats. */
#define IDENTITY_NAME_MAX 96
/* Default fleet prefix. */
#define IDENTITY_DEFAULT_PREFIX "loadtest"

enum identity_os { IDENTITY_OS_LINUX = 0, IDENTITY_OS_WINDOWS = 1, IDENTITY_OS_DARWIN = 2 };
#define IDENTITY_OS_COUNT 3

/* Share of each OS in the fleet, in percent; the three add up to 100. */
struct identity_os_mix {
    uint32_t pct[IDENTITY_OS_COUNT];
};

/* Metadata an agent reports in its heartbeat; the strings are static. */
struct identity_agent_meta {
    enum identity_os os_kind;
    const char *os;           /* "linux" | "windows" | "darwin" (Go's GOOS) */
    const char *architecture; /* "amd64" | "arm64" (Go's GOARCH) */
};

/* The default mix, 80/10/10 linux/windows/darwin. */
struct identity_os_mix identity_default_os_mix(void);

/* Returns 0 when prefix matches [a-z][a-z0-9]{0,23}, -EINVAL otherwise. */
int identity_prefix_check(const char *prefix);

/* Formatters: write the thing's id or name for 1-based index into buf (size n, at least
 * IDENTITY_NAME_MAX is always enough). Return the length written, or -ENOSPC. Indexes print
 * as %05u (at least five digits whatever the fleet size). */
int identity_agent_id(char *buf, size_t n, const char *prefix, uint32_t index); /* ag-P-00001 */
int identity_agent_name(char *buf, size_t n, const char *prefix,
                        uint32_t index); /* P-agent-00001 */
int identity_agent_hostname(char *buf, size_t n, const char *prefix,
                            uint32_t index); /* P-00001.fleet.example.test */
int identity_target_id(char *buf, size_t n, const char *prefix, uint32_t index); /* tgt-P-00001 */
int identity_target_name(char *buf, size_t n, const char *prefix);               /* P-target */
int identity_cert_id(char *buf, size_t n, const char *prefix, uint32_t index);   /* mc-P-00001 */
int identity_cert_name(char *buf, size_t n, const char *prefix, uint32_t index); /* P-bulk-00001 */
int identity_cert_cn(char *buf, size_t n, const char *prefix,
                     uint32_t index);                            /* P-00001.certs.example.test */
int identity_team_id(char *buf, size_t n, const char *prefix);   /* t-P */
int identity_owner_id(char *buf, size_t n, const char *prefix);  /* o-P */
int identity_policy_id(char *buf, size_t n, const char *prefix); /* rp-P */

/* Deployment target type of every seeded target. */
#define IDENTITY_TARGET_TYPE "NGINX"

/* Whether seeded target index (1-based) carries host config when host_pct percent of the
 * targets do: exactly floor(N * host_pct / 100) of targets 1..N, spread evenly (target index
 * does when floor(index * pct / 100) passes a whole number). host_pct 0 = none, 100 = all. */
int identity_target_has_host(uint32_t index, uint32_t host_pct);

/* Writes the deployment_targets.config JSON of seeded target index into buf (size n): "{}",
 * or, when identity_target_has_host, {"host":"<agent hostname>","port":443} (the fields the
 * real agent's post-deployment probe reads; the hostname is under .example.test and never
 * contacted). Returns the length or -ENOSPC. */
int identity_target_config(char *buf, size_t n, const char *prefix, uint32_t index,
                           uint32_t host_pct);

/* The agent (1-based) whose target certificate cert_index (1-based) is mapped to:
 * ((cert_index - 1) mod n_agents) + 1. n_agents must be > 0. */
uint32_t identity_cert_agent(uint32_t cert_index, uint32_t n_agents);

/* Parses an id of exact shape ^<kind>-<prefix>-[0-9]+$ (kind "ag", "tgt" or "mc") and stores
 * the index. Returns 0, or -EINVAL when id does not have that exact shape (e.g. "ag-loadtest-x-00001"). */
int identity_parse_index(const char *id, const char *kind, const char *prefix, uint32_t *index);

/* Seed of agent index's private RNG, derived from the run seed: the same (seed, index) gives the
 * same agent in any shard or rerun. */
uint64_t identity_agent_rng_seed(uint64_t run_seed, uint32_t index);

/* splitmix64 step: advances *state and returns the next 64 random bits. */
uint64_t identity_rng_next(uint64_t *state);

/* A uniform double in [0, 1) from the RNG state. */
double identity_rng_unit(uint64_t *state);

/* Metadata of agent index under the run seed and OS mix. Deterministic. */
void identity_agent_meta(uint64_t run_seed, uint32_t index, const struct identity_os_mix *mix,
                         struct identity_agent_meta *out);

/* Name of an OS kind ("linux", "windows", "darwin"). */
const char *identity_os_name(enum identity_os os);

#endif
