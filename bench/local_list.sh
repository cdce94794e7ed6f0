#!/usr/bin/env bash
# What a blocked card costs with local lists (issue 20): TOKENS cards, CHARGERS chargers on
# SITES sites that all keep local lists (SQLite in a temp dir, release build), one card blocked
# through the API. Printed: the time until every charger holding the card holds it Blocked
# (p50/p99/max), the messages and the database rows it took, the server's CPU time; and, for
# scale, how long the first whole-list sync of every charger took.
#
#   bench/local_list.sh [TOKENS] [CHARGERS] [SITES]     (defaults: 10000 1000 50)
set -euo pipefail
cd "$(dirname "$0")/.."
TOKENS=${1:-10000}
CHARGERS=${2:-1000}
SITES=${3:-50}
TMP=$(mktemp -d -t voltgate-locallist.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true

cargo build -q --release --bin voltgate --example local_list_bench
BENCH=target/release/examples/local_list_bench
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

DB="sqlite://$TMP/voltgate.db?mode=rwc"
OCPP=$(free_port); API=$(free_port)
export VOLTGATE__DATABASE__URL=$DB VOLTGATE__OCPP__LISTEN=127.0.0.1:$OCPP VOLTGATE__API__LISTEN=127.0.0.1:$API
export VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD=local-list-admin-pass VOLTGATE__OCPP__RATE_LIMIT_PER_S=0
export VOLTGATE__OCPP__MAX_HANDSHAKES=20000 VOLTGATE__OCPP__MESSAGE_LOG=false RUST_LOG=warn
target/release/voltgate migrate >/dev/null
echo "== setup: $TOKENS cards, $CHARGERS chargers, $SITES sites" >&2
$BENCH setup --database-url "$DB" --tokens "$TOKENS" --chargers "$CHARGERS" --sites "$SITES"
target/release/voltgate serve >"$TMP/server.log" 2>&1 &
PID=$!
wait_port "$OCPP"
echo "== run" >&2
$BENCH run --ocpp-url "ws://127.0.0.1:$OCPP/ocpp" --api-url "http://127.0.0.1:$API" --database-url "$DB" \
  --admin-password local-list-admin-pass --server-pid "$PID"
kill -TERM "$PID"; wait "$PID" || true; PID=""
