/* sim/operator_plan.c - the operator's pure parts (see operator.h): when each bulk-renew call
 * is due, which certificates it names, its body bytes, the parsing of the answers, and the
 * campaign bookkeeping. No I/O, no clock: times come from the caller. */
#include "sim/operator.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sim/identity.h"

#define NS_PER_S 1e9
/* Digits of the largest uint32_t index. */
#define INDEX_DIGITS_MAX 10
static const char body_head[] = "{\"certificate_ids\":[";
static const char body_tail[] = "]}";

uint64_t operator_call_offset_ns(uint64_t k, double rate_per_s)
{
    return (uint64_t)llround((double)k * NS_PER_S / rate_per_s);
}

uint32_t operator_batch_count(uint32_t n_certs, uint32_t batch)
{
    return batch ? (uint32_t)(((uint64_t)n_certs + batch - 1) / batch) : 0;
}

void operator_batch_of_call(uint64_t k, uint32_t n_certs, uint32_t batch, uint32_t *first_index,
                            uint32_t *count)
{
    uint32_t b = (uint32_t)(k % operator_batch_count(n_certs, batch));
    uint64_t first = (uint64_t)b * batch;
    *first_index = (uint32_t)first + 1;
    *count = n_certs - first < batch ? (uint32_t)(n_certs - first) : batch;
}

size_t operator_bulk_body_max(const char *prefix, uint32_t count)
{
    /* "mc-" prefix "-" digits, quoted, comma-separated */
    size_t per_id = 3 + strlen(prefix) + 1 + INDEX_DIGITS_MAX + 2 + 1;
    return sizeof body_head - 1 + (size_t)count * per_id + sizeof body_tail;
}

int operator_bulk_body(char *buf, size_t n, const char *prefix, uint32_t first, uint32_t count)
{
    size_t len = sizeof body_head - 1;
    if (n < len + sizeof body_tail)
        return -ENOSPC;
    memcpy(buf, body_head, len);
    for (uint32_t i = 0; i < count; i++) {
        char id[IDENTITY_NAME_MAX];
        int w = identity_cert_id(id, sizeof id, prefix, first + i);
        if (w < 0)
            return -ENOSPC;
        size_t need = (i ? 1 : 0) + 2 + (size_t)w;
        if (len + need + sizeof body_tail > n)
            return -ENOSPC;
        if (i)
            buf[len++] = ',';
        buf[len++] = '"';
        memcpy(buf + len, id, (size_t)w);
        len += (size_t)w;
        buf[len++] = '"';
    }
    memcpy(buf + len, body_tail, sizeof body_tail);
    return (int)(len + sizeof body_tail - 1);
}

/* Parses body (len bytes) as one JSON object; NULL when it is not one. */
static json_object *parse_object(const char *body, size_t len)
{
    if (!body || len == 0 || len > INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    bool whole = o && json_tokener_get_error(tok) == json_tokener_success;
    for (size_t i = whole ? json_tokener_get_parse_end(tok) : len; i < len; i++)
        whole = whole && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t');
    json_tokener_free(tok);
    if (!whole || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static bool get_int(json_object *o, const char *key, int64_t *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_int64(v);
    return true;
}

/* Calls cb for every element's certificate_id of the array o[key] (absent or null: none). */
static bool walk_ids(json_object *o, const char *key, bool enqueued, operator_cert_cb cb, void *arg)
{
    json_object *arr = NULL;
    if (!json_object_object_get_ex(o, key, &arr) || arr == NULL)
        return true;
    if (!json_object_is_type(arr, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i), *id = NULL;
        if (!json_object_is_type(e, json_type_object) ||
            !json_object_object_get_ex(e, "certificate_id", &id) ||
            !json_object_is_type(id, json_type_string))
            return false;
        if (cb)
            cb(json_object_get_string(id), enqueued, arg);
    }
    return true;
}

int operator_parse_bulk(const char *body, size_t len, struct operator_bulk_result *out,
                        operator_cert_cb cb, void *arg)
{
    json_object *o = parse_object(body, len);
    if (!o)
        return -EINVAL;
    struct operator_bulk_result r;
    bool ok = get_int(o, "total_matched", &r.matched) &&
              get_int(o, "total_enqueued", &r.enqueued) &&
              get_int(o, "total_skipped", &r.skipped) && get_int(o, "total_failed", &r.failed) &&
              r.matched >= 0 && r.enqueued >= 0 && r.skipped >= 0 && r.failed >= 0;
    if (ok)
        ok = walk_ids(o, "enqueued_jobs", true, cb, arg) && walk_ids(o, "errors", false, cb, arg);
    json_object_put(o);
    if (!ok)
        return -EINVAL;
    *out = r;
    return 0;
}

int operator_parse_list_total(const char *body, size_t len, int64_t *total)
{
    json_object *o = parse_object(body, len);
    if (!o)
        return -EINVAL;
    int64_t t = 0;
    bool ok = get_int(o, "total", &t) && t >= 0;
    json_object_put(o);
    if (!ok)
        return -EINVAL;
    *total = t;
    return 0;
}

/* ---- campaign -------------------------------------------------------------------------------- */

int operator_campaign_init(struct operator_campaign *c, const char *prefix, uint32_t n_certs,
                           uint32_t batch)
{
    memset(c, 0, sizeof *c);
    c->prefix = prefix;
    c->n_certs = n_certs;
    c->batch = batch;
    c->n_batches = operator_batch_count(n_certs, batch);
    c->state = calloc(n_certs ? n_certs : 1, 1);
    return c->state ? 0 : -ENOMEM;
}

void operator_campaign_destroy(struct operator_campaign *c)
{
    free(c->state);
    c->state = NULL;
}

void operator_campaign_begin(struct operator_campaign *c, uint64_t start_ns)
{
    if (c->start_ns == 0)
        c->start_ns = start_ns ? start_ns : 1;
}

/* Completes the campaign at now_ns when the first pass has ended, enqueued something and has
 * nothing pending. */
static void check_done(struct operator_campaign *c, uint64_t now_ns)
{
    if (c->done_ns == 0 && c->start_ns != 0 && c->batches_done == c->n_batches && c->enqueued > 0 &&
        c->pending == 0)
        c->done_ns = now_ns > c->start_ns ? now_ns : c->start_ns;
}

void operator_campaign_note(struct operator_campaign *c, uint64_t k, const char *certificate_id,
                            bool enqueued, uint64_t now_ns)
{
    uint32_t index;
    if (identity_parse_index(certificate_id, "mc", c->prefix, &index) != 0 || index == 0 ||
        index > c->n_certs)
        return;
    uint8_t *st = &c->state[index - 1];
    if (k < c->n_batches) {
        if (enqueued && *st == OPERATOR_CERT_NONE) {
            *st = OPERATOR_CERT_PENDING;
            c->enqueued++;
            c->pending++;
        }
        return;
    }
    if (*st == OPERATOR_CERT_PENDING) {
        *st = OPERATOR_CERT_RENEWED;
        c->pending--;
        c->renewed++;
        check_done(c, now_ns);
    }
}

/* One more first-pass call ended at now_ns. */
static void first_batch_ended(struct operator_campaign *c, uint64_t now_ns)
{
    if (++c->batches_done == c->n_batches)
        c->first_pass_end_ns = now_ns;
    check_done(c, now_ns);
}

void operator_campaign_first_answer(struct operator_campaign *c, uint64_t k,
                                    const struct operator_bulk_result *r, uint64_t now_ns)
{
    if (k >= c->n_batches)
        return;
    uint32_t first, count;
    operator_batch_of_call(k, c->n_certs, c->batch, &first, &count);
    uint64_t not_found = (uint64_t)r->matched < count ? count - (uint64_t)r->matched : 0;
    c->skipped += (uint64_t)r->skipped;
    c->failed += (uint64_t)r->failed + not_found;
    first_batch_ended(c, now_ns);
}

void operator_campaign_first_lost(struct operator_campaign *c, uint64_t k, uint64_t now_ns)
{
    if (k >= c->n_batches)
        return;
    uint32_t first, count;
    operator_batch_of_call(k, c->n_certs, c->batch, &first, &count);
    c->failed += count;
    first_batch_ended(c, now_ns);
}

void operator_campaign_progress(struct operator_campaign *c, int64_t total, uint64_t sent_ns,
                                uint64_t now_ns)
{
    /* a poll sent before the first pass ended may predate some of its enqueues */
    bool after_first_pass = c->batches_done == c->n_batches && sent_ns >= c->first_pass_end_ns;
    if (total != 0 || c->pending == 0 || !after_first_pass) {
        check_done(c, now_ns);
        return;
    }
    for (uint32_t i = 0; i < c->n_certs; i++) {
        if (c->state[i] == OPERATOR_CERT_PENDING) {
            c->state[i] = OPERATOR_CERT_RENEWED;
            c->renewed++;
        }
    }
    c->pending = 0;
    check_done(c, now_ns);
}

bool operator_campaign_complete(const struct operator_campaign *c)
{
    return c->done_ns != 0;
}

uint64_t operator_campaign_duration_ns(const struct operator_campaign *c)
{
    return c->done_ns ? c->done_ns - c->start_ns : 0;
}
