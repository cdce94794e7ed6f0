#!/usr/bin/env bash
# voltgate against its ceiling and a peer, in one run: boot storm, density, heartbeat and
# MeterValues throughput with the same load generator, the same N and the same machine.
#
#   bench/compare.sh [N] [SECONDS] [sqlite|postgres]     (defaults: 1000 chargers, 10 s, sqlite)
#
# Builds release binaries, then runs voltgate-bench against
#   1. voltgate serve (default configuration but the rate limit; security profile 1; SQLite in a
#      temp dir, or a throwaway database on the local PostgreSQL at $PG_URL, default
#      postgres://postgres@127.0.0.1:5432),
#   2. the ceiling (examples/ceiling.rs: empty CALLRESULTs, no auth, no database),
#   3. a CSMS written with the Python `ocpp` package (tests/python/peer_csms.py),
# and prints the figures side by side with voltgate's ratio to each. Every charger connects at
# the same instant and a refused connection counts as a failure (no retry). MeterValues
# throughput: one value per message, one in flight per charger; voltgate's figure is the
# values its database gained, the others' the CALLs they answered. BENCH_PROCESSES (default 2)
# load-generator processes; SKIP_PEER=1 leaves out the Python peer (slow at 10,000). ROUNDS=R
# (default 1) runs voltgate and the ceiling R times, taking turns, and prints medians and the
# range of the per-round ratio: the machine's speed drifts between runs, and a ratio taken
# within one round cancels most of that drift.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
S=${2:-10}
STORE=${3:-sqlite}
PROCS=${BENCH_PROCESSES:-2}
ROUNDS=${ROUNDS:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
TMP=$(mktemp -d -t voltgate-compare.XXXXXX)
PIDS=()
PGDBS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for db in "${PGDBS[@]}"; do sleep 1; psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

cargo build -q --release --bin voltgate --example voltgate_bench --example ceiling
BENCH="target/release/examples/voltgate_bench --processes $PROCS --concurrency $N"
LOAD="--chargers $N --heartbeat-s $S --meter-throughput-s $S"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

# A fresh database for each round: each round registers the same fleet again.
fresh_db() {
  case "$STORE" in
    sqlite) DB="sqlite://$TMP/v$1.db?mode=rwc" ;;
    postgres)
      PGDB="voltgate_compare_$$_$1"; PGDBS+=("$PGDB")
      psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PGDB" >/dev/null
      DB="$PG_URL/$PGDB" ;;
    *) echo "the store is sqlite or postgres, not $STORE" >&2; exit 2 ;;
  esac
}

for R in $(seq 1 "$ROUNDS"); do
  fresh_db "$R"
  echo "== voltgate ($N chargers, $STORE, round $R of $ROUNDS)" >&2
  OCPP=$(free_port) API=$(free_port)
  VOLTGATE__DATABASE__URL=$DB VOLTGATE__OCPP__LISTEN=127.0.0.1:$OCPP VOLTGATE__API__LISTEN=127.0.0.1:$API \
    VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD=compare-admin-pass VOLTGATE__OCPP__RATE_LIMIT_PER_S=0 RUST_LOG=warn target/release/voltgate serve >"$TMP/voltgate.log" 2>&1 &
  VPID=$!; PIDS+=("$VPID"); wait_port "$OCPP"
  $BENCH --json --ocpp-url "ws://127.0.0.1:$OCPP/ocpp" --api-url "http://127.0.0.1:$API" --database-url "$DB" \
    --admin-password compare-admin-pass $LOAD --resets 0 --dashboards 0 --server-pid "$VPID" >"$TMP/voltgate.$R.json"
  kill -TERM "$VPID"; wait "$VPID" || true

  echo "== ceiling ($N chargers, round $R of $ROUNDS)" >&2
  PORT=$(free_port)
  target/release/examples/ceiling --listen "127.0.0.1:$PORT" 2>/dev/null &
  CPID=$!; PIDS+=("$CPID"); wait_port "$PORT"
  $BENCH --json --plain --ocpp-url "ws://127.0.0.1:$PORT/ocpp" $LOAD --server-pid "$CPID" >"$TMP/ceiling.$R.json"
  kill -TERM "$CPID"; wait "$CPID" 2>/dev/null || true
done

if [ "${SKIP_PEER:-0}" = 1 ]; then
  echo '{}' >"$TMP/peer.json"
else
  echo "== python ocpp peer ($N chargers)" >&2
  python3 -m venv "$TMP/venv" && "$TMP/venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
  PORT=$(free_port)
  "$TMP/venv/bin/python" tests/python/peer_csms.py --port "$PORT" 2>"$TMP/peer.log" &
  PPID_=$!; PIDS+=("$PPID_"); wait_port "$PORT"
  $BENCH --json --plain --max-s 900 --ocpp-url "ws://127.0.0.1:$PORT/ocpp" $LOAD --server-pid "$PPID_" >"$TMP/peer.json"
  kill -TERM "$PPID_"; wait "$PPID_" 2>/dev/null || true
fi

python3 - "$TMP" "$N" "$STORE" "$PROCS" "$ROUNDS" <<'PY'
import datetime, json, statistics, sys
tmp, n, store, procs, rounds = sys.argv[1:6]
rounds = int(rounds)
runs = {k: [json.load(open(f"{tmp}/{k}.{r}.json")) for r in range(1, rounds + 1)] for k in ("voltgate", "ceiling")}
peer = json.load(open(f"{tmp}/peer.json"))
def g(doc, *path):
    for p in path:
        doc = doc.get(p, {}) if isinstance(doc, dict) else {}
    return doc if isinstance(doc, (int, float)) else float("nan")
def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")
def ratio(a, b):
    return a / b if b and b == b and a == a else float("nan")
# (figure, voltgate's path, the others' path)
rows = [
    ("boot storm: all booted (s)", ("boot_storm", "seconds"), None),
    ("boot storm: connect->boot p99 (ms)", ("boot_storm", "p99_ms"), None),
    ("boot storm: failures (refused, no retry)", ("boot_storm", "failures"), None),
    ("RSS per connection, after the storm (bytes)", ("rss", "bytes_per_connection"), None),
    ("RSS per connection, booted fleet idle 4 s (bytes)", ("rss", "held_bytes_per_connection"), None),
    ("heartbeats answered per second", ("heartbeat", "calls_per_s"), None),
    ("heartbeat p99 (ms)", ("heartbeat", "p99_ms"), None),
    ("MeterValues: values stored (vg) / answered per s", ("meter_throughput", "values_per_s"), ("meter_throughput", "calls_per_s")),
    ("MeterValues answered per s, 1.6 chargers", ("meter_throughput", "v16_calls_per_s"), None),
    ("MeterValues answered per s, 2.0.1 chargers", ("meter_throughput", "v201_calls_per_s"), None),
    ("MeterValues p99 (ms)", ("meter_throughput", "p99_ms"), None),
    ("MeterValues acknowledged, not stored", ("meter_throughput", "acknowledged_not_stored"), None),
]
print(f"voltgate ({store}) vs ceiling vs python ocpp peer, {n} chargers (1.6 and 2.0.1 alternating), "
      f"{procs} load processes, {datetime.date.today()}")
if rounds > 1:
    print(f"{rounds} rounds, voltgate and the ceiling taking turns: medians; vg/ceiling is the median "
          f"of each round's own ratio, its range in brackets")
print(f"{'figure':<50} {'voltgate':>10} {'ceiling':>10} {'py peer':>10} {'vg/ceiling':>11} {'vg/peer':>8}")
fmt = lambda x: f"{x:.2f}" if x == x else "-"
for name, path, other in rows:
    vs = [g(d, *path) for d in runs["voltgate"]]
    cs = [g(d, *(other or path)) for d in runs["ceiling"]]
    v, c, p = median(vs), median(cs), g(peer, *(other or path))
    per_round = [ratio(a, b) for a, b in zip(vs, cs)]
    r = fmt(median(per_round))
    known = [x for x in per_round if x == x]
    spread = f" [{min(known):.2f}-{max(known):.2f}]" if rounds > 1 and known else ""
    print(f"{name:<50} {v:>10.1f} {c:>10.1f} {p:>10.1f} {r + spread:>11} {fmt(ratio(v, p)):>8}")
v16 = median([g(d, "meter_throughput", "v16_calls_per_s") for d in runs["voltgate"]])
v201 = median([g(d, "meter_throughput", "v201_calls_per_s") for d in runs["voltgate"]])
if v16 == v16 and v16:
    print(f"MeterValues, 2.0.1 chargers' rate / 1.6 chargers' (voltgate): {v201 / v16:.2f}")
PY
