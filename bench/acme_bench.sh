#!/bin/sh
# bench/acme_bench.sh - full ACME orders per second on one Pebble (Debian's pebble 2.4 on
# 127.0.0.1, no validation, no nonce rejections) in one run: fleetsim's ACME clients (the real
# binary with --acme-directory when its run has ACME clients wired, else bench/acme_drive, the
# same sim/acme code) against N parallel lego processes (lego run --http, one new order each),
# one after the other for the same time. Prints both rates and their ratio (and appends them to
# --out FILE when given). Bounded: about 2 x --seconds plus start-up.
#
#   bench/acme_bench.sh [--clients N] [--seconds S] [--out FILE]
#   env top_builddir  build directory with fleetsim and bench/acme_drive (default .)
set -eu

CLIENTS=8
SECONDS_EACH=20
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS=$2; shift 2 ;;
        --seconds) SECONDS_EACH=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "acme_bench: unknown option '$1'" >&2; exit 2 ;;
    esac
done
case "$CLIENTS$SECONDS_EACH" in *[!0-9]*|"") echo "acme_bench: counts must be integers" >&2; exit 2 ;; esac
[ "$CLIENTS" -ge 1 ] && [ "$SECONDS_EACH" -ge 1 ] && [ "$SECONDS_EACH" -le 600 ] ||
    { echo "acme_bench: --clients >= 1, --seconds 1..600" >&2; exit 2; }

BUILD=$(cd "${top_builddir:-.}" && pwd)
case "$OUT" in ""|/*) ;; *) OUT=$(pwd)/$OUT ;; esac
FLEETSIM=$BUILD/fleetsim
DRIVE=$BUILD/bench/acme_drive
for tool in pebble lego openssl python3 timeout; do
    command -v "$tool" >/dev/null || { echo "acme_bench: SKIP: $tool not found" >&2; exit 77; }
done
[ -x "$DRIVE" ] || [ -x "$FLEETSIM" ] ||
    { echo "acme_bench: no $DRIVE or $FLEETSIM (build them, or set top_builddir)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/acme_bench.XXXXXX)
PEBBLE_PID=""
cleanup() {
    set +e
    if [ -n "$PEBBLE_PID" ]; then
        kill "$PEBBLE_PID" 2>/dev/null
        wait "$PEBBLE_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Pebble's TLS: a throwaway P-256 CA and a certificate for 127.0.0.1 and localhost.
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=fleetsim acme_bench CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout key.pem -out cert.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out cert.pem 2>/dev/null

PORT=$(free_port)
MGMT=$(free_port)
cat >pebble.json <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$PORT", "managementListenAddress": "127.0.0.1:$MGMT",
 "certificate": "$WORK/cert.pem", "privateKey": "$WORK/key.pem",
 "httpPort": $(free_port), "tlsPort": $(free_port), "ocspResponderURL": "",
 "externalAccountBindingRequired": false}}
EOF
PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    pebble -config pebble.json -dnsserver 127.0.0.1:1 >pebble.log 2>&1 &
PEBBLE_PID=$!
DIR_URL="https://127.0.0.1:$PORT/dir"
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { echo "acme_bench: pebble did not start; its log:" >&2; cat pebble.log >&2; exit 1; }
    sleep 0.1
done
echo "acme_bench: pebble at $DIR_URL, $CLIENTS clients, ${SECONDS_EACH}s each side"

# fleetsim: the real run when it has ACME clients wired (its dry run plans them), else the driver.
FS_ORDERS="" FS_SECONDS=""
if [ -x "$FLEETSIM" ] && "$FLEETSIM" --agents 1 --acme-clients 1 --acme-directory "$DIR_URL" \
        --acme-cacert ca.pem --dry-run 2>/dev/null | grep -q '^plan: acme:'; then
    HOW="fleetsim run --acme-directory"
    timeout $((SECONDS_EACH + 60)) "$FLEETSIM" --agents 1 --acme-clients "$CLIENTS" \
        --acme-mode order --acme-directory "$DIR_URL" --acme-cacert ca.pem \
        --duration "${SECONDS_EACH}s" --report-interval 0 --no-thresholds -q \
        --summary-json fleetsim.json >fleetsim.out 2>&1 || true
    FS_ORDERS=$(python3 -c '
import json, sys
d = json.load(open("fleetsim.json"))
print(sum(c["value"] for c in d.get("counters", []) if c["metric"] == "acme_orders_completed"))' 2>/dev/null || true)
    FS_SECONDS=$SECONDS_EACH
fi
if [ -z "$FS_ORDERS" ]; then
    HOW="bench/acme_drive"
    [ -x "$DRIVE" ] || { echo "acme_bench: no $DRIVE" >&2; exit 1; }
    timeout $((SECONDS_EACH + 60)) "$DRIVE" --directory "$DIR_URL" --cacert ca.pem \
        --clients "$CLIENTS" --seconds "$SECONDS_EACH" >drive.out
    cat drive.out
    FS_ORDERS=$(sed -n 's/.*orders_completed \([0-9]*\).*/\1/p' drive.out)
    FS_SECONDS=$(sed -n 's/.*seconds \([0-9.]*\).*/\1/p' drive.out)
fi

# lego: CLIENTS workers, each running `lego run` for new names until the time is up.
END=$(($(date +%s) + SECONDS_EACH))
START_NS=$(date +%s%N)
w=0
WORKERS=""
while [ "$w" -lt "$CLIENTS" ]; do
    (
        n=0 ok=0
        port=$(free_port)
        while [ "$(date +%s)" -lt "$END" ]; do
            n=$((n + 1))
            if LEGO_CA_CERTIFICATES="$WORK/ca.pem" timeout 60 lego --server "$DIR_URL" \
                --accept-tos --email "bench$w@fleetsim.test" --domains "lego-$w-$n.acme.example.test" \
                --http --http.port "127.0.0.1:$port" --path "$WORK/lego-$w" run >>"lego-$w.log" 2>&1; then
                ok=$((ok + 1))
            fi
        done
        echo "$ok $n" >"lego-$w.count"
    ) &
    WORKERS="$WORKERS $!"
    w=$((w + 1))
done
for pid in $WORKERS; do wait "$pid" || true; done
LEGO_SECONDS=$(python3 -c "import time; print(f'{(time.time_ns() - $START_NS) / 1e9:.2f}')")
LEGO_ORDERS=0 LEGO_RUNS=0
for f in lego-*.count; do
    read -r ok n <"$f"
    LEGO_ORDERS=$((LEGO_ORDERS + ok))
    LEGO_RUNS=$((LEGO_RUNS + n))
done
[ "$LEGO_ORDERS" -gt 0 ] || { echo "acme_bench: lego completed no order; last log:" >&2; tail -5 lego-0.log >&2; }

RESULT=$(python3 - "$FS_ORDERS" "$FS_SECONDS" "$LEGO_ORDERS" "$LEGO_SECONDS" "$LEGO_RUNS" <<'EOF'
import sys
fo, fs, lo, ls, lr = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
fr, lrate = fo / fs, lo / ls
ratio = f"{fr / lrate:.1f}x" if lrate > 0 else "n/a (lego completed none)"
print(f"fleetsim {fr:.2f} orders/s ({fo} in {fs:.1f} s) | lego {lrate:.2f} orders/s "
      f"({lo} of {lr} runs in {ls:.1f} s) | ratio fleetsim/lego {ratio}")
EOF
)
echo "acme_bench: $CLIENTS clients via $HOW: $RESULT"
if [ -n "$OUT" ]; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) acme_bench clients=$CLIENTS seconds=$SECONDS_EACH via=$HOW: $RESULT" >>"$OUT"
fi
