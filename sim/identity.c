/* sim/identity.c - fleet names and deterministic per-agent metadata (see identity.h).
 * Pure: every value is a function of (run seed, prefix, index). */
#include "sim/identity.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/text_out.h"

/* Share of linux agents that report arm64 rather than amd64, in percent. */
#define LINUX_ARM64_PCT 20
/* Constant mixed into per-agent seeds so agent RNG streams differ from the run seed itself. */
#define AGENT_SEED_SALT 0x6a09e667f3bcc909ULL

static const char *const os_names[IDENTITY_OS_COUNT] = {"linux", "windows", "darwin"};

struct identity_os_mix identity_default_os_mix(void)
{
    struct identity_os_mix mix = {{80, 10, 10}};
    return mix;
}

int identity_prefix_check(const char *prefix)
{
    size_t len = prefix ? strlen(prefix) : 0;
    if (len == 0 || len > IDENTITY_PREFIX_MAX || prefix[0] < 'a' || prefix[0] > 'z')
        return -EINVAL;
    for (size_t i = 1; i < len; i++) {
        char c = prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -EINVAL;
    }
    return 0;
}

/* head + prefix + sep + index (at least 5 digits, as "%05u") + tail into buf (n bytes), without
 * printf: agent ids and host names are formatted for every request (engine/text_out.h).
 * Returns the length, or -ENOSPC (buf then holds "") when it does not fit. */
static int name_with_index(char *buf, size_t n, const char *head, const char *prefix,
                           const char *sep, uint32_t index, const char *tail)
{
    struct text_out o = text_out_start(buf, n);
    text_out_str(&o, head);
    text_out_str(&o, prefix);
    text_out_str(&o, sep);
    text_out_uint(&o, index, 5);
    text_out_str(&o, tail);
    return text_out_end(&o);
}

/* head + prefix + tail into buf (n bytes); the length or -ENOSPC, as name_with_index. */
static int name_of(char *buf, size_t n, const char *head, const char *prefix, const char *tail)
{
    struct text_out o = text_out_start(buf, n);
    text_out_str(&o, head);
    text_out_str(&o, prefix);
    text_out_str(&o, tail);
    return text_out_end(&o);
}

int identity_agent_id(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "ag-", prefix, "-", index, "");
}

int identity_agent_name(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "", prefix, "-agent-", index, "");
}

int identity_agent_hostname(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "", prefix, "-", index, ".fleet.example.test");
}

int identity_target_id(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "tgt-", prefix, "-", index, "");
}

int identity_target_name(char *buf, size_t n, const char *prefix)
{
    return name_of(buf, n, "", prefix, "-target");
}

int identity_cert_id(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "mc-", prefix, "-", index, "");
}

int identity_cert_name(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "", prefix, "-bulk-", index, "");
}

int identity_cert_cn(char *buf, size_t n, const char *prefix, uint32_t index)
{
    return name_with_index(buf, n, "", prefix, "-", index, ".certs.example.test");
}

int identity_team_id(char *buf, size_t n, const char *prefix)
{
    return name_of(buf, n, "t-", prefix, "");
}

int identity_owner_id(char *buf, size_t n, const char *prefix)
{
    return name_of(buf, n, "o-", prefix, "");
}

int identity_policy_id(char *buf, size_t n, const char *prefix)
{
    return name_of(buf, n, "rp-", prefix, "");
}

int identity_target_has_host(uint32_t index, uint32_t host_pct)
{
    if (index == 0 || host_pct == 0)
        return 0;
    uint64_t pct = host_pct > 100 ? 100 : host_pct;
    return (uint64_t)index * pct / 100 > (uint64_t)(index - 1) * pct / 100;
}

int identity_target_config(char *buf, size_t n, const char *prefix, uint32_t index,
                           uint32_t host_pct)
{
    char host[IDENTITY_NAME_MAX];
    int len;
    if (!identity_target_has_host(index, host_pct))
        len = snprintf(buf, n, "{}");
    else if (identity_agent_hostname(host, sizeof host, prefix, index) < 0)
        return -ENOSPC;
    else
        len = snprintf(buf, n, "{\"host\":\"%s\",\"port\":443}", host);
    return len < 0 || (size_t)len >= n ? -ENOSPC : len;
}

uint32_t identity_cert_agent(uint32_t cert_index, uint32_t n_agents)
{
    return ((cert_index - 1) % n_agents) + 1;
}

int identity_parse_index(const char *id, const char *kind, const char *prefix, uint32_t *index)
{
    size_t kind_len = strlen(kind), prefix_len = strlen(prefix);
    if (strncmp(id, kind, kind_len) != 0 || id[kind_len] != '-')
        return -EINVAL;
    const char *p = id + kind_len + 1;
    if (strncmp(p, prefix, prefix_len) != 0 || p[prefix_len] != '-')
        return -EINVAL;
    p += prefix_len + 1;
    uint64_t value = 0;
    size_t digits = 0;
    for (; *p; p++, digits++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        value = value * 10 + (uint64_t)(*p - '0');
        if (value > UINT32_MAX)
            return -EINVAL;
    }
    if (digits == 0)
        return -EINVAL;
    *index = (uint32_t)value;
    return 0;
}

uint64_t identity_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double identity_rng_unit(uint64_t *state)
{
    return (double)(identity_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t identity_agent_rng_seed(uint64_t run_seed, uint32_t index)
{
    uint64_t state = run_seed ^ AGENT_SEED_SALT;
    uint64_t mixed = identity_rng_next(&state) ^ ((uint64_t)index * 0xd1b54a32d192ed03ULL);
    return identity_rng_next(&mixed);
}

/* Picks an OS from a uniform draw in [0, 100). */
static enum identity_os pick_os(const struct identity_os_mix *mix, double draw_pct)
{
    double edge = 0;
    for (int os = 0; os < IDENTITY_OS_COUNT - 1; os++) {
        edge += mix->pct[os];
        if (draw_pct < edge)
            return (enum identity_os)os;
    }
    return (enum identity_os)(IDENTITY_OS_COUNT - 1);
}

void identity_agent_meta(uint64_t run_seed, uint32_t index, const struct identity_os_mix *mix,
                         struct identity_agent_meta *out)
{
    /* A stream of its own, so metadata never shifts when timers draw more numbers. */
    uint64_t state = identity_agent_rng_seed(run_seed, index) ^ 0x5bd1e995ULL;
    enum identity_os os = pick_os(mix, identity_rng_unit(&state) * 100.0);
    out->os_kind = os;
    out->os = os_names[os];
    if (os == IDENTITY_OS_DARWIN)
        out->architecture = "arm64";
    else if (os == IDENTITY_OS_LINUX && identity_rng_unit(&state) * 100.0 < LINUX_ARM64_PCT)
        out->architecture = "arm64";
    else
        out->architecture = "amd64";
}

const char *identity_os_name(enum identity_os os)
{
    return (unsigned)os < IDENTITY_OS_COUNT ? os_names[os] : "linux";
}
