# bench/fleet_lib.sh - sourced by the scripts that run fleetsim against fleetsim-target and
# measure it (bench/fleet_bench.sh, bench/regress_bench.sh): start and stop the target, the
# heartbeats it answered, a process's RSS, CPU and wake-ups, fleetsim's lag, and one measured
# fleet run. The caller sets FLEETSIM, TARGET, WORK (a scratch directory), KEY, BENCH (its name
# in messages), HEARTBEAT_S, WINDOW_S and REPEAT, sources bench/target_url.sh, and calls
# bench_cleanup on exit.
TARGET_PID=""
FLEET_PID=""
bench_cleanup() {
    [ -n "$FLEET_PID" ] && kill "$FLEET_PID" 2>/dev/null || true
    [ -n "$TARGET_PID" ] && kill "$TARGET_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

# fleetsim_ran EXIT_CODE: true when fleetsim ran to its end: 0, or 98 (it was saturated: its
# verdict says the server's figures judge nothing, but its own cost is what a bench measures)
fleetsim_ran() {
    [ "$1" = 0 ] || [ "$1" = 98 ]
}

# start_target AGENTS plain|tls: sets TARGET_PID, URL and CACERT_ARGS
start_target() {
    local n=$1 mode=$2 extra=()
    [ "$mode" = plain ] && extra=(--plain)
    "$TARGET" --listen 127.0.0.1:0 --rate-limit off --seed-agents "$n" --api-key "$KEY" \
        "${extra[@]}" >"$WORK/target.log" 2>&1 &
    TARGET_PID=$!
    URL=$(target_url "$WORK/target.log") ||
        { echo "$BENCH: fleetsim-target did not start" >&2; cat "$WORK/target.log" >&2; exit 1; }
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
# voluntary + involuntary context switches of every thread of process $1 (its wake-ups)
wakeups() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
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

# ramp_s AGENTS MODE: the ramp (s) over which the fleet's connections open. A TLS handshake
# costs the client 1-2 ms of CPU: ramp at most ~400 per second, so the handshakes leave the
# loop time for the heartbeats (lag)
ramp_s() {
    local ramp=5
    [ "$2" = tls ] && [ $(($1 / 400)) -gt $ramp ] && ramp=$(($1 / 400))
    echo "$ramp"
}

# window PID WARMUP_S: sleeps WARMUP_S, then counts heartbeats answered, PID's CPU and wake-ups
# over WINDOW_S; prints "rss_kib cpu_us_per_heartbeat heartbeats_in_window wakeups_per_heartbeat"
window() {
    local pid=$1 hb0 cpu0 wk0 hb1 cpu1 wk1 rss
    sleep "$2"
    hb0=$(heartbeats_answered); cpu0=$(cpu_ticks "$pid"); wk0=$(wakeups "$pid")
    sleep "$WINDOW_S"
    hb1=$(heartbeats_answered); cpu1=$(cpu_ticks "$pid"); rss=$(rss_kib "$pid")
    wk1=$(wakeups "$pid")
    python3 -c "
hb = $hb1 - $hb0
cpu_us = ($cpu1 - $cpu0) * 1e6 / $(getconf CLK_TCK)
print($rss, round(cpu_us / hb, 1) if hb > 0 else 'n/a', hb,
      round(($wk1 - $wk0) / hb, 2) if hb > 0 else 'n/a')"
}

# start_fleet AGENTS MODE RAMP_S DURATION_S [FLEETSIM OPTIONS...]: starts fleetsim against the
# target in the background (FLEET_PID)
start_fleet() {
    local n=$1 mode=$2 ramp=$3 duration=$4
    shift 4
    CERTCTL_API_KEY=$KEY "$FLEETSIM" --url "$URL" "${CACERT_ARGS[@]}" --agents "$n" \
        --heartbeat "${HEARTBEAT_S}s" --ramp "${ramp}s" --poll 0 --duration "${duration}s" \
        --report-interval 0 --summary-json "$WORK/summary.json" -q "$@" >"$WORK/fleet.out" 2>&1 &
    FLEET_PID=$!
}

# end_fleet: waits for fleetsim and stops the target; a failed run ends the bench
end_fleet() {
    local rc=0
    wait "$FLEET_PID" || rc=$?
    fleetsim_ran "$rc" || { echo "$BENCH: fleetsim failed:" >&2; tail -20 "$WORK/fleet.out" >&2; exit 1; }
    FLEET_PID=""
    stop_target
}

# measure AGENTS MODE [FLEETSIM OPTIONS...]: prints "rss_kib cpu_us_per_heartbeat
# heartbeats_in_window lag_p50 lag_p99 wakeups_per_heartbeat"
measure() {
    local n=$1 mode=$2
    shift 2
    local ramp; ramp=$(ramp_s "$n" "$mode")
    start_target "$n" "$mode"
    # 10 s to spare: on a busy machine the samples take seconds
    start_fleet "$n" "$mode" "$ramp" $((ramp + 3 + WINDOW_S + 10)) "$@"
    local rss cpu hb wk
    read -r rss cpu hb wk <<<"$(window "$FLEET_PID" $((ramp + 3)))"
    end_fleet
    echo "$rss $cpu $hb $(lag_ms "$WORK/summary.json") $wk"
}

# measure_rss AGENTS MODE [FLEETSIM OPTIONS...]: fleetsim's RSS (KiB) at the moment measure
# reads it (WINDOW_S + 3 s after the ramp), without the heartbeat counts
measure_rss() {
    local n=$1 mode=$2
    shift 2
    local ramp; ramp=$(ramp_s "$n" "$mode")
    start_target "$n" "$mode"
    start_fleet "$n" "$mode" "$ramp" $((ramp + 3 + WINDOW_S + 3)) "$@"
    sleep $((ramp + 3 + WINDOW_S))
    local rss; rss=$(rss_kib "$FLEET_PID")
    end_fleet
    [ -n "$rss" ] || { echo "$BENCH: fleetsim ended before its RSS was read" >&2; exit 1; }
    echo "$rss"
}

# median MEASURE ARGS...: runs MEASURE (measure or measure_peer) REPEAT times; prints the run
# with the median CPU per heartbeat (this VM's CPU figures vary by +/- 20 % from run to run)
median() {
    local runs=()
    for _ in $(seq "$REPEAT"); do runs+=("$("$@")"); done
    printf '%s\n' "${runs[@]}" | sort -g -k2,2 | sed -n "$(( (REPEAT + 1) / 2 ))p"
}

