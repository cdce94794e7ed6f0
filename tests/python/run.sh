#!/usr/bin/env bash
# Interop check: drive voltgate with the Python `ocpp` package as an OCPP 1.6
# and an OCPP 2.0.1 charger (interop.py), then send it every charger-initiated
# action of both versions (every_action.py), play the maintenance loop
# (a 2.0.1 station and an engineer on the HTTP API, maintenance_loop.py), and
# rotate a 1.6 and a 2.0.1 charger's password (password_rotation.py), and take both through
# certificates, signed firmware and logs (security_lifecycle.py), and keep their local
# authorisation lists in step (local_list.py).
# Usage: tests/python/run.sh PATH_TO_VOLTGATE_BINARY
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PATH_TO_VOLTGATE_BINARY" >&2
    exit 2
fi
BIN=$(realpath "$1")
if [[ ! -x "$BIN" ]]; then
    echo "run.sh: $BIN is not an executable" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}

TMP=$(mktemp -d -t voltgate-pyinterop.XXXXXX)
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
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

echo "== python venv"
"$PYTHON" -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
VPY="$TMP/venv/bin/python"

free_port() {
    "$VPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
PORT=$(free_port)
PORT2=$(free_port)
while [[ "$PORT2" == "$PORT" ]]; do PORT2=$(free_port); done

export VOLTGATE__DATABASE__URL="sqlite://$TMP/voltgate.db?mode=rwc"
export VOLTGATE__OCPP__LISTEN="127.0.0.1:$PORT"
export VOLTGATE__API__LISTEN="127.0.0.1:$PORT2"
export VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD="interop-admin-pass"
# voltgate's charger CA, for security_lifecycle.py.
export VOLTGATE__CA__CERT_FILE="$TMP/charger-ca.pem" VOLTGATE__CA__KEY_FILE="$TMP/charger-ca.key"

echo "== voltgate migrate / ca init / charger add"
"$BIN" migrate
"$BIN" ca init
"$BIN" charger add PY16 --organisation 1 --password py16-secret-password
"$BIN" charger add PY201 --organisation 1 --password py201-secret-password
"$BIN" charger add PY16ALL --organisation 1 --password py16all-secret-password
"$BIN" charger add PY201ALL --organisation 1 --password py201all-secret-password

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
    if port_open "$PORT"; then break; fi
    sleep 0.5
done
if ! port_open "$PORT"; then
    echo "run.sh: OCPP port $PORT not accepting connections after 30 s" >&2
    exit 1
fi

URL="ws://127.0.0.1:$PORT/ocpp"
echo "== OCPP 1.6"
"$VPY" "$HERE/interop.py" --url "$URL" --version 1.6 --id PY16 --password py16-secret-password
echo "== OCPP 2.0.1"
"$VPY" "$HERE/interop.py" --url "$URL" --version 2.0.1 --id PY201 --password py201-secret-password
# Every charger-initiated action, on chargers of their own (the transactions and
# reports they leave behind stay out of interop.py's way). Both versions run even
# if the first fails, so one log shows every missing action.
every_rc=0
echo "== every charger action, OCPP 1.6"
"$VPY" "$HERE/every_action.py" --url "$URL" --version 1.6 --id PY16ALL --password py16all-secret-password || every_rc=1
echo "== every charger action, OCPP 2.0.1"
"$VPY" "$HERE/every_action.py" --url "$URL" --version 2.0.1 --id PY201ALL --password py201all-secret-password || every_rc=1
if [[ $every_rc -ne 0 ]]; then
    echo "run.sh: every_action.py: some charger actions failed (FAIL lines above)" >&2
    exit 1
fi

# The maintenance loop: a 2.0.1 station and an engineer on the HTTP API.
for _ in $(seq 1 20); do
    if port_open "$PORT2"; then break; fi
    sleep 0.5
done
echo "== maintenance loop (OCPP 2.0.1 station + HTTP API)"
"$VPY" "$HERE/maintenance_loop.py" --url "$URL" --api "http://127.0.0.1:$PORT2/api/v1" \
    --admin-user admin --admin-password "$VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD"

echo "== password rotation (OCPP 1.6 and 2.0.1 chargers + HTTP API)"
"$VPY" "$HERE/password_rotation.py" --url "$URL" --api "http://127.0.0.1:$PORT2/api/v1" \
    --admin-user admin --admin-password "$VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD"

echo "== certificates, signed firmware and logs (OCPP 1.6 and 2.0.1 chargers + HTTP API)"
"$VPY" "$HERE/security_lifecycle.py" --url "$URL" --api "http://127.0.0.1:$PORT2/api/v1" \
    --admin-password "$VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD" --ca-file "$VOLTGATE__CA__CERT_FILE"

echo "== local authorisation lists (OCPP 1.6 and 2.0.1 chargers + HTTP API)"
"$VPY" "$HERE/local_list.py" --url "$URL" --api "http://127.0.0.1:$PORT2/api/v1" \
    --admin-password "$VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD"

echo "== stopping voltgate"
kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
if [[ $rc -ne 0 ]]; then
    echo "run.sh: warning: voltgate serve exited with status $rc after SIGTERM" >&2
fi

echo "python ocpp interop: OK"
