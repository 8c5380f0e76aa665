/* src/preflight.c - pre-flight checks (see preflight.h). Each network check is one request on
 * a short-lived event loop with the run's own connection settings, so TLS and addressing are
 * tested exactly as the fleet will use them. */
#include "src/preflight.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine/http_once.h"
#include "engine/interrupt.h"
#include "engine/parse.h"
#include "sim/fleet.h"

/* Where Linux keeps the ephemeral port range. */
#define PORT_RANGE_FILE "/proc/sys/net/ipv4/ip_local_port_range"
/* Used when that file cannot be read (Linux's default range 32768-60999). */
#define DEFAULT_EPHEMERAL_PORTS 28232u

static void line_ok(FILE *out, const char *fmt, const char *a, const char *b)
{
    if (!out)
        return;
    fputs("pre-flight: ok: ", out);
    fprintf(out, fmt, a, b);
    fputc('\n', out);
}

/* Writes a failure line to out and stderr (once when they are the same); "interrupted" instead
 * when a signal ended the check (engine/interrupt.h). */
static int line_fail(FILE *out, const char *msg)
{
    if (interrupt_count() > 0)
        msg = "interrupted";
    if (out && out != stderr)
        fprintf(out, "pre-flight: FAILED: %s\n", msg);
    fprintf(stderr, "fleetsim: pre-flight: %s\n", msg);
    return 1;
}

bool preflight_fd_budget(const struct preflight_input *in, uint64_t *needed, uint64_t *limit)
{
    uint64_t per = in->builtin_target ? 2 : 1;
    *needed = in->connections * per + PREFLIGHT_FD_OVERHEAD;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        *limit = 0;
        return false;
    }
    if (rl.rlim_cur < *needed && rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = rl;
        raised.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || rl.rlim_max > *needed ? *needed : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
    }
    *limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return *needed <= *limit;
}

bool preflight_port_budget(const struct preflight_input *in, uint64_t *needed, uint64_t *available)
{
    uint64_t per_addr = DEFAULT_EPHEMERAL_PORTS;
    FILE *f = fopen(PORT_RANGE_FILE, "r");
    if (f) {
        unsigned lo, hi;
        if (fscanf(f, "%u %u", &lo, &hi) == 2 && hi >= lo)
            per_addr = (uint64_t)(hi - lo + 1);
        fclose(f);
    }
    *needed = in->connections;
    *available = per_addr * (in->source_count ? in->source_count : 1);
    return *needed <= *available;
}

/* The two budget checks; returns 0 or 1. */
static int check_budgets(const struct preflight_input *in, FILE *out)
{
    uint64_t need, have;
    char msg[512];
    bool builtin = in->builtin_target;
    if (!preflight_fd_budget(in, &need, &have)) {
        snprintf(msg, sizeof msg,
                 "file descriptors: %llu needed (%llu connections%s + %u), the limit is %llu: use "
                 "--conn pool:N, split the fleet over processes with --shard K/N%s",
                 (unsigned long long)need, (unsigned long long)in->connections,
                 builtin ? " on both ends, built-in target" : "", PREFLIGHT_FD_OVERHEAD,
                 (unsigned long long)have,
                 builtin ? ", or run fleetsim-target in its own process (--url)" : "");
        return line_fail(out, msg);
    }
    if (out)
        fprintf(out, "pre-flight: ok: file descriptors: %llu needed, limit %llu\n",
                (unsigned long long)need, (unsigned long long)have);
    if (!preflight_port_budget(in, &need, &have)) {
        unsigned long long per = have / (in->source_count ? in->source_count : 1);
        unsigned long long addrs = (need + per - 1) / per;
        snprintf(msg, sizeof msg,
                 "local ports: %llu connections to one address need %llu source ports, %llu are "
                 "available (%llu per source address): spread them with --source-ips over %llu "
                 "addresses (e.g. 127.0.0.2-127.0.0.%llu on loopback), or use --conn pool:N",
                 (unsigned long long)need, (unsigned long long)need, (unsigned long long)have, per,
                 addrs, addrs + 1 > 255 ? 255 : addrs + 1);
        return line_fail(out, msg);
    }
    if (out)
        fprintf(out, "pre-flight: ok: local ports: %llu needed, %llu available\n",
                (unsigned long long)need, (unsigned long long)have);
    return 0;
}

static int check_health(const struct preflight_input *in, FILE *out, const char *hdr)
{
    char path[AGENT_PATH_BYTES], why[200], msg[AGENT_PATH_BYTES + 1024];
    struct http_once o;
    snprintf(path, sizeof path, "%s/health", in->set->base_path);
    http_once(in->conn, "GET", path, hdr, NULL, &o);
    http_once_release(&o);
    if (o.error != HTTP_ERR_NONE || o.status != 200) {
        snprintf(msg, sizeof msg, "the target %s does not answer GET %s with 200 (%s)",
                 in->target_text, path, http_once_describe(&o, why, sizeof why));
        return line_fail(out, msg);
    }
    line_ok(out, "the target %s answers GET %s", in->target_text, path);
    return 0;
}

static int check_key(const struct preflight_input *in, FILE *out, const char *hdr)
{
    char path[AGENT_PATH_BYTES], why[200], msg[AGENT_PATH_BYTES + 1024];
    struct http_once o;
    snprintf(path, sizeof path, "%s/api/v1/auth/check", in->set->base_path);
    http_once(in->conn, "GET", path, hdr, NULL, &o);
    http_once_release(&o);
    bool keyless = !in->set->api_key || !in->set->api_key[0];
    if (o.error == HTTP_ERR_NONE && o.status == 401) {
        return line_fail(out, keyless ? "API key: none was given and the target requires one "
                                        "(set CERTCTL_API_KEY or --api-key-file)"
                                      : "API key: the key was rejected (HTTP 401 from "
                                        "/api/v1/auth/check)");
    }
    if (o.error != HTTP_ERR_NONE || o.status != 200) {
        snprintf(msg, sizeof msg, "API key: GET %s did not answer 200 (%s)", path,
                 http_once_describe(&o, why, sizeof why));
        return line_fail(out, msg);
    }
    line_ok(out, "%s%s", keyless ? "the target needs no API key" : "the API key is accepted", "");
    return 0;
}

/* What one agent's heartbeat said. */
enum agent_state { AGENT_EXISTS, AGENT_MISSING, AGENT_RETIRED, AGENT_UNKNOWN };

/* The headers of pre-flight's agent checks: GET and POST. */
struct agent_hdrs {
    const char *get, *post;
};

/* Whether agent index exists: the shard's first agent with one heartbeat (as the fleet will
 * send it), the others with GET /api/v1/agents/ID, which changes nothing in the server. why
 * gets the answer's description when it is neither 200, 404 nor 410. */
static enum agent_state probe_agent(const struct preflight_input *in, const struct agent_hdrs *h,
                                    uint32_t index, char *why, size_t n)
{
    char id[AGENT_ID_MAX], path[AGENT_PATH_BYTES], body[1024];
    struct http_once o;
    bool beat = index == in->first_index;
    agent_id(in->set, index, id, sizeof id);
    snprintf(path, sizeof path, "%s/api/v1/agents/%s%s", in->set->base_path, id,
             beat ? "/heartbeat" : "");
    if (beat)
        agent_heartbeat_body(in->set, index, body, sizeof body);
    /* a rate limiter's 429 says nothing about the agent: wait its second and ask again */
    for (unsigned tries = 0;; tries++) {
        http_once(in->conn, beat ? "POST" : "GET", path, beat ? h->post : h->get,
                  beat ? body : NULL, &o);
        http_once_release(&o);
        if (o.error != HTTP_ERR_NONE || o.status != 429 || tries >= PREFLIGHT_429_RETRIES ||
            interrupt_count() > 0)
            break;
        sleep(1);
    }
    if (o.error == HTTP_ERR_NONE && o.status == 200)
        return AGENT_EXISTS;
    if (o.error == HTTP_ERR_NONE && o.status == 404)
        return AGENT_MISSING;
    if (o.error == HTTP_ERR_NONE && o.status == 410)
        return AGENT_RETIRED;
    http_once_describe(&o, why, n);
    return AGENT_UNKNOWN;
}

/* The i-th of the n sampled shard positions: first, last and an even spread between. */
static uint32_t sample_position(const struct preflight_input *in, uint32_t i, uint32_t n)
{
    uint32_t size = in->shard_agents ? in->shard_agents : 1;
    return n <= 1 ? 0 : (uint32_t)((uint64_t)(size - 1) * i / (n - 1));
}

/* The fleet index of the agent at shard position. */
static uint32_t index_at(const struct preflight_input *in, uint32_t position)
{
    return in->shard_agents ? fleet_shard_index(position, in->shard_k, in->shard_n)
                            : in->first_index;
}

/* The first missing agent's shard position in (lo, hi]: lo exists (NONE: no agent before hi
 * was seen to exist), hi is missing. Bisection, one heartbeat per step, on the assumption that
 * the missing agents follow the existing ones; an answer that is neither ends it early. */
#define NONE UINT32_MAX
static uint32_t first_missing(const struct preflight_input *in, const struct agent_hdrs *hdr,
                              uint32_t lo, uint32_t hi)
{
    char why[200];
    while (hi > 0 && (lo == NONE || hi - lo > 1) && interrupt_count() == 0) {
        uint32_t mid = lo == NONE ? hi / 2 : lo + (hi - lo) / 2;
        enum agent_state st = probe_agent(in, hdr, index_at(in, mid), why, sizeof why);
        if (st == AGENT_UNKNOWN)
            break;
        if (st == AGENT_MISSING)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* The sampled agent at position pos is missing: names the first missing one, and the last one
 * that exists. */
static int agent_missing(const struct preflight_input *in, FILE *out, const struct agent_hdrs *hdr,
                         uint32_t last_ok, uint32_t pos)
{
    char id[AGENT_ID_MAX], ok_id[AGENT_ID_MAX], msg[3 * AGENT_ID_MAX + 256];
    uint32_t first = first_missing(in, hdr, last_ok, pos);
    agent_id(in->set, index_at(in, first), id, sizeof id);
    if (first == 0) {
        snprintf(msg, sizeof msg,
                 "agent %s does not exist in the server: run `fleetsim seed` or use --register",
                 id);
        return line_fail(out, msg);
    }
    agent_id(in->set, index_at(in, first - 1), ok_id, sizeof ok_id);
    snprintf(msg, sizeof msg,
             "agent %s does not exist in the server (the first missing one found; %s exists): "
             "the server has fewer agents than this shard's %u: run `fleetsim seed` for as many, "
             "use --register, or lower --agents",
             id, ok_id, in->shard_agents);
    return line_fail(out, msg);
}

/* Agents across the shard: first, last and a spread, at most PREFLIGHT_AGENT_SAMPLE. */
static int check_agents(const struct preflight_input *in, FILE *out, const struct agent_hdrs *hdr)
{
    char id[AGENT_ID_MAX], why[200], msg[AGENT_ID_MAX + 512];
    uint32_t n =
        in->shard_agents < PREFLIGHT_AGENT_SAMPLE ? in->shard_agents : PREFLIGHT_AGENT_SAMPLE;
    n = n ? n : 1;
    uint32_t last_ok = NONE; /* position of the last sampled agent that exists */
    for (uint32_t i = 0; i < n && interrupt_count() == 0; i++) {
        uint32_t pos = sample_position(in, i, n);
        if (i > 0 && pos == sample_position(in, i - 1, n))
            continue;
        agent_id(in->set, index_at(in, pos), id, sizeof id);
        switch (probe_agent(in, hdr, index_at(in, pos), why, sizeof why)) {
        case AGENT_EXISTS:
            last_ok = pos;
            continue;
        case AGENT_MISSING:
            return agent_missing(in, out, hdr, last_ok, pos);
        case AGENT_RETIRED:
            snprintf(msg, sizeof msg,
                     "agent %s is retired in the server (HTTP 410): seed the fleet again "
                     "(`fleetsim seed --reset`) or use another --fleet-prefix",
                     id);
            return line_fail(out, msg);
        default:
            snprintf(msg, sizeof msg, "the heartbeat of agent %s did not answer 200 (%s)", id, why);
            return line_fail(out, msg);
        }
    }
    if (interrupt_count() > 0)
        return line_fail(out, "interrupted");
    if (out)
        fprintf(out,
                "pre-flight: ok: %u agents sampled across the shard exist (the first's heartbeat "
                "answered 200)\n",
                n);
    return 0;
}

int preflight_run(const struct preflight_input *in, FILE *out)
{
    if (check_budgets(in, out) != 0)
        return 1;
    char *hdr_get = agent_headers(in->set, in->set->content_type_on_get);
    char *hdr_post = agent_headers(in->set, true);
    int rc = 1;
    if (hdr_get && hdr_post && check_health(in, out, hdr_get) == 0 &&
        check_key(in, out, hdr_get) == 0 && interrupt_count() == 0) {
        rc = 0;
        if (in->check_agent)
            rc = check_agents(in, out, &(struct agent_hdrs){hdr_get, hdr_post});
        else if (out)
            fprintf(out, "pre-flight: skipped: agent existence (--register creates them)\n");
    }
    if (!hdr_get || !hdr_post)
        line_fail(out, "out of memory");
    parse_secret_free(hdr_get);
    parse_secret_free(hdr_post);
    return rc;
}

bool preflight_target_is_refserver(const struct preflight_input *in)
{
    char path[AGENT_PATH_BYTES];
    struct http_once o;
    snprintf(path, sizeof path, "%s/api/v1/version", in->set->base_path);
    http_once(in->conn, "GET", path, NULL, NULL, &o);
    bool refserver = false;
    json_object *v, *root = o.error == HTTP_ERR_NONE && o.status == 200 && o.body
                                ? json_tokener_parse(o.body)
                                : NULL;
    if (root && json_object_object_get_ex(root, "version", &v) &&
        json_object_is_type(v, json_type_string))
        refserver = strncmp(json_object_get_string(v), PREFLIGHT_REFSERVER_VERSION,
                            strlen(PREFLIGHT_REFSERVER_VERSION)) == 0;
    json_object_put(root);
    http_once_release(&o);
    return refserver;
}

void preflight_plan(const struct preflight_input *in, FILE *out)
{
    char id[AGENT_ID_MAX];
    agent_id(in->set, in->first_index, id, sizeof id);
    fprintf(out,
            "plan: pre-flight would check: GET %s/health on %s; the API key "
            "(GET %s/api/v1/auth/check)",
            in->set->base_path, in->target_text, in->set->base_path);
    if (in->check_agent)
        fprintf(out, "; that agents exist: %s and up to %u across the shard (one heartbeat each)\n",
                id, PREFLIGHT_AGENT_SAMPLE - 1);
    else
        fprintf(out, "; agents are created first (--register)\n");
    uint64_t need, have;
    bool fits = preflight_fd_budget(in, &need, &have);
    fprintf(out, "plan: file descriptors: %llu needed, limit %llu: %s\n", (unsigned long long)need,
            (unsigned long long)have, fits ? "fits" : "DOES NOT FIT");
    fits = preflight_port_budget(in, &need, &have);
    fprintf(out, "plan: local ports: %llu needed, %llu available: %s\n", (unsigned long long)need,
            (unsigned long long)have, fits ? "fits" : "DOES NOT FIT");
}
