#!/bin/sh
# bench/seed_bench.sh - how long `fleetsim seed` takes to create 5,000 agents and 10,000
# certificates (COPY + INSERT ... SELECT in one transaction), next to psql -f of the equivalent
# row-by-row INSERT ... ON CONFLICT DO NOTHING statements, on the same throwaway cluster in the
# same run. Prints both times and the ratio (and appends them to --out FILE when given).
#
#   bench/seed_bench.sh [--agents N] [--certs N] [--out FILE]
#   env FLEETSIM   the fleetsim binary (default $top_builddir/fleetsim, else ./fleetsim)
#   env top_srcdir source tree (default: this script's parent directory)
set -eu

AGENTS=5000
CERTS=10000
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --agents) AGENTS=$2; shift 2 ;;
        --certs) CERTS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "seed_bench: unknown option '$1'" >&2; exit 2 ;;
    esac
done
case "$AGENTS$CERTS" in *[!0-9]*|"") echo "seed_bench: counts must be integers" >&2; exit 2 ;; esac
[ "$AGENTS" -ge 1 ] || { echo "seed_bench: --agents must be at least 1" >&2; exit 2; }

SRC=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
FLEETSIM=${FLEETSIM:-${top_builddir:+$top_builddir/fleetsim}}
FLEETSIM=${FLEETSIM:-./fleetsim}
[ -x "$FLEETSIM" ] || { echo "seed_bench: no fleetsim binary at '$FLEETSIM' (set FLEETSIM)" >&2; exit 1; }
command -v psql >/dev/null || { echo "seed_bench: psql not found" >&2; exit 1; }

WORK=$(mktemp -d /tmp/seed_bench.XXXXXX)
PGTMP_DIR=""
cleanup() {
    [ -n "$PGTMP_DIR" ] && sh "$SRC/tests/lib/pgtmp.sh" stop "$PGTMP_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

eval "$(sh "$SRC/tests/lib/pgtmp.sh" start --owner-pid $$)"
PSQL="psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PGTMP_PORT -U postgres"

for db in via_fleetsim via_psql; do
    $PSQL -d postgres -c "CREATE DATABASE $db"
    $PSQL -d $db -f "$SRC/seed/schema.sql" >/dev/null
    $PSQL -d $db -c "INSERT INTO issuers (id, name, type) VALUES ('iss-local', 'Local CA', 'GenericCA')"
done

# The equivalent statements, one INSERT per row (same ids, names and columns as fleetsim seed).
awk -v agents="$AGENTS" -v certs="$CERTS" 'BEGIN {
    print "INSERT INTO teams (id, name, description) VALUES (\047t-loadtest\047, \047fleetsim-loadtest\047, \047fleet\047) ON CONFLICT (id) DO NOTHING;"
    print "INSERT INTO owners (id, name, email, team_id) VALUES (\047o-loadtest\047, \047owner\047, \047loadtest@fleet.example.test\047, \047t-loadtest\047) ON CONFLICT (id) DO NOTHING;"
    print "INSERT INTO renewal_policies (id, name, renewal_window_days, auto_renew) VALUES (\047rp-loadtest\047, \047fleetsim-loadtest\047, 30, true) ON CONFLICT (id) DO NOTHING;"
    for (i = 1; i <= agents; i++) {
        os = (i % 10 == 0) ? "windows" : ((i % 10 == 5) ? "darwin" : "linux")
        printf "INSERT INTO agents (id, name, hostname, status, last_heartbeat_at, registered_at, api_key_hash, os, architecture, ip_address, version) VALUES (\047ag-loadtest-%05d\047, \047loadtest-agent-%05d\047, \047loadtest-%05d.fleet.example.test\047, \047Online\047, now() - interval \047%d milliseconds\047, now(), \047k\047, \047%s\047, \047amd64\047, \047\047, \0472.1.0\047) ON CONFLICT (id) DO NOTHING;\n", i, i, i, int((i - 1) * 60000 / agents), os
    }
    for (i = 1; i <= agents; i++)
        printf "INSERT INTO deployment_targets (id, name, type, agent_id, config) VALUES (\047tgt-loadtest-%05d\047, \047loadtest-target\047, \047NGINX\047, \047ag-loadtest-%05d\047, \047{}\047) ON CONFLICT (id) DO NOTHING;\n", i, i
    for (j = 1; j <= certs; j++)
        printf "INSERT INTO managed_certificates (id, name, common_name, sans, environment, owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at, tags) VALUES (\047mc-loadtest-%05d\047, \047loadtest-bulk-%05d\047, \047loadtest-%05d.certs.example.test\047, \047{}\047, \047loadtest\047, \047o-loadtest\047, \047t-loadtest\047, \047iss-local\047, \047rp-loadtest\047, \047Active\047, now() + interval \047%d seconds\047, \047{}\047) ON CONFLICT (id) DO NOTHING;\n", j, j, j, 2764800 + (j * 7919) % 5011200
    for (j = 1; j <= certs; j++)
        printf "INSERT INTO certificate_target_mappings (certificate_id, target_id) VALUES (\047mc-loadtest-%05d\047, \047tgt-loadtest-%05d\047) ON CONFLICT DO NOTHING;\n", j, ((j - 1) % agents) + 1
}' >"$WORK/inserts.sql"

now() { date +%s.%N; }

t0=$(now)
"$FLEETSIM" seed --db "postgresql://postgres@127.0.0.1:$PGTMP_PORT/via_fleetsim" \
    --agents "$AGENTS" --certs "$CERTS" --quiet
t1=$(now)
$PSQL -1 -d via_psql -f "$WORK/inserts.sql" >/dev/null
t2=$(now)

count() {
    $PSQL -d "$1" -At -c "SELECT (SELECT count(*) FROM agents) || ' ' || (SELECT count(*) FROM deployment_targets) || ' ' || (SELECT count(*) FROM managed_certificates) || ' ' || (SELECT count(*) FROM certificate_target_mappings)"
}
c1=$(count via_fleetsim)
c2=$(count via_psql)
[ "$c1" = "$c2" ] || { echo "seed_bench: row counts differ: fleetsim '$c1', psql '$c2'" >&2; exit 1; }

report=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v agents="$AGENTS" -v certs="$CERTS" -v rows="$c1" 'BEGIN {
    fs = b - a; ps = c - b
    printf "seed_bench: %d agents + %d certificates (rows agents/targets/certs/mappings: %s)\n", agents, certs, rows
    printf "  fleetsim seed (COPY + INSERT ... SELECT, 1 transaction)      %8.3f s\n", fs
    printf "  psql -1 -f row-by-row INSERT ... ON CONFLICT DO NOTHING      %8.3f s\n", ps
    printf "  ratio psql / fleetsim seed                                   %8.2f x\n", (fs > 0 ? ps / fs : 0)
}')
echo "$report"
if [ -n "$OUT" ]; then
    { date -u +"%Y-%m-%dT%H:%M:%SZ"; echo "$report"; } >>"$OUT"
fi
