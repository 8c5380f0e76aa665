#!/bin/sh
# bench/target_bench.sh - how fast fleetsim-target answers heartbeats, beside nginx answering a
# fixed 200 on the same machine: wrk drives each for DURATION on 127.0.0.1 (target: memory
# store, plain HTTP, rate limiter off, a fleet of AGENTS seeded agents, Bearer auth; nginx: one
# worker, `return 200`). Prints both req/s, the ratio and the target's CPU time per heartbeat;
# appends them to OUT when given.
# Usage: bench/target_bench.sh [OUT]   env: DURATION (10s) THREADS (1) CONNS (100) AGENTS (5000)
#        top_builddir (where fleetsim-target is; default .), top_srcdir (default: this script's ..)
set -eu

DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
CONNS=${CONNS:-100}
AGENTS=${AGENTS:-5000}
OUT=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$here/..}
builddir=${top_builddir:-.}
target=$builddir/fleetsim-target
script=$srcdir/bench/target_heartbeat.lua
. "$here/target_url.sh"

die() { echo "target_bench: $*" >&2; exit 1; }
command -v wrk >/dev/null 2>&1 || die "wrk is not installed (apt-get install wrk)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx is not installed (apt-get install nginx)"
[ -x "$target" ] || die "$target not found (build it, or set top_builddir)"
[ -r "$script" ] || die "$script not found (set top_srcdir)"

tmp=$(mktemp -d /tmp/target_bench.XXXXXX)
target_pid=
nginx_pid=
cleanup() {
    [ -n "$target_pid" ] && kill -TERM "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A throwaway key, passed by file and environment only (never on a command line or printed).
umask 077
API_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$API_KEY" > "$tmp/key"
export API_KEY AGENTS

"$target" --listen 127.0.0.1:0 --plain --api-key-file "$tmp/key" --rate-limit off \
    --seed-agents "$AGENTS" -q > "$tmp/target.out" 2>"$tmp/target.err" &
target_pid=$!
turl=$(target_url "$tmp/target.out") || die "fleetsim-target did not start: $(cat "$tmp/target.err")"
tport=${turl##*:}

# A free port for nginx (the kernel picks one, we release it just before nginx binds).
nport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
error_log $tmp/nginx/logs/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nport;
        location / {
            default_type application/json;
            return 200 '{"status":"heartbeat_recorded"}\n';
        }
    }
}
CONF
"$NGINX" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx.err" &
nginx_pid=$!
i=0
while ! python3 -c "import socket;socket.create_connection(('127.0.0.1',$nport),1)" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || die "nginx did not start: $(cat "$tmp/nginx.err")"
    sleep 0.1
done

run_wrk() { # url outfile
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "$1" > "$2"
}
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
non2xx() { sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$1"; }

# The target's CPU time (user + system, clock ticks) around its run: CPU per heartbeat holds
# on a busy machine, where req/s and the ratio to nginx swing with the other load.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tcpu0=$(cpu_ticks "$target_pid")
run_wrk "http://127.0.0.1:$tport" "$tmp/wrk.target"
tcpu1=$(cpu_ticks "$target_pid")
run_wrk "http://127.0.0.1:$nport" "$tmp/wrk.nginx"

t_rps=$(rps "$tmp/wrk.target")
n_rps=$(rps "$tmp/wrk.nginx")
t_bad=$(non2xx "$tmp/wrk.target"); t_bad=${t_bad:-0}
[ -n "$t_rps" ] && [ -n "$n_rps" ] || die "could not read wrk's output"
recorded=$(python3 - "$tport" <<'PY'
import json, sys, urllib.request
s = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_target/stats" % sys.argv[1]))
print(s["requests"].get("heartbeat", {}).get("200", 0))
PY
)
ratio=$(awk -v a="$t_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", a / b }')
t_n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.target")
us_per=$(awk -v c=$((tcpu1 - tcpu0)) -v t="$(getconf CLK_TCK)" -v n="$t_n" \
    'BEGIN { printf "%.1f", (n > 0 ? c * 1e6 / t / n : 0) }')
kernel=$(uname -r); cores=$(nproc)
report=$(cat <<TXT
target_bench: wrk -t$THREADS -c$CONNS -d$DURATION on 127.0.0.1, $cores cores, kernel $kernel
  fleetsim-target heartbeat (memory store, plain, $AGENTS agents, limiter off): $t_rps req/s, p99 $(p99 "$tmp/wrk.target"), non-2xx $t_bad, heartbeats recorded $recorded, target CPU $us_per us/heartbeat
  nginx 1 worker, fixed 200:                                    $n_rps req/s, p99 $(p99 "$tmp/wrk.nginx")
  ratio target/nginx: $ratio
TXT
)
echo "$report"
[ -z "$OUT" ] || { echo "$report"; echo; } >> "$OUT"
[ "$t_bad" -eq 0 ] || die "the target answered $t_bad heartbeats with a non-2xx status"
