#!/usr/bin/env bash
# bench/soak_bench.sh - does fleetsim grow over a long run? Runs a busy fleet (heartbeats,
# polls, bulk renewals carried out by the agents) against fleetsim-target in its own process on
# loopback and samples both processes' resident memory; prints the samples, the growth after
# warm-up and that growth extrapolated to eight hours.
# Usage: bench/soak_bench.sh [SECONDS]   (default 180), from the build directory or with
#        env top_builddir set to it, as every benchmark script.
set -euo pipefail

BUILD=${top_builddir:-.}
. "$(dirname "$0")/target_url.sh"
SECONDS_TOTAL=${1:-180}
AGENTS=${SOAK_AGENTS:-2000}
CERTS=${SOAK_CERTS:-2000}
SAMPLE_S=10             # one RSS sample every 10 s
WARMUP_S=30             # growth is measured from the first sample after warm-up
KEY=soak-bench-key
FLEETSIM=$BUILD/fleetsim
TARGET=$BUILD/fleetsim-target

for prog in "$FLEETSIM" "$TARGET"; do
    [ -x "$prog" ] || { echo "soak_bench: $prog not built" >&2; exit 1; }
done
[ "$SECONDS_TOTAL" -gt $((WARMUP_S + 2 * SAMPLE_S)) ] || {
    echo "soak_bench: SECONDS must exceed $((WARMUP_S + 2 * SAMPLE_S))" >&2; exit 2; }

WORK=$(mktemp -d /tmp/soak_bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$TARGET" --listen 127.0.0.1:0 --plain --rate-limit off --seed-agents "$AGENTS" \
    --seed-certs "$CERTS" --bulk-clamp off --api-key "$KEY" >"$WORK/target.log" 2>&1 &
TARGET_PID=$!
PIDS+=("$TARGET_PID")
URL=$(target_url "$WORK/target.log") ||
    { echo "soak_bench: fleetsim-target did not start" >&2; cat "$WORK/target.log" >&2; exit 1; }

CERTCTL_API_KEY=$KEY "$FLEETSIM" --url "$URL" --agents "$AGENTS" --heartbeat 2s --poll 2s \
    --certs "$CERTS" --bulk-rate 2/s --bulk-batch 50 --duration "${SECONDS_TOTAL}s" \
    --report-interval 0 --quiet --no-thresholds --summary-json "$WORK/summary.json" \
    >"$WORK/fleet.log" 2>&1 &
FLEET_PID=$!
PIDS+=("$FLEET_PID")

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

echo "soak_bench: $AGENTS agents (heartbeat 2s, poll 2s), $CERTS certificates renewed at 2 calls/s, ${SECONDS_TOTAL}s"
printf '%8s %14s %14s\n' "t (s)" "fleetsim KiB" "target KiB"
t=0
first_f=0; first_t=0; last_f=0; last_t=0
while kill -0 "$FLEET_PID" 2>/dev/null && [ "$t" -lt "$SECONDS_TOTAL" ]; do
    sleep "$SAMPLE_S"
    t=$((t + SAMPLE_S))
    f=$(rss_kib "$FLEET_PID"); g=$(rss_kib "$TARGET_PID")
    [ "$f" -gt 0 ] || break
    printf '%8d %14d %14d\n' "$t" "$f" "$g"
    if [ "$t" -ge "$WARMUP_S" ] && [ "$first_f" -eq 0 ]; then first_f=$f; first_t=$t; fi
    last_f=$f; last_t=$t
done
wait "$FLEET_PID" || true

if [ "$first_f" -gt 0 ] && [ "$last_t" -gt "$first_t" ]; then
    growth=$((last_f - first_f))
    per_8h=$(( growth * 8 * 3600 / (last_t - first_t) ))
    echo "fleetsim RSS after warm-up: ${first_f} KiB at ${first_t}s -> ${last_f} KiB at ${last_t}s:" \
         "growth ${growth} KiB, ${per_8h} KiB per 8 h at this rate"
fi
python3 - "$WORK/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
a = s["accounting"]
print("accounting: scheduled %d answered %d errors %d timed out %d dropped %d in flight %d" % (
    a["scheduled"], a["answered"], a["transport_errors"], a["timed_out"], a["dropped"], a["in_flight"]))
PY
