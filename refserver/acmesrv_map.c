/* refserver/acmesrv_map.c - the intrusive string-keyed hash map of the ACME server: seeded FNV-1a
 * hashing, chained buckets, doubling when the load factor passes 1. */
#include "refserver/acmesrv_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define ACMESRV_MAP_INITIAL_BUCKETS 64
#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t hash_key(uint64_t seed, const char *key)
{
    uint64_t h = FNV_OFFSET ^ seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= FNV_PRIME;
    }
    h ^= h >> 29; /* final mix so the low bits used for the bucket depend on every byte */
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

int acmesrv_map_init(struct acmesrv_map *m)
{
    memset(m, 0, sizeof *m);
    m->buckets = calloc(ACMESRV_MAP_INITIAL_BUCKETS, sizeof *m->buckets);
    if (!m->buckets)
        return -ENOMEM;
    m->nbuckets = ACMESRV_MAP_INITIAL_BUCKETS;
    if (RAND_bytes((unsigned char *)&m->seed, sizeof m->seed) != 1)
        m->seed = (uint64_t)(uintptr_t)m;
    return 0;
}

void acmesrv_map_destroy(struct acmesrv_map *m)
{
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

struct acmesrv_map_node *acmesrv_map_get(const struct acmesrv_map *m, const char *key)
{
    uint64_t h = hash_key(m->seed, key);
    for (struct acmesrv_map_node *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static int grow(struct acmesrv_map *m)
{
    size_t nb = m->nbuckets * 2;
    struct acmesrv_map_node **b = calloc(nb, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct acmesrv_map_node *n = m->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return 0;
}

int acmesrv_map_put(struct acmesrv_map *m, struct acmesrv_map_node *node)
{
    if (m->count >= m->nbuckets && grow(m) != 0 && m->count >= 4 * m->nbuckets)
        return -ENOMEM; /* could not grow and the chains are already long */
    node->hash = hash_key(m->seed, node->key);
    struct acmesrv_map_node **slot = &m->buckets[node->hash & (m->nbuckets - 1)];
    node->next = *slot;
    *slot = node;
    m->count++;
    return 0;
}

void acmesrv_map_remove(struct acmesrv_map *m, struct acmesrv_map_node *node)
{
    struct acmesrv_map_node **p = &m->buckets[node->hash & (m->nbuckets - 1)];
    for (; *p; p = &(*p)->next) {
        if (*p == node) {
            *p = node->next;
            node->next = NULL;
            m->count--;
            return;
        }
    }
}
