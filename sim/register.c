/* sim/register.c - registering agents through the API and the agents file (see register.h).
 * Registration runs on its own short-lived event loop with `concurrency` connections, each
 * taking the next agent when its previous request ends. */
#include "sim/register.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "engine/clock.h"
#include "engine/interrupt.h"
#include "engine/in_file.h"
#include "engine/out_file.h"
#include "engine/str_repeats.h"
#include "engine/parse.h"
#include "sim/names.h"
#include "sim/fleet.h"

#define PROGRESS_EVERY_NS (1000ULL * 1000000ULL)

struct reg_run;

struct reg_slot {
    struct reg_run *run;
    struct http_conn *conn;
    uint32_t position; /* agent being registered */
};

struct reg_run {
    const struct register_config *cfg;
    struct event_base *base;
    struct metrics_series *series;
    char *headers;
    char **ids;
    uint32_t n, next, done, failed, active;
    char first_error[256];
    uint64_t last_progress_ns;
};

/* The registration body of agent index (sorted keys, as Go marshals a struct's tags). */
static int reg_body(const struct agent_settings *set, uint32_t index, char *buf, size_t n)
{
    struct identity_agent_meta meta;
    identity_agent_meta(set->seed, index, &set->os_mix, &meta);
    char name[IDENTITY_NAME_MAX], host[IDENTITY_NAME_MAX], ip[INET_ADDRSTRLEN] = "";
    identity_agent_name(name, sizeof name, set->prefix, index);
    identity_agent_hostname(host, sizeof host, set->prefix, index);
    uint32_t src = agent_source_ipv4(set, index);
    if (src) {
        struct in_addr a = {htonl(src)};
        inet_ntop(AF_INET, &a, ip, sizeof ip);
    }
    int len = snprintf(buf, n,
                       "{\"architecture\":\"%s\",\"hostname\":\"%s\",\"ip_address\":\"%s\","
                       "\"name\":\"%s\",\"os\":\"%s\",\"version\":\"%s\"}",
                       meta.architecture, host, ip, name, meta.os, set->version);
    return (len < 0 || (size_t)len >= n) ? -ENOSPC : len;
}

static void reg_progress(struct reg_run *r, bool final)
{
    FILE *out = r->cfg->progress;
    if (!out)
        return;
    uint64_t now = clock_now_ns();
    if (!final && now - r->last_progress_ns < PROGRESS_EVERY_NS)
        return;
    r->last_progress_ns = now;
    fprintf(out, "fleetsim: registering agents: %u/%u done, %u failed%s", r->done, r->n, r->failed,
            final ? "\n" : "\r");
    fflush(out);
}

static void reg_send_next(struct reg_slot *s);

/* Stores the id of a 201 answer; returns false when the answer holds no usable id. */
static bool reg_take_id(struct reg_run *r, uint32_t index, const struct http_result *res)
{
    json_tokener *tok = json_tokener_new();
    json_object *root = tok && res->body_len < INT32_MAX
                            ? json_tokener_parse_ex(tok, res->body, (int)res->body_len)
                            : NULL;
    json_tokener_free(tok);
    json_object *v;
    bool ok = root && json_object_object_get_ex(root, "id", &v) &&
              json_object_is_type(v, json_type_string) &&
              parse_unreserved(json_object_get_string(v), AGENT_ID_MAX - 1);
    if (ok) {
        free(r->ids[index - 1]);
        r->ids[index - 1] = strdup(json_object_get_string(v));
        ok = r->ids[index - 1] != NULL;
    }
    json_object_put(root);
    return ok;
}

static void reg_fail(struct reg_run *r, uint32_t index, const struct http_result *res,
                     const char *what)
{
    r->failed++;
    if (r->first_error[0])
        return;
    char name[IDENTITY_NAME_MAX];
    identity_agent_name(name, sizeof name, r->cfg->set->prefix, index);
    if (res->error != HTTP_ERR_NONE)
        snprintf(r->first_error, sizeof r->first_error, "agent %s: %s (%s)", name,
                 http_error_name(res->error), res->detail ? res->detail : "");
    else if (res->status == 409)
        snprintf(r->first_error, sizeof r->first_error,
                 "agent %s: HTTP 409, the name exists: this fleet is registered already (reuse "
                 "the --agents-file of that run, or choose another --fleet-prefix)",
                 name);
    else
        snprintf(r->first_error, sizeof r->first_error, "agent %s: %s (HTTP %d)", name, what,
                 res->status);
}

static void reg_done(const struct http_result *res, void *arg)
{
    struct reg_slot *s = arg;
    struct reg_run *r = s->run;
    uint32_t index = fleet_shard_index(s->position, r->cfg->shard_k, r->cfg->shard_n);
    bool ok = res->error == HTTP_ERR_NONE && res->status == 201;
    if (r->series)
        agent_record_result(r->series, res, ok, 0);
    if (ok && !reg_take_id(r, index, res))
        reg_fail(r, index, res, "answer without a usable \"id\"");
    else if (!ok)
        reg_fail(r, index, res, "unexpected answer");
    r->done++;
    r->active--;
    reg_progress(r, false);
    reg_send_next(s);
}

static void reg_send_next(struct reg_slot *s)
{
    struct reg_run *r = s->run;
    if (r->next >= r->n || r->failed >= REGISTER_MAX_FAILURES) {
        if (r->active == 0)
            event_base_loopbreak(r->base);
        return;
    }
    s->position = r->next++;
    uint32_t index = fleet_shard_index(s->position, r->cfg->shard_k, r->cfg->shard_n);
    char path[AGENT_PATH_BYTES], body[1024];
    snprintf(path, sizeof path, "%s/api/v1/agents", r->cfg->set->base_path);
    int len = reg_body(r->cfg->set, index, body, sizeof body);
    struct http_request req = {"POST",        path, r->headers, body, len > 0 ? (size_t)len : 0,
                               clock_now_ns()};
    if (r->series)
        metrics_scheduled(r->series);
    if (len < 0 || http_conn_send(s->conn, &req, reg_done, s) != 0) {
        struct http_result res = {.error = HTTP_ERR_OTHER,
                                  .detail = "cannot send",
                                  .body = "",
                                  .intended_ns = req.intended_ns,
                                  .done_ns = clock_now_ns()};
        r->active++;
        reg_done(&res, s); /* bounded: every failure consumes one agent */
        return;
    }
    r->active++;
}

int register_agents(struct register_config *cfg, char **ids, char *err, size_t errlen)
{
    struct reg_run r = {.cfg = cfg, .ids = ids};
    r.n = fleet_shard_size(cfg->n_agents, cfg->shard_k, cfg->shard_n);
    uint32_t conc = cfg->concurrency ? cfg->concurrency : REGISTER_DEFAULT_CONCURRENCY;
    if (conc > r.n)
        conc = r.n ? r.n : 1;
    r.base = event_base_new();
    r.headers = agent_headers(cfg->set, true);
    struct reg_slot *slots = calloc(conc, sizeof *slots);
    if (cfg->metrics)
        r.series = metrics_series(cfg->metrics, cfg->set->scenario, SIM_ACTOR_AGENT,
                                  sim_endpoint_name(SIM_EP_REGISTER));
    int rc = (!r.base || !r.headers || !slots) ? -ENOMEM : 0;
    for (uint32_t i = 0; rc == 0 && i < conc; i++) {
        slots[i].run = &r;
        slots[i].conn = http_conn_new(r.base, cfg->conn);
        if (!slots[i].conn)
            rc = -ENOMEM;
    }
    struct event *stop = rc == 0 ? interrupt_watch_break(r.base) : NULL;
    if (rc == 0 && r.n > 0) {
        for (uint32_t i = 0; i < conc; i++)
            reg_send_next(&slots[i]);
        if (r.active > 0)
            event_base_dispatch(r.base);
        reg_progress(&r, true);
    }
    if (stop)
        event_free(stop);
    for (uint32_t i = 0; slots && i < conc; i++)
        http_conn_free(slots[i].conn);
    free(slots);
    parse_secret_free(r.headers);
    if (r.base)
        event_base_free(r.base);
    if (rc != 0) {
        snprintf(err, errlen, "register: out of memory");
        return rc;
    }
    if (interrupt_count() > 0 && r.done < r.n) {
        cfg->in_flight_end = r.active;
        snprintf(err, errlen, "register: interrupted after %u of %u agents", r.done, r.n);
        return -EINTR;
    }
    if (r.failed > 0 || r.done < r.n) {
        snprintf(err, errlen, "register: %u of %u agents failed%s; first: %s",
                 r.failed + (r.n - r.done), r.n,
                 r.failed >= REGISTER_MAX_FAILURES ? " (stopped early)" : "", r.first_error);
        return -EIO;
    }
    return 0;
}

/* What fill_agents writes. */
struct agents_out {
    char *const *ids;
    uint32_t n_agents, shard_k, shard_n;
};

/* Writes the agents file's lines to f (an out_file_fill_fn). */
static int fill_agents(FILE *f, void *arg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const struct agents_out *o = arg;
    fprintf(f, "# fleetsim agents file: INDEX ID per line (shard %u/%u of %u agents)\n", o->shard_k,
            o->shard_n, o->n_agents);
    uint32_t n = fleet_shard_size(o->n_agents, o->shard_k, o->shard_n);
    for (uint32_t p = 0; p < n && !ferror(f); p++) {
        uint32_t index = fleet_shard_index(p, o->shard_k, o->shard_n);
        if (o->ids[index - 1])
            fprintf(f, "%u %s\n", index, o->ids[index - 1]);
    }
    return ferror(f) ? -(errno ? errno : EIO) : 0;
}

int register_write_file(const char *path, char *const *ids, uint32_t n_agents, uint32_t shard_k,
                        uint32_t shard_n, char *err, size_t errlen)
{
    char why[256];
    struct agents_out o = {ids, n_agents, shard_k, shard_n};
    int rc = out_file_write(path, fill_agents, &o, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "--agents-file %s: cannot write: %s", out_file_name(path), why);
    return rc;
}

/* Parses one "INDEX ID" line (no line end) into *index and *id (which points into line).
 * Returns 0, 1 for a comment or blank line, or -EINVAL. */
static int parse_agents_line(char *line, uint32_t n_agents, uint32_t *index, char **id)
{
    line[strcspn(line, "\r")] = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#')
        return 1;
    char *end;
    errno = 0;
    unsigned long value = strtoul(p, &end, 10);
    if (end == p || errno || value == 0 || value > n_agents || (*end != ' ' && *end != '\t'))
        return -EINVAL;
    while (*end == ' ' || *end == '\t')
        end++;
    char *rest = end + strcspn(end, " \t");
    if (*rest) {
        *rest++ = '\0';
        rest += strspn(rest, " \t");
        if (*rest)
            return -EINVAL; /* more than "INDEX ID" on the line */
    }
    if (!parse_unreserved(end, AGENT_ID_MAX - 1))
        return -EINVAL;
    *index = (uint32_t)value;
    *id = end;
    return 0;
}

/* Stores the line at line (n bytes, its line end replaced by NUL) numbered lineno into ids;
 * line_of[index - 1] remembers where each index was given. Returns 0 or -EINVAL/-ENOMEM with
 * the reason in err. */
static int read_agents_line(const char *path, char *line, size_t n, unsigned lineno, char **ids,
                            unsigned *line_of, uint32_t n_agents, char *err, size_t errlen)
{
    uint32_t index;
    char *id;
    if (strlen(line) != n) {
        snprintf(err, errlen,
                 "--agents-file %s:%u: the line holds a NUL byte (expected \"INDEX ID\" text)",
                 path, lineno);
        return -EINVAL;
    }
    int r = parse_agents_line(line, n_agents, &index, &id);
    if (r > 0)
        return 0;
    if (r < 0) {
        snprintf(err, errlen,
                 "--agents-file %s:%u: expected \"INDEX ID\" with INDEX 1..%u and an id of "
                 "[A-Za-z0-9._~-]",
                 path, lineno, n_agents);
        return -EINVAL;
    }
    if (line_of[index - 1] != 0) {
        snprintf(err, errlen,
                 "--agents-file %s:%u: agent %u is already given on line %u (expected each "
                 "index once)",
                 path, lineno, index, line_of[index - 1]);
        return -EINVAL;
    }
    line_of[index - 1] = lineno;
    ids[index - 1] = strdup(id);
    return ids[index - 1] ? 0 : -ENOMEM;
}

/* No id given to two agents (found by sorting: n log n). */
static int check_unique_ids(const char *path, char *const *ids, const unsigned *line_of,
                            uint32_t n_agents, char *err, size_t errlen)
{
    const char **given = calloc(n_agents ? n_agents : 1, sizeof *given);
    uint32_t *index_of = calloc(n_agents ? n_agents : 1, sizeof *index_of);
    bool *repeat = calloc(n_agents ? n_agents : 1, sizeof *repeat);
    size_t n = 0;
    int rc = given && index_of && repeat ? 0 : -ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < n_agents; i++)
        if (ids[i]) {
            index_of[n] = i;
            given[n++] = ids[i];
        }
    if (rc == 0)
        rc = str_mark_repeats(given, n, repeat);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        if (!repeat[k])
            continue;
        size_t first = 0;
        while (strcmp(given[first], given[k]) != 0)
            first++;
        snprintf(err, errlen,
                 "--agents-file %s:%u: id %s is already agent %u's on line %u (expected each id "
                 "once)",
                 path, line_of[index_of[k]], given[k], index_of[first] + 1,
                 line_of[index_of[first]]);
        rc = -EINVAL;
    }
    if (rc == -ENOMEM)
        snprintf(err, errlen, "--agents-file %s: out of memory", path);
    free(given);
    free(index_of);
    free(repeat);
    return rc;
}

/* Every agent of shard k/n has an id. */
static int check_shard_complete(const char *path, char *const *ids, uint32_t n_agents,
                                uint32_t shard_k, uint32_t shard_n, char *err, size_t errlen)
{
    uint32_t n = fleet_shard_size(n_agents, shard_k, shard_n);
    for (uint32_t p = 0; p < n; p++) {
        uint32_t index = fleet_shard_index(p, shard_k, shard_n);
        if (!ids[index - 1]) {
            snprintf(err, errlen,
                     "--agents-file %s: no id for agent %u (the file holds fewer "
                     "agents than --agents %u)",
                     path, index, n_agents);
            return -EINVAL;
        }
    }
    return 0;
}

int register_read_file(const char *path, char **ids, uint32_t n_agents, uint32_t shard_k,
                       uint32_t shard_n, char *err, size_t errlen)
{
    char *text = NULL, why[256];
    size_t len = 0;
    int rc = in_file_read(path, IN_FILE_MAX_BYTES, &text, &len, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "--agents-file %s %s", path, why);
        return rc;
    }
    unsigned *line_of = calloc(n_agents ? n_agents : 1, sizeof *line_of), lineno = 0;
    if (line_of == NULL)
        rc = -ENOMEM;
    for (size_t at = 0; rc == 0 && at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        text[at + n] = '\0';
        rc = read_agents_line(path, text + at, n, ++lineno, ids, line_of, n_agents, err, errlen);
        at += n + 1;
    }
    free(text);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "--agents-file %s: out of memory", path);
    if (rc == 0)
        rc = check_unique_ids(path, ids, line_of, n_agents, err, errlen);
    free(line_of);
    return rc != 0 ? rc : check_shard_complete(path, ids, n_agents, shard_k, shard_n, err, errlen);
}
