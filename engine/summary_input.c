/* engine/summary_input.c - reading and checking the summary files of `merge` and `report`
 * (see summary_input.h): recognition of what a file is, duplicate entries, rates. */
#include "engine/summary_input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/in_file.h"
#include "engine/metrics.h"
#include "engine/str_repeats.h"

#define EXPECT "expected a summary JSON written by --summary-json or fleetsim merge"
#define REASON_MAX 256
/* Fields of an entry's identity: metric, scenario, actor, endpoint, extra tag key and value. */
#define ID_FIELDS 6

static const json_object *member(const json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) ? v
                                                                                             : NULL;
}

bool summary_input_is_interval(const json_object *o)
{
    return member(o, "interval_s") != NULL &&
           json_object_is_type(member(o, "series"), json_type_array);
}

/* True when text from offset on is only white space. */
static bool blank_from(const char *text, size_t len, size_t offset)
{
    for (size_t i = offset; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return false;
    return true;
}

/* What a file that is not a summary is, for the message. */
static const char *what_instead(const json_object *first, bool parsed)
{
    if (first != NULL && summary_input_is_interval(first))
        return "is an interval log (--interval-log), not a summary (give the run's "
               "--summary-json, and this file as --interval-log)";
    if (!parsed)
        return "is not a fleetsim result (not JSON; " EXPECT ")";
    return "is not a fleetsim result (JSON without the fleetsim header; " EXPECT ")";
}

json_object *summary_input_parse(const char *path, char *err, size_t errlen)
{
    char *text = NULL, why[REASON_MAX];
    size_t len = 0;
    if (in_file_read(path, IN_FILE_MAX_BYTES, &text, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s %s (" EXPECT ")", path, why);
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    bool have_tok = tok != NULL;
    json_object *root = have_tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    bool parsed = root != NULL && json_tokener_get_error(tok) == json_tokener_success;
    bool whole = parsed && blank_from(text, len, json_tokener_get_parse_end(tok));
    json_tokener_free(tok);
    free(text);
    if (whole && json_object_is_type(member(root, "fleetsim"), json_type_object))
        return root;
    snprintf(err, errlen, "%s %s", path,
             have_tok ? what_instead(root, parsed) : "cannot be read: out of memory");
    json_object_put(root);
    return NULL;
}

/* The string of tag key in the entry's tags (NULL when absent or not a string). */
static const char *tag(const json_object *tags, const char *key)
{
    const json_object *v = member(tags, key);
    return json_object_is_type(v, json_type_string) ? json_object_get_string((json_object *)v)
                                                    : NULL;
}

/* The identity fields of entry e: metric, scenario, actor, endpoint, extra key and value. */
static void identity(const json_object *e, const char *id[ID_FIELDS])
{
    const json_object *tags = member(e, "tags"), *m = member(e, "metric");
    memset(id, 0, ID_FIELDS * sizeof *id);
    id[0] =
        json_object_is_type(m, json_type_string) ? json_object_get_string((json_object *)m) : NULL;
    id[1] = tag(tags, METRICS_TAG_SCENARIO);
    id[2] = tag(tags, METRICS_TAG_ACTOR);
    id[3] = tag(tags, METRICS_TAG_ENDPOINT);
    if (!json_object_is_type(tags, json_type_object))
        return;
    json_object_object_foreach((json_object *)tags, key, val)
    {
        if (strcmp(key, METRICS_TAG_SCENARIO) != 0 && strcmp(key, METRICS_TAG_ACTOR) != 0 &&
            strcmp(key, METRICS_TAG_ENDPOINT) != 0 && id[4] == NULL) {
            id[4] = key;
            id[5] = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : "";
        }
    }
}

/* A key for the identity of entry e in section ('s' series, 'c' counters): each field as
 * LENGTH:TEXT ('-' when absent), so no two identities share a key. malloc'd, or NULL. */
static char *entry_key(char section, const json_object *e)
{
    const char *id[ID_FIELDS];
    identity(e, id);
    size_t n = 2;
    for (int i = 0; i < ID_FIELDS; i++)
        n += (id[i] ? strlen(id[i]) : 0) + 24;
    char *key = malloc(n);
    if (key == NULL)
        return NULL;
    size_t used = (size_t)snprintf(key, n, "%c", section);
    for (int i = 0; i < ID_FIELDS; i++)
        used += id[i] ? (size_t)snprintf(key + used, n - used, "%zu:%s", strlen(id[i]), id[i])
                      : (size_t)snprintf(key + used, n - used, "-");
    return key;
}

/* "metric{scenario:a,actor:b,...}" of entry e for messages. */
static void entry_name(const json_object *e, char *buf, size_t n)
{
    static const char *const names[] = {METRICS_TAG_SCENARIO, METRICS_TAG_ACTOR,
                                        METRICS_TAG_ENDPOINT};
    const char *id[ID_FIELDS];
    identity(e, id);
    int used = snprintf(buf, n, "%s{", id[0] ? id[0] : "?");
    const char *sep = "";
    for (int i = 1; i < ID_FIELDS - 1 && used >= 0 && (size_t)used < n; i++) {
        const char *k = i < 4 ? names[i - 1] : id[4];
        const char *v = i < 4 ? id[i] : id[5];
        if (k == NULL || v == NULL)
            continue;
        used += snprintf(buf + used, n - (size_t)used, "%s%s:%s", sep, k, v);
        sep = ",";
    }
    if (used >= 0 && (size_t)used < n)
        snprintf(buf + used, n - (size_t)used, "}");
}

/* Appends the keys (and entries) of the entries of array section of summary. */
static int collect(const json_object *summary, const char *section, char **keys,
                   const json_object **from, size_t *n)
{
    const json_object *arr = member(summary, section);
    size_t len = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < len; i++) {
        from[*n] = json_object_array_get_idx(arr, i);
        if ((keys[*n] = entry_key(section[0], from[*n])) == NULL)
            return -ENOMEM;
        (*n)++;
    }
    return 0;
}

static size_t entries(const json_object *summary, const char *section)
{
    const json_object *arr = member(summary, section);
    return json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

/* No entry identity twice in series[] or counters[]. */
static int check_duplicates(const json_object *summary, char *err, size_t errlen)
{
    size_t cap = entries(summary, "series") + entries(summary, "counters") + 1, n = 0;
    char **keys = calloc(cap, sizeof *keys);
    const json_object **from = calloc(cap, sizeof *from);
    bool *repeat = calloc(cap, sizeof *repeat);
    int rc = keys && from && repeat ? collect(summary, "series", keys, from, &n) : -ENOMEM;
    if (rc == 0)
        rc = collect(summary, "counters", keys, from, &n);
    if (rc == 0)
        rc = str_mark_repeats((const char *const *)keys, n, repeat);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!repeat[i])
            continue;
        char name[REASON_MAX];
        entry_name(from[i], name, sizeof name);
        snprintf(err, errlen, "%s entry %s appears more than once (expected each once)",
                 keys[i][0] == 's' ? "series" : "counters", name);
        rc = -EINVAL;
    }
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
    free(from);
    free(repeat);
    return rc;
}

static bool u64_member(const json_object *o, const char *key, uint64_t *out)
{
    const json_object *v = member(o, key);
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return false;
    *out = json_object_get_uint64(v);
    return true;
}

/* Every entry with hits and total has hits <= total. */
static int check_rates(const json_object *summary, char *err, size_t errlen)
{
    const json_object *arr = member(summary, "counters");
    for (size_t i = 0; i < entries(summary, "counters"); i++) {
        const json_object *e = json_object_array_get_idx(arr, i);
        uint64_t hits, total;
        if (!u64_member(e, "hits", &hits) || !u64_member(e, "total", &total) || hits <= total)
            continue;
        char name[REASON_MAX];
        entry_name(e, name, sizeof name);
        snprintf(err, errlen,
                 "rate %s has hits %" PRIu64 " above its total %" PRIu64
                 " (expected hits <= total)",
                 name, hits, total);
        return -EINVAL;
    }
    return 0;
}

/* One series' identity: nothing more settled than scheduled, nothing failed that was not
 * completed; every sum checked against overflow. */
static int check_outcomes(const struct metrics_series *s, char *err, size_t errlen)
{
    const struct metrics_outcomes *o = &s->total;
    uint64_t settled = o->answered, completed = o->answered;
    bool overflow = false;
    for (int k = 0; k < METRICS_ERR_KINDS; k++) {
        overflow |= settled + o->transport_errors[k] < settled;
        settled += o->transport_errors[k];
    }
    completed = settled;
    overflow |= settled + o->timed_out < settled;
    settled += o->timed_out;
    completed += o->timed_out;
    overflow |= settled + o->unanswered < settled;
    settled += o->unanswered;
    completed += o->unanswered;
    overflow |= settled + o->dropped < settled;
    settled += o->dropped;
    const char *why = overflow                 ? "its counters add up beyond 2^64"
                      : settled > o->scheduled ? "more requests settled than scheduled"
                      : o->failed > completed  ? "more requests failed than completed"
                                               : NULL;
    if (why == NULL)
        return 0;
    snprintf(err, errlen,
             "series {scenario:%s,actor:%s,endpoint:%s}: %s (expected scheduled = answered + "
             "transport errors + timed out + unanswered + dropped + in flight)",
             s->scenario ? s->scenario : "", s->actor ? s->actor : "",
             s->endpoint ? s->endpoint : "", why);
    return -EINVAL;
}

int summary_input_check_loaded(const struct metrics *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        int rc = check_outcomes(metrics_series_at(m, i), err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int summary_input_check_entries(const json_object *summary, char *err, size_t errlen)
{
    int rc = check_duplicates(summary, err, errlen);
    return rc == 0 ? check_rates(summary, err, errlen) : rc;
}
