#!/usr/bin/env bash
# Reset latency same-node versus cross-node: two voltgate nodes on one PostgreSQL database and
# one NATS, every simulated charger connected to node A; resets sent through A's API, then
# through B's (relayed over NATS to A).
#
#   bench/cluster.sh [N] [RESETS]        (defaults: 1000 chargers, 1000 resets)
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and NATS with JetStream on
# ${VOLTGATE_BENCH_NATS_URL:-nats://127.0.0.1:4222}. A throwaway database is made and dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
RESETS=${2:-1000}
NATS=${VOLTGATE_BENCH_NATS_URL:-nats://127.0.0.1:4222}
DBNAME="voltgate_bench_cluster_$$"
TMP=$(mktemp -d -t voltgate-cluster.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$DBNAME\" WITH (FORCE)" || true
    rm -rf "$TMP"
}
trap cleanup EXIT

cargo build -q --release --bin voltgate --example voltgate_bench
BENCH=target/release/examples/voltgate_bench
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE \"$DBNAME\""
DB="postgres://postgres@127.0.0.1:5432/$DBNAME"
export VOLTGATE__DATABASE__URL=$DB VOLTGATE__CLUSTER__NATS_URL=$NATS VOLTGATE__CLUSTER__SECRET=bench-cluster-secret-0123456789abcdef VOLTGATE__CLUSTER__PREFIX=vgbench \
    VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD=cluster-bench-pass RUST_LOG=warn
start_node() { # id -> "pid ocpp_port api_port"
    local ocpp api
    ocpp=$(free_port) api=$(free_port)
    VOLTGATE__CLUSTER__NODE_ID=$1 VOLTGATE__OCPP__LISTEN=127.0.0.1:$ocpp VOLTGATE__API__LISTEN=127.0.0.1:$api \
        target/release/voltgate serve >"$TMP/$1.log" 2>&1 &
    local pid=$!
    wait_port "$api"
    echo "$pid $ocpp $api"
}
read -r APID AOCPP AAPI < <(start_node node-a); PIDS+=("$APID")
read -r BPID BOCPP BAPI < <(start_node node-b); PIDS+=("$BPID")

run() { # api_port label
    echo "== $2: chargers on node A, resets through http://127.0.0.1:$1" >&2
    $BENCH --json --ocpp-url "ws://127.0.0.1:$AOCPP/ocpp" --api-url "http://127.0.0.1:$1" --database-url "$DB" \
        --admin-password cluster-bench-pass --chargers "$N" --heartbeat-s 0 --resets "$RESETS" \
        --server-pid "$APID" >"$TMP/$2.json"
}
run "$AAPI" same-node
run "$BAPI" cross-node
python3 - "$TMP" "$N" <<'PY'
import json, sys
tmp, n = sys.argv[1], sys.argv[2]
print(f"reset latency, {n} chargers on node A (HTTP request -> charger's answer -> HTTP answer)")
for label in ("same-node", "cross-node"):
    r = json.load(open(f"{tmp}/{label}.json"))["reset"]
    print(f"  {label:<11} {r['count']:>6} ok {r['errors']:>3} errors   p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms")
PY
