# bench/target_url.sh - sourced by the benchmark scripts that start fleetsim-target themselves.
# target_url LOG: waits (at most 10 s) for the target's "listening on URL" line in LOG, its
# standard output, and prints URL; returns 1 when the line never came.
target_url() {
    _tu_i=0
    while ! grep -q 'listening on' "$1" 2>/dev/null; do
        _tu_i=$((_tu_i + 1))
        [ "$_tu_i" -le 100 ] || return 1
        sleep 0.1
    done
    sed -n 's/.*listening on \(https\{0,1\}:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$1" | head -1
}
