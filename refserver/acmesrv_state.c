/* refserver/acmesrv_state.c - the ACME server's in-memory state: single-use nonces (5 min), accounts
 * (by id and by key thumbprint, LRU), orders (FIFO, indexed by certificate serial once issued),
 * per-account token buckets. Everything is bounded by count caps and a retention time. */
#include "refserver/acmesrv_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define ACMESRV_NONCE_VALIDITY_MS ((int64_t)ACMESRV_NONCE_VALIDITY_S * 1000)

static void free_order(struct acmesrv_state *st, struct acmesrv_order *o);

int acmesrv_state_init(struct acmesrv_state *st, const struct acmesrv_config *cfg)
{
    memset(st, 0, sizeof *st);
    TAILQ_INIT(&st->nonce_fifo);
    TAILQ_INIT(&st->account_lru);
    TAILQ_INIT(&st->order_fifo);
    st->max_nonces = cfg->max_nonces;
    st->max_accounts = cfg->max_accounts;
    st->max_orders = cfg->max_orders;
    st->retention_ms = (int64_t)cfg->retention_s * 1000;
    if (acmesrv_map_init(&st->nonces) || acmesrv_map_init(&st->accounts) ||
        acmesrv_map_init(&st->thumbs) || acmesrv_map_init(&st->orders) ||
        acmesrv_map_init(&st->serials)) {
        acmesrv_state_destroy(st);
        return -ENOMEM;
    }
    return 0;
}

static void free_nonce(struct acmesrv_state *st, struct acmesrv_nonce *n)
{
    acmesrv_map_remove(&st->nonces, &n->node);
    TAILQ_REMOVE(&st->nonce_fifo, n, fifo);
    free(n);
}

static void free_account(struct acmesrv_state *st, struct acmesrv_account *a)
{
    struct acmesrv_order *o;
    while ((o = TAILQ_FIRST(&a->orders)))
        free_order(st, o);
    acmesrv_map_remove(&st->accounts, &a->id_node);
    acmesrv_map_remove(&st->thumbs, &a->thumb_node);
    TAILQ_REMOVE(&st->account_lru, a, lru);
    EVP_PKEY_free(a->key);
    free(a->contact_json);
    free(a);
}

static void free_order(struct acmesrv_state *st, struct acmesrv_order *o)
{
    acmesrv_map_remove(&st->orders, &o->node);
    if (o->serial_node.key)
        acmesrv_map_remove(&st->serials, &o->serial_node);
    TAILQ_REMOVE(&st->order_fifo, o, fifo);
    TAILQ_REMOVE(&o->account->orders, o, by_account);
    for (size_t i = 0; i < o->n_ids; i++)
        free(o->ids[i]);
    free(o->ids);
    free(o->cert_pem);
    free(o);
}

void acmesrv_state_destroy(struct acmesrv_state *st)
{
    struct acmesrv_nonce *n;
    struct acmesrv_account *a;
    if (st->nonces.buckets)
        while ((n = TAILQ_FIRST(&st->nonce_fifo)))
            free_nonce(st, n);
    if (st->accounts.buckets && st->orders.buckets)
        while ((a = TAILQ_FIRST(&st->account_lru)))
            free_account(st, a);
    acmesrv_map_destroy(&st->nonces);
    acmesrv_map_destroy(&st->accounts);
    acmesrv_map_destroy(&st->thumbs);
    acmesrv_map_destroy(&st->orders);
    acmesrv_map_destroy(&st->serials);
}

void acmesrv_state_expire(struct acmesrv_state *st, int64_t now_ms)
{
    struct acmesrv_nonce *n;
    while ((n = TAILQ_FIRST(&st->nonce_fifo)) && n->expires_ms <= now_ms)
        free_nonce(st, n);
    struct acmesrv_order *o;
    while ((o = TAILQ_FIRST(&st->order_fifo)) && o->created_ms + st->retention_ms <= now_ms)
        free_order(st, o);
    struct acmesrv_account *a;
    while ((a = TAILQ_FIRST(&st->account_lru)) && a->last_used_ms + st->retention_ms <= now_ms)
        free_account(st, a);
}

int acmesrv_nonce_issue(struct acmesrv_state *st, int64_t now_ms, char out[ACMESRV_NONCE_MAX_LEN])
{
    unsigned char raw[ACMESRV_NONCE_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -EIO;
    if (st->nonces.count >= st->max_nonces && !TAILQ_EMPTY(&st->nonce_fifo))
        free_nonce(st, TAILQ_FIRST(&st->nonce_fifo));
    struct acmesrv_nonce *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    jose_b64url_encode_buf(raw, sizeof raw, n->value, sizeof n->value);
    n->node.key = n->value;
    n->expires_ms = now_ms + ACMESRV_NONCE_VALIDITY_MS;
    if (acmesrv_map_put(&st->nonces, &n->node)) {
        free(n);
        return -ENOMEM;
    }
    TAILQ_INSERT_TAIL(&st->nonce_fifo, n, fifo);
    memcpy(out, n->value, sizeof n->value);
    return 0;
}

bool acmesrv_nonce_consume(struct acmesrv_state *st, const char *value, int64_t now_ms)
{
    if (!value || strlen(value) >= ACMESRV_NONCE_MAX_LEN)
        return false;
    struct acmesrv_map_node *node = acmesrv_map_get(&st->nonces, value);
    if (!node)
        return false;
    struct acmesrv_nonce *n = ACMESRV_CONTAINER_OF(node, struct acmesrv_nonce, node);
    bool fresh = n->expires_ms > now_ms;
    free_nonce(st, n);
    return fresh;
}

struct acmesrv_account *acmesrv_account_find(struct acmesrv_state *st, const char *id)
{
    struct acmesrv_map_node *n = acmesrv_map_get(&st->accounts, id);
    return n ? ACMESRV_CONTAINER_OF(n, struct acmesrv_account, id_node) : NULL;
}

struct acmesrv_account *acmesrv_account_by_thumb(struct acmesrv_state *st, const char *thumb)
{
    struct acmesrv_map_node *n = acmesrv_map_get(&st->thumbs, thumb);
    return n ? ACMESRV_CONTAINER_OF(n, struct acmesrv_account, thumb_node) : NULL;
}

struct acmesrv_account *acmesrv_account_create(struct acmesrv_state *st, EVP_PKEY *key,
                                               const char *thumb, int64_t now_ms)
{
    if (st->accounts.count >= st->max_accounts && !TAILQ_EMPTY(&st->account_lru))
        free_account(st, TAILQ_FIRST(&st->account_lru));
    struct acmesrv_account *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    snprintf(a->id, sizeof a->id, "%s%s", ACMESRV_ACCOUNT_PREFIX, thumb);
    snprintf(a->thumb, sizeof a->thumb, "%s", thumb);
    a->id_node.key = a->id;
    a->thumb_node.key = a->thumb;
    TAILQ_INIT(&a->orders);
    if (acmesrv_map_put(&st->accounts, &a->id_node)) {
        free(a);
        return NULL;
    }
    if (acmesrv_map_put(&st->thumbs, &a->thumb_node)) {
        acmesrv_map_remove(&st->accounts, &a->id_node);
        free(a);
        return NULL;
    }
    EVP_PKEY_up_ref(key);
    a->key = key;
    a->last_used_ms = now_ms;
    TAILQ_INSERT_TAIL(&st->account_lru, a, lru);
    return a;
}

void acmesrv_account_touch(struct acmesrv_state *st, struct acmesrv_account *a, int64_t now_ms)
{
    a->last_used_ms = now_ms;
    TAILQ_REMOVE(&st->account_lru, a, lru);
    TAILQ_INSERT_TAIL(&st->account_lru, a, lru);
}

int acmesrv_account_rekey(struct acmesrv_state *st, struct acmesrv_account *a, EVP_PKEY *key,
                          const char *thumb)
{
    acmesrv_map_remove(&st->thumbs, &a->thumb_node);
    char old[JOSE_THUMBPRINT_LEN];
    memcpy(old, a->thumb, sizeof old);
    snprintf(a->thumb, sizeof a->thumb, "%s", thumb);
    if (acmesrv_map_put(&st->thumbs, &a->thumb_node)) {
        memcpy(a->thumb, old, sizeof old);
        acmesrv_map_put(&st->thumbs, &a->thumb_node); /* cannot fail: same count as before */
        return -ENOMEM;
    }
    EVP_PKEY_up_ref(key);
    EVP_PKEY_free(a->key);
    a->key = key;
    return 0;
}

struct acmesrv_order *acmesrv_order_create(struct acmesrv_state *st, struct acmesrv_account *a,
                                           const char *profile, char *const *ids, size_t n,
                                           enum acmesrv_order_status status, int64_t now_ms)
{
    unsigned char raw[ACMESRV_ORDER_RAND_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return NULL;
    if (st->orders.count >= st->max_orders && !TAILQ_EMPTY(&st->order_fifo))
        free_order(st, TAILQ_FIRST(&st->order_fifo));
    struct acmesrv_order *o = calloc(1, sizeof *o);
    char **copy = calloc(n ? n : 1, sizeof *copy);
    if (!o || !copy)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(ids[i])))
            goto fail;
    int off = snprintf(o->id, sizeof o->id, "%s", ACMESRV_ORDER_PREFIX);
    for (size_t i = 0; i < sizeof raw; i++)
        off += snprintf(o->id + off, sizeof o->id - (size_t)off, "%02x", raw[i]);
    snprintf(o->profile, sizeof o->profile, "%s", profile);
    o->node.key = o->id;
    o->ids = copy;
    o->n_ids = n;
    o->account = a;
    o->status = status;
    o->created_ms = now_ms;
    o->expires_ms = now_ms + ACMESRV_ORDER_TTL_MS;
    if (acmesrv_map_put(&st->orders, &o->node))
        goto fail;
    TAILQ_INSERT_TAIL(&st->order_fifo, o, fifo);
    TAILQ_INSERT_TAIL(&a->orders, o, by_account);
    return o;
fail:
    for (size_t i = 0; copy && i < n; i++)
        free(copy[i]);
    free(copy);
    free(o);
    return NULL;
}

struct acmesrv_order *acmesrv_order_find(struct acmesrv_state *st, const char *id, int64_t now_ms)
{
    struct acmesrv_map_node *n = acmesrv_map_get(&st->orders, id);
    if (!n)
        return NULL;
    struct acmesrv_order *o = ACMESRV_CONTAINER_OF(n, struct acmesrv_order, node);
    if ((o->status == ACMESRV_ORDER_PENDING || o->status == ACMESRV_ORDER_READY) &&
        o->expires_ms <= now_ms) {
        o->status = ACMESRV_ORDER_INVALID;
        o->error_type = "malformed";
        o->error_detail = "order expired";
        o->error_status = 400;
    }
    return o;
}

int acmesrv_order_index_serial(struct acmesrv_state *st, struct acmesrv_order *o)
{
    o->serial_node.key = o->serial_hex;
    if (acmesrv_map_put(&st->serials, &o->serial_node)) {
        o->serial_node.key = NULL;
        return -ENOMEM;
    }
    return 0;
}

struct acmesrv_order *acmesrv_order_by_serial(struct acmesrv_state *st, const char *serial_hex)
{
    struct acmesrv_map_node *n = acmesrv_map_get(&st->serials, serial_hex);
    return n ? ACMESRV_CONTAINER_OF(n, struct acmesrv_order, serial_node) : NULL;
}

uint32_t acmesrv_account_active_orders(struct acmesrv_account *a, int64_t now_ms)
{
    uint32_t n = 0;
    struct acmesrv_order *o;
    TAILQ_FOREACH(o, &a->orders, by_account)
    {
        bool open = o->status == ACMESRV_ORDER_PENDING || o->status == ACMESRV_ORDER_READY ||
                    o->status == ACMESRV_ORDER_PROCESSING;
        if (open && (o->status == ACMESRV_ORDER_PROCESSING || o->expires_ms > now_ms))
            n++;
    }
    return n;
}

bool acmesrv_bucket_take(struct acmesrv_bucket *b, uint32_t per_hour, int64_t now_ms)
{
    if (per_hour == 0)
        return true;
    if (!b->started) {
        b->tokens = per_hour;
        b->last_ms = now_ms;
        b->started = true;
    }
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * per_hour / (double)ACMESRV_HOUR_MS;
        if (b->tokens > per_hour)
            b->tokens = per_hour;
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

const char *acmesrv_order_status_name(enum acmesrv_order_status s)
{
    static const char *const names[] = {"pending", "ready", "processing", "valid", "invalid"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "invalid";
}
