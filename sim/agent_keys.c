/* sim/agent_keys.c - an agent's kept keys (see agent_keys.h): a sorted array of one-allocation
 * entries (public point, then the NUL-terminated certificate id). */
#include "sim/agent_keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct agent_key_entry {
    uint8_t pub[CSR_PUB_LEN];
    char cert_id[];
};

/* Index of cert_id in k, or (when absent, *found false) where it would be inserted. */
static uint32_t keys_search(const struct agent_keys *k, const char *cert_id, int *found)
{
    uint32_t lo = 0, hi = k->n;
    *found = 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(k->v[mid]->cert_id, cert_id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int keys_grow(struct agent_keys *k)
{
    if (k->n < k->cap)
        return 0;
    uint32_t cap = k->cap ? k->cap * 2 : 2;
    struct agent_key_entry **v = realloc(k->v, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    k->v = v;
    k->cap = cap;
    return 0;
}

int agent_keys_put(struct agent_keys *k, const char *cert_id, const uint8_t *pub)
{
    int found;
    uint32_t at = keys_search(k, cert_id, &found);
    if (found) {
        memcpy(k->v[at]->pub, pub, CSR_PUB_LEN);
        return 0;
    }
    size_t id_len = strlen(cert_id);
    struct agent_key_entry *e = malloc(sizeof *e + id_len + 1);
    if (!e || keys_grow(k) != 0) {
        free(e);
        return -ENOMEM;
    }
    memcpy(e->pub, pub, CSR_PUB_LEN);
    memcpy(e->cert_id, cert_id, id_len + 1);
    memmove(&k->v[at + 1], &k->v[at], (k->n - at) * sizeof *k->v);
    k->v[at] = e;
    k->n++;
    return 1;
}

const uint8_t *agent_keys_find(const struct agent_keys *k, const char *cert_id)
{
    int found;
    uint32_t at = keys_search(k, cert_id, &found);
    return found ? k->v[at]->pub : NULL;
}

size_t agent_keys_bytes_per_key(size_t id_len)
{
    size_t alloc = sizeof(struct agent_key_entry) + id_len + 1 + 8; /* + malloc header */
    alloc = (alloc + 15) / 16 * 16;
    return alloc + sizeof(struct agent_key_entry *);
}

uint32_t agent_keys_clear(struct agent_keys *k)
{
    uint32_t n = k->n;
    for (uint32_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof *k);
    return n;
}
