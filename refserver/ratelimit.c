/* refserver/ratelimit.c - per-IP token buckets in a fixed open-addressing table (see ratelimit.h).
 * Eviction: when the table is 3/4 full, every entry whose bucket has refilled completely is
 * dropped (it is indistinguishable from a new one); if that frees nothing the table is reset. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "refserver/ratelimit.h"

#define RL_KEY_BYTES 16
#define NS_PER_S 1e9

struct rl_entry {
    uint8_t key[RL_KEY_BYTES];
    uint8_t used;
    double tokens;
    uint64_t last_ns;
};

struct ratelimit {
    double rate_per_s, burst;
    uint64_t full_after_ns; /* an idle bucket is full again after this long */
    uint32_t count;
    struct rl_entry *slots;   /* RATELIMIT_SLOTS */
    struct rl_entry *scratch; /* same size, used while evicting */
};

struct ratelimit *ratelimit_new(double rate_per_s, double burst)
{
    if (!(rate_per_s > 0.0) || !(burst >= 1.0))
        return NULL;
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->slots = calloc(RATELIMIT_SLOTS, sizeof *rl->slots);
    rl->scratch = calloc(RATELIMIT_SLOTS, sizeof *rl->scratch);
    if (!rl->slots || !rl->scratch) {
        ratelimit_free(rl);
        return NULL;
    }
    rl->rate_per_s = rate_per_s;
    rl->burst = burst;
    rl->full_after_ns = (uint64_t)(burst / rate_per_s * NS_PER_S) + 1;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    free(rl->slots);
    free(rl->scratch);
    free(rl);
}

uint32_t ratelimit_tracked(const struct ratelimit *rl)
{
    return rl->count;
}

/* IPv4 as v4-mapped IPv6 so both families share one key format. */
static void rl_key(const struct sockaddr *addr, uint8_t key[RL_KEY_BYTES])
{
    memset(key, 0, RL_KEY_BYTES);
    if (addr && addr->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in4->sin_addr, 4);
    } else if (addr && addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        memcpy(key, &in6->sin6_addr, RL_KEY_BYTES);
    }
}

static uint32_t rl_hash(const uint8_t key[RL_KEY_BYTES])
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    return (uint32_t)h & (RATELIMIT_SLOTS - 1);
}

static struct rl_entry *rl_find_slot(struct rl_entry *slots, const uint8_t key[RL_KEY_BYTES])
{
    uint32_t i = rl_hash(key);
    for (;;) {
        struct rl_entry *e = &slots[i];
        if (!e->used || memcmp(e->key, key, RL_KEY_BYTES) == 0)
            return e;
        i = (i + 1) & (RATELIMIT_SLOTS - 1);
    }
}

/* Drops refilled entries by rebuilding the table from the live ones. */
static void rl_evict(struct ratelimit *rl, uint64_t now_ns)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < RATELIMIT_SLOTS; i++) {
        struct rl_entry *e = &rl->slots[i];
        if (e->used && now_ns - e->last_ns < rl->full_after_ns)
            rl->scratch[kept++] = *e;
    }
    if (kept >= RATELIMIT_SLOTS / 2)
        kept = 0; /* nothing idle enough: forget everyone (buckets start full again) */
    memset(rl->slots, 0, RATELIMIT_SLOTS * sizeof *rl->slots);
    for (uint32_t i = 0; i < kept; i++)
        *rl_find_slot(rl->slots, rl->scratch[i].key) = rl->scratch[i];
    rl->count = kept;
}

bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr *addr, uint64_t now_ns)
{
    uint8_t key[RL_KEY_BYTES];
    rl_key(addr, key);
    struct rl_entry *e = rl_find_slot(rl->slots, key);
    if (!e->used) {
        if (rl->count + 1 > RATELIMIT_SLOTS / 4 * 3) {
            rl_evict(rl, now_ns);
            e = rl_find_slot(rl->slots, key);
        }
        memcpy(e->key, key, RL_KEY_BYTES);
        e->used = 1;
        e->tokens = rl->burst;
        e->last_ns = now_ns;
        rl->count++;
    } else if (now_ns > e->last_ns) {
        e->tokens += (double)(now_ns - e->last_ns) / NS_PER_S * rl->rate_per_s;
        if (e->tokens > rl->burst)
            e->tokens = rl->burst;
        e->last_ns = now_ns;
    }
    if (e->tokens < 1.0)
        return false;
    e->tokens -= 1.0;
    return true;
}
