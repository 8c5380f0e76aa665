/* src/help.c - fleetsim's --help text (every `fleetsim run` option with its default, grouped
 * as in the man page) and the --version report with the runtime library versions. */
#include "src/help.h"

#include <event2/event.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <string.h>

#include "config.h"
#include "sim/preset.h"
#include "src/options.h"

/* libpq encodes its version as major * 10000 + minor (PQlibVersion). */
#define PQ_VERSION_MAJOR_DIV 10000

static const char help_text[] =
    "Usage: fleetsim [run] [OPTIONS]\n"
    "       fleetsim seed [--db URL] [OPTIONS]   (see fleetsim seed --help)\n"
    "       fleetsim merge FILE.json... [OPTIONS] (see fleetsim merge --help)\n"
    "       fleetsim report FILE.json [OPTIONS]  (see fleetsim report --help)\n"
    "Simulate a certctl agent fleet against a certctl server and report latency,\n"
    "errors and thresholds. Exit status: 0 pass, 99 thresholds failed, 98 fleetsim\n"
    "itself was saturated, 105 interrupted (SIGINT/SIGTERM; outputs written), 2 usage\n"
    "error, 1 the run could not be carried out (see man fleetsim, EXIT STATUS).\n"
    "\n"
    "Target:\n"
    "  --url URL              certctl base URL, http:// or https://\n"
    "                         (env CERTCTL_SERVER_URL; without either, a built-in\n"
    "                         target is started on loopback)\n"
    "  --api-key KEY          API key (env CERTCTL_API_KEY, the safer way)\n"
    "  --api-key-file FILE    read the API key from the first line of FILE\n"
    "  --cacert FILE          trust the CAs in FILE (default: system store)\n"
    "  --insecure             do not verify the server's certificate\n"
    "\n"
    "Scenario and fleet:\n"
    "  --scenario NAME|FILE   run a preset or a JSON scenario file (a path with a /\n"
    "                         or ending in .json); repeatable; presets:\n"
    "                         %SCENARIOS%\n"
    "                         (default: the realistic fleet, scenario \"default\")\n"
    "  --agents N             number of simulated agents (default 5000)\n"
    "  --fleet-prefix NAME    [a-z][a-z0-9]{0,23} (default loadtest)\n"
    "  --heartbeat DUR        heartbeat interval (default 30s)\n"
    "  --jitter PCT           random spread of each interval, 0% to 50%\n"
    "                         (default 10%)\n"
    "  --poll DUR             work poll interval, 0 = off (default 30s)\n"
    "  --agent-profile NAME   default, or certctl-1.0 for the real agent's timers\n"
    "                         (default default)\n"
    "  --os-mix L/W/D         linux/windows/darwin percentages (default 80/10/10)\n"
    "  --ramp DUR             spread of the agents' first events (default: each\n"
    "                         timer's own interval; certctl-1.0: one heartbeat)\n"
    "  --verify-probe MIN[-MAX]  duration of the simulated probe of a deployment\n"
    "                         whose target names a host (after the agent's 2 s wait;\n"
    "                         no connection is made), 0 to 10s (default 5ms-50ms)\n"
    "  --agent-failures STEP=P[,...]  share P (0 to 1, or N%) of the agents' csr,\n"
    "                         deploy or verify steps that fail on the agent's side,\n"
    "                         reported as the real agent does (default none)\n"
    "  --register             create the agents through the API before the run\n"
    "  --agents-file FILE     with --register, write the ids the server assigned;\n"
    "                         without it, read the agent ids (default: none)\n"
    "\n"
    "Operator (bulk renewal):\n"
    "  --certs N              certificates mc-PREFIX-00001..N the operator renews;\n"
    "                         the built-in target seeds them (default: none)\n"
    "  --bulk-rate RATE       bulk-renew calls per second or minute, e.g. 5/s\n"
    "                         (open model); needs --certs (default: no operator)\n"
    "  --bulk-batch N         certificate ids per call, 1 to 10000 (default 50)\n"
    "  --bulk-passes N        stop calling after N passes over the certificates;\n"
    "                         progress is still read (default: the whole run)\n"
    "\n"
    "ACME clients:\n"
    "  --acme-clients N       ACME client actors, 1 to 100000, each with its own\n"
    "                         account key (default: none)\n"
    "  --acme-mode MODE       order (full JWS-signed orders) or burst (directory,\n"
    "                         new-nonce, renewal-info once a second, as certctl's\n"
    "                         k6 acme_flow) (default order)\n"
    "  --acme-profile ID      certctl profile of /acme/profile/ID/, created through\n"
    "                         the API when missing (default prof-loadtest)\n"
    "  --acme-directory URL   another ACME server's directory, e.g. Pebble's\n"
    "                         https://127.0.0.1:14000/dir; no API key is sent there\n"
    "                         (default: certctl's, or the built-in target's)\n"
    "  --acme-key-alg ALG     es256, rs256 or eddsa account keys (default es256)\n"
    "  --acme-cacert FILE     trust the CAs in FILE for --acme-directory\n"
    "                         (default: system store)\n"
    "\n"
    "Run:\n"
    "  --duration DUR         how long to schedule requests (default 5m)\n"
    "  --seed N               seed of every random choice (default: random)\n"
    "  --dry-run              print the first scheduled events and the pre-flight\n"
    "                         plan, send nothing\n"
    "\n"
    "Thresholds and output:\n"
    "  --threshold SPEC       pass/fail rule METRIC[{tag:value,...}]:EXPR in k6\n"
    "                         syntax; repeatable (default: the presets' own)\n"
    "  --no-thresholds        evaluate no thresholds, not even the presets'\n"
    "  --summary-json FILE    write the summary as JSON, - for stdout (default: none)\n"
    "  --interval-log FILE    write a JSON line per report interval, - for stdout\n"
    "                         (default: none)\n"
    "  --report-interval DUR  progress report period, 0 = off (default 10s)\n"
    "  --html FILE            write the HTML report with charts (default: none)\n"
    "  --metrics-listen ADDR:PORT\n"
    "                         serve Prometheus metrics on http://ADDR:PORT/metrics;\n"
    "                         a bare PORT means 127.0.0.1 (default: off)\n"
    "  -q, --quiet            print only the final summary and errors\n"
    "  -v, --verbose          print more detail; repeatable\n"
    "\n"
    "Connections and scale-out:\n"
    "  --conn MODE            per-agent (own connection each) or pool:N (N shared\n"
    "                         connections) (default per-agent)\n"
    "  --source-ips RANGE     spread source addresses over a.b.c.d-a.b.c.e\n"
    "                         (default: any)\n"
    "  --threads N            event-loop threads, 1 to 256 (default 1)\n"
    "  --tls-resume on|off    resume TLS sessions on reconnect; off is the real\n"
    "                         agent (every reconnect a full handshake) (default off)\n"
    "  --user-agent STR       agents' User-Agent, e.g. to mark load-test traffic\n"
    "                         (default Go-http-client/1.1, as the real agent)\n"
    "  --timer-slot DUR       agents' wake-up slot: intended times on a grid of DUR,\n"
    "                         0 to 1s, 0 = each agent at its own time (default 5ms)\n"
    "  --shard K/N            run slice K (from 0) of N of the fleet (default 0/1)\n"
    "  --timeout DUR          per request (default 30s)\n"
    "  --grace DUR            drain time for requests in flight after --duration or\n"
    "                         the first SIGINT/SIGTERM; a second one ends it at once\n"
    "                         (default 10s)\n"
    "  --saturation-lag DUR   the verdict client_saturated (exit 98): fleetsim's own\n"
    "                         lag p99 above DUR ... (default 50ms)\n"
    "  --saturation-cpu PCT   ... while a loop thread wanted a CPU (running or queued)\n"
    "                         PCT of its time (default 50%)\n"
    "\n"
    "  --list-scenarios       print each preset (and --scenario FILE) with its load\n"
    "                         and thresholds, and exit\n"
    "  -h, --help             print this help and exit\n"
    "  -V, --version          print fleetsim's and its libraries' versions, exit\n"
    "\n"
    "Durations take units: 250ms, 30s, 5m, 8h, 1h30m.\n"
    "\n"
    "Sub-commands (each has its own --help):\n"
    "  seed    put the fleet into certctl's PostgreSQL: --db URL, --agents N,\n"
    "          options --certs N, --fleet-prefix NAME, --seed N, --os-mix L/W/D,\n"
    "          options --expiry-window FROM-TO, --issuer-id ID, --reset, --clean,\n"
    "          options --dry-run\n"
    "  merge   add shard summaries exactly: FILE.json... --summary-json OUT,\n"
    "          options --html OUT, --threshold SPEC\n"
    "  report  render a summary: FILE.json --html OUT, --interval-log FILE\n"
    "\n"
    "Examples:\n"
    "  fleetsim --duration 1m\n"
    "      a short run against the built-in target\n"
    "  CERTCTL_API_KEY=... fleetsim run --url https://certctl.example.test:8443 \\\n"
    "      --cacert ca.pem --scenario agent-storm --summary-json storm.json\n"
    "  fleetsim --url https://certctl.example.test:8443 --api-key-file key.txt \\\n"
    "      --agents 20000 --conn pool:2000 --duration 8h \\\n"
    "      --threshold 'http_req_duration{endpoint:heartbeat}:p(99)<1s'\n"
    "  fleetsim --url https://certctl.example.test:8443 --api-key-file key.txt \\\n"
    "      --agents 50000 --shard 0/4 --seed 42 --summary-json shard0.json\n"
    "  fleetsim --scenario acme-burst --url https://certctl.example.test:8443 \\\n"
    "      --api-key-file key.txt\n"
    "  fleetsim --scenario ./nightly-soak.json --url https://certctl.example.test:8443\n"
    "      a scenario file (docs/scenarios.md); fleetsim --list-scenarios shows it\n"
    "\n"
    "See the fleetsim(1) manual page for details.\n";

/* Writes the help text with %SCENARIOS% replaced by the preset names (sim/preset.h). */
void help_print(FILE *out)
{
    static const char marker[] = "%SCENARIOS%";
    const char *at = strstr(help_text, marker);
    fwrite(help_text, 1, (size_t)(at - help_text), out);
    for (size_t i = 0; i < preset_count(); i++)
        fprintf(out, "%s%s", i ? ", " : "", preset_at(i)->name);
    fputs(at + sizeof(marker) - 1, out);
}

/* One scenario: name (and file), description, the options it sets, its thresholds. */
static void print_scenario(FILE *out, const struct preset *p, const char *path)
{
    char sets[1024];
    int len = preset_format_settings(p, sets, sizeof(sets));
    if (path)
        fprintf(out, "%s (file %s)\n", p->name, path);
    else
        fprintf(out, "%s\n", p->name);
    fprintf(out, "  %s\n", p->description && *p->description ? p->description : "(no description)");
    fprintf(out, "  sets: %s%s\n", len == 0 ? "nothing (the defaults)" : sets,
            len < 0 ? "..." : "");
    size_t n = preset_threshold_count(p);
    fprintf(out, "  thresholds:%s\n", n ? "" : " none");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "    %s\n", p->thresholds[i]);
}

void help_print_scenarios(FILE *out, const struct run_config *cfg)
{
    for (size_t i = 0; i < preset_count(); i++) {
        fputs(i ? "\n" : "", out);
        print_scenario(out, preset_at(i), NULL);
    }
    for (size_t i = 0; cfg && i < cfg->n_scenarios; i++) {
        if (cfg->scenario_files[i]) {
            fputs("\n", out);
            print_scenario(out, cfg->scenario_presets[i], cfg->scenario_files[i]);
        }
    }
}

void help_print_version(FILE *out)
{
    int pq = PQlibVersion();
    fprintf(out, "fleetsim %s\n", PACKAGE_VERSION);
    fprintf(out, "libevent %s\n", event_get_version());
    fprintf(out, "%s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(out, "libpq %d.%d\n", pq / PQ_VERSION_MAJOR_DIV, pq % PQ_VERSION_MAJOR_DIV);
    fprintf(out, "json-c %s\n", json_c_version());
}
