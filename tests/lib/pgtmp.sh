#!/bin/sh
# tests/lib/pgtmp.sh - start/stop a throwaway PostgreSQL cluster for tests and benches: data dir
# under /tmp, 127.0.0.1 on a free ephemeral port, fsync off; as root the server runs as "postgres".
#
#   pgtmp.sh start [--owner-pid PID]   prints PGTMP_DIR=... and PGTMP_PORT=... (eval-able) on stdout
#       env PGTMP_PASSWORD=secret       scram-sha-256 authentication with that password for user
#                                       postgres (read from the environment, never from argv);
#                                       unset or empty: trust authentication
#       --owner-pid PID                 a watchdog stops the cluster when PID exits
#   pgtmp.sh stop DIR                   stops the cluster (immediate) and removes DIR
#   pgtmp.sh pause DIR                  stops the server (fast: clients are disconnected), keeps DIR
#   pgtmp.sh resume DIR                 starts a paused server again on the same port
# Exit status 0, or 1 with a one-line reason on stderr (and nothing left behind).
set -u

PGTMP_SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

PGTMP_START_ATTEMPTS=8
PGTMP_PORT_MIN=10000
PGTMP_PORT_SPAN=22000  # 10000-31999: below the kernel's ephemeral range (32768+)

die() { echo "pgtmp: $*" >&2; exit 1; }

pgbin() {
    if [ -n "${PGTMP_PGBIN:-}" ]; then echo "$PGTMP_PGBIN"; return; fi
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null)
        if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    fi
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    done
    echo ""
}

# Runs its arguments as the cluster's owner (postgres when we are root), from / so that the
# postgres user never needs access to the caller's working directory.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

random_port() {
    n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    echo $((PGTMP_PORT_MIN + n % PGTMP_PORT_SPAN))
}

# True when something already listens on 127.0.0.1:$1 (bash's /dev/tcp when available).
port_busy() {
    if command -v bash >/dev/null 2>&1; then
        bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
        return $?
    fi
    return 1
}

stop_cluster() {
    dir=$1
    case "$dir" in
        /tmp/pgtmp.*) ;;
        *) die "refusing to stop '$dir' (not a /tmp/pgtmp.* directory)" ;;
    esac
    rc=0
    if [ -f "$dir/data/postmaster.pid" ]; then
        bin=$(pgbin)
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || rc=1
    fi
    rm -rf "$dir"
    return $rc
}

start_watchdog() {
    owner=$1 dir=$2
    # Detached, with every descriptor closed, so it never holds the caller's pipes open.
    (
        trap '' HUP INT
        while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
        if [ -d "$dir" ]; then sh "$PGTMP_SELF" stop "$dir"; fi
    ) </dev/null >/dev/null 2>&1 &
}

start_cluster() {
    owner=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --owner-pid) [ $# -ge 2 ] || die "--owner-pid needs a PID"; owner=$2; shift 2 ;;
            *) die "unknown option '$1'" ;;
        esac
    done
    bin=$(pgbin)
    [ -n "$bin" ] || die "PostgreSQL server binaries not found (install postgresql; pg_config --bindir)"
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        die "running as root but there is no 'postgres' user to run the server as"
    fi
    dir=$(mktemp -d /tmp/pgtmp.XXXXXX) || die "mktemp under /tmp failed"
    trap 'rm -rf "$dir"' EXIT
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    auth="-A trust"
    if [ -n "${PGTMP_PASSWORD:-}" ]; then
        (umask 077 && printf '%s\n' "$PGTMP_PASSWORD" >"$dir/pw")
        [ "$(id -u)" = 0 ] && chown postgres: "$dir/pw"
        auth="-A scram-sha-256 --pwfile=$dir/pw"
    fi
    # shellcheck disable=SC2086
    if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres $auth -E UTF8 --no-sync \
            --no-instructions >"$dir/initdb.log" 2>&1; then
        echo "pgtmp: initdb failed:" >&2
        tail -n 5 "$dir/initdb.log" >&2
        exit 1
    fi
    rm -f "$dir/pw"
    attempt=0
    while [ $attempt -lt $PGTMP_START_ATTEMPTS ]; do
        attempt=$((attempt + 1))
        port=$(random_port)
        port_busy "$port" && continue
        opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" \
                start >/dev/null 2>&1; then
            printf '%s\n' "$opts" >"$dir/opts"
            trap - EXIT
            [ -n "$owner" ] && start_watchdog "$owner" "$dir"
            echo "PGTMP_DIR=$dir"
            echo "PGTMP_PORT=$port"
            exit 0
        fi
    done
    echo "pgtmp: the server did not start after $PGTMP_START_ATTEMPTS attempts:" >&2
    tail -n 5 "$dir/server.log" >&2 2>/dev/null
    exit 1
}

# pause/resume: the server goes away and comes back (a restart as its clients see it).
check_dir() {
    case "$1" in
        /tmp/pgtmp.*) [ -f "$1/opts" ] || die "no cluster started by pgtmp in '$1'" ;;
        *) die "refusing '$1' (not a /tmp/pgtmp.* directory)" ;;
    esac
}

pause_cluster() {
    check_dir "$1"
    as_owner "$(pgbin)/pg_ctl" -D "$1/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        die "pg_ctl stop failed"
}

resume_cluster() {
    check_dir "$1"
    as_owner "$(pgbin)/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 30 -o "$(cat "$1/opts")" \
        start >/dev/null 2>&1 || die "pg_ctl start failed"
}

[ $# -ge 1 ] || die "usage: pgtmp.sh start [--owner-pid PID] | stop DIR | pause DIR | resume DIR"
cmd=$1
shift
case "$cmd" in
    start) start_cluster "$@" ;;
    stop) [ $# -eq 1 ] || die "usage: pgtmp.sh stop DIR"; stop_cluster "$1" ;;
    pause) [ $# -eq 1 ] || die "usage: pgtmp.sh pause DIR"; pause_cluster "$1" ;;
    resume) [ $# -eq 1 ] || die "usage: pgtmp.sh resume DIR"; resume_cluster "$1" ;;
    *) die "unknown command '$cmd'" ;;
esac
