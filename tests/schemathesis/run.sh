#!/usr/bin/env bash
# API fuzzing: run schemathesis against the back-office OpenAPI document of a fresh voltgate
# (SQLite in a temporary directory), as an operator on the root organisation, with every check.
# Usage: tests/schemathesis/run.sh PATH_TO_VOLTGATE_BINARY [EXTRA `st run` ARGS...]
# Environment: ST_MAX_EXAMPLES (default 100: about 3 minutes in all on 2 cores),
# ST_WORKERS (default 1: CPython 3.11's ast.parse is not thread-safe, and hypothesis parses
# lambdas while generating, so two workers now and then fail with "AST constructor recursion
# depth mismatch" before any request is sent), ST_SEED (fixed seed for a reproducible run),
# ST_REPORT_DIR (keep the junit/ndjson reports, summary.txt with an example request per failure
# and the server log there; default: thrown away with the temp dir),
# PYTHON (default python3).
# Exits non-zero when schemathesis reports a failure.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 PATH_TO_VOLTGATE_BINARY [EXTRA ST RUN ARGS...]" >&2
    exit 2
fi
BIN=$(realpath "$1")
shift
if [[ ! -x "$BIN" ]]; then
    echo "run.sh: $BIN is not an executable" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-100}
WORKERS=${ST_WORKERS:-1}

TMP=$(mktemp -d -t voltgate-schemathesis.XXXXXX)
REPORT_DIR=${ST_REPORT_DIR:-$TMP/report}
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "${ST_REPORT_DIR:-}" && -f "$TMP/server.log" ]]; then
        cp "$TMP/server.log" "$ST_REPORT_DIR/server.log" || true
    fi
    if [[ $rc -ne 0 && -f "$TMP/server.log" ]]; then
        echo "---- voltgate serve log (last 50 lines) ----" >&2
        tail -n 50 "$TMP/server.log" >&2 || true
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a private copy: a cargo build relinking target/debug/voltgate mid-run must not make
# `migrate` and `serve` different binaries.
cp "$BIN" "$TMP/voltgate"
echo "== voltgate binary: $BIN ($(stat -c '%s bytes, modified %y' "$BIN"))"
BIN="$TMP/voltgate"

echo "== python venv"
"$PYTHON" -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
VPY="$TMP/venv/bin/python"
ST="$TMP/venv/bin/st"
"$ST" --version

free_port() {
    "$VPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)
PORT2=$(free_port)
while [[ "$PORT2" == "$PORT" ]]; do PORT2=$(free_port); done

ADMIN_PASSWORD="schemathesis-admin-pass"
export VOLTGATE__DATABASE__URL="sqlite://$TMP/v.db?mode=rwc"
export VOLTGATE__OCPP__LISTEN="127.0.0.1:$PORT"
export VOLTGATE__API__LISTEN="127.0.0.1:$PORT2"
export VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD="$ADMIN_PASSWORD"
# The fuzzer posts thousands of wrong logins from 127.0.0.1; with the default throttle (20 per
# address in 15 min) the run's own re-login after a revoked token would answer 429.
export VOLTGATE__ACCOUNTS__LOGIN_FAILURES_PER_ADDRESS=1000000
export VOLTGATE__ACCOUNTS__LOGIN_FAILURES_PER_USER=1000000

echo "== voltgate migrate / charger add"
"$BIN" migrate
"$BIN" charger add ST-CP-1 --organisation 1 --password st-cp-1-secret-password
"$BIN" charger add ST-CP-2 --organisation 1 --password st-cp-2-secret-password

echo "== voltgate serve (ocpp 127.0.0.1:$PORT, api 127.0.0.1:$PORT2)"
"$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

port_open() {
    "$VPY" -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)' "$1"
}
for _ in $(seq 1 60); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "run.sh: voltgate serve exited early" >&2
        exit 1
    fi
    if port_open "$PORT2"; then break; fi
    sleep 0.5
done
if ! port_open "$PORT2"; then
    echo "run.sh: API port $PORT2 not accepting connections after 30 s" >&2
    exit 1
fi

BASE="http://127.0.0.1:$PORT2"
# The run's principal: a dedicated operator on the root organisation, made by the bootstrap
# admin. Same permissions as `admin` (an operator on the root too), but the fuzzer then tests
# "own account" routes on a throwaway account, and the admin stays usable for the final check.
export ST_USERNAME="st-operator"
export ST_PASSWORD="schemathesis-operator-pass"
export ST_ROOT_ORG_ID=1
echo "== seeding through the API"
ST_RUN_USER_ID=$("$VPY" "$HERE/seed.py" --base "$BASE" --admin-password "$ADMIN_PASSWORD" \
    --username "$ST_USERNAME" --password "$ST_PASSWORD" --root "$ST_ROOT_ORG_ID")
export ST_RUN_USER_ID
echo "run user $ST_USERNAME has id $ST_RUN_USER_ID"
export SCHEMATHESIS_HOOKS="$HERE/hooks.py"

SEED_ARGS=()
if [[ -n "${ST_SEED:-}" ]]; then SEED_ARGS=(--seed "$ST_SEED"); fi
mkdir -p "$REPORT_DIR"

# No operation is excluded. What would break the run itself is handled so that the operations
# stay under test: revoked tokens (POST /logout, DELETE /me/sessions/{id},
# DELETE /users/{id}/sessions on the run user) are replaced by a fresh login
# (schemathesis.toml); the two requests that would make that login impossible are dropped case
# by case in hooks.py. POST /me/password and the 2FA routes stay in: changing the password needs
# the current one and turning two-factor on needs a valid TOTP code, which the fuzzer cannot
# produce, and deleting or disabling one's own account is refused by the server (403).
#
# Two invocations: the stateful phase does not log in again on a 401, so it gets its own run
# (and so a fresh login) instead of inheriting a token that the last fuzzing request revoked.
# `--continue-on-failure`: report every failing case, not only the first of each scenario.
# `--output-sanitize false`: show real request values (throwaway server and credentials).
# `--generation-database none`: no .hypothesis/ directory left in the work tree.
st_run() {
    local name=$1 phases=$2
    shift 2
    echo "== schemathesis $name: phases $phases, max $MAX_EXAMPLES examples per operation, $WORKERS workers"
    local t0 rc=0
    t0=$(date +%s)
    "$ST" --config-file "$HERE/schemathesis.toml" run "$BASE/api/openapi.json" \
        --url "$BASE" \
        --checks all \
        --phases "$phases" \
        --max-examples "$MAX_EXAMPLES" \
        --workers "$WORKERS" \
        --request-timeout 30 \
        --continue-on-failure \
        --output-sanitize false \
        --generation-database none \
        --report junit,ndjson \
        --report-junit-path "$REPORT_DIR/$name.xml" \
        --report-ndjson-path "$REPORT_DIR/$name.ndjson" \
        --no-color \
        "${SEED_ARGS[@]}" "$@" || rc=$?
    echo "schemathesis $name: exit status $rc after $(( $(date +%s) - t0 )) s"
    return $rc
}
start=$(date +%s)
st_rc=0
st_run unit examples,coverage,fuzzing "$@" || st_rc=$?
st_run stateful stateful "$@" || st_rc=$?
echo "schemathesis: $(( $(date +%s) - start )) s in all"
reports=()
for name in unit stateful; do
    if [[ -f "$REPORT_DIR/$name.ndjson" ]]; then reports+=("$REPORT_DIR/$name.ndjson"); fi
done
if [[ ${#reports[@]} -gt 0 ]]; then
    echo "== failures by class (details: summary.txt beside the reports)"
    "$VPY" "$HERE/summarize.py" "${reports[@]}"
    "$VPY" "$HERE/summarize.py" --examples "${reports[@]}" >"$REPORT_DIR/summary.txt"
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run.sh: voltgate serve died during the run" >&2
    exit 1
fi
# The server must still answer after the run.
"$VPY" -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=10) as r:
    sys.exit(0 if r.status == 200 else 1)' "$BASE" || { echo "run.sh: /healthz failed after the run" >&2; exit 1; }

echo "== stopping voltgate"
kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
if [[ $rc -ne 0 ]]; then
    echo "run.sh: warning: voltgate serve exited with status $rc after SIGTERM" >&2
fi

if [[ $st_rc -ne 0 ]]; then
    echo "schemathesis: FAILED (exit $st_rc)" >&2
    exit "$st_rc"
fi
echo "schemathesis: OK"
