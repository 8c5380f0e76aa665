/* refserver/stats.c - request and heartbeat counters and their JSON rendering (see stats.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sim/identity.h"
#include "refserver/json_write.h"
#include "refserver/stats.h"
#include "refserver/store.h"

#define HB_MAP_INITIAL_SLOTS 1024u

struct hb_entry {
    char *id; /* NULL = empty slot */
    uint64_t count;
};

struct target_stats {
    uint64_t requests[EP_COUNT][TSTATS_MAX_STATUS];
    char prefix[IDENTITY_PREFIX_MAX + 1];
    uint32_t seeded;
    uint64_t *seeded_hb;  /* [seeded + 1], index 0 unused */
    struct hb_entry *map; /* other agents, open addressing */
    uint32_t map_slots, map_used;
    uint64_t verify_calls, verified, discoveries, discovered_certs;
};

void tstats_verify(struct target_stats *st, bool verified)
{
    st->verify_calls++;
    st->verified += verified;
}

void tstats_discovery(struct target_stats *st, uint64_t certificates)
{
    st->discoveries++;
    st->discovered_certs += certificates;
}

/* The agent-work counts: verify reports and discovery reports accepted. */
static int write_agent_reports(const struct target_stats *st, struct evbuffer *out)
{
    return evbuffer_add_printf(
               out,
               ",\"verify\":{\"calls\":%llu,\"verified\":%llu},"
               "\"discoveries\":{\"calls\":%llu,\"certificates\":%llu}",
               (unsigned long long)st->verify_calls, (unsigned long long)st->verified,
               (unsigned long long)st->discoveries, (unsigned long long)st->discovered_certs) < 0
               ? -ENOMEM
               : 0;
}

struct target_stats *tstats_new(const char *prefix, uint32_t seeded_agents)
{
    struct target_stats *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    snprintf(st->prefix, sizeof st->prefix, "%s", prefix ? prefix : IDENTITY_DEFAULT_PREFIX);
    st->seeded = seeded_agents;
    st->seeded_hb = calloc((size_t)seeded_agents + 1, sizeof *st->seeded_hb);
    if (!st->seeded_hb) {
        free(st);
        return NULL;
    }
    return st;
}

void tstats_free(struct target_stats *st)
{
    if (!st)
        return;
    for (uint32_t i = 0; i < st->map_slots; i++)
        free(st->map[i].id);
    free(st->map);
    free(st->seeded_hb);
    free(st);
}

void tstats_request(struct target_stats *st, enum target_endpoint ep, int status)
{
    if ((unsigned)ep >= EP_COUNT)
        ep = EP_OTHER;
    if (status < 100 || status >= TSTATS_MAX_STATUS)
        status = 0;
    st->requests[ep][status]++;
}

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct hb_entry *map_slot(struct hb_entry *map, uint32_t slots, const char *id)
{
    uint32_t i = str_hash(id) & (slots - 1);
    while (map[i].id && strcmp(map[i].id, id) != 0)
        i = (i + 1) & (slots - 1);
    return &map[i];
}

static int map_grow(struct target_stats *st)
{
    uint32_t slots = st->map_slots ? st->map_slots * 2 : HB_MAP_INITIAL_SLOTS;
    struct hb_entry *map = calloc(slots, sizeof *map);
    if (!map)
        return -ENOMEM;
    for (uint32_t i = 0; i < st->map_slots; i++)
        if (st->map[i].id)
            *map_slot(map, slots, st->map[i].id) = st->map[i];
    free(st->map);
    st->map = map;
    st->map_slots = slots;
    return 0;
}

/* The seeded index of agent_id, or 0 when it is not a seeded agent. */
static uint32_t seeded_index(const struct target_stats *st, const char *agent_id)
{
    uint32_t idx;
    if (st->seeded == 0 || identity_parse_index(agent_id, "ag", st->prefix, &idx) < 0)
        return 0;
    return idx >= 1 && idx <= st->seeded ? idx : 0;
}

void tstats_heartbeat(struct target_stats *st, const char *agent_id)
{
    uint32_t idx = seeded_index(st, agent_id);
    if (idx) {
        st->seeded_hb[idx]++;
        return;
    }
    if ((st->map_used + 1) * 4 > st->map_slots * 3 && map_grow(st) < 0)
        return;
    struct hb_entry *e = map_slot(st->map, st->map_slots, agent_id);
    if (!e->id) {
        e->id = strdup(agent_id);
        if (!e->id)
            return;
        st->map_used++;
    }
    e->count++;
}

static int write_requests(const struct target_stats *st, struct evbuffer *out)
{
    evbuffer_add(out, "\"requests\":{", 12);
    bool first_ep = true;
    for (int ep = 0; ep < EP_COUNT; ep++) {
        bool first_status = true;
        for (int s = 0; s < TSTATS_MAX_STATUS; s++) {
            uint64_t n = st->requests[ep][s];
            if (!n)
                continue;
            if (first_status)
                evbuffer_add_printf(out, "%s\"%s\":{", first_ep ? "" : ",",
                                    endpoint_name((enum target_endpoint)ep));
            evbuffer_add_printf(out, "%s\"%d\":%llu", first_status ? "" : ",", s,
                                (unsigned long long)n);
            first_status = false;
            first_ep = false;
        }
        if (!first_status)
            evbuffer_add(out, "}", 1);
    }
    return evbuffer_add(out, "}", 1) < 0 ? -ENOMEM : 0;
}

static int write_heartbeats(const struct target_stats *st, struct evbuffer *out)
{
    evbuffer_add_printf(out, ",\"heartbeats_by_agent\":{");
    bool first = true;
    char id[IDENTITY_NAME_MAX];
    for (uint32_t i = 1; i <= st->seeded; i++) {
        if (!st->seeded_hb[i] || identity_agent_id(id, sizeof id, st->prefix, i) < 0)
            continue;
        evbuffer_add_printf(out, "%s\"%s\":%llu", first ? "" : ",", id,
                            (unsigned long long)st->seeded_hb[i]);
        first = false;
    }
    for (uint32_t i = 0; i < st->map_slots; i++) {
        if (!st->map[i].id)
            continue;
        if (!first)
            evbuffer_add(out, ",", 1);
        jw_string(out, st->map[i].id);
        evbuffer_add_printf(out, ":%llu", (unsigned long long)st->map[i].count);
        first = false;
    }
    return evbuffer_add(out, "}", 1) < 0 ? -ENOMEM : 0;
}

static int write_store_counts(struct store *store, struct evbuffer *out)
{
    json_object *jobs = NULL;
    struct store_agent_counts ac;
    if (store_job_counts(store, &jobs) != STORE_OK)
        return -EIO;
    if (store_agent_counts(store, &ac) != STORE_OK) {
        json_object_put(jobs);
        return -EIO;
    }
    evbuffer_add_printf(out, ",\"jobs\":");
    int rc = jw_object(out, jobs);
    json_object_put(jobs);
    if (rc < 0)
        return rc;
    evbuffer_add_printf(out,
                        ",\"agents\":{\"total\":%llu,\"retired\":%llu,\"os\":{\"linux\":%llu,"
                        "\"windows\":%llu,\"darwin\":%llu,\"other\":%llu}}",
                        (unsigned long long)ac.total, (unsigned long long)ac.retired,
                        (unsigned long long)ac.os[IDENTITY_OS_LINUX],
                        (unsigned long long)ac.os[IDENTITY_OS_WINDOWS],
                        (unsigned long long)ac.os[IDENTITY_OS_DARWIN],
                        (unsigned long long)ac.os_other);
    return 0;
}

int tstats_write_json(const struct target_stats *st, struct store *store, struct evbuffer *out)
{
    evbuffer_add(out, "{", 1);
    int rc = write_requests(st, out);
    if (rc == 0)
        rc = write_heartbeats(st, out);
    if (rc == 0)
        rc = write_agent_reports(st, out);
    if (rc == 0)
        rc = write_store_counts(store, out);
    if (rc == 0 && evbuffer_add(out, "}\n", 2) < 0)
        rc = -ENOMEM;
    return rc;
}
