#!/usr/bin/env bash
# voltgate against its ceiling and a peer, in one run: density, boot storm and heartbeat
# throughput with the same load generator, the same N and the same machine.
#
#   bench/compare.sh [N] [HEARTBEAT_SECONDS]      (defaults: 1000 chargers, 10 s)
#
# Builds release binaries, then runs voltgate-bench against
#   1. voltgate serve (security profile 1, SQLite in a temp dir),
#   2. the ceiling (examples/ceiling.rs: empty CALLRESULTs, no auth, no database),
#   3. a CSMS written with the Python `ocpp` package (tests/python/peer_csms.py),
# and prints the figures side by side with voltgate's ratio to each.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
HB=${2:-10}
TMP=$(mktemp -d -t voltgate-compare.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

cargo build -q --release --bin voltgate --example voltgate_bench --example ceiling
BENCH=target/release/examples/voltgate_bench
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

echo "== voltgate ($N chargers)" >&2
OCPP=$(free_port) API=$(free_port)
DB="sqlite://$TMP/v.db?mode=rwc"
VOLTGATE__DATABASE__URL=$DB VOLTGATE__OCPP__LISTEN=127.0.0.1:$OCPP VOLTGATE__API__LISTEN=127.0.0.1:$API \
  VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD=compare-admin-pass VOLTGATE__OCPP__RATE_LIMIT_PER_S=0 RUST_LOG=warn target/release/voltgate serve >"$TMP/voltgate.log" 2>&1 &
VPID=$!; PIDS+=("$VPID"); wait_port "$OCPP"
$BENCH --json --ocpp-url "ws://127.0.0.1:$OCPP/ocpp" --api-url "http://127.0.0.1:$API" --database-url "$DB" \
  --admin-password compare-admin-pass --chargers "$N" --heartbeat-s "$HB" --resets 0 --server-pid "$VPID" >"$TMP/voltgate.json"
kill -TERM "$VPID"; wait "$VPID" || true

echo "== ceiling ($N chargers)" >&2
PORT=$(free_port)
target/release/examples/ceiling --listen "127.0.0.1:$PORT" 2>/dev/null &
CPID=$!; PIDS+=("$CPID"); wait_port "$PORT"
$BENCH --json --plain --ocpp-url "ws://127.0.0.1:$PORT/ocpp" --chargers "$N" --heartbeat-s "$HB" --server-pid "$CPID" >"$TMP/ceiling.json"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null || true

echo "== python ocpp peer ($N chargers)" >&2
python3 -m venv "$TMP/venv" && "$TMP/venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
PORT=$(free_port)
"$TMP/venv/bin/python" tests/python/peer_csms.py --port "$PORT" 2>"$TMP/peer.log" &
PPID_=$!; PIDS+=("$PPID_"); wait_port "$PORT"
$BENCH --json --plain --ocpp-url "ws://127.0.0.1:$PORT/ocpp" --chargers "$N" --heartbeat-s "$HB" --server-pid "$PPID_" >"$TMP/peer.json"
kill -TERM "$PPID_"; wait "$PPID_" 2>/dev/null || true

python3 - "$TMP" "$N" <<'PY'
import json, sys
tmp, n = sys.argv[1], sys.argv[2]
r = {k: json.load(open(f"{tmp}/{k}.json")) for k in ("voltgate", "ceiling", "peer")}
def g(k, *path):
    v = r[k]
    for p in path:
        v = v.get(p, {}) if isinstance(v, dict) else {}
    return v if isinstance(v, (int, float)) else float("nan")
rows = [
    ("boot storm: all booted (s)", ("boot_storm", "seconds"), False),
    ("boot storm: connect->boot p99 (ms)", ("boot_storm", "p99_ms"), False),
    ("boot storm: failures", ("boot_storm", "failures"), False),
    ("RSS per connection (bytes)", ("rss", "bytes_per_connection"), False),
    ("heartbeats answered per second", ("heartbeat", "calls_per_s"), True),
    ("heartbeat p99 (ms)", ("heartbeat", "p99_ms"), False),
]
print(f"voltgate vs ceiling vs python ocpp peer, {n} chargers (1.6 and 2.0.1 alternating)")
print(f"{'figure':<38} {'voltgate':>12} {'ceiling':>12} {'py peer':>12} {'vg/ceiling':>11} {'vg/peer':>9}")
for name, path, higher_better in rows:
    v, c, p = (g(k, *path) for k in ("voltgate", "ceiling", "peer"))
    ratio = lambda a, b: f"{a / b:.2f}" if b and b == b and a == a else "-"
    print(f"{name:<38} {v:>12.1f} {c:>12.1f} {p:>12.1f} {ratio(v, c):>11} {ratio(v, p):>9}")
PY
