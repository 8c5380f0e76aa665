#!/usr/bin/env bash
# bench/fleet_bench.sh - fleetsim's own cost per simulated agent: resident memory per agent at
# 1,000, 5,000 and 15,000 agents with per-agent keep-alive connections, plain and TLS, and CPU
# microseconds per heartbeat, against fleetsim-target running in its own process on loopback;
# also the heartbeats' lag (intended -> sent) p50/p99 over the whole run, the price of the
# agents' wake-up slot (docs/fleet.md).
# Usage: bench/fleet_bench.sh [BUILD_DIR]   (default: the current directory; needs python3)
# Environment: FLEET_BENCH_SIZES (default "1000 5000 15000"), FLEET_BENCH_MODES ("plain tls").
# Goals (docs/fleet.md): <= 2 KiB/agent plain, <= 22 KiB/agent TLS, <= 30 us CPU per TLS heartbeat.
set -euo pipefail

BUILD=${1:-.}
FLEETSIM=$BUILD/fleetsim
TARGET=$BUILD/fleetsim-target
SIZES=${FLEET_BENCH_SIZES:-"1000 5000 15000"}
MODES=${FLEET_BENCH_MODES:-"plain tls"}
BASE_AGENTS=10          # the baseline fleet whose RSS is subtracted
HEARTBEAT_S=5           # each agent heartbeats every 5 s
WINDOW_S=10             # CPU and heartbeats are counted over this window, which starts 3 s
                        # after the ramp (every agent connected)
KEY=fleet-bench-key

for prog in "$FLEETSIM" "$TARGET"; do
    [ -x "$prog" ] || { echo "fleet_bench: $prog not built (make fleetsim fleetsim-target)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "fleet_bench: python3 is needed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/fleet_bench.XXXXXX)
TARGET_PID=""
FLEET_PID=""
cleanup() {
    [ -n "$FLEET_PID" ] && kill "$FLEET_PID" 2>/dev/null || true
    [ -n "$TARGET_PID" ] && kill "$TARGET_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_target AGENTS plain|tls: sets TARGET_PID, URL and CACERT_ARGS
start_target() {
    local n=$1 mode=$2 extra=()
    [ "$mode" = plain ] && extra=(--plain)
    "$TARGET" --listen 127.0.0.1:0 --rate-limit off --seed-agents "$n" --api-key "$KEY" \
        "${extra[@]}" >"$WORK/target.log" 2>&1 &
    TARGET_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/target.log" 2>/dev/null && break
        sleep 0.1
    done
    URL=$(grep -o 'https\?://127\.0\.0\.1:[0-9]*' "$WORK/target.log" | head -1)
    [ -n "$URL" ] || { echo "fleet_bench: fleetsim-target did not start" >&2; cat "$WORK/target.log" >&2; exit 1; }
    CACERT_ARGS=()
    if [ "$mode" = tls ]; then
        CACERT_ARGS=(--cacert "$(grep -o '/[^ ]*ca\.pem' "$WORK/target.log" | head -1)")
    fi
}

stop_target() {
    kill "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
    TARGET_PID=""
}

heartbeats_answered() {
    python3 - "$URL" <<'EOF'
import json, ssl, sys, urllib.request
ctx = ssl._create_unverified_context()
with urllib.request.urlopen(sys.argv[1] + "/_target/stats", context=ctx, timeout=30) as r:
    print(json.load(r)["requests"].get("heartbeat", {}).get("200", 0))
EOF
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# lag_ms SUMMARY_JSON: prints "p50 p99" of the heartbeats' http_req_lag (ms)
lag_ms() {
    python3 - "$1" <<'EOF'
import json, sys
for s in json.load(open(sys.argv[1]))["series"]:
    if s["metric"] == "http_req_lag" and s["tags"].get("endpoint") == "heartbeat":
        print(s["p50"], s["p99"])
        break
else:
    print("n/a n/a")
EOF
}

# measure AGENTS MODE: prints "rss_kib cpu_us_per_heartbeat heartbeats_in_window lag_p50 lag_p99"
measure() {
    local n=$1 mode=$2
    # a TLS handshake costs the client about 1 ms of CPU: ramp at most ~700 per second
    local ramp=5
    [ "$mode" = tls ] && [ $((n / 700)) -gt $ramp ] && ramp=$((n / 700))
    local duration=$((ramp + 3 + WINDOW_S + 2))
    start_target "$n" "$mode"
    CERTCTL_API_KEY=$KEY "$FLEETSIM" --url "$URL" "${CACERT_ARGS[@]}" --agents "$n" \
        --heartbeat "${HEARTBEAT_S}s" --ramp "${ramp}s" --poll 0 --duration "${duration}s" \
        --report-interval 0 --summary-json "$WORK/summary.json" -q >"$WORK/fleet.out" 2>&1 &
    FLEET_PID=$!
    sleep $((ramp + 3))
    local hb0 cpu0 hb1 cpu1 rss
    hb0=$(heartbeats_answered); cpu0=$(cpu_ticks "$FLEET_PID")
    sleep "$WINDOW_S"
    hb1=$(heartbeats_answered); cpu1=$(cpu_ticks "$FLEET_PID"); rss=$(rss_kib "$FLEET_PID")
    wait "$FLEET_PID" || { echo "fleet_bench: fleetsim failed:" >&2; tail -20 "$WORK/fleet.out" >&2; exit 1; }
    FLEET_PID=""
    stop_target
    local hz lag; hz=$(getconf CLK_TCK); lag=$(lag_ms "$WORK/summary.json")
    python3 -c "
hb = $hb1 - $hb0
cpu_us = ($cpu1 - $cpu0) * 1e6 / $hz
print($rss, round(cpu_us / hb, 1) if hb > 0 else 'n/a', hb, '$lag')"
}

echo "fleet_bench: fleetsim's RSS per agent and CPU per heartbeat (per-agent connections,"
echo "fleetsim-target in its own process; heartbeat ${HEARTBEAT_S}s, CPU over ${WINDOW_S}s after the ramp)"
printf '%-6s %8s %12s %14s %16s %12s %12s %12s\n' mode agents rss_kib kib_per_agent \
    cpu_us_per_hb heartbeats lag_p50_ms lag_p99_ms
for mode in $MODES; do
    read -r base_rss _ _ _ _ <<<"$(measure "$BASE_AGENTS" "$mode")"
    for n in $SIZES; do
        read -r rss cpu hb lag50 lag99 <<<"$(measure "$n" "$mode")"
        per=$(python3 -c "print(round(($rss - $base_rss) / ($n - $BASE_AGENTS), 2))")
        printf '%-6s %8s %12s %14s %16s %12s %12s %12s\n' "$mode" "$n" "$rss" "$per" "$cpu" "$hb" \
            "$lag50" "$lag99"
    done
done
echo "goals: <= 2 KiB/agent plain, <= 22 KiB/agent TLS, <= 30 us CPU per TLS heartbeat"
