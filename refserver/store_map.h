/* refserver/store_map.h - a string-keyed hash map (open addressing, linear probing, backward-shift
 * deletion) for the memory store's indexes. Keys are borrowed: each must stay valid (usually it
 * lives in the value) until removed. Not thread-safe. */
#ifndef FLEETSIM_TARGET_STORE_MAP_H
#define FLEETSIM_TARGET_STORE_MAP_H

#include <stddef.h>
#include <stdint.h>

struct smap_slot {
    uint64_t hash; /* 0 = empty */
    const char *key;
    void *val;
};

struct smap {
    struct smap_slot *slots;
    size_t cap; /* power of two */
    size_t len;
};

/* Sizes the table for `expect` entries without growth. Returns 0 or -ENOMEM. */
int smap_init(struct smap *m, size_t expect);
/* Frees the slots (not the keys or values). */
void smap_free(struct smap *m);
/* The value stored under key, or NULL. */
void *smap_get(const struct smap *m, const char *key);
/* Inserts key → val. Returns 0, -EEXIST when key is present (unchanged), or -ENOMEM. */
int smap_put(struct smap *m, const char *key, void *val);
/* Removes key; returns its value, or NULL when absent. */
void *smap_del(struct smap *m, const char *key);

#endif
