#!/usr/bin/env bash
# bench/regress_bench.sh - is the current tree as cheap as a base revision? In one invocation:
# builds BASE in a temporary git worktree and the current tree, then for both builds, plain
# and TLS, against the current tree's fleetsim-target on loopback:
#  (a) instructions per heartbeat: fleetsim under `valgrind --tool=callgrind` (every thread,
#      start-up and handshakes included) with a fixed fleet, heartbeat, duration and seed; its
#      instructions divided by the heartbeats its own summary JSON counts as answered. The
#      final report (run_report: the text summary and the JSON, whose size follows the shape of
#      the latency histograms, ~15-25 % of a run's instructions) is not counted. The median of
#      REPEAT interleaved runs per build;
#  (b) memory per agent: fleetsim's RSS after the ramp at two fleet sizes (bench/fleet_lib.sh's
#      measure, as bench/fleet_bench.sh), the difference divided by the difference in agents.
# Prints both figures per build, current/base ratios and pass/fail against the limits
# (instructions within 2 %, memory within 5 %); exits 1 when a limit is exceeded.
# Usage: bench/regress_bench.sh [BASE_REVISION], from the build directory or with env
#        top_builddir set to it (needs git, valgrind, python3). BASE_REVISION defaults to the
#        commit before engine/transport.h was added (the main commit the transport and protocol
#        tables were measured against; HEAD while that file is not committed).
# Environment: REGRESS_CG_AGENTS (default 10), REGRESS_CG_HEARTBEAT (default 100ms: slow
# enough for fleetsim to keep up under valgrind on a busy machine), REGRESS_CG_DURATION_S
# (default 30), REGRESS_CG_REPEAT (default 3), REGRESS_RSS_SIZES (default "200 3000"),
# REGRESS_IR_LIMIT_PCT (2), REGRESS_RSS_LIMIT_PCT (5).
set -euo pipefail

BUILD=$(cd "${top_builddir:-.}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/target_url.sh"
CG_AGENTS=${REGRESS_CG_AGENTS:-10}
CG_HEARTBEAT=${REGRESS_CG_HEARTBEAT:-100ms}
CG_DURATION_S=${REGRESS_CG_DURATION_S:-30}
CG_REPEAT=${REGRESS_CG_REPEAT:-3}
RSS_SIZES=${REGRESS_RSS_SIZES:-"200 3000"}
IR_LIMIT=${REGRESS_IR_LIMIT_PCT:-2}
RSS_LIMIT=${REGRESS_RSS_LIMIT_PCT:-5}
# what bench/fleet_lib.sh's measure_rss uses: heartbeat 5 s, RSS read 6 s after the ramp
KEY=regress-bench-key
HEARTBEAT_S=5
WINDOW_S=3
REPEAT=1
BENCH=regress_bench

for tool in git valgrind python3; do
    command -v "$tool" >/dev/null || { echo "$BENCH: $tool is needed" >&2; exit 1; }
done
# the default base: the commit before engine/transport.h was added (HEAD while it is uncommitted)
added=$(git -C "$SRC" log --diff-filter=A --format=%H -- engine/transport.h | tail -1)
BASE=${1:-${added:+$added^}}
BASE=${BASE:-HEAD}
BASE_SHA=$(git -C "$SRC" rev-parse --verify "$BASE^{commit}") ||
    { echo "$BENCH: no revision $BASE" >&2; exit 1; }

WORK=$(mktemp -d /tmp/regress_bench.XXXXXX)
. "$SRC/bench/fleet_lib.sh"
regress_cleanup() {
    bench_cleanup
    git -C "$SRC" worktree remove --force "$WORK.base" 2>/dev/null || true
    rm -rf "$WORK.base"
}
trap regress_cleanup EXIT

# build_base: the base revision's fleetsim in a temporary worktree (fleetsim and the target only)
build_base() {
    git -C "$SRC" worktree add --detach "$WORK.base" "$BASE_SHA" >/dev/null 2>&1
    (cd "$WORK.base" && autoreconf -fi && ./configure && make -j2 fleetsim) >"$WORK/base_build.log" 2>&1 ||
        { echo "$BENCH: building $BASE failed:" >&2; tail -20 "$WORK/base_build.log" >&2; exit 1; }
}

# answered_heartbeats SUMMARY_JSON: heartbeats that got a response (any status), as fleetsim
# counted them (http_reqs with a status tag)
answered_heartbeats() {
    python3 - "$1" <<'EOF'
import json, sys
print(sum(c["value"] for c in json.load(open(sys.argv[1]))["counters"]
          if c["metric"] == "http_reqs" and c["tags"].get("endpoint") == "heartbeat"
          and "status" in c["tags"]))
EOF
}

# instructions PROGRAM MODE: fleetsim PROGRAM under callgrind against a fresh target; prints
# "instructions_per_heartbeat answered_heartbeats" (instructions outside run_report)
instructions() {
    local prog=$1 mode=$2 rc=0
    start_target "$CG_AGENTS" "$mode"
    CERTCTL_API_KEY=$KEY valgrind --tool=callgrind --toggle-collect=run_report --collect-atstart=yes \
        --callgrind-out-file="$WORK/cg.out" \
        "$prog" --url "$URL" "${CACERT_ARGS[@]}" --agents "$CG_AGENTS" \
        --heartbeat "$CG_HEARTBEAT" --ramp 1s --poll 0 --duration "${CG_DURATION_S}s" \
        --seed 1 --report-interval 0 --summary-json "$WORK/cg.json" -q >"$WORK/cg.log" 2>&1 || rc=$?
    fleetsim_ran "$rc" ||
        { echo "$BENCH: $prog under callgrind failed:" >&2; tail -20 "$WORK/cg.log" >&2; exit 1; }
    stop_target
    local ir hb
    ir=$(awk '/^summary:/ {print $2}' "$WORK/cg.out")
    hb=$(answered_heartbeats "$WORK/cg.json")
    python3 -c "print(round($ir / $hb, 1), $hb)"
}

# median_instructions PROGRAM_A PROGRAM_B MODE: CG_REPEAT runs of each, interleaved; prints
# "a_median_per_heartbeat b_median_per_heartbeat a_heartbeats b_heartbeats" (the heartbeats
# of the median runs)
median_instructions() {
    local a=() b=() i
    for i in $(seq "$CG_REPEAT"); do
        a+=("$(instructions "$1" "$3")")
        b+=("$(instructions "$2" "$3")")
    done
    local ma mb
    ma=$(printf '%s\n' "${a[@]}" | sort -g | sed -n "$(( (CG_REPEAT + 1) / 2 ))p")
    mb=$(printf '%s\n' "${b[@]}" | sort -g | sed -n "$(( (CG_REPEAT + 1) / 2 ))p")
    echo "${ma% *} ${mb% *} ${ma#* } ${mb#* }"
}

# kib_per_agent PROGRAM MODE: RSS difference between the two fleet sizes / their difference
kib_per_agent() {
    local n1 n2 rss1 rss2
    read -r n1 n2 <<<"$RSS_SIZES"
    FLEETSIM=$1
    rss1=$(measure_rss "$n1" "$2" --seed 1)
    rss2=$(measure_rss "$n2" "$2" --seed 1)
    python3 -c "print(round(($rss2 - $rss1) / ($n2 - $n1), 3))"
}

# verdict NAME BASE CURRENT LIMIT_PCT: one result line; returns 1 when over the limit
verdict() {
    python3 - "$@" <<'EOF'
import sys
name, base, cur, limit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ratio = cur / base if base > 0 else float("nan")
ok = base > 0 and cur > 0 and ratio <= 1 + limit / 100
print("%-34s %12.3f %12.3f %7.4f  <= %.2f  %s" % (name, base, cur, ratio, 1 + limit / 100,
                                                 "pass" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF
}

echo "$BENCH: building base $(git -C "$SRC" log -1 --format='%h %s' "$BASE_SHA" | cut -c1-70)"
build_base
make -C "$BUILD" -j2 fleetsim fleetsim-target >"$WORK/build.log" 2>&1 ||
    { echo "$BENCH: building the current tree failed:" >&2; tail -20 "$WORK/build.log" >&2; exit 1; }
TARGET=$BUILD/fleetsim-target
echo "$BENCH: current tree $(git -C "$SRC" log -1 --format='%h' HEAD)$(git -C "$SRC" diff --quiet HEAD || echo ' + uncommitted changes')"
echo "instructions per heartbeat: callgrind, $CG_AGENTS agents, heartbeat $CG_HEARTBEAT," \
    "${CG_DURATION_S}s, seed 1 (start-up included, final report not), median of $CG_REPEAT"
echo "memory per agent: RSS after the ramp at $RSS_SIZES agents (heartbeat ${HEARTBEAT_S}s)"
printf '%-34s %12s %12s %7s  %-7s %s\n' figure base current ratio limit result
failed=0
for mode in plain tls; do
    read -r ir_b ir_c hb_b hb_c <<<"$(median_instructions "$WORK.base/fleetsim" "$BUILD/fleetsim" "$mode")"
    verdict "$mode instructions/heartbeat" "$ir_b" "$ir_c" "$IR_LIMIT" || failed=1
    echo "  ($mode heartbeats answered: base $hb_b, current $hb_c)"
done
for mode in plain tls; do
    verdict "$mode KiB/agent" "$(kib_per_agent "$WORK.base/fleetsim" "$mode")" \
        "$(kib_per_agent "$BUILD/fleetsim" "$mode")" "$RSS_LIMIT" || failed=1
done
[ "$failed" = 0 ] && echo "$BENCH: pass" || echo "$BENCH: FAIL"
exit "$failed"
