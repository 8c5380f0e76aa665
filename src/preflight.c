/* src/preflight.c - pre-flight checks (see preflight.h). Each network check is one request on
 * a short-lived event loop with the run's own connection settings, so TLS and addressing are
 * tested exactly as the fleet will use them. */
#include "src/preflight.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "engine/http_once.h"
#include "engine/interrupt.h"
#include "engine/parse.h"

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

static int check_agent(const struct preflight_input *in, FILE *out, const char *hdr)
{
    char id[AGENT_ID_MAX], path[AGENT_PATH_BYTES], body[1024], why[200],
        msg[AGENT_PATH_BYTES + 1024];
    struct http_once o;
    agent_id(in->set, in->first_index, id, sizeof id);
    snprintf(path, sizeof path, "%s/api/v1/agents/%s/heartbeat", in->set->base_path, id);
    agent_heartbeat_body(in->set, in->first_index, body, sizeof body);
    http_once(in->conn, "POST", path, hdr, body, &o);
    http_once_release(&o);
    if (o.error == HTTP_ERR_NONE && o.status == 404) {
        snprintf(msg, sizeof msg,
                 "agent %s does not exist in the server: run `fleetsim seed` or use --register",
                 id);
        return line_fail(out, msg);
    }
    if (o.error == HTTP_ERR_NONE && o.status == 410) {
        snprintf(msg, sizeof msg,
                 "agent %s is retired in the server (HTTP 410): seed the fleet again "
                 "(`fleetsim seed --reset`) or use another --fleet-prefix",
                 id);
        return line_fail(out, msg);
    }
    if (o.error != HTTP_ERR_NONE || o.status != 200) {
        snprintf(msg, sizeof msg, "the heartbeat of agent %s did not answer 200 (%s)", id,
                 http_once_describe(&o, why, sizeof why));
        return line_fail(out, msg);
    }
    line_ok(out, "agent %s exists (heartbeat answered 200)%s", id, "");
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
            rc = check_agent(in, out, hdr_post);
        else if (out)
            fprintf(out, "pre-flight: skipped: agent existence (--register creates them)\n");
    }
    if (!hdr_get || !hdr_post)
        line_fail(out, "out of memory");
    parse_secret_free(hdr_get);
    parse_secret_free(hdr_post);
    return rc;
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
        fprintf(out, "; that agent %s exists (one heartbeat)\n", id);
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
