/* tests/unit/check_options.c - tests of fleetsim's command line (src/options): a table of bad
 * command lines each asserting exit code 2 and its one-line message, good lines checking the
 * parsed values, environment defaults, explicit-option tracking, API key scrubbing and the
 * secret-free config JSON; and the real fleetsim binary's exit status and output for bad input. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/threshold.h"
#include "sim/names.h"
#include "sim/preset.h"
#include "src/help.h"
#include "src/options.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define MAX_ARGS 16
#define SEC 1000000000ULL
#define MS 1000000ULL

/* Files the table refers to as @KEYFILE@, @CAFILE@, @EMPTY@, @DIR@, and the scenario files
 * @SCENFILE@ (good, name "nightly-test") and @BADSCEN@ (a bad heartbeat). */
static char dir[64], keyfile[96], cafile[96], emptyfile[96], scenfile[96], badscen[96];

static void write_file(const char *path, const char *content)
{
    ck_assert_int_eq(testenv_write_file(path, content, strlen(content), 0600), 0);
}

/* Per test (checked): no CERTCTL_* variables unless the test sets them. */
static void clear_env(void)
{
    unsetenv("CERTCTL_SERVER_URL");
    unsetenv("CERTCTL_API_KEY");
}

/* Per test case, in the runner itself (unchecked), so the files go even when a test fails. */
static void setup(void)
{
    testenv_mkdtemp(dir, sizeof dir, "check_options");
    snprintf(keyfile, sizeof(keyfile), "%s/key.txt", dir);
    snprintf(cafile, sizeof(cafile), "%s/ca.pem", dir);
    snprintf(emptyfile, sizeof(emptyfile), "%s/empty", dir);
    write_file(keyfile, "file-key-123\n");
    write_file(cafile, "-----BEGIN CERTIFICATE-----\n");
    write_file(emptyfile, "");
    snprintf(scenfile, sizeof(scenfile), "%s/nightly.json", dir);
    snprintf(badscen, sizeof(badscen), "%s/bad.json", dir);
    write_file(scenfile, "{\"name\": \"nightly-test\", \"description\": \"a test file\", "
                         "\"agents\": 12, \"poll\": \"2s\", \"jitter\": \"5%\", "
                         "\"thresholds\": [\"http_reqs{scenario:nightly-test}:count>0\"]}\n");
    write_file(badscen, "{\"name\": \"bad\", \"heartbeat\": \"5x\"}\n");
}

static void teardown(void)
{
    testenv_rmtree(dir);
}

static const char *subst(const char *a)
{
    if (strcmp(a, "@KEYFILE@") == 0)
        return keyfile;
    if (strcmp(a, "@CAFILE@") == 0)
        return cafile;
    if (strcmp(a, "@EMPTY@") == 0)
        return emptyfile;
    if (strcmp(a, "@DIR@") == 0)
        return dir;
    if (strcmp(a, "@SCENFILE@") == 0)
        return scenfile;
    if (strcmp(a, "@BADSCEN@") == 0)
        return badscen;
    return a;
}

/* A mutable argv "fleetsim ARGS..." (as the kernel gives one), so scrubbing can be observed. */
struct argv_buf {
    int argc;
    char *argv[MAX_ARGS + 2];
};

static void argv_make(struct argv_buf *b, const char *const *args)
{
    b->argc = 0;
    b->argv[b->argc++] = strdup("fleetsim");
    for (size_t i = 0; args[i]; i++) {
        ck_assert_int_lt(b->argc, MAX_ARGS + 1);
        b->argv[b->argc++] = strdup(subst(args[i]));
    }
    b->argv[b->argc] = NULL;
}

/* Bytes of the original argument strings (scrubbed ones are zeroed, not shortened). */
static size_t orig_len[MAX_ARGS + 2];

static void argv_free(struct argv_buf *b)
{
    for (int i = 0; i < b->argc; i++)
        free(b->argv[i]);
}

static char err[1024];

/* Parses "fleetsim ARGS..." into cfg; returns options_parse's result. */
static int parse(struct run_config *cfg, const char *const *args)
{
    struct argv_buf b;
    argv_make(&b, args);
    err[0] = '\0';
    int rc = options_parse(b.argc, b.argv, cfg, err, sizeof(err));
    argv_free(&b);
    return rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- the table of bad command lines ---- */

struct bad_line {
    const char *args[MAX_ARGS];
    const char *expect; /* the exact message, or with a leading '~' a substring of it */
};

static const struct bad_line bad_lines[] = {
    /* unknown options, missing values, stray words */
    {{"--bogus"}, "fleetsim: unknown option \"--bogus\" (see fleetsim --help)"},
    {{"-x"}, "fleetsim: unknown option \"-x\" (see fleetsim --help)"},
    {{"--agents-f", "x"},
     "fleetsim: unknown option \"--agents-f\" (did you mean --agents-file? see fleetsim --help)"},
    {{"--agen=5"},
     "fleetsim: unknown option \"--agen\" (did you mean --agents, --agent-profile, --agents-file "
     "or --agent-failures? see fleetsim --help)"},
    /* typos: the nearest options by edit distance (swap, omission, insertion, substitution) */
    {{"--agnets", "5"},
     "fleetsim: unknown option \"--agnets\" (did you mean --agents? see fleetsim --help)"},
    {{"--treshold", "x"},
     "fleetsim: unknown option \"--treshold\" (did you mean --threshold? see fleetsim --help)"},
    {{"--sumary-json=s.json"},
     "fleetsim: unknown option \"--sumary-json\" (did you mean --summary-json? see fleetsim "
     "--help)"},
    {{"--duraation", "1m"},
     "fleetsim: unknown option \"--duraation\" (did you mean --duration? see fleetsim --help)"},
    {{"--jiter", "5%"},
     "fleetsim: unknown option \"--jiter\" (did you mean --jitter? see fleetsim --help)"},
    {{"--hlep"}, "fleetsim: unknown option \"--hlep\" (did you mean --help? see fleetsim --help)"},
    {{"--cert", "5"},
     "fleetsim: unknown option \"--cert\" (did you mean --certs? see fleetsim --help)"},
    {{"--sed", "5"},
     "fleetsim: unknown option \"--sed\" (did you mean --seed? see fleetsim --help)"},
    {{"--treads", "2"},
     "fleetsim: unknown option \"--treads\" (did you mean --threads? see fleetsim --help)"},
    {{"--agentsx", "5"},
     "fleetsim: unknown option \"--agentsx\" (did you mean --agents? see fleetsim --help)"},
    {{"--xyzzy-plugh"}, "fleetsim: unknown option \"--xyzzy-plugh\" (see fleetsim --help)"},
    {{"--help=1"}, "fleetsim: --help: takes no value"},
    {{"-qx"}, "fleetsim: unknown option \"-x\" (see fleetsim --help)"},
    {{"--agents"}, "fleetsim: --agents: missing value (expected an integer from 1 to 1000000)"},
    {{"--agent-failures", "csr=2"},
     "fleetsim: --agent-failures: \"csr=2\" has a share outside 0 to 1 (0% to 100%)"},
    {{"--agent-failures", "disk=0.1"},
     "fleetsim: --agent-failures: \"disk=0.1\" names a step other than csr, deploy or verify"},
    {{"--tls-resume", "maybe"}, "fleetsim: --tls-resume: \"maybe\" is not on or off"},
    {{"--verify-probe", "50ms-5ms"},
     "fleetsim: --verify-probe: \"50ms-5ms\" starts after it ends (expected MIN <= MAX)"},
    {{"--agent-failures", "csr=2"},
     "fleetsim: --agent-failures: \"csr=2\" has a share outside 0 to 1 (0% to 100%)"},
    {{"--agent-failures", "verify=x"},
     "fleetsim: --agent-failures: \"verify=x\" has a share that is not a number (0 to 1, or a "
     "percentage)"},
    {{"--agent-failures", "disk=0.1"},
     "fleetsim: --agent-failures: \"disk=0.1\" names a step other than csr, deploy or verify"},
    {{"--tls-resume", "maybe"}, "fleetsim: --tls-resume: \"maybe\" is not on or off"},
    {{"--verify-probe", "50ms-5ms"},
     "fleetsim: --verify-probe: \"50ms-5ms\" starts after it ends (expected MIN <= MAX)"},
    {{"--url"}, "~fleetsim: --url: missing value (expected http[s]://HOST[:PORT][/PATH]"},
    {{"--interval-log"},
     "fleetsim: --interval-log: missing value (expected a regular file, a new file or - for "
     "standard output)"},
    {{"--insecure=yes"}, "fleetsim: --insecure: takes no value (expected --insecure alone)"},
    {{"run", "extra"},
     "fleetsim: unexpected argument: \"extra\" (expected only options; see fleetsim --help)"},
    {{"--agents", "5", "garbage"},
     "fleetsim: unexpected argument: \"garbage\" (expected only options; see fleetsim --help)"},
    {{"stat"}, "~fleetsim: unknown command: \"stat\" (expected run"},
    {{"--agents", "5", "--agents", "6"},
     "fleetsim: --agents: given more than once (expected it at most once)"},
    /* counts */
    {{"--agents", "abc"},
     "fleetsim: --agents: \"abc\" is not a number (expected an integer from 1 to 1000000)"},
    {{"--agents", "-5"},
     "fleetsim: --agents: \"-5\" is negative (expected an integer from 1 to 1000000)"},
    {{"--agents", "0"},
     "fleetsim: --agents: \"0\" is zero (expected an integer from 1 to 1000000)"},
    {{"--agents", "1000001"},
     "fleetsim: --agents: \"1000001\" is too large (expected an integer from 1 to 1000000)"},
    {{"--agents", "99999999999999999999"},
     "fleetsim: --agents: \"99999999999999999999\" is too large (expected an integer from 1 to "
     "1000000)"},
    {{"--threads", "0"}, "fleetsim: --threads: \"0\" is zero (expected an integer from 1 to 256)"},
    {{"--threads", "257"},
     "fleetsim: --threads: \"257\" is too large (expected an integer from 1 to 256)"},
    {{"--seed", "-1"},
     "fleetsim: --seed: \"-1\" is negative (expected an integer from 0 to 18446744073709551615)"},
    {{"--seed", "18446744073709551616"},
     "fleetsim: --seed: \"18446744073709551616\" is too large (expected an integer from 0 to "
     "18446744073709551615)"},
    /* durations and percentages */
    {{"--heartbeat", "30"},
     "fleetsim: --heartbeat: \"30\" has no unit (expected a duration from 10ms to 1d, e.g. 250ms, "
     "30s, 5m or 1h30m)"},
    {{"--heartbeat", "30x"},
     "fleetsim: --heartbeat: \"30x\" has an unknown unit \"x\" (expected ms, s, m, h or d, e.g. "
     "30s or 1h30m)"},
    {{"--heartbeat", "0"},
     "fleetsim: --heartbeat: \"0\" is zero (expected a duration from 10ms to 1d, e.g. 250ms, 30s, "
     "5m or 1h30m)"},
    {{"--heartbeat", "25h"},
     "fleetsim: --heartbeat: \"25h\" is too long (expected a duration from 10ms to 1d, e.g. 250ms, "
     "30s, 5m or 1h30m)"},
    {{"--duration", "-1m"},
     "fleetsim: --duration: \"-1m\" is negative (expected a duration from 100ms to 30d, e.g. "
     "250ms, 30s, 5m or 1h30m)"},
    {{"--duration", "5 m"}, "~--duration: \"5 m\" is not a duration (expected"},
    {{"--duration", "99999999999999999999h"},
     "~--duration: \"99999999999999999999h\" is too large (expected"},
    {{"--poll", "5ms"},
     "fleetsim: --poll: \"5ms\" is too short (expected 0 for off, or a duration from 10ms to 1d, "
     "e.g. 30s)"},
    {{"--poll", "abc"},
     "fleetsim: --poll: \"abc\" is not a duration (expected 0 for off, or a duration from 10ms to "
     "1d, e.g. 30s)"},
    {{"--report-interval", "1ms"},
     "fleetsim: --report-interval: \"1ms\" is too short (expected 0 for off, or a duration from "
     "100ms to 1d, e.g. 30s)"},
    {{"--timeout", "0"},
     "fleetsim: --timeout: \"0\" is zero (expected a duration from 1ms to 1h, e.g. 250ms, 30s, 5m "
     "or 1h30m)"},
    {{"--timer-slot", "2s"},
     "~fleetsim: --timer-slot: \"2s\" is too long (expected a duration from 0 to 1s"},
    {{"--timer-slot", "-5ms"},
     "~fleetsim: --timer-slot: \"-5ms\" is negative (expected a duration from 0 to 1s"},
    {{"--timer-slot", "5"}, "~fleetsim: --timer-slot: \"5\" has no unit (expected"},
    {{"--grace", "2h"}, "~fleetsim: --grace: \"2h\" is too long (expected a duration from 0 to 1h"},
    {{"--ramp", "1h30"}, "~fleetsim: --ramp: \"1h30\" has no unit"},
    {{"--jitter", "10"},
     "fleetsim: --jitter: \"10\" has no % sign (expected a percentage from 0% to 50%, e.g. 10%)"},
    {{"--jitter", "60%"},
     "fleetsim: --jitter: \"60%\" is too large (expected a percentage from 0% to 50%, e.g. 10%)"},
    /* URLs */
    {{"--url", "ftp://certctl.example.test"},
     "fleetsim: --url: \"ftp://certctl.example.test\" has an unsupported scheme \"ftp\" (expected "
     "http:// or https://)"},
    {{"--url", "certctl.example.test"},
     "~fleetsim: --url: \"certctl.example.test\" is not a URL (expected http[s]://"},
    {{"--url", "https://admin:hunter2@certctl.example.test"},
     "fleetsim: --url: \"https://***@certctl.example.test\" contains user:password@ (pass the key "
     "with --api-key-file or CERTCTL_API_KEY)"},
    {{"--url", "https://certctl.example.test:99999"},
     "~--url: \"https://certctl.example.test:99999\" has a port out of range 1-65535"},
    {{"--url", "https://certctl.example.test/?x=1"}, "~has a query or fragment"},
    /* files */
    {{"--api-key-file", "/nonexistent"},
     "fleetsim: --api-key-file: \"/nonexistent\" cannot be read: No such file or directory "
     "(expected a readable file)"},
    {{"--api-key-file", "@EMPTY@"},
     "~has an empty first line (expected the secret on the first line)"},
    {{"--cacert", "/nonexistent/ca.pem"},
     "fleetsim: --cacert: \"/nonexistent/ca.pem\" cannot be read: No such file or directory "
     "(expected a readable file)"},
    {{"--cacert", "@DIR@"}, "~is a directory (expected a readable file)"},
    {{"--summary-json", "/nonexistent/dir/s.json"},
     "fleetsim: --summary-json: \"/nonexistent/dir/s.json\" cannot be written: its directory does "
     "not exist (expected a regular file, a new file or - for standard output)"},
    {{"--summary-json", "@DIR@"},
     "~is a directory (expected a regular file, a new file or - for standard output)"},
    {{"--summary-json", "/dev/null"},
     "fleetsim: --summary-json: \"/dev/null\" is a character device (expected a regular file, a "
     "new file or - for standard output)"},
    {{"--html", "/nonexistent/dir/r.html"},
     "fleetsim: --html: \"/nonexistent/dir/r.html\" cannot be written: its directory does not "
     "exist (expected a regular file, a new file or - for standard output)"},
    {{"--html", "@DIR@"},
     "~is a directory (expected a regular file, a new file or - for standard "
     "output)"},
    {{"--metrics-listen", "localhost:9090"},
     "fleetsim: --metrics-listen: \"localhost:9090\" is not a listen address (expected ADDR:PORT "
     "with a numeric address and a port 0-65535, e.g. 127.0.0.1:9090 or [::1]:9090)"},
    {{"--metrics-listen", "127.0.0.1:70000"},
     "~--metrics-listen: \"127.0.0.1:70000\" has a port out of range ("},
    {{"--metrics-listen", "99999"}, "~--metrics-listen: \"99999\" has a port out of range ("},
    {{"--metrics-listen", ""}, "~--metrics-listen: \"\" is not a listen address ("},
    {{"--agents-file", "/nonexistent/agents.txt"},
     "fleetsim: --agents-file: \"/nonexistent/agents.txt\" cannot be read: No such file or "
     "directory (expected a readable file written by an earlier run with --register)"},
    /* API keys: never echoed */
    {{"--api-key", ""},
     "fleetsim: --api-key: the key is empty (expected 1 to 511 printable characters without "
     "spaces)"},
    {{"--api-key", "bad key"},
     "fleetsim: --api-key: the key has a space or a non-printable character (expected 1 to 511 "
     "printable characters without spaces)"},
    /* conflicts */
    {{"--api-key", "k1", "--api-key-file", "@KEYFILE@"},
     "fleetsim: --api-key and --api-key-file cannot be used together (expected one of them)"},
    {{"--insecure", "--cacert", "@CAFILE@"},
     "fleetsim: --insecure and --cacert cannot be used together (expected one of them)"},
    {{"-q", "-v"},
     "fleetsim: --quiet and --verbose cannot be used together (expected one of them)"},
    {{"--verbose", "--quiet"},
     "fleetsim: --quiet and --verbose cannot be used together (expected one of them)"},
    {{"--threshold", "http_req_failed:rate<0.01", "--no-thresholds"},
     "fleetsim: --threshold and --no-thresholds cannot be used together (expected one of them)"},
    {{"--conn", "pool:6000"},
     "fleetsim: --conn: \"pool:6000\" has more connections than agents (expected pool:N with N "
     "from 1 to 5000, the --agents count)"},
    {{"--agents", "10", "--conn", "pool:11"},
     "~\"pool:11\" has more connections than agents (expected pool:N with N from 1 to 10,"},
    {{"--conn", "pool:0"},
     "fleetsim: --conn: \"pool:0\" has a pool size that is zero (expected pool:N with N from 1 to "
     "the --agents count)"},
    {{"--conn", "shared"},
     "fleetsim: --conn: \"shared\" is not a connection mode (expected per-agent or pool:N, e.g. "
     "pool:1000)"},
    /* shard, prefix, OS mix, ranges, names */
    {{"--shard", "4/4"},
     "fleetsim: --shard: \"4/4\" has K >= N (expected K/N with 0 <= K < N <= 100000, e.g. 0/4)"},
    {{"--shard", "1"},
     "fleetsim: --shard: \"1\" is not a shard (expected K/N with 0 <= K < N <= 100000, e.g. 0/4)"},
    {{"--shard", "0/0"}, "~\"0/0\" has N = 0 ("},
    {{"--fleet-prefix", "Load"},
     "fleetsim: --fleet-prefix: \"Load\" is not a fleet prefix (expected a lowercase letter then "
     "up to 23 lowercase letters or digits, e.g. loadtest)"},
    {{"--fleet-prefix", "1abc"}, "~--fleet-prefix: \"1abc\" is not a fleet prefix"},
    {{"--fleet-prefix", "abcdefghijklmnopqrstuvwxy"},
     "~--fleet-prefix: \"abcdefghijklmnopqrstuvwxy\" is not a fleet prefix"},
    {{"--fleet-prefix", "load-test"}, "~--fleet-prefix: \"load-test\" is not a fleet prefix"},
    {{"--os-mix", "80/10/5"},
     "fleetsim: --os-mix: \"80/10/5\" adds up to 95 (expected three percentages "
     "linux/windows/darwin adding up to 100, e.g. 80/10/10)"},
    {{"--os-mix", "80/20"}, "~--os-mix: \"80/20\" is not an OS mix ("},
    {{"--source-ips", "127.0.0.9-127.0.0.2"},
     "fleetsim: --source-ips: \"127.0.0.9-127.0.0.2\" is descending (expected a.b.c.d-a.b.c.e in "
     "ascending order with at most 65536 addresses, e.g. 127.0.0.2-127.0.0.254)"},
    {{"--source-ips", "192.0.0.0-192.1.0.0"},
     "~\"192.0.0.0-192.1.0.0\" holds too many addresses ("},
    {{"--source-ips", "127.0.0.256"}, "~\"127.0.0.256\" is not an IPv4 range ("},
    {{"--scenario", "bogus"},
     "fleetsim: --scenario: \"bogus\" is not a known scenario (expected one of: agent-storm, "
     "bulk-renewal, acme-burst, fleet; or a scenario file, a path with a / or ending in .json)"},
    {{"--scenario"},
     "fleetsim: --scenario: missing value (expected one of: agent-storm, bulk-renewal, acme-burst, "
     "fleet; or a scenario file, a path with a / or ending in .json)"},
    {{"--scenario", "/nonexistent/soak.json"},
     "fleetsim: --scenario /nonexistent/soak.json: cannot be read: No such file or directory "
     "(expected a readable file)"},
    {{"--scenario", "soak.json"},
     "fleetsim: --scenario soak.json: cannot be read: No such file or directory (expected a "
     "readable file)"},
    {{"--scenario", "@DIR@"}, "~: is a directory (expected a readable file)"},
    {{"--scenario", "@BADSCEN@"},
     "~/bad.json: \"heartbeat\": \"5x\" has an unknown unit \"x\" (expected ms, s, m, h or d, e.g. "
     "30s or 1h30m)"},
    {{"--scenario", "@SCENFILE@", "--scenario", "@SCENFILE@"},
     "~/nightly.json: \"name\": \"nightly-test\" is the name of an earlier --scenario (expected "
     "each scenario once)"},
    {{"--scenario", "@SCENFILE@", "--threshold", "http_reqs{scenario:agent-storm}:count>0"},
     "~scenario 'agent-storm' is not part of this run"},
    {{"--scenario", "@SCENFILE@", "--conn", "pool:13"},
     "fleetsim: --conn: \"pool:13\" has more connections than agents (expected pool:N with N from "
     "1 to 12, the --agents count)"},
    {{"--list-scenarios=yes"},
     "fleetsim: --list-scenarios: takes no value (expected --list-scenarios alone)"},
    {{"--list-scenarios", "--scenario", "@BADSCEN@"},
     "~/bad.json: \"heartbeat\": \"5x\" has an unknown unit"},
    {{"--list-scenarios", "--list-scenarios"},
     "fleetsim: --list-scenarios: given more than once (expected it at most once)"},
    {{"--scenario", "agent-storm", "--scenario", "agent-storm"},
     "fleetsim: --scenario: \"agent-storm\" is given twice (expected each scenario once)"},
    {{"--agent-profile", "certctl-2.0"},
     "fleetsim: --agent-profile: \"certctl-2.0\" is not an agent profile (expected default or "
     "certctl-1.0)"},
    /* operator: certificates, bulk rate and batch */
    {{"--certs", "0"}, "fleetsim: --certs: \"0\" is zero (expected an integer from 1 to 10000000)"},
    {{"--certs", "ten"},
     "fleetsim: --certs: \"ten\" is not a number (expected an integer from 1 to 10000000)"},
    {{"--certs", "10000001"},
     "fleetsim: --certs: \"10000001\" is too large (expected an integer from 1 to 10000000)"},
    {{"--bulk-rate", "5"},
     "fleetsim: --bulk-rate: \"5\" has no unit (expected a rate from 0.01/s to 10000/s written "
     "N/s, N/m or N/h, e.g. 5/s or 300/m)"},
    {{"--bulk-rate", "0/s", "--certs", "10"},
     "~fleetsim: --bulk-rate: \"0/s\" is too low (expected a rate from 0.01/s"},
    {{"--bulk-rate", "20000/s", "--certs", "10"},
     "~fleetsim: --bulk-rate: \"20000/s\" is too high ("},
    {{"--bulk-rate", "5/s"},
     "fleetsim: --bulk-rate: the operator has no certificates to renew (expected --certs N too, "
     "the seeded certificates mc-loadtest-00001..N)"},
    {{"--bulk-rate", "5/s", "--fleet-prefix", "lt2"},
     "~(expected --certs N too, the seeded certificates mc-lt2-00001..N)"},
    {{"--bulk-batch", "0"},
     "fleetsim: --bulk-batch: \"0\" is zero (expected an integer from 1 to 10000)"},
    {{"--bulk-batch", "10001"},
     "fleetsim: --bulk-batch: \"10001\" is too large (expected an integer from 1 to 10000)"},
    {{"--bulk-batch"},
     "fleetsim: --bulk-batch: missing value (expected an integer from 1 to 10000)"},
    {{"--certs", "5", "--certs", "6"},
     "fleetsim: --certs: given more than once (expected it at most once)"},
    {{"--bulk-passes", "0"},
     "fleetsim: --bulk-passes: \"0\" is zero (expected an integer from 1 to 1000000)"},
    {{"--bulk-passes", "1.5"}, "~fleetsim: --bulk-passes: \"1.5\" "},
    /* ACME clients */
    {{"--acme-clients", "0"},
     "fleetsim: --acme-clients: \"0\" is zero (expected an integer from 1 to 100000)"},
    {{"--acme-clients", "100001"},
     "fleetsim: --acme-clients: \"100001\" is too large (expected an integer from 1 to 100000)"},
    {{"--acme-clients", "many"},
     "fleetsim: --acme-clients: \"many\" is not a number (expected an integer from 1 to 100000)"},
    {{"--acme-clients"},
     "fleetsim: --acme-clients: missing value (expected an integer from 1 to 100000)"},
    {{"--acme-clients", "5", "--acme-mode", "storm"},
     "fleetsim: --acme-mode: \"storm\" is not an ACME mode (expected burst or order)"},
    {{"--acme-mode", "burst"},
     "fleetsim: --acme-mode: has no effect without ACME clients (expected --acme-clients N or a "
     "scenario with ACME clients, e.g. acme-burst)"},
    {{"--acme-key-alg", "rs256", "--scenario", "agent-storm"},
     "~fleetsim: --acme-key-alg: has no effect without ACME clients"},
    {{"--acme-clients", "5", "--acme-profile", "prof/x"},
     "fleetsim: --acme-profile: \"prof/x\" is not a profile id (expected 1 to 128 of A-Z a-z 0-9 . "
     "_ -, e.g. prof-loadtest)"},
    {{"--acme-clients", "5", "--acme-profile", ""},
     "~fleetsim: --acme-profile: \"\" is not a profile id"},
    {{"--acme-clients", "5", "--acme-directory", "ftp://127.0.0.1/dir"},
     "~fleetsim: --acme-directory: \"ftp://127.0.0.1/dir\" has an unsupported scheme"},
    {{"--acme-clients", "5", "--acme-directory", "https://127.0.0.1:14000"},
     "fleetsim: --acme-directory: \"https://127.0.0.1:14000\" has no path (expected the directory "
     "URL, e.g. https://127.0.0.1:14000/dir)"},
    {{"--acme-clients", "5", "--acme-directory", "https://admin:hunter2@127.0.0.1/dir"},
     "~fleetsim: --acme-directory: \"https://***@127.0.0.1/dir\" contains user:password@"},
    {{"--acme-clients", "5", "--acme-key-alg", "ps256"},
     "fleetsim: --acme-key-alg: \"ps256\" is not an account key algorithm (expected es256, rs256 "
     "or eddsa)"},
    {{"--acme-clients", "5", "--acme-directory", "https://127.0.0.1/dir", "--acme-profile", "p"},
     "fleetsim: --acme-directory and --acme-profile cannot be used together (expected one of "
     "them)"},
    {{"--acme-clients", "5", "--acme-cacert", "@CAFILE@"},
     "fleetsim: --acme-cacert: only applies to --acme-directory (expected it with --acme-directory "
     "URL; certctl's ACME server uses --cacert)"},
    {{"--acme-clients", "5", "--acme-directory", "https://127.0.0.1/dir", "--acme-cacert",
      "/nonexistent/ca.pem"},
     "fleetsim: --acme-cacert: \"/nonexistent/ca.pem\" cannot be read: No such file or directory "
     "(expected a readable file)"},
    {{"--acme-clients", "5", "--insecure", "--acme-directory", "https://127.0.0.1/dir",
      "--acme-cacert", "@CAFILE@"},
     "fleetsim: --insecure and --acme-cacert cannot be used together (expected one of them)"},
    {{"--acme-clients", "5", "--acme-clients", "6"},
     "fleetsim: --acme-clients: given more than once (expected it at most once)"},
    {{"--scenario", "acme-burst", "--threshold", "http_req_duration{scenario:fleet}:p(95)<1"},
     "~scenario 'fleet' is not part of this run"},
    /* thresholds (reasons from engine/threshold) */
    {{"--threshold", "bogus_metric:p(99)<1"},
     "~fleetsim: --threshold: \"bogus_metric:p(99)<1\" unknown metric 'bogus_metric'"},
    {{"--threshold", "http_req_duration{scenario:agent-storm}:p(99)<1000"},
     "~--threshold: \"http_req_duration{scenario:agent-storm}:p(99)<1000\" scenario 'agent-storm' "
     "is not part of this run"},
    {{"--threshold", ""},
     "~fleetsim: --threshold: \"\" is empty (expected METRIC[{tag:value,...}]:EXPR"},
};
#define N_BAD_LINES (sizeof(bad_lines) / sizeof(bad_lines[0]))

START_TEST(bad_line)
{
    const struct bad_line *b = &bad_lines[_i];
    struct run_config cfg;
    struct argv_buf av;
    const char *args[MAX_ARGS + 1] = {0};
    for (size_t i = 0; i < MAX_ARGS && b->args[i]; i++)
        args[i] = b->args[i];
    argv_make(&av, args);
    err[0] = '\0';
    int rc = options_parse(av.argc, av.argv, &cfg, err, sizeof(err));
    ck_assert_msg(rc == 2, "line %d (%s ...): rc %d, err \"%s\"", _i, args[0], rc, err);
    ck_assert_msg(strchr(err, '\n') == NULL, "line %d: more than one line: %s", _i, err);
    ck_assert_msg(strncmp(err, "fleetsim: ", 10) == 0, "line %d: %s", _i, err);
    if (b->expect[0] == '~')
        ck_assert_msg(strstr(err, b->expect + 1) != NULL, "line %d:\n got  %s\n want ...%s...", _i,
                      err, b->expect + 1);
    else
        ck_assert_msg(strcmp(err, b->expect) == 0, "line %d:\n got  %s\n want %s", _i, err,
                      b->expect);
    /* no secret of the table ever shows: the passwords and keys used above */
    ck_assert(strstr(err, "hunter2") == NULL);
    ck_assert(strstr(err, "bad key") == NULL);
    ck_assert(strstr(err, "file-key-123") == NULL);
    options_free(&cfg);
    argv_free(&av);
}
END_TEST

/* ---- good lines ---- */

START_TEST(defaults)
{
    struct run_config cfg;
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_RUN);
    ck_assert(!cfg.url_set);
    ck_assert_int_eq(cfg.api_key_source, OPTIONS_SOURCE_NONE);
    ck_assert_str_eq(cfg.api_key, "");
    ck_assert_uint_eq(cfg.agents, 5000);
    ck_assert_str_eq(cfg.fleet_prefix, "loadtest");
    ck_assert_uint_eq(cfg.heartbeat_ns, 30 * SEC);
    ck_assert_double_eq(cfg.jitter_pct, 10.0);
    ck_assert_uint_eq(cfg.poll_ns, 30 * SEC);
    ck_assert_int_eq(cfg.agent_profile, AGENT_PROFILE_DEFAULT);
    ck_assert_uint_eq(cfg.os_mix.pct[0], 80);
    ck_assert_uint_eq(cfg.os_mix.pct[1], 10);
    ck_assert_uint_eq(cfg.os_mix.pct[2], 10);
    ck_assert_uint_eq(cfg.ramp_ns, 30 * SEC);
    ck_assert_uint_eq(cfg.duration_ns, 300 * SEC);
    ck_assert_uint_eq(cfg.report_interval_ns, 10 * SEC);
    ck_assert_int_eq(cfg.conn_mode, OPTIONS_CONN_PER_AGENT);
    ck_assert(!cfg.source_ips_set);
    ck_assert_uint_eq(cfg.threads, 1);
    ck_assert_uint_eq(cfg.timer_slot_ns, 5 * MS);
    ck_assert_uint_eq(cfg.shard_k, 0);
    ck_assert_uint_eq(cfg.shard_n, 1);
    ck_assert_uint_eq(cfg.timeout_ns, 30 * SEC);
    ck_assert_uint_eq(cfg.grace_ns, 10 * SEC);
    ck_assert_int_eq(cfg.verbosity, 0);
    ck_assert_uint_eq(cfg.n_scenarios, 0);
    ck_assert_uint_eq(cfg.n_thresholds, 0);
    ck_assert(!cfg.dry_run && !cfg.register_agents && !cfg.no_thresholds && !cfg.insecure);
    ck_assert_uint_eq(cfg.explicit_mask, 0);
    uint64_t seed1 = cfg.seed;
    options_free(&cfg);
    /* without --seed the seed is random: two parses (almost surely) differ */
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 0);
    ck_assert(cfg.seed != seed1);
    options_free(&cfg);
}
END_TEST

START_TEST(full_line)
{
    struct run_config cfg;
    char agents_path[128];
    snprintf(agents_path, sizeof(agents_path), "%s/agents.txt", dir);
    int rc = parse(&cfg, ARGS("run", "--url", "https://certctl.example.test:8443/base/", "--cacert",
                              "@CAFILE@", "--scenario", "agent-storm", "--agents", "200",
                              "--fleet-prefix", "lt2", "--heartbeat", "1m30s", "--jitter", "2.5%"));
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert(cfg.url_set);
    ck_assert_int_eq(cfg.url_source, OPTIONS_SOURCE_ARG);
    ck_assert(cfg.url.tls);
    ck_assert_str_eq(cfg.url.host, "certctl.example.test");
    ck_assert_uint_eq(cfg.url.port, 8443);
    ck_assert_str_eq(cfg.url.base_path, "/base");
    ck_assert_str_eq(cfg.cacert_path, cafile);
    ck_assert_uint_eq(cfg.n_scenarios, 1);
    ck_assert_str_eq(cfg.scenarios[0], "agent-storm");
    ck_assert_uint_eq(cfg.agents, 200);
    ck_assert_str_eq(cfg.fleet_prefix, "lt2");
    ck_assert_uint_eq(cfg.heartbeat_ns, 90 * SEC);
    ck_assert_uint_eq(cfg.ramp_ns, 90 * SEC); /* follows the heartbeat when not given */
    ck_assert_double_eq(cfg.jitter_pct, 2.5);
    options_free(&cfg);

    rc = parse(&cfg, ARGS("--poll", "0", "--agent-profile", "certctl-1.0", "--os-mix", "50/25/25",
                          "--ramp", "0", "--register", "--agents-file", agents_path, "--duration",
                          "8h", "--seed", "42"));
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_uint_eq(cfg.poll_ns, 0);
    ck_assert_int_eq(cfg.agent_profile, AGENT_PROFILE_CERTCTL_1_0);
    ck_assert_uint_eq(cfg.os_mix.pct[0], 50);
    ck_assert_uint_eq(cfg.os_mix.pct[2], 25);
    ck_assert_uint_eq(cfg.ramp_ns, 0);
    ck_assert(cfg.register_agents);
    ck_assert_str_eq(cfg.agents_file, agents_path);
    ck_assert_uint_eq(cfg.duration_ns, 8 * 3600 * SEC);
    ck_assert_uint_eq(cfg.seed, 42);
    options_free(&cfg);

    rc = parse(&cfg,
               ARGS("--threshold", "http_req_failed:rate<0.001", "--threshold",
                    "http_req_duration{endpoint:heartbeat}:p(99)<1s", "--summary-json", agents_path,
                    "--interval-log", agents_path, "--report-interval", "0", "--conn", "pool:100"));
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_uint_eq(cfg.n_thresholds, 2);
    ck_assert_str_eq(cfg.threshold_specs[1], "http_req_duration{endpoint:heartbeat}:p(99)<1s");
    ck_assert_ptr_nonnull(cfg.thresholds);
    ck_assert_str_eq(cfg.thresholds[0].metric, "http_req_failed");
    ck_assert_str_eq(cfg.thresholds[1].metric, "http_req_duration");
    ck_assert_double_eq(cfg.thresholds[1].value, 1000.0);
    ck_assert_str_eq(cfg.summary_json_path, agents_path);
    ck_assert_str_eq(cfg.interval_log_path, agents_path);
    ck_assert_uint_eq(cfg.report_interval_ns, 0);
    ck_assert_int_eq(cfg.conn_mode, OPTIONS_CONN_POOL);
    ck_assert_uint_eq(cfg.pool_size, 100);
    options_free(&cfg);

    rc = parse(&cfg, ARGS("--source-ips", "127.0.0.2-127.0.0.254", "--threads", "2", "--shard",
                          "3/4", "--timeout", "250ms", "--grace", "0", "-v", "-v", "--dry-run",
                          "--insecure", "--timer-slot", "0"));
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert(cfg.source_ips_set);
    ck_assert_uint_eq(parse_ipv4_range_count(&cfg.source_ips), 253);
    ck_assert_uint_eq(cfg.threads, 2);
    ck_assert_uint_eq(cfg.shard_k, 3);
    ck_assert_uint_eq(cfg.shard_n, 4);
    ck_assert_uint_eq(cfg.timeout_ns, 250 * MS);
    ck_assert_uint_eq(cfg.grace_ns, 0);
    ck_assert_uint_eq(cfg.timer_slot_ns, 0);
    ck_assert_int_eq(cfg.verbosity, 2);
    ck_assert(cfg.dry_run && cfg.insecure);
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--quiet", "--url=http://127.0.0.1:8080", "--agents=7")), 0);
    ck_assert_int_eq(cfg.verbosity, -1);
    ck_assert(!cfg.url.tls);
    ck_assert_uint_eq(cfg.url.port, 8080);
    ck_assert_uint_eq(cfg.agents, 7);
    options_free(&cfg);

    /* without --register, --agents-file must already exist and be readable */
    ck_assert_int_eq(parse(&cfg, ARGS("--agents-file", "@KEYFILE@")), 0);
    ck_assert(!cfg.register_agents);
    options_free(&cfg);
}
END_TEST

START_TEST(help_and_version)
{
    struct run_config cfg;
    ck_assert_int_eq(parse(&cfg, ARGS("--help")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_HELP);
    options_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGS("run", "--version")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_VERSION);
    options_free(&cfg);
    /* help stops the parse: what follows is not judged */
    ck_assert_int_eq(parse(&cfg, ARGS("--help", "--agents", "abc")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_HELP);
    options_free(&cfg);
    /* but what precedes it is */
    ck_assert_int_eq(parse(&cfg, ARGS("--agents", "abc", "--help")), 2);
    options_free(&cfg);
    /* the one-letter forms, also bundled after other flags */
    ck_assert_int_eq(parse(&cfg, ARGS("-h")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_HELP);
    options_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGS("run", "-V")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_VERSION);
    options_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGS("-qV")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_VERSION);
    options_free(&cfg);
}
END_TEST

START_TEST(explicit_tracking)
{
    struct run_config cfg;
    ck_assert_int_eq(parse(&cfg, ARGS("--agents", "100", "--heartbeat", "1m", "--seed", "7", "-v")),
                     0);
    ck_assert(options_explicit(&cfg, RUN_OPT_AGENTS));
    ck_assert(options_explicit(&cfg, RUN_OPT_HEARTBEAT));
    ck_assert(options_explicit(&cfg, RUN_OPT_SEED));
    ck_assert(options_explicit(&cfg, RUN_OPT_VERBOSE));
    ck_assert(!options_explicit(&cfg, RUN_OPT_POLL));
    ck_assert(!options_explicit(&cfg, RUN_OPT_RAMP));
    ck_assert(!options_explicit(&cfg, RUN_OPT_DURATION));
    ck_assert(!options_explicit(&cfg, RUN_OPT_URL));
    ck_assert(!options_explicit(&cfg, RUN_OPT__COUNT));
    ck_assert_uint_eq(cfg.explicit_mask, (1ULL << RUN_OPT_AGENTS) | (1ULL << RUN_OPT_HEARTBEAT) |
                                             (1ULL << RUN_OPT_SEED) | (1ULL << RUN_OPT_VERBOSE));
    ck_assert_uint_eq(cfg.ramp_ns, 60 * SEC);
    options_free(&cfg);
    /* a value equal to the default still counts as given */
    ck_assert_int_eq(parse(&cfg, ARGS("--duration", "5m")), 0);
    ck_assert(options_explicit(&cfg, RUN_OPT_DURATION));
    options_free(&cfg);
    /* the environment does not make an option explicit */
    setenv("CERTCTL_SERVER_URL", "https://certctl.example.test:8443", 1);
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 0);
    ck_assert(cfg.url_set);
    ck_assert(!options_explicit(&cfg, RUN_OPT_URL));
    options_free(&cfg);
}
END_TEST

START_TEST(environment)
{
    struct run_config cfg;
    setenv("CERTCTL_SERVER_URL", "https://env.example.test:8443", 1);
    setenv("CERTCTL_API_KEY", "env-key-456", 1);
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 0);
    ck_assert_int_eq(cfg.url_source, OPTIONS_SOURCE_ENV);
    ck_assert_str_eq(cfg.url.host, "env.example.test");
    ck_assert_int_eq(cfg.api_key_source, OPTIONS_SOURCE_ENV);
    ck_assert_str_eq(cfg.api_key, "env-key-456");
    options_free(&cfg);

    /* the command line wins over both */
    ck_assert_int_eq(parse(&cfg, ARGS("--url", "http://127.0.0.1:9", "--api-key", "arg-key")), 0);
    ck_assert_int_eq(cfg.url_source, OPTIONS_SOURCE_ARG);
    ck_assert_str_eq(cfg.url.host, "127.0.0.1");
    ck_assert_int_eq(cfg.api_key_source, OPTIONS_SOURCE_ARG);
    ck_assert_str_eq(cfg.api_key, "arg-key");
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--api-key-file", "@KEYFILE@")), 0);
    ck_assert_int_eq(cfg.api_key_source, OPTIONS_SOURCE_FILE);
    ck_assert_str_eq(cfg.api_key, "file-key-123");
    ck_assert_str_eq(cfg.api_key_file, keyfile);
    options_free(&cfg);

    /* a bad environment URL is a usage error naming the variable, its password redacted */
    setenv("CERTCTL_SERVER_URL", "gopher://u:hunter2@x", 1);
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 2);
    ck_assert_str_eq(err, "fleetsim: CERTCTL_SERVER_URL: \"gopher://***@x\" has an unsupported "
                          "scheme \"gopher\" (expected http:// or https://)");
    options_free(&cfg);
    /* ... but not when --url overrides it */
    ck_assert_int_eq(parse(&cfg, ARGS("--url", "https://ok.example.test")), 0);
    options_free(&cfg);

    setenv("CERTCTL_SERVER_URL", "", 1); /* empty means unset */
    setenv("CERTCTL_API_KEY", "has space", 1);
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 2);
    ck_assert_str_eq(err, "fleetsim: CERTCTL_API_KEY: the key has a space or a non-printable "
                          "character (expected 1 to 511 printable characters without spaces)");
    options_free(&cfg);
}
END_TEST

START_TEST(presets_fill_unset_options)
{
    struct run_config cfg;
    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "agent-storm", "--heartbeat", "45s")), 0);
    ck_assert_uint_eq(cfg.agents, 5000);
    ck_assert_uint_eq(cfg.poll_ns, 0); /* agent-storm does not poll */
    ck_assert_uint_eq(cfg.duration_ns, 300 * SEC);
    ck_assert_uint_eq(cfg.heartbeat_ns, 45 * SEC); /* explicit beats the preset */
    ck_assert_uint_eq(cfg.ramp_ns, 45 * SEC);
    ck_assert(!options_explicit(&cfg, RUN_OPT_POLL));
    ck_assert(!options_explicit(&cfg, RUN_OPT_THRESHOLD));
    ck_assert_uint_eq(cfg.n_thresholds, 4);
    for (size_t i = 0; i < cfg.n_thresholds; i++) {
        ck_assert(strstr(cfg.threshold_specs[i], "scenario:agent-storm") != NULL);
        ck_assert_str_eq(cfg.thresholds[i].spec, cfg.threshold_specs[i]);
    }
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "agent-storm", "--agents", "100", "--poll",
                                      "10s", "--threshold", "http_reqs:count>1")),
                     0);
    ck_assert_uint_eq(cfg.agents, 100);
    ck_assert_uint_eq(cfg.poll_ns, 10 * SEC);
    ck_assert_uint_eq(cfg.n_thresholds, 5);
    ck_assert_str_eq(cfg.threshold_specs[0], "http_reqs:count>1"); /* the user's come first */
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "agent-storm", "--no-thresholds")), 0);
    ck_assert_uint_eq(cfg.n_thresholds, 0);
    ck_assert_ptr_null(cfg.thresholds);
    options_free(&cfg);

    /* without a preset nothing changes the defaults */
    ck_assert_int_eq(parse(&cfg, (const char *const[]){NULL}), 0);
    ck_assert_uint_eq(cfg.poll_ns, 30 * SEC);
    ck_assert_uint_eq(cfg.n_thresholds, 0);
    options_free(&cfg);

    /* checks that depend on the fleet size see the preset's */
    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "agent-storm", "--conn", "pool:5001")), 2);
    ck_assert(strstr(err, "N from 1 to 5000") != NULL);
    options_free(&cfg);
}
END_TEST

START_TEST(acme_options_and_presets)
{
    struct run_config cfg;
    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "acme-burst")), 0);
    ck_assert_uint_eq(cfg.agents, 0); /* no agents: the preset allows it */
    ck_assert_uint_eq(cfg.acme_clients, 200);
    ck_assert_int_eq(cfg.acme_mode, ACME_MODE_BURST);
    ck_assert_uint_eq(cfg.duration_ns, 300 * SEC);
    ck_assert_str_eq(cfg.acme_profile, "prof-loadtest");
    ck_assert_ptr_null(cfg.acme_directory_url);
    ck_assert_uint_eq(cfg.n_thresholds, 5);
    for (size_t i = 0; i < cfg.n_thresholds; i++)
        ck_assert(strstr(cfg.threshold_specs[i], "scenario:acme-burst") != NULL);
    ck_assert(!options_explicit(&cfg, RUN_OPT_ACME_CLIENTS));
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "acme-burst", "--acme-clients", "10",
                                      "--acme-mode", "order", "--agents", "3")),
                     0);
    ck_assert_uint_eq(cfg.acme_clients, 10);
    ck_assert_int_eq(cfg.acme_mode, ACME_MODE_ORDER);
    ck_assert_uint_eq(cfg.agents, 3);
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--scenario", "fleet")), 0);
    ck_assert_uint_eq(cfg.agents, 5000);
    ck_assert_uint_eq(cfg.acme_clients, 20);
    ck_assert_int_eq(cfg.acme_mode, ACME_MODE_ORDER);
    ck_assert_uint_eq(cfg.certs, 10000);
    ck_assert(cfg.bulk_rate_per_s > 4.99 && cfg.bulk_rate_per_s < 5.01);
    ck_assert_uint_eq(cfg.n_thresholds, 10);
    for (size_t i = 0; i < cfg.n_thresholds; i++)
        ck_assert(strstr(cfg.threshold_specs[i], "scenario:fleet") != NULL);
    options_free(&cfg);

    ck_assert_int_eq(
        parse(&cfg, ARGS("--acme-clients", "3", "--acme-directory", "https://127.0.0.1:14000/dir",
                         "--acme-key-alg", "rs256", "--acme-cacert", "@CAFILE@")),
        0);
    ck_assert_uint_eq(cfg.acme_clients, 3);
    ck_assert_int_eq(cfg.acme_mode, ACME_MODE_ORDER); /* the default */
    ck_assert_int_eq(cfg.acme_key_alg, ACME_KEY_RS256);
    ck_assert_str_eq(cfg.acme_directory_url, "https://127.0.0.1:14000/dir");
    ck_assert(cfg.acme_directory.tls);
    ck_assert_uint_eq(cfg.acme_directory.port, 14000);
    ck_assert_ptr_nonnull(cfg.acme_cacert_path);
    ck_assert_uint_eq(cfg.agents, 5000); /* agents still run unless a preset says otherwise */
    json_object *j = options_config_json(&cfg);
    const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
    ck_assert(strstr(text, "\"acme_clients\":3") != NULL);
    ck_assert(strstr(text, "\"acme_mode\":\"order\"") != NULL);
    ck_assert(strstr(text, "\"acme_key_alg\":\"rs256\"") != NULL);
    ck_assert(strstr(text, "\"acme_directory\":\"https:\\/\\/127.0.0.1:14000\\/dir\"") != NULL ||
              strstr(text, "\"acme_directory\":\"https://127.0.0.1:14000/dir\"") != NULL);
    json_object_put(j);
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--acme-clients", "2", "--acme-profile", "prof-x.1")), 0);
    ck_assert_str_eq(cfg.acme_profile, "prof-x.1");
    options_free(&cfg);
}
END_TEST

START_TEST(scenario_file_and_list)
{
    struct run_config cfg;
    ck_assert_int_eq(
        parse(&cfg, ARGS("--scenario", "@SCENFILE@", "--scenario", "agent-storm", "--seed", "5")),
        0);
    ck_assert_uint_eq(cfg.n_scenarios, 2);
    ck_assert_str_eq(cfg.scenarios[0], "nightly-test");
    ck_assert_str_eq(cfg.scenario_files[0], scenfile);
    ck_assert_ptr_null(cfg.scenario_files[1]);
    ck_assert_ptr_eq(options_scenario_preset(&cfg, 1), preset_find("agent-storm"));
    ck_assert_uint_eq(cfg.agents, 12);       /* the file's: named first */
    ck_assert_uint_eq(cfg.poll_ns, 2 * SEC); /* the file's, not agent-storm's 0 */
    ck_assert(cfg.jitter_pct == 5.0);
    ck_assert_uint_eq(cfg.duration_ns, 300 * SEC); /* agent-storm's */
    ck_assert(options_given(&cfg, RUN_OPT_JITTER) && !options_explicit(&cfg, RUN_OPT_JITTER));
    ck_assert_uint_eq(cfg.n_thresholds, 1 + 4);
    ck_assert_str_eq(cfg.threshold_specs[0], "http_reqs{scenario:nightly-test}:count>0");
    ck_assert_str_eq(options_actor_scenario(&cfg, OPTIONS_ACTOR_AGENTS), "nightly-test");
    options_free(&cfg);

    /* --list-scenarios: an action; files given with it are loaded (and listed), the rest of
     * the line is not checked as a run (here --bulk-rate without --certs) */
    ck_assert_int_eq(
        parse(&cfg, ARGS("--list-scenarios", "--scenario", "@SCENFILE@", "--bulk-rate", "5/s")), 0);
    ck_assert_int_eq(cfg.action, OPTIONS_ACTION_LIST_SCENARIOS);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    help_print_scenarios(out, &cfg);
    fclose(out);
    for (size_t i = 0; i < preset_count(); i++) {
        char head[64];
        snprintf(head, sizeof(head), "%s%s\n", i ? "\n" : "", preset_at(i)->name);
        ck_assert_msg(strstr(text, head) != NULL, "%s missing", preset_at(i)->name);
        for (size_t t = 0; t < preset_threshold_count(preset_at(i)); t++)
            ck_assert(strstr(text, preset_at(i)->thresholds[t]) != NULL);
    }
    static const char first[] = "agent-storm\n  5,000 agents heartbeating every 30 s";
    ck_assert(strncmp(text, first, sizeof(first) - 1) == 0);
    ck_assert(strstr(text, "\n  sets: --agents 5000 --heartbeat 30s --poll 0 --duration 5m\n") !=
              NULL);
    ck_assert(
        strstr(text, "\n  sets: --agents 0 --duration 5m --acme-clients 200 --acme-mode burst\n") !=
        NULL);
    char file_block[512];
    snprintf(file_block, sizeof(file_block),
             "\nnightly-test (file %s)\n  a test file\n  sets: --agents 12 --jitter 5%% --poll 2s\n"
             "  thresholds:\n    http_reqs{scenario:nightly-test}:count>0\n",
             scenfile);
    ck_assert_msg(strstr(text, file_block) != NULL, "%s", testenv_tail(text));
    ck_assert(text[len - 1] == '\n');
    free(text);
    options_free(&cfg);
}
END_TEST

/* True when any argv string still holds needle. */
static bool argv_has(const struct argv_buf *b, const char *needle)
{
    for (int i = 0; i < b->argc; i++) {
        if (memmem(b->argv[i], orig_len[i], needle, strlen(needle)))
            return true;
    }
    return false;
}

static void check_scrub(const char *const *args, int want_rc, const char *secret)
{
    struct argv_buf b;
    struct run_config cfg;
    argv_make(&b, args);
    for (int i = 0; i < b.argc; i++)
        orig_len[i] = strlen(b.argv[i]);
    ck_assert(argv_has(&b, secret));
    int rc = options_parse(b.argc, b.argv, &cfg, err, sizeof(err));
    ck_assert_msg(rc == want_rc, "rc %d: %s", rc, err);
    ck_assert_msg(!argv_has(&b, secret), "the key is still in argv");
    ck_assert(strstr(err, secret) == NULL);
    if (rc == 0) {
        ck_assert_str_eq(cfg.api_key, secret); /* parsed before being scrubbed */
        json_object *j = options_config_json(&cfg);
        const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        ck_assert(strstr(text, secret) == NULL);
        ck_assert(strstr(text, "\"api_key_set\":true") != NULL);
        json_object_put(j);
    }
    options_free(&cfg);
    for (size_t i = 0; i < sizeof(cfg.api_key); i++)
        ck_assert_int_eq(cfg.api_key[i], 0);
    argv_free(&b);
}

START_TEST(api_key_scrubbed)
{
    check_scrub(ARGS("--api-key", "Sup3rSecretKey", "--agents", "10"), 0, "Sup3rSecretKey");
    check_scrub(ARGS("run", "--api-key=Sup3rSecretKey", "--agents", "10"), 0, "Sup3rSecretKey");
    /* also when the line is rejected, before or after the key */
    check_scrub(ARGS("--api-key", "Sup3rSecretKey", "--agents", "abc"), 2, "Sup3rSecretKey");
    check_scrub(ARGS("--agents", "abc", "--api-key=Sup3rSecretKey"), 2, "Sup3rSecretKey");
    check_scrub(ARGS("bogus-command", "--api-key", "Sup3rSecretKey"), 2, "Sup3rSecretKey");
    check_scrub(ARGS("--api-key", "Sup3rSecretKey", "--api-key", "Sup3rSecretKey"), 2,
                "Sup3rSecretKey");
}
END_TEST

START_TEST(config_json)
{
    struct run_config cfg;
    ck_assert_int_eq(
        parse(&cfg,
              ARGS("--url", "https://certctl.example.test:8443", "--agents", "300", "--heartbeat",
                   "1500ms", "--seed", "18446744073709551615", "--conn", "pool:30", "--source-ips",
                   "127.0.0.2-127.0.0.9", "--threshold", "http_req_failed:rate<0.01")),
        0);
    json_object *j = options_config_json(&cfg);
    ck_assert_ptr_nonnull(j);
    json_object *v;
    ck_assert(json_object_object_get_ex(j, "url", &v));
    ck_assert_str_eq(json_object_get_string(v), "https://certctl.example.test:8443");
    ck_assert(json_object_object_get_ex(j, "api_key_set", &v));
    ck_assert(!json_object_get_boolean(v));
    ck_assert(json_object_object_get_ex(j, "agents", &v));
    ck_assert_int_eq(json_object_get_int(v), 300);
    ck_assert(json_object_object_get_ex(j, "heartbeat_ms", &v));
    ck_assert_int_eq(json_object_get_int(v), 1500);
    ck_assert(json_object_object_get_ex(j, "ramp_ms", &v));
    ck_assert_int_eq(json_object_get_int(v), 1500);
    ck_assert(json_object_object_get_ex(j, "duration_ms", &v));
    ck_assert_int_eq(json_object_get_int(v), 300000);
    ck_assert(json_object_object_get_ex(j, "seed", &v));
    ck_assert(json_object_get_uint64(v) == UINT64_MAX);
    ck_assert(json_object_object_get_ex(j, "conn", &v));
    ck_assert_str_eq(json_object_get_string(v), "pool:30");
    ck_assert(json_object_object_get_ex(j, "source_ips", &v));
    ck_assert_str_eq(json_object_get_string(v), "127.0.0.2-127.0.0.9");
    ck_assert(json_object_object_get_ex(j, "thresholds", &v));
    ck_assert_int_eq((int)json_object_array_length(v), 1);
    ck_assert(json_object_object_get_ex(j, "os_mix", &v));
    json_object *lin;
    ck_assert(json_object_object_get_ex(v, "linux", &lin));
    ck_assert_int_eq(json_object_get_int(lin), 80);
    ck_assert(json_object_object_get_ex(j, "explicit", &v));
    ck_assert_int_eq((int)json_object_array_length(v), 7);
    ck_assert(!json_object_object_get_ex(j, "api_key", &v));
    json_object_put(j);
    options_free(&cfg);
}
END_TEST

START_TEST(output_options)
{
    struct run_config cfg;
    char html[128];
    snprintf(html, sizeof(html), "%s/report.html", dir);
    ck_assert_int_eq(parse(&cfg, ARGS("--html", html, "--metrics-listen", "9464")), 0);
    ck_assert_str_eq(cfg.html_path, html);
    ck_assert(cfg.metrics_listen_set);
    ck_assert_str_eq(cfg.metrics_listen.host, "127.0.0.1"); /* a bare port is loopback */
    ck_assert_uint_eq(cfg.metrics_listen.port, 9464);
    ck_assert_int_eq(cfg.metrics_listen.addr.ss_family, AF_INET);
    ck_assert(options_explicit(&cfg, RUN_OPT_HTML) &&
              options_explicit(&cfg, RUN_OPT_METRICS_LISTEN));
    json_object *j = options_config_json(&cfg), *v;
    ck_assert(json_object_object_get_ex(j, "html", &v));
    ck_assert_str_eq(json_object_get_string(v), html);
    ck_assert(json_object_object_get_ex(j, "metrics_listen", &v));
    ck_assert_str_eq(json_object_get_string(v), "127.0.0.1:9464");
    json_object_put(j);
    options_free(&cfg);
    ck_assert_ptr_null(cfg.html_path);
    ck_assert(!cfg.metrics_listen_set);

    ck_assert_int_eq(parse(&cfg, ARGS("--metrics-listen", "[::1]:0")), 0);
    ck_assert_int_eq(cfg.metrics_listen.addr.ss_family, AF_INET6);
    ck_assert_uint_eq(cfg.metrics_listen.port, 0);
    j = options_config_json(&cfg);
    ck_assert(json_object_object_get_ex(j, "metrics_listen", &v));
    ck_assert_str_eq(json_object_get_string(v), "[::1]:0");
    ck_assert(json_object_object_get_ex(j, "html", &v) && v == NULL);
    json_object_put(j);
    options_free(&cfg);

    ck_assert_int_eq(parse(&cfg, ARGS("--metrics-listen=:9100")), 0);
    ck_assert_str_eq(cfg.metrics_listen.host, "127.0.0.1");
    ck_assert_uint_eq(cfg.metrics_listen.port, 9100);
    options_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGS("--metrics-listen", "0.0.0.0:9100")), 0);
    ck_assert_str_eq(cfg.metrics_listen.host, "0.0.0.0");
    options_free(&cfg);
    ck_assert_int_eq(parse(&cfg, ARGS("--html", html, "--html", html)), 2);
    options_free(&cfg);
}
END_TEST

/* ---- the real binary ---- */

/* Runs the binary with args (env cleared of CERTCTL_*); false when it does not exist. */
static bool exec_fleetsim(const char *const *args, struct procs_output *r)
{
    const char *argv[MAX_ARGS + 1] = {NULL};
    for (size_t i = 0; args[i] && i < MAX_ARGS; i++)
        argv[i] = subst(args[i]);
    return procs_exec("fleetsim", argv, 15000, r);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(binary_bad_input)
{
    static const char *const lines[][MAX_ARGS] = {
        {"--agents", "abc"},
        {"--bogus"},
        {"frobnicate"},
        {"--url", "ftp://certctl.example.test"},
        {"--api-key-file", "/nonexistent"},
        {"--shard", "4/4"},
        {"-q", "-v"},
        {"run", "--duration"},
        {"--api-key", "Sup3rSecretKey", "--agents", "0"},
    };
    struct procs_output r;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!exec_fleetsim(lines[i], &r)) {
            printf("SKIP binary_bad_input: $top_builddir/fleetsim is not built yet\n");
            return;
        }
        ck_assert_msg(r.status == 2, "%s: exit %d", lines[i][0], r.status);
        ck_assert_msg(r.out_len == 0, "%s: stdout not empty: %s", lines[i][0], testenv_tail(r.out));
        ck_assert_msg(count_lines(r.errb) == 1 && r.errb[r.err_len - 1] == '\n',
                      "%s: stderr is not one line: %s", lines[i][0], r.errb);
        ck_assert(strncmp(r.errb, "fleetsim: ", 10) == 0);
        ck_assert(strstr(r.errb, "Sup3rSecretKey") == NULL);
    }
}
END_TEST

START_TEST(binary_list_scenarios)
{
    struct procs_output r;
    if (!exec_fleetsim(ARGS("--list-scenarios"), &r)) {
        printf("SKIP binary_list_scenarios: $top_builddir/fleetsim is not built yet\n");
        return;
    }
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.err_len, 0);
    ck_assert(strncmp(r.out, "agent-storm\n", 12) == 0);
    ck_assert(strstr(r.out, "\nbulk-renewal\n") && strstr(r.out, "\nacme-burst\n") &&
              strstr(r.out, "\nfleet\n"));
    ck_assert(strstr(r.out, "http_req_5xx{scenario:fleet,actor:acme}:rate<0.001\n") != NULL);
    ck_assert(exec_fleetsim(ARGS("--scenario", "@SCENFILE@", "--list-scenarios"), &r));
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "\nnightly-test (file ") != NULL);
    ck_assert(exec_fleetsim(ARGS("--list-scenarios", "--scenario", "@BADSCEN@"), &r));
    ck_assert_int_eq(r.status, 2);
    ck_assert_uint_eq(r.out_len, 0);
    ck_assert_uint_eq(count_lines(r.errb), 1);
    ck_assert(strstr(r.errb, "fleetsim: --scenario ") == r.errb);
    ck_assert(strstr(r.errb, "/bad.json: \"heartbeat\": \"5x\" has an unknown unit") != NULL);
}
END_TEST

START_TEST(binary_help_version)
{
    struct procs_output r;
    if (!exec_fleetsim(ARGS("--help"), &r)) {
        printf("SKIP binary_help_version: $top_builddir/fleetsim is not built yet\n");
        return;
    }
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.err_len, 0);
    ck_assert(strstr(r.out, "--agents N") != NULL);
    ck_assert(strstr(r.out, "https://certctl.example.test:8443") != NULL);
    char help[sizeof(r.out)];
    memcpy(help, r.out, r.out_len + 1);
    ck_assert(exec_fleetsim(ARGS("-h"), &r));
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, help);
    ck_assert(exec_fleetsim(ARGS("-V"), &r));
    ck_assert_int_eq(r.status, 0);
    ck_assert(strncmp(r.out, "fleetsim ", 9) == 0);
    ck_assert(exec_fleetsim(ARGS("--version"), &r));
    ck_assert_int_eq(r.status, 0);
    ck_assert(strncmp(r.out, "fleetsim ", 9) == 0);
    ck_assert(strstr(r.out, "\nlibevent 2.") != NULL);
    ck_assert(strstr(r.out, "\nOpenSSL 3.") != NULL);
    ck_assert(strstr(r.out, "\nlibpq ") != NULL);
    ck_assert(strstr(r.out, "\njson-c 0.") != NULL);
    ck_assert_uint_eq(count_lines(r.out), 5);
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *bad = testenv_tcase(s, "bad_lines", 0);
    tcase_add_unchecked_fixture(bad, setup, teardown);
    tcase_add_checked_fixture(bad, clear_env, NULL);
    tcase_add_loop_test(bad, bad_line, 0, (int)N_BAD_LINES);
    TCase *good = testenv_tcase(s, "good_lines", 0);
    tcase_add_unchecked_fixture(good, setup, teardown);
    tcase_add_checked_fixture(good, clear_env, NULL);
    tcase_add_test(good, defaults);
    tcase_add_test(good, full_line);
    tcase_add_test(good, help_and_version);
    tcase_add_test(good, explicit_tracking);
    tcase_add_test(good, presets_fill_unset_options);
    tcase_add_test(good, environment);
    tcase_add_test(good, api_key_scrubbed);
    tcase_add_test(good, config_json);
    tcase_add_test(good, output_options);
    tcase_add_test(good, acme_options_and_presets);
    tcase_add_test(good, scenario_file_and_list);
    TCase *bin = testenv_tcase(s, "binary", 0);
    tcase_add_unchecked_fixture(bin, setup, teardown);
    tcase_add_checked_fixture(bin, clear_env, NULL);
    tcase_set_timeout(bin, 60);
    tcase_add_test(bin, binary_bad_input);
    tcase_add_test(bin, binary_help_version);
    tcase_add_test(bin, binary_list_scenarios);
    return s;
}

int main(void)
{
    sim_names_register(NULL);
    printf("check_options: %zu bad command lines in the table\n", (size_t)N_BAD_LINES);
    return testenv_run(options_suite());
}
