#!/usr/bin/env bash
# What the message inspector costs: voltgate with `ocpp.message_log` on and off, the same
# load generator, the same N, in one run; the ceiling beside them for scale.
#
#   bench/message_log.sh [N] [SECONDS] [ROUNDS]   (defaults: 10000 chargers, 10 s, 3 rounds)
#
# Each voltgate run: boot storm, heartbeats back to back for SECONDS, then MeterValues once a
# second per charger for SECONDS (SQLite in a temp dir). A round runs voltgate with the log on
# and off, alternating which goes first (on this shared 2-core VM one run's figures move by
# 10-20 %, so one pair cannot tell the log's cost from noise). Printed: each round's on/off
# ratios, then each figure's median on and off, the median of the rounds' ratios, and how much
# of the traffic the log kept (exchanges, drops) over all its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
S=${2:-10}
ROUNDS=${3:-3}
TMP=$(mktemp -d -t voltgate-msglog.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true

cargo build -q --release --bin voltgate --example voltgate_bench --example ceiling
BENCH=target/release/examples/voltgate_bench
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

run_voltgate() { # $1: on|off, $2: round
  local log=false; [ "$1" = on ] && log=true
  local run="$1.$2"
  echo "== round $2: voltgate, message log $1 ($N chargers)" >&2
  local ocpp api db
  ocpp=$(free_port); api=$(free_port); db="sqlite://$TMP/$run.db?mode=rwc"
  VOLTGATE__DATABASE__URL=$db VOLTGATE__OCPP__LISTEN=127.0.0.1:$ocpp VOLTGATE__API__LISTEN=127.0.0.1:$api \
    VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD=msglog-admin-pass VOLTGATE__OCPP__RATE_LIMIT_PER_S=0 \
    VOLTGATE__OCPP__MAX_HANDSHAKES=20000 VOLTGATE__OCPP__MESSAGE_LOG=$log RUST_LOG=warn \
    target/release/voltgate serve >"$TMP/$run.log" 2>&1 &
  local pid=$!; PIDS+=("$pid"); wait_port "$ocpp"
  $BENCH --json --ocpp-url "ws://127.0.0.1:$ocpp/ocpp" --api-url "http://127.0.0.1:$api" --database-url "$db" \
    --admin-password msglog-admin-pass --chargers "$N" --heartbeat-s "$S" --meter-s "$S" --resets 0 --dashboards 0 \
    --server-pid "$pid" >"$TMP/$run.json"
  sleep 3 # the writer's last batch
  curl -s "http://127.0.0.1:$api/metrics" | awk '/^voltgate_message_log_dropped/ {print $2}' >"$TMP/$run.dropped" || true
  kill -TERM "$pid"; wait "$pid" || true
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run_voltgate on "$r"; run_voltgate off "$r"; else run_voltgate off "$r"; run_voltgate on "$r"; fi
done

echo "== ceiling ($N chargers)" >&2
PORT=$(free_port)
target/release/examples/ceiling --listen "127.0.0.1:$PORT" 2>/dev/null &
CPID=$!; PIDS+=("$CPID"); wait_port "$PORT"
$BENCH --json --plain --ocpp-url "ws://127.0.0.1:$PORT/ocpp" --chargers "$N" --heartbeat-s "$S" --server-pid "$CPID" >"$TMP/ceiling.json"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null || true

python3 - "$TMP" "$N" "$ROUNDS" <<'PY'
import json, sqlite3, statistics, sys
tmp, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
load = lambda name: json.load(open(f"{tmp}/{name}.json"))
runs = {m: [load(f"{m}.{r}") for r in range(1, rounds + 1)] for m in ("on", "off")}
ceiling = load("ceiling")
def g(v, path):
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
ratio = lambda a, b: a / b if b and b == b and a == a else float("nan")
fmt = lambda x: "-" if x != x else f"{x:.2f}"
median = lambda xs: statistics.median(xs) if xs else float("nan")
print(f"message log on vs off, {n} chargers (1.6 and 2.0.1 alternating), {rounds} rounds; ceiling for scale")
for r in range(rounds):
    on, off = runs["on"][r], runs["off"][r]
    hb = ratio(g(on, rows[2][1]), g(off, rows[2][1]))
    mv = ratio(g(on, rows[4][1]), g(off, rows[4][1]))
    first = "on" if r % 2 == 0 else "off"
    print(f"  round {r + 1} ({first} first): heartbeats on/off {fmt(hb)}, meter values on/off {fmt(mv)}")
print(f"{'figure (median of the rounds)':<36} {'log on':>12} {'log off':>12} {'ceiling':>12} {'on/off':>8} {'on/ceiling':>11}")
for name, path in rows:
    on = median([g(x, path) for x in runs["on"]])
    off = median([g(x, path) for x in runs["off"]])
    each = median([ratio(g(a, path), g(b, path)) for a, b in zip(runs["on"], runs["off"])])
    c = g(ceiling, path)
    print(f"{name:<36} {on:>12.1f} {off:>12.1f} {c:>12.1f} {fmt(each):>8} {fmt(ratio(on, c)):>11}")
kept = sum(sqlite3.connect(f"{tmp}/on.{r}.messages.db").execute("select coalesce(sum(count), 0) from message_page").fetchone()[0] for r in range(1, rounds + 1))
dropped = [open(f"{tmp}/on.{r}.dropped").read().strip() or "?" for r in range(1, rounds + 1)]
print(f"exchanges kept by the log over {rounds} runs: {kept}; dropped (queue full or write failed), per run: {', '.join(dropped)}")
print("on/off: the median of the rounds' ratios")
PY
