/* src/options_json.c - the run configuration as JSON for the summary file (see options.h):
 * every option's value in user units (durations in ms, shares in percent), no secrets. */
#include "src/options.h"

#include <stdio.h>

#include "src/options_values.h"

#define NS_PER_MS 1000000ULL

/* Milliseconds as an integer when whole, else as a fraction. */
static json_object *ms_json(uint64_t ns)
{
    if (ns % NS_PER_MS == 0)
        return json_object_new_int64((int64_t)(ns / NS_PER_MS));
    return json_object_new_double((double)ns / (double)NS_PER_MS);
}

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* A JSON array of the n strings v (null for a NULL one). */
static json_object *str_array(char *const *v, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, str_or_null(v[i]));
    return a;
}

static void add(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static json_object *target_json(const struct run_config *cfg, json_object *o)
{
    char url[PARSE_HOST_MAX + PARSE_PATH_MAX + 16];
    if (cfg->url_set && parse_url_format(&cfg->url, url, sizeof(url)) >= 0)
        add(o, "url", json_object_new_string(url));
    else
        add(o, "url", NULL); /* null: the built-in target */
    add(o, "api_key_set", json_object_new_boolean(cfg->api_key_source != OPTIONS_SOURCE_NONE));
    add(o, "cacert", str_or_null(cfg->cacert_path));
    add(o, "insecure", json_object_new_boolean(cfg->insecure));
    return o;
}

static json_object *fleet_json(const struct run_config *cfg, json_object *o)
{
    add(o, "scenarios", str_array(cfg->scenarios, cfg->n_scenarios));
    /* the path of each --scenario FILE, else null */
    add(o, "scenario_files", str_array(cfg->scenario_files, cfg->n_scenarios));
    add(o, "agents", json_object_new_int64(cfg->agents));
    add(o, "fleet_prefix", json_object_new_string(cfg->fleet_prefix));
    add(o, "heartbeat_ms", ms_json(cfg->heartbeat_ns));
    add(o, "jitter_pct", json_object_new_double(cfg->jitter_pct));
    add(o, "poll_ms", ms_json(cfg->poll_ns));
    add(o, "agent_profile", json_object_new_string(agent_profile_name(cfg->agent_profile)));
    json_object *mix = json_object_new_object();
    for (int i = 0; i < IDENTITY_OS_COUNT; i++)
        add(mix, identity_os_name((enum identity_os)i), json_object_new_int64(cfg->os_mix.pct[i]));
    add(o, "os_mix", mix);
    add(o, "ramp_ms", ms_json(cfg->ramp_ns));
    add(o, "register", json_object_new_boolean(cfg->register_agents));
    add(o, "agents_file", str_or_null(cfg->agents_file));
    add(o, "certs", json_object_new_int64(cfg->certs));
    add(o, "bulk_rate_per_s", json_object_new_double(cfg->bulk_rate_per_s));
    add(o, "bulk_batch", json_object_new_int64(cfg->bulk_batch));
    add(o, "bulk_passes", json_object_new_int64(cfg->bulk_passes));
    return o;
}

static json_object *run_json(const struct run_config *cfg, json_object *o)
{
    add(o, "duration_ms", ms_json(cfg->duration_ns));
    add(o, "seed", json_object_new_uint64(cfg->seed));
    add(o, "thresholds", str_array(cfg->threshold_specs, cfg->n_thresholds));
    add(o, "no_thresholds", json_object_new_boolean(cfg->no_thresholds));
    add(o, "summary_json", str_or_null(cfg->summary_json_path));
    add(o, "interval_log", str_or_null(cfg->interval_log_path));
    add(o, "report_interval_ms", ms_json(cfg->report_interval_ns));
    add(o, "html", str_or_null(cfg->html_path));
    char listen[sizeof(cfg->metrics_listen.host) + 16];
    snprintf(listen, sizeof(listen),
             cfg->metrics_listen.addr.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
             cfg->metrics_listen.host, (unsigned)cfg->metrics_listen.port);
    add(o, "metrics_listen", cfg->metrics_listen_set ? json_object_new_string(listen) : NULL);
    char conn[32];
    if (cfg->conn_mode == OPTIONS_CONN_POOL)
        snprintf(conn, sizeof(conn), "pool:%u", cfg->pool_size);
    else
        snprintf(conn, sizeof(conn), "per-agent");
    add(o, "conn", json_object_new_string(conn));
    char range[40];
    if (cfg->source_ips_set && parse_ipv4_range_format(&cfg->source_ips, range, sizeof(range)) >= 0)
        add(o, "source_ips", json_object_new_string(range));
    else
        add(o, "source_ips", NULL);
    add(o, "threads", json_object_new_int64(cfg->threads));
    add(o, "timer_slot_ms", ms_json(cfg->timer_slot_ns));
    json_object *probe = json_object_new_object();
    add(probe, "min_ms", ms_json(cfg->probe_min_ns));
    add(probe, "max_ms", ms_json(cfg->probe_max_ns));
    add(o, "verify_probe", probe);
    add(o, "user_agent", cfg->user_agent[0] ? json_object_new_string(cfg->user_agent) : NULL);
    add(o, "tls_resume", json_object_new_boolean(cfg->tls_resume));
    json_object *fail = json_object_new_object();
    add(fail, "csr", json_object_new_double(cfg->fail_csr));
    add(fail, "deploy", json_object_new_double(cfg->fail_deploy));
    add(fail, "verify", json_object_new_double(cfg->fail_verify));
    add(o, "agent_failures", fail);
    json_object *shard = json_object_new_object();
    add(shard, "k", json_object_new_int64(cfg->shard_k));
    add(shard, "n", json_object_new_int64(cfg->shard_n));
    add(o, "shard", shard);
    add(o, "timeout_ms", ms_json(cfg->timeout_ns));
    add(o, "grace_ms", ms_json(cfg->grace_ns));
    add(o, "saturation_lag_ms", ms_json(cfg->saturation_lag_ns));
    add(o, "saturation_cpu_pct", json_object_new_double(cfg->saturation_cpu_pct));
    add(o, "verbosity", json_object_new_int(cfg->verbosity));
    add(o, "dry_run", json_object_new_boolean(cfg->dry_run));
    json_object *given = json_object_new_array();
    for (int i = 0; i < RUN_OPT__COUNT; i++) {
        if (options_explicit(cfg, (enum run_opt)i))
            json_object_array_add(given, json_object_new_string(options_name((enum run_opt)i)));
    }
    add(o, "explicit", given);
    json_object *from = json_object_new_array(); /* options whose value a --scenario set */
    for (int i = 0; i < RUN_OPT__COUNT; i++) {
        if (cfg->scenario_mask & (1ULL << i))
            json_object_array_add(from, json_object_new_string(options_name((enum run_opt)i)));
    }
    add(o, "from_scenarios", from);
    return o;
}

/* ACME clients (sim/acme.h); the directory URL is redacted like every URL in output. */
static json_object *acme_json(const struct run_config *cfg, json_object *o)
{
    add(o, "acme_clients", json_object_new_int64(cfg->acme_clients));
    add(o, "acme_mode", json_object_new_string(acme_mode_name(cfg->acme_mode)));
    add(o, "acme_profile", json_object_new_string(cfg->acme_profile));
    char url[PARSE_PATH_MAX];
    if (cfg->acme_directory_url)
        parse_url_redact(cfg->acme_directory_url, url, sizeof(url));
    add(o, "acme_directory", cfg->acme_directory_url ? json_object_new_string(url) : NULL);
    add(o, "acme_key_alg", json_object_new_string(acme_key_alg_name(cfg->acme_key_alg)));
    add(o, "acme_cacert", str_or_null(cfg->acme_cacert_path));
    return o;
}

json_object *options_config_json(const struct run_config *cfg)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    target_json(cfg, o);
    fleet_json(cfg, o);
    run_json(cfg, o);
    acme_json(cfg, o);
    return o;
}
