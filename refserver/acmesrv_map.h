/* refserver/acmesrv_map.h - a small intrusive hash map with NUL-terminated string keys, used by the
 * ACME server for nonces, accounts, orders and certificate serials. The caller embeds a
 * struct acmesrv_map_node in its own struct and owns the memory; the map only links nodes. */
#ifndef FLEETSIM_REFSERVER_ACMESRV_MAP_H
#define FLEETSIM_REFSERVER_ACMESRV_MAP_H

#include <stddef.h>
#include <stdint.h>

struct acmesrv_map_node {
    struct acmesrv_map_node *next;
    uint64_t hash;
    const char *key; /* points into the containing struct; must not change while linked */
};

struct acmesrv_map {
    struct acmesrv_map_node **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    uint64_t seed; /* random per map, so bucket placement is not predictable */
};

/* Initialises an empty map. Returns 0 or -ENOMEM. */
int acmesrv_map_init(struct acmesrv_map *m);

/* Frees the bucket array (not the nodes). */
void acmesrv_map_destroy(struct acmesrv_map *m);

/* The node with this key, or NULL. */
struct acmesrv_map_node *acmesrv_map_get(const struct acmesrv_map *m, const char *key);

/* Links node (node->key set, key not yet present; the caller checks). Grows the table when
 * needed. Returns 0 or -ENOMEM (then the node is not linked). */
int acmesrv_map_put(struct acmesrv_map *m, struct acmesrv_map_node *node);

/* Unlinks node, which must be linked in m. */
void acmesrv_map_remove(struct acmesrv_map *m, struct acmesrv_map_node *node);

/* The struct that contains a node (like the kernel's container_of). */
#define ACMESRV_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
