#!/usr/bin/env python3
"""Interop check: drive voltgate with the Python `ocpp` package as a charger.

Usage:
    python interop.py --url ws://127.0.0.1:PORT/ocpp --version 1.6|2.0.1 \
        --id CHARGER_ID --password PASSWORD [--verbose]

The `ocpp` library validates every CALLRESULT the server sends against the
official OCPP JSON schemas (validation is left ON on purpose), so a malformed
answer from voltgate fails this script.

Steps (all on one websocket connection unless noted):
  0. separate connection with a wrong password: the handshake must be refused
     (or the connection closed without any OCPP answer);
  1. BootNotification   -> status Accepted, interval > 0, currentTime sane;
  2. Heartbeat          -> currentTime is an RFC 3339 datetime with a zone;
  3. StatusNotification -> answered (CALLRESULT that passes the schema);
  4. raw frames on the same socket, with the library's receive loop paused:
       `not json`                          -> CALLERROR [4, ...];
       StatusNotification with bad payload -> CALLERROR [4, "x2", ...];
       [2,"x1","Heartbeat",{}]             -> [3, "x1", {"currentTime": ...}];
  5. Heartbeat through the library again: the connection is still usable.

Exit code 0 on success; non-zero with a "FAIL: ..." line on stderr otherwise.
The whole run is bounded by a 20 s timeout.
"""

import argparse
import asyncio
import base64
import json
import logging
import sys
from datetime import datetime, timedelta, timezone

import websockets
from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError
from ocpp.messages import CallError
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as datatypes201

TOTAL_TIMEOUT = 20.0
FRAME_TIMEOUT = 5.0
MAX_CLOCK_SKEW = timedelta(minutes=5)

VENDOR = "PyVendor"
MODEL = "PyModel"
SERIAL = "PY-SN-1"
FIRMWARE = "1.2.3"

# Valid CALLERROR errorCode values per protocol.
# OCPP-J 1.6 table 7 (kept with its typos, see the 1.6 errata sheet §5).
ERROR_CODES_16 = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}
# OCPP 2.0.1 part 4. The spelling of Occur(r)enceConstraintViolation in 2.0.1
# is disputed between implementations, so both are accepted here.
ERROR_CODES_201 = {
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurenceConstraintViolation",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
}


class CheckFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def basic_auth(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def parse_ocpp_datetime(value, what):
    """Parse an OCPP dateTime; it must carry a zone and be near our clock."""
    check(isinstance(value, str), f"{what}: expected a string, got {value!r}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as e:
        raise CheckFailed(f"{what}: {value!r} is not an ISO 8601 datetime ({e})")
    check(dt.tzinfo is not None, f"{what}: {value!r} has no time zone (OCPP wants UTC)")
    skew = abs(datetime.now(timezone.utc) - dt)
    check(skew < MAX_CLOCK_SKEW, f"{what}: {value!r} is {skew} away from local clock")
    return dt


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def connect(url, charger_id, password, version):
    return await websockets.connect(
        f"{url.rstrip('/')}/{charger_id}",
        subprotocols=[f"ocpp{version}"],
        additional_headers=basic_auth(charger_id, password),
        proxy=None,
        open_timeout=FRAME_TIMEOUT,
    )


# --------------------------------------------------------------------------
# step 0: wrong password must not get a working OCPP session
# --------------------------------------------------------------------------
async def check_wrong_password(args):
    try:
        ws = await connect(args.url, args.id, args.password + "-wrong", args.version)
    except websockets.exceptions.InvalidStatus as e:
        status = e.response.status_code
        check(status in (401, 403), f"wrong password: expected HTTP 401/403, got {status}")
        print(f"  wrong password refused with HTTP {status}")
        return
    except websockets.exceptions.InvalidHandshake as e:
        print(f"  wrong password refused ({type(e).__name__}: {e})")
        return
    except OSError as e:
        raise CheckFailed(f"cannot connect: {type(e).__name__}: {e}")
    # Handshake accepted: the server must close instead of serving OCPP.
    try:
        await ws.send('[2,"auth-probe","Heartbeat",{}]')
        frame = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
        raise CheckFailed(f"wrong password: server served OCPP anyway, answered {frame!r}")
    except websockets.exceptions.ConnectionClosed:
        print("  wrong password: handshake accepted but connection closed")
    except asyncio.TimeoutError:
        raise CheckFailed("wrong password: connection accepted and left open")
    finally:
        await ws.close()


# --------------------------------------------------------------------------
# raw frames, used while the library's receive loop is paused
# --------------------------------------------------------------------------
async def recv_reply(ws, want_id=None):
    """Read frames until a CALLRESULT/CALLERROR (optionally with want_id).

    Server-initiated CALLs that arrive meanwhile are answered with
    NotImplemented so the server is not left waiting.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FRAME_TIMEOUT
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise CheckFailed(f"no reply (id={want_id!r}) within {FRAME_TIMEOUT}s")
        try:
            raw = await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            raise CheckFailed(f"no reply (id={want_id!r}) within {FRAME_TIMEOUT}s")
        try:
            msg = json.loads(raw)
        except ValueError:
            raise CheckFailed(f"server sent a frame that is not JSON: {raw!r}")
        check(isinstance(msg, list) and msg, f"server sent a non-array frame: {raw!r}")
        if msg[0] == 2:
            logging.info("answering server CALL %s with NotImplemented", raw)
            await ws.send(json.dumps([4, msg[1], "NotImplemented", "", {}]))
            continue
        check(msg[0] in (3, 4), f"unexpected MessageTypeId in {raw!r}")
        if want_id is not None and msg[1] != want_id:
            logging.warning("ignoring reply with other id: %s", raw)
            continue
        return msg, raw


def check_callerror_shape(msg, raw, version):
    check(msg[0] == 4, f"expected CALLERROR [4, ...], got {raw!r}")
    check(len(msg) == 5, f"CALLERROR must have 5 elements, got {raw!r}")
    _, uid, code, desc, details = msg
    check(isinstance(uid, str), f"CALLERROR uniqueId must be a string: {raw!r}")
    check(isinstance(code, str), f"CALLERROR errorCode must be a string: {raw!r}")
    check(isinstance(desc, str), f"CALLERROR errorDescription must be a string: {raw!r}")
    check(isinstance(details, dict), f"CALLERROR errorDetails must be an object: {raw!r}")
    valid = ERROR_CODES_16 if version == "1.6" else ERROR_CODES_201
    check(code in valid, f"errorCode {code!r} is not valid for OCPP {version}: {raw!r}")


async def raw_checks(ws, version):
    # 1. not JSON at all
    await ws.send("not json")
    msg, raw = await recv_reply(ws)
    check_callerror_shape(msg, raw, version)
    print(f"  'not json' -> {raw}")

    # 2. a well-formed CALL whose payload violates the schema
    await ws.send('[2,"x2","StatusNotification",{"connectorId":"one"}]')
    msg, raw = await recv_reply(ws, "x2")
    check_callerror_shape(msg, raw, version)
    print(f"  invalid StatusNotification payload -> {raw}")

    # 3. the connection still works for a raw Heartbeat
    await ws.send('[2,"x1","Heartbeat",{}]')
    msg, raw = await recv_reply(ws, "x1")
    check(msg[0] == 3, f"raw Heartbeat: expected CALLRESULT [3, \"x1\", ...], got {raw!r}")
    check(len(msg) == 3 and isinstance(msg[2], dict), f"raw Heartbeat: bad CALLRESULT {raw!r}")
    parse_ocpp_datetime(msg[2].get("currentTime"), "raw Heartbeat currentTime")
    print(f"  raw Heartbeat -> {raw}")


# --------------------------------------------------------------------------
# library-driven flow
# --------------------------------------------------------------------------
class RecordingMixin:
    """Remember the last response so a CALLERROR can be told apart from a
    schema validation failure (the library raises OCPPError for both)."""

    last_response = None

    async def _get_specific_response(self, unique_id, timeout):
        resp = await super()._get_specific_response(unique_id, timeout)
        self.last_response = resp
        return resp


class Charger16(RecordingMixin, ChargePoint16):
    pass


class Charger201(RecordingMixin, ChargePoint201):
    pass


def requests_for(version):
    if version == "1.6":
        boot = call16.BootNotification(
            charge_point_vendor=VENDOR,
            charge_point_model=MODEL,
            charge_point_serial_number=SERIAL,
            firmware_version=FIRMWARE,
        )
        status = call16.StatusNotification(
            connector_id=1, error_code="NoError", status="Available"
        )
        return Charger16, boot, call16.Heartbeat, status
    boot = call201.BootNotification(
        charging_station=datatypes201.ChargingStationType(
            vendor_name=VENDOR,
            model=MODEL,
            serial_number=SERIAL,
            firmware_version=FIRMWARE,
        ),
        reason="PowerUp",
    )
    status = call201.StatusNotification(
        timestamp=now_iso(), connector_status="Available", evse_id=1, connector_id=1
    )
    return Charger201, boot, call201.Heartbeat, status


def charging_requests(version):
    """Authorize, a transaction with meter values, a firmware status: an unknown token is
    answered Invalid, which is as schema-bound as Accepted."""
    ts = now_iso()
    if version == "1.6":
        sample = [{"timestamp": ts, "sampled_value": [{"value": "100", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]
        return [
            call16.Authorize(id_tag="PY-TAG"),
            call16.StartTransaction(connector_id=1, id_tag="PY-TAG", meter_start=0, timestamp=ts),
            call16.MeterValues(connector_id=1, meter_value=sample),
            call16.FirmwareStatusNotification(status="Idle"),
        ]
    token = {"id_token": "PY-TAG", "type": "ISO14443"}
    sample = [{"timestamp": ts, "sampled_value": [{"value": 100, "measurand": "Energy.Active.Import.Register"}]}]
    started = call201.TransactionEvent(
        event_type="Started", timestamp=ts, trigger_reason="Authorized", seq_no=0,
        transaction_info={"transaction_id": "PY-TX-1"}, id_token=token,
        evse={"id": 1, "connector_id": 1}, meter_value=sample,
    )
    ended = call201.TransactionEvent(
        event_type="Ended", timestamp=ts, trigger_reason="EVDeparted", seq_no=1,
        transaction_info={"transaction_id": "PY-TX-1", "stopped_reason": "EVDisconnected"},
        meter_value=sample,
    )
    return [
        call201.Authorize(id_token=token),
        started,
        call201.MeterValues(evse_id=1, meter_value=sample),
        ended,
        call201.FirmwareStatusNotification(status="Idle"),
    ]


def boot_for(version):
    """A schema-valid BootNotification of this script's charger, in `version`."""
    if version == "1.6":
        return call16.BootNotification(charge_point_vendor=VENDOR, charge_point_model=MODEL,
                                       charge_point_serial_number=SERIAL, firmware_version=FIRMWARE)
    return call201.BootNotification(
        charging_station=datatypes201.ChargingStationType(
            vendor_name=VENDOR, model=MODEL, serial_number=SERIAL, firmware_version=FIRMWARE),
        reason="PowerUp")


async def offline(ws, task):
    """Stops a station's receive loop and closes its connection, as a charger going away."""
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, websockets.exceptions.ConnectionClosed):
        pass
    await ws.close()


async def lib_call(cp, payload):
    name = type(payload).__name__
    cp.last_response = None
    try:
        # suppress=False: a CALLERROR raises instead of returning None.
        # Schema validation of request and response stays ON.
        resp = await cp.call(payload, suppress=False)
    except OCPPError as e:
        if isinstance(cp.last_response, CallError):
            r = cp.last_response
            raise CheckFailed(
                f"{name}: server answered CALLERROR {r.error_code!r} "
                f"{r.error_description!r} {r.error_details!r}"
            )
        if cp.last_response is None:
            raise CheckFailed(f"{name}: our own request failed schema validation: {e}")
        raise CheckFailed(
            f"{name}: server response {cp.last_response.payload!r} "
            f"failed OCPP {cp._ocpp_version} schema validation: {e}"
        )
    except UnknownCallErrorCodeError as e:
        raise CheckFailed(f"{name}: server answered CALLERROR with unknown code: {e}")
    except asyncio.TimeoutError:
        raise CheckFailed(f"{name}: no answer from server")
    check(resp is not None, f"{name}: no result")
    print(f"  {name} -> {resp}")
    return resp


async def run(args):
    print(f"OCPP {args.version} as {args.id} against {args.url}")
    await check_wrong_password(args)

    cp_cls, boot, heartbeat_cls, status = requests_for(args.version)
    try:
        ws = await connect(args.url, args.id, args.password, args.version)
    except websockets.exceptions.InvalidStatus as e:
        raise CheckFailed(f"handshake refused: HTTP {e.response.status_code}")
    except (websockets.exceptions.InvalidHandshake, OSError) as e:
        raise CheckFailed(f"cannot connect: {type(e).__name__}: {e}")

    try:
        check(
            ws.subprotocol == f"ocpp{args.version}",
            f"server selected subprotocol {ws.subprotocol!r}, expected 'ocpp{args.version}'",
        )
        cp = cp_cls(args.id, ws, response_timeout=FRAME_TIMEOUT)
        loop_task = asyncio.create_task(cp.start())
        try:
            resp = await lib_call(cp, boot)
            check(resp.status == "Accepted", f"BootNotification status {resp.status!r} != Accepted")
            check(
                isinstance(resp.interval, int) and resp.interval > 0,
                f"BootNotification interval {resp.interval!r} is not > 0",
            )
            parse_ocpp_datetime(resp.current_time, "BootNotification currentTime")

            resp = await lib_call(cp, heartbeat_cls())
            parse_ocpp_datetime(resp.current_time, "Heartbeat currentTime")

            await lib_call(cp, status)
            # Charging: the library validates every answer against the official schemas.
            for payload in charging_requests(args.version):
                resp = await lib_call(cp, payload)
                if type(payload).__name__ == "StartTransaction":
                    check(isinstance(resp.transaction_id, int), f"transactionId {resp.transaction_id!r}")
                    stop = call16.StopTransaction(meter_stop=500, timestamp=now_iso(), transaction_id=resp.transaction_id)
                    await lib_call(cp, stop)
        finally:
            loop_task.cancel()
            try:
                await loop_task
            except asyncio.CancelledError:
                pass
            except websockets.exceptions.ConnectionClosed as e:
                raise CheckFailed(f"server closed the connection: {e}")

        # Pause the library's loop and talk raw on the same socket.
        await raw_checks(ws, args.version)

        # Resume the library: one more Heartbeat must still work.
        loop_task = asyncio.create_task(cp.start())
        try:
            resp = await lib_call(cp, heartbeat_cls())
            parse_ocpp_datetime(resp.current_time, "Heartbeat currentTime (after raw frames)")
        finally:
            loop_task.cancel()
            try:
                await loop_task
            except (asyncio.CancelledError, websockets.exceptions.ConnectionClosed):
                pass
    except websockets.exceptions.ConnectionClosed as e:
        raise CheckFailed(f"server closed the connection: {e}")
    finally:
        await ws.close()


def charger_arguments(doc):
    """The command line every script here that plays one charger takes."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:9000/ocpp")
    ap.add_argument("--version", required=True, choices=["1.6", "2.0.1"])
    ap.add_argument("--id", required=True, help="charger identity (also Basic auth user)")
    ap.add_argument("--password", required=True, help="Basic auth password")
    ap.add_argument("--verbose", action="store_true", help="log every OCPP frame")
    return ap


def setup_logging(verbose):
    """Frames only with --verbose; the library's own CALLERROR warnings never, since every
    script reports the CALLERRORs it gets itself."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("ocpp").setLevel(logging.CRITICAL)


def main():
    args = charger_arguments(__doc__).parse_args()
    setup_logging(args.verbose)

    try:
        asyncio.run(asyncio.wait_for(run(args), TOTAL_TIMEOUT))
    except CheckFailed as e:
        print(f"FAIL (OCPP {args.version}, {args.id}): {e}", file=sys.stderr)
        return 1
    except (asyncio.TimeoutError, TimeoutError):
        print(f"FAIL (OCPP {args.version}, {args.id}): timed out after {TOTAL_TIMEOUT}s", file=sys.stderr)
        return 1
    except OCPPError as e:
        # e.g. a schema validation failure of the server's CALLRESULT
        print(f"FAIL (OCPP {args.version}, {args.id}): invalid server response: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - any other failure is a failure too
        print(f"FAIL (OCPP {args.version}, {args.id}): {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"OK (OCPP {args.version}, {args.id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
