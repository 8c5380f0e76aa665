/* refserver/store_map.c - string-keyed open-addressing hash map for the memory store (see
 * store_map.h). FNV-1a hashing; the table doubles past a load factor of 1/2. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_map.h"

#define SMAP_MIN_CAP 16

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ? h : 1; /* 0 marks an empty slot */
}

static size_t cap_for(size_t expect)
{
    size_t cap = SMAP_MIN_CAP;
    while (cap < expect * 2)
        cap <<= 1;
    return cap;
}

int smap_init(struct smap *m, size_t expect)
{
    m->cap = cap_for(expect);
    m->len = 0;
    m->slots = calloc(m->cap, sizeof(*m->slots));
    return m->slots ? 0 : -ENOMEM;
}

void smap_free(struct smap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}

static size_t find(const struct smap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].hash != 0) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i; /* the empty slot where key would go */
}

void *smap_get(const struct smap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t i = find(m, key, hash_str(key));
    return m->slots[i].hash ? m->slots[i].val : NULL;
}

static int grow(struct smap *m)
{
    size_t ncap = m->cap * 2;
    struct smap_slot *ns = calloc(ncap, sizeof(*ns));
    if (ns == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].hash == 0)
            continue;
        size_t j = m->slots[i].hash & (ncap - 1);
        while (ns[j].hash != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int smap_put(struct smap *m, const char *key, void *val)
{
    if (m->cap == 0 && smap_init(m, SMAP_MIN_CAP) != 0)
        return -ENOMEM;
    if ((m->len + 1) * 2 > m->cap && grow(m) != 0)
        return -ENOMEM;
    uint64_t h = hash_str(key);
    size_t i = find(m, key, h);
    if (m->slots[i].hash != 0)
        return -EEXIST;
    m->slots[i] = (struct smap_slot){.hash = h, .key = key, .val = val};
    m->len++;
    return 0;
}

void *smap_del(struct smap *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1, i = find(m, key, hash_str(key));
    if (m->slots[i].hash == 0)
        return NULL;
    void *val = m->slots[i].val;
    /* Backward-shift: move later entries of the cluster into the hole when allowed. */
    size_t j = i;
    for (;;) {
        m->slots[i].hash = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (m->slots[j].hash == 0) {
                m->len--;
                return val;
            }
            size_t home = m->slots[j].hash & mask;
            /* j may move to i only if its home is not cyclically in (i, j]. */
            if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)))
                break;
        }
        m->slots[i] = m->slots[j];
        i = j;
    }
}
