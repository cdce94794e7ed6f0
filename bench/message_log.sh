#!/usr/bin/env bash
# What the message inspector costs: voltgate with `ocpp.message_log` on and off, the same
# load generator, the same N, in one run; the ceiling beside them for scale.
#
#   bench/message_log.sh [N] [SECONDS]      (defaults: 10000 chargers, 10 s per scenario)
#
# Each voltgate run: boot storm, heartbeats back to back for SECONDS, then MeterValues once a
# second per charger for SECONDS (SQLite in a temp dir). Printed: each figure on and off, the
# ratio on/off, and how much of the traffic the log kept (rows, drops) when on.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
S=${2:-10}
TMP=$(mktemp -d -t voltgate-msglog.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true

cargo build -q --release --bin voltgate --example voltgate_bench --example ceiling
BENCH=target/release/examples/voltgate_bench
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

run_voltgate() { # $1: on|off
  local log=false; [ "$1" = on ] && log=true
  echo "== voltgate, message log $1 ($N chargers)" >&2
  local ocpp api db
  ocpp=$(free_port); api=$(free_port); db="sqlite://$TMP/$1.db?mode=rwc"
  VOLTGATE__DATABASE__URL=$db VOLTGATE__OCPP__LISTEN=127.0.0.1:$ocpp VOLTGATE__API__LISTEN=127.0.0.1:$api \
    VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD=msglog-admin-pass VOLTGATE__OCPP__RATE_LIMIT_PER_S=0 \
    VOLTGATE__OCPP__MAX_HANDSHAKES=20000 VOLTGATE__OCPP__MESSAGE_LOG=$log RUST_LOG=warn \
    target/release/voltgate serve >"$TMP/$1.log" 2>&1 &
  local pid=$!; PIDS+=("$pid"); wait_port "$ocpp"
  $BENCH --json --ocpp-url "ws://127.0.0.1:$ocpp/ocpp" --api-url "http://127.0.0.1:$api" --database-url "$db" \
    --admin-password msglog-admin-pass --chargers "$N" --heartbeat-s "$S" --meter-s "$S" --resets 0 --dashboards 0 \
    --server-pid "$pid" >"$TMP/$1.json"
  sleep 1 # the writer's last batch
  curl -s "http://127.0.0.1:$api/metrics" | awk '/^voltgate_message_log_dropped/ {print $2}' >"$TMP/$1.dropped" || true
  kill -TERM "$pid"; wait "$pid" || true
}
run_voltgate on
run_voltgate off

echo "== ceiling ($N chargers)" >&2
PORT=$(free_port)
target/release/examples/ceiling --listen "127.0.0.1:$PORT" 2>/dev/null &
CPID=$!; PIDS+=("$CPID"); wait_port "$PORT"
$BENCH --json --plain --ocpp-url "ws://127.0.0.1:$PORT/ocpp" --chargers "$N" --heartbeat-s "$S" --server-pid "$CPID" >"$TMP/ceiling.json"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null || true

python3 - "$TMP" "$N" <<'PY'
import json, sqlite3, sys
tmp, n = sys.argv[1], sys.argv[2]
r = {k: json.load(open(f"{tmp}/{k}.json")) for k in ("on", "off", "ceiling")}
def g(k, *path):
    v = r[k]
    for p in path:
        v = v.get(p, {}) if isinstance(v, dict) else {}
    return v if isinstance(v, (int, float)) else float("nan")
rows = [
    ("boot storm: all booted (s)", ("boot_storm", "seconds")),
    ("boot storm: failures", ("boot_storm", "failures")),
    ("heartbeats answered per second", ("heartbeat", "calls_per_s")),
    ("heartbeat p99 (ms)", ("heartbeat", "p99_ms")),
    ("meter values persisted per second", ("meter_values", "values_per_s")),
    ("meter values: failed messages", ("meter_values", "failed_messages")),
    ("MeterValues p99 (ms)", ("meter_values", "p99_ms")),
    ("RSS per connection (bytes)", ("rss", "bytes_per_connection")),
]
ratio = lambda a, b: f"{a / b:.2f}" if b and b == b and a == a else "-"
print(f"message log on vs off, {n} chargers (1.6 and 2.0.1 alternating); ceiling for scale")
print(f"{'figure':<36} {'log on':>12} {'log off':>12} {'ceiling':>12} {'on/off':>8} {'on/ceiling':>11}")
for name, path in rows:
    on, off, c = (g(k, *path) for k in ("on", "off", "ceiling"))
    print(f"{name:<36} {on:>12.1f} {off:>12.1f} {c:>12.1f} {ratio(on, off):>8} {ratio(on, c):>11}")
kept = sqlite3.connect(f"{tmp}/on.messages.db").execute("select coalesce(sum(count), 0) from message_page").fetchone()[0]
dropped = open(f"{tmp}/on.dropped").read().strip() or "?"
print(f"exchanges kept by the log: {kept}; dropped (queue full or write failed): {dropped}")
PY
