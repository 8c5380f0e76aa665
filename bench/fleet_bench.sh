#!/usr/bin/env bash
# bench/fleet_bench.sh - fleetsim's own cost per simulated agent: resident memory per agent at
# 1,000, 5,000 and 15,000 agents with per-agent keep-alive connections, plain and TLS, and CPU
# microseconds per heartbeat, against fleetsim-target running in its own process on loopback;
# wake-ups of fleetsim's threads per heartbeat, and the heartbeats' lag (intended -> sent)
# p50/p99 over the whole run (ramp included). Then the marginal CPU of one more TLS heartbeat
# (the slope between the smallest and the largest fleet: what a heartbeat costs once the
# loop's wake-ups are paid for), and a peer run of the largest TLS fleet with exact per-agent
# timers (--timer-slot 0) against the default 5 ms slot, as a ratio. Peers for each TLS size,
# run right after fleetsim's row and printed as ratios: bench/tls_floor (the least a client can
# spend on the same heartbeats: epoll + OpenSSL, nothing else) and wrk with one connection per
# agent and the same jittered interval (bench/target_heartbeat.lua). Last, the CPU one wake-up
# of a bare event loop costs on this machine (bench/wake_bench, if built) (docs/fleet.md).
# Usage: bench/fleet_bench.sh, from the build directory or with env top_builddir set to it, as
#        every benchmark script (needs python3).
# Environment: FLEET_BENCH_SIZES (default "1000 5000 15000"), FLEET_BENCH_MODES ("plain tls"),
# FLEET_BENCH_REPEAT (runs per row, default 3; the median-CPU run is printed),
# FLEET_BENCH_HEARTBEAT_S (default 5), FLEET_BENCH_WRK_MAX (largest fleet wrk is run as a peer
# for, default 5000).
# Goals (docs/fleet.md): <= 2 KiB/agent plain, <= 22 KiB/agent TLS, <= 30 us CPU per TLS heartbeat.
set -euo pipefail

BUILD=${top_builddir:-.}
. "$(dirname "$0")/target_url.sh"
FLEETSIM=$BUILD/fleetsim
TARGET=$BUILD/fleetsim-target
SIZES=${FLEET_BENCH_SIZES:-"1000 5000 15000"}
MODES=${FLEET_BENCH_MODES:-"plain tls"}
REPEAT=${FLEET_BENCH_REPEAT:-3}   # runs per row; the median CPU one is printed
BASE_AGENTS=10          # the baseline fleet whose RSS is subtracted
HEARTBEAT_S=${FLEET_BENCH_HEARTBEAT_S:-5}  # each agent heartbeats every 5 s (default)
WINDOW_S=10             # CPU and heartbeats are counted over this window, which starts 3 s
                        # after the ramp (every agent connected)
KEY=fleet-bench-key
WRK_MAX_CONNS=${FLEET_BENCH_WRK_MAX:-5000}  # wrk opens all its connections at once, and its
                        # timers are a list it walks on every wake-up: the peer stops here

for prog in "$FLEETSIM" "$TARGET"; do
    [ -x "$prog" ] || { echo "fleet_bench: $prog not built (make fleetsim fleetsim-target)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "fleet_bench: python3 is needed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/fleet_bench.XXXXXX)
BENCH=fleet_bench
. "$(dirname "$0")/fleet_lib.sh"
trap bench_cleanup EXIT

# run_wrk AGENTS RAMP_S: starts the wrk peer in the background. wrk, one thread as fleetsim's
# default, one keep-alive TLS connection per agent, sends the same heartbeat at the same rate
# (bench/target_heartbeat.lua: the first one at a uniform random time within one interval, then
# every interval +/- 10 %, each after the previous answer).
run_wrk() {
    API_KEY=$KEY AGENTS=$1 HEARTBEAT_MS=$((HEARTBEAT_S * 1000)) CONNS_PER_THREAD=$1 \
        wrk -t1 -c"$1" -d$(($2 + 3 + WINDOW_S + 2))s -s "$(dirname "$0")/target_heartbeat.lua" \
        "$URL" >"$WORK/peer.out" 2>&1 &
}

# run_floor AGENTS RAMP_S: starts the floor peer in the background. bench/tls_floor, the least a
# client can do to send the same TLS heartbeats at the same rate on the same 5 ms grid over
# per-agent keep-alive connections (epoll and OpenSSL, no libevent, no measurement).
run_floor() {
    CERTCTL_API_KEY=$KEY "$BUILD/bench/tls_floor" --url "$URL" "${CACERT_ARGS[@]}" --agents "$1" \
        --heartbeat-ms $((HEARTBEAT_S * 1000)) --ramp-s "$2" \
        --seconds $(($2 + 3 + WINDOW_S + 2)) >"$WORK/peer.out" 2>&1 &
}

# measure_peer AGENTS RUN: a peer (run_wrk or run_floor) against the target with AGENTS TLS
# agents, measured over the same window as fleetsim; an error in its run fails the bench;
# prints "rss_kib cpu_us_per_heartbeat heartbeats_in_window - - wakeups_per_heartbeat"
measure_peer() {
    local n=$1 run=$2
    local ramp; ramp=$(ramp_s "$n" tls)
    start_target "$n" tls
    "$run" "$n" "$ramp"
    FLEET_PID=$!
    local rss cpu hb wk
    read -r rss cpu hb wk <<<"$(window "$FLEET_PID" $((ramp + 3)))"
    wait "$FLEET_PID" || { echo "fleet_bench: $run failed:" >&2; cat "$WORK/peer.out" >&2; exit 1; }
    FLEET_PID=""
    stop_target
    grep -q 'Socket errors\|Non-2xx' "$WORK/peer.out" &&
        { echo "fleet_bench: $run had errors:" >&2; cat "$WORK/peer.out" >&2; exit 1; }
    echo "$rss $cpu $hb - - $wk"
}

# peer_line AGENTS FLEET_CPU FLEET_HEARTBEATS NAME MEASURE ARGS...: runs the peer MEASURE
# REPEAT times (median) and prints its CPU per heartbeat and fleetsim's as a ratio
peer_line() {
    local n=$1 fleet_cpu=$2 fleet_hb=$3 name=$4
    shift 4
    local peer_cpu peer_hb peer_wk
    read -r _ peer_cpu peer_hb _ _ peer_wk <<<"$(median "$@")"
    python3 -c "
print('tls %s agents: peer %s: %s us/heartbeat, %s wake-ups/heartbeat, %s heartbeats in the window (fleetsim %s); fleetsim %s us: ratio fleetsim/peer %.2f' % ('$n', '$name', '$peer_cpu', '$peer_wk', '$peer_hb', '$fleet_hb', '$fleet_cpu', float('$fleet_cpu') / float('$peer_cpu')))"
}

echo "fleet_bench: fleetsim's RSS per agent and CPU per heartbeat (per-agent connections,"
echo "fleetsim-target in its own process; heartbeat ${HEARTBEAT_S}s, CPU over ${WINDOW_S}s after the ramp;"
echo "each row the median-CPU run of $REPEAT)"
printf '%-6s %8s %10s %13s %13s %10s %10s %10s %10s\n' mode agents rss_kib kib_per_agent \
    cpu_us_per_hb wakeups/hb heartbeats lag_p50_ms lag_p99_ms
first_n=""; last_n=""; PEER_LINES=()
for mode in $MODES; do
    read -r base_rss _ _ _ _ _ <<<"$(measure "$BASE_AGENTS" "$mode")"
    for n in $SIZES; do
        read -r rss cpu hb lag50 lag99 wk <<<"$(median measure "$n" "$mode")"
        per=$(python3 -c "print(round(($rss - $base_rss) / ($n - $BASE_AGENTS), 2))")
        printf '%-6s %8s %10s %13s %13s %10s %10s %10s %10s\n' "$mode" "$n" "$rss" "$per" "$cpu" \
            "$wk" "$hb" "$lag50" "$lag99"
        if [ "$mode" = tls ]; then
            [ -z "$first_n" ] && { first_n=$n; first_cpu=$cpu; first_hb=$hb; }
            last_n=$n; last_cpu=$cpu; last_hb=$hb
            # the peers run right after the row they are compared with
            if [ -x "$BUILD/bench/tls_floor" ]; then
                PEER_LINES+=("$(peer_line "$n" "$cpu" "$hb" "bench/tls_floor (the floor)" \
                    measure_peer "$n" run_floor)")
            fi
            if command -v wrk >/dev/null && [ "$n" -le "$WRK_MAX_CONNS" ]; then
                PEER_LINES+=("$(peer_line "$n" "$cpu" "$hb" "wrk -t1 -c$n" measure_peer "$n" run_wrk)")
            fi
        fi
    done
done
if [ -n "$last_n" ] && [ "$last_n" != "$first_n" ]; then
    python3 -c "
d_hb = $last_hb - $first_hb
d_cpu = $last_cpu * $last_hb - $first_cpu * $first_hb
print('tls: marginal CPU per heartbeat between %s and %s agents: %.1f us' % ('$first_n', '$last_n', d_cpu / d_hb) if d_hb > 0 else 'tls: marginal CPU: n/a')"
    read -r _ exact_cpu _ _ _ exact_wk <<<"$(median measure "$last_n" tls --timer-slot 0)"
    python3 -c "
print('tls %s agents: exact timers (--timer-slot 0) %s us/heartbeat, %s wake-ups/heartbeat; 5 ms slot %s us: ratio %.2f' % ('$last_n', '$exact_cpu', '$exact_wk', '$last_cpu', float('$exact_cpu') / float('$last_cpu')))"
fi
# the peers: the floor client and wrk sending the same TLS heartbeats at the same rate
[ "${#PEER_LINES[@]}" -gt 0 ] && printf '%s\n' "${PEER_LINES[@]}"
if [[ " $MODES " == *" tls "* ]]; then
    [ -x "$BUILD/bench/tls_floor" ] || echo "fleet_bench: bench/tls_floor not built (make bench/tls_floor): no floor peer"
    command -v wrk >/dev/null || echo "fleet_bench: wrk is not installed (apt-get install wrk): no wrk peer"
fi
# the floor: what one wake-up of an idle loop costs here, at each size's heartbeat rate
if [ -x "$BUILD/bench/wake_bench" ]; then
    for n in $SIZES; do "$BUILD/bench/wake_bench" $((n / HEARTBEAT_S)) 5; done
fi
echo "goals: <= 2 KiB/agent plain, <= 22 KiB/agent TLS, <= 30 us CPU per TLS heartbeat"
