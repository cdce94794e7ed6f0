#!/usr/bin/env python3
"""Every charger-initiated action: send each one to voltgate, want a valid answer.

Usage:
    python every_action.py --url ws://127.0.0.1:PORT/ocpp --version 1.6|2.0.1 \
        --id CHARGER_ID --password PASSWORD [--verbose]

interop.py checks one charging session in depth; this checks breadth. Over one
websocket connection it sends one schema-valid sample of EVERY message a
charger may send to the CSMS:
  - OCPP 1.6: the ten core actions plus the four of the 1.6 security extension
    ("Improved security for OCPP 1.6-J": SecurityEventNotification,
    SignedFirmwareStatusNotification, LogStatusNotification, SignCertificate);
  - OCPP 2.0.1: all charging-station-to-CSMS actions of part 2.
For each it requires a CALLRESULT (a CALLERROR of any code is a failure) whose
payload passes the official response schema: `ChargePoint.call` validates the
request before sending and the answer on receipt (validation stays ON).

The samples form a plausible session: BootNotification first (it must be
Accepted before anything else counts), RFC 3339 UTC timestamps, a 1.6
StopTransaction for the transactionId the server handed out, a 2.0.1
TransactionEvent Started and Ended sharing one transactionId.

The table is checked against the schemas shipped with the `ocpp` package:
every request schema must be either sent here or listed as CSMS-initiated, so
a package upgrade that adds a charger message fails here instead of being
skipped unnoticed.

Output: one line per action (`ok   V16 DataTransfer`,
`FAIL V201 NotifyEvent: <why>`); every action is tried even after failures.
Exit code 0 if all passed, 1 otherwise.
"""

import asyncio
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional

import ocpp
import websockets
from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError
from ocpp.messages import CallError
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

# Shared with interop.py, which sits next to this file.
from interop import (
    charger_arguments,
    setup_logging,
    FIRMWARE,
    FRAME_TIMEOUT,
    MODEL,
    SERIAL,
    VENDOR,
    Charger16,
    Charger201,
    CheckFailed,
    check,
    connect,
    now_iso,
)

# Bounds the run even if every call times out; each call has FRAME_TIMEOUT.
TOTAL_TIMEOUT = 120.0

ID_TAG_16 = "PY-TAG"
ID_TOKEN_201 = {"id_token": "PY-TAG", "type": "ISO14443"}

# A real PKCS#10 request (EC P-256, CN = the serial number in BootNotification,
# O = the vendor), made once with `openssl req -new -newkey ec ...`; its key was
# thrown away since no certificate is ever installed from it.
CSR_PEM = """-----BEGIN CERTIFICATE REQUEST-----
MIHhMIGHAgEAMCUxEDAOBgNVBAMMB1BZLVNOLTExETAPBgNVBAoMCFB5VmVuZG9y
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETDvRW0l843WFXhTiDy+gLk65r3F5
xmQhmpB3/0wpU81YT0S0S/hiLI2lnWdiKJzT2PsNKiQ/9+KTEUE1ruRih6AAMAoG
CCqGSM49BAMCA0kAMEYCIQD+BlGNaAJcpmFcj5GoegWGlKeOtlisWb+9fLPxntG5
GgIhANgcteJhTNFhKECMqhBBLWHNITJ7Rj+HDC0HWqhxvkG8
-----END CERTIFICATE REQUEST-----
"""

# URLs the CSMS might be tempted to fetch: loopback only (port 9 is discard,
# nothing listens), so an implementation that does reach out stays on this box.
OCSP_RESPONDER_URL = "http://127.0.0.1:9/ocsp"
FIRMWARE_PUBLISH_URL = "http://127.0.0.1:9/firmware/PyModel-1.2.3.bin"

# Request schemas in the package whose message only the CSMS sends. Anything
# else with a request schema must have a step below (DataTransfer goes both
# ways and is sent).
CSMS_INITIATED = {
    "1.6": {
        "CancelReservation", "CertificateSigned", "ChangeAvailability",
        "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
        "DeleteCertificate", "ExtendedTriggerMessage", "GetCompositeSchedule",
        "GetConfiguration", "GetDiagnostics", "GetInstalledCertificateIds",
        "GetLocalListVersion", "GetLog", "InstallCertificate",
        "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset",
        "SendLocalList", "SetChargingProfile", "SignedUpdateFirmware",
        "TriggerMessage", "UnlockConnector", "UpdateFirmware",
    },
    "2.0.1": {
        "CancelReservation", "CertificateSigned", "ChangeAvailability",
        "ClearCache", "ClearChargingProfile", "ClearDisplayMessage",
        "ClearVariableMonitoring", "CostUpdated", "CustomerInformation",
        "DeleteCertificate", "GetBaseReport", "GetChargingProfiles",
        "GetCompositeSchedule", "GetDisplayMessages", "GetInstalledCertificateIds",
        "GetLocalListVersion", "GetLog", "GetMonitoringReport", "GetReport",
        "GetTransactionStatus", "GetVariables", "InstallCertificate",
        "PublishFirmware", "RequestStartTransaction", "RequestStopTransaction",
        "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
        "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel",
        "SetNetworkProfile", "SetVariableMonitoring", "SetVariables",
        "TriggerMessage", "UnlockConnector", "UnpublishFirmware", "UpdateFirmware",
    },
}


def in_hours(hours):
    t = datetime.now(timezone.utc) + timedelta(hours=hours)
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Step:
    """One line of output: `build` makes the payload (or the parts of a
    multi-part message) when the step runs, so it can use what earlier steps
    learnt; `after` checks or records an answer beyond the schema."""

    action: str
    build: Callable[["Context"], Any]
    label: Optional[str] = None
    after: Optional[Callable[["Context", Any], None]] = None


class Context:
    def __init__(self):
        self.transaction_id_16 = None  # assigned by the server in StartTransaction
        self.transaction_id_201 = str(uuid.uuid4())  # chosen by the station in 2.0.1


def boot_accepted(ctx, resp):
    check(resp.status == "Accepted", f"status {resp.status!r}, want Accepted")


# --------------------------------------------------------------------------
# OCPP 1.6
# --------------------------------------------------------------------------
def remember_transaction_16(ctx, resp):
    check(isinstance(resp.transaction_id, int), f"transactionId {resp.transaction_id!r}")
    ctx.transaction_id_16 = resp.transaction_id


def stop_transaction_16(ctx):
    if ctx.transaction_id_16 is None:
        raise CheckFailed("not sent: StartTransaction gave no transactionId to stop")
    return call16.StopTransaction(
        meter_stop=1500, timestamp=now_iso(), transaction_id=ctx.transaction_id_16,
        id_tag=ID_TAG_16, reason="Local",
    )


def energy_16(wh, context):
    return [{
        "timestamp": now_iso(),
        "sampled_value": [{
            "value": str(wh), "context": context,
            "measurand": "Energy.Active.Import.Register", "unit": "Wh",
        }],
    }]


def steps_16():
    # The 1.6 dataclasses of ocpp 2.1.0 make some optional fields positional
    # (SecurityEventNotification.tech_info, the two request_id below); None
    # leaves them out of the frame, as the schemas allow.
    return [
        Step("BootNotification", lambda c: call16.BootNotification(
            charge_point_vendor=VENDOR, charge_point_model=MODEL,
            charge_point_serial_number=SERIAL, firmware_version=FIRMWARE,
        ), after=boot_accepted),
        Step("Heartbeat", lambda c: call16.Heartbeat()),
        Step("StatusNotification", lambda c: call16.StatusNotification(
            connector_id=1, error_code="NoError", status="Available", timestamp=now_iso(),
        )),
        Step("SecurityEventNotification", lambda c: call16.SecurityEventNotification(
            type="StartupOfTheDevice", timestamp=now_iso(), tech_info="cold boot",
        )),
        Step("Authorize", lambda c: call16.Authorize(id_tag=ID_TAG_16)),
        Step("StartTransaction", lambda c: call16.StartTransaction(
            connector_id=1, id_tag=ID_TAG_16, meter_start=1000, timestamp=now_iso(),
        ), after=remember_transaction_16),
        Step("MeterValues", lambda c: call16.MeterValues(
            connector_id=1, transaction_id=c.transaction_id_16,
            meter_value=energy_16(1250, "Sample.Periodic"),
        )),
        Step("StopTransaction", stop_transaction_16),
        Step("DataTransfer", lambda c: call16.DataTransfer(
            vendor_id="com.pyvendor", message_id="Ping", data='{"seq":1}',
        )),
        # The notifications below report "nothing going on", the state in
        # which the specs allow leaving requestId out.
        Step("DiagnosticsStatusNotification", lambda c: call16.DiagnosticsStatusNotification(status="Idle")),
        Step("FirmwareStatusNotification", lambda c: call16.FirmwareStatusNotification(status="Idle")),
        Step("SignedFirmwareStatusNotification", lambda c: call16.SignedFirmwareStatusNotification(
            status="Idle", request_id=None,
        )),
        Step("LogStatusNotification", lambda c: call16.LogStatusNotification(status="Idle", request_id=None)),
        Step("SignCertificate", lambda c: call16.SignCertificate(csr=CSR_PEM)),
    ]


# --------------------------------------------------------------------------
# OCPP 2.0.1
# --------------------------------------------------------------------------
def attr(value, mutability, persistent, constant, type_="Actual"):
    return {"type": type_, "value": value, "mutability": mutability,
            "persistent": persistent, "constant": constant}


def report_entry(component, variable, attributes, data_type, supports_monitoring, unit=None):
    chars = {"data_type": data_type, "supports_monitoring": supports_monitoring}
    if unit is not None:
        chars["unit"] = unit
    return {"component": component, "variable": variable,
            "variable_attribute": attributes, "variable_characteristics": chars}


def notify_report_201(ctx):
    """A base report in two parts, as a station answers GetBaseReport requestId 1."""
    evse1 = {"id": 1}
    connector1 = {"id": 1, "connector_id": 1}
    part0 = [
        report_entry({"name": "ChargingStation"}, {"name": "Available"},
                     [attr("true", "ReadOnly", False, False)], "boolean", True),
        report_entry({"name": "EVSE", "evse": evse1}, {"name": "Power"},
                     [attr("0", "ReadOnly", False, False),
                      attr("22000", "ReadOnly", True, True, type_="MaxSet")],
                     "decimal", True, unit="W"),
        report_entry({"name": "Connector", "evse": connector1}, {"name": "ConnectorType"},
                     [attr("cType2", "ReadOnly", True, True)], "string", False),
    ]
    part1 = [
        report_entry({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"},
                     [attr("300", "ReadWrite", True, False)], "integer", False, unit="s"),
        report_entry({"name": "OCPPCommCtrlr"}, {"name": "MessageTimeout", "instance": "Default"},
                     [attr("30", "ReadOnly", True, False)], "integer", False, unit="s"),
        report_entry({"name": "TokenReader", "instance": "Front"}, {"name": "Enabled"},
                     [attr("true", "ReadWrite", True, False)], "boolean", False),
    ]
    generated = now_iso()
    return [
        call201.NotifyReport(request_id=1, generated_at=generated, seq_no=0, tbc=True, report_data=part0),
        call201.NotifyReport(request_id=1, generated_at=generated, seq_no=1, tbc=False, report_data=part1),
    ]


def energy_201(wh, context):
    return [{
        "timestamp": now_iso(),
        "sampled_value": [{
            "value": wh, "context": context,
            "measurand": "Energy.Active.Import.Register",
            "unit_of_measure": {"unit": "Wh"},
        }],
    }]


def schedule_201(unit, limit, start=None, duration=None):
    s = {"id": 1, "charging_rate_unit": unit,
         "charging_schedule_period": [{"start_period": 0, "limit": limit, "number_phases": 3}]}
    if start is not None:
        s["start_schedule"] = start
    if duration is not None:
        s["duration"] = duration
    return s


def steps_201():
    evse1 = {"id": 1, "connector_id": 1}
    return [
        Step("BootNotification", lambda c: call201.BootNotification(
            charging_station={"vendor_name": VENDOR, "model": MODEL,
                              "serial_number": SERIAL, "firmware_version": FIRMWARE},
            reason="PowerUp",
        ), after=boot_accepted),
        Step("Heartbeat", lambda c: call201.Heartbeat()),
        Step("StatusNotification", lambda c: call201.StatusNotification(
            timestamp=now_iso(), connector_status="Available", evse_id=1, connector_id=1,
        )),
        Step("SecurityEventNotification", lambda c: call201.SecurityEventNotification(
            type="StartupOfTheDevice", timestamp=now_iso(), tech_info="cold boot",
        )),
        Step("NotifyReport", notify_report_201),
        Step("NotifyMonitoringReport", lambda c: call201.NotifyMonitoringReport(
            request_id=2, seq_no=0, generated_at=now_iso(), tbc=False,
            monitor=[{
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
                "variable_monitoring": [{"id": 1, "transaction": False, "value": 22000.0,
                                         "type": "UpperThreshold", "severity": 4}],
            }],
        )),
        Step("NotifyEvent", lambda c: call201.NotifyEvent(
            generated_at=now_iso(), seq_no=0, tbc=False,
            event_data=[{
                "event_id": 1, "timestamp": now_iso(), "trigger": "Alerting",
                "actual_value": "true", "tech_code": "E42", "tech_info": "ground fault",
                "cleared": False,
                "component": {"name": "ConnectorPlugRetentionLock", "evse": evse1},
                "variable": {"name": "Problem"},
                "event_notification_type": "HardWiredNotification",
            }],
        )),
        Step("Authorize", lambda c: call201.Authorize(id_token=ID_TOKEN_201)),
        Step("TransactionEvent", lambda c: call201.TransactionEvent(
            event_type="Started", timestamp=now_iso(), trigger_reason="Authorized", seq_no=0,
            transaction_info={"transaction_id": c.transaction_id_201, "charging_state": "Charging"},
            id_token=ID_TOKEN_201, evse=evse1, meter_value=energy_201(1000, "Transaction.Begin"),
        ), label="TransactionEvent (Started)"),
        # ISO 15118 traffic and charging limits belong inside a transaction.
        Step("NotifyEVChargingNeeds", lambda c: call201.NotifyEVChargingNeeds(
            evse_id=1,
            charging_needs={
                "requested_energy_transfer": "AC_three_phase",
                "departure_time": in_hours(4),
                "ac_charging_parameters": {"energy_amount": 20000, "ev_min_current": 6,
                                           "ev_max_current": 32, "ev_max_voltage": 400},
            },
        )),
        Step("NotifyEVChargingSchedule", lambda c: call201.NotifyEVChargingSchedule(
            time_base=now_iso(), evse_id=1, charging_schedule=schedule_201("W", 11000.0, duration=7200),
        )),
        Step("Get15118EVCertificate", lambda c: call201.Get15118EVCertificate(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef", action="Install",
            # base64 of an EXI stream; the CSMS forwards it opaquely to a PKI.
            exi_request="gJgEBAZYMDA0MDUwNjA3MDgwOTBBMEIwQzBEMEUwRjEw",
        )),
        Step("NotifyChargingLimit", lambda c: call201.NotifyChargingLimit(
            evse_id=1, charging_limit={"charging_limit_source": "EMS", "is_grid_critical": False},
            charging_schedule=[schedule_201("A", 16.0, start=now_iso(), duration=3600)],
        )),
        Step("ClearedChargingLimit", lambda c: call201.ClearedChargingLimit(
            charging_limit_source="EMS", evse_id=1,
        )),
        Step("ReportChargingProfiles", lambda c: call201.ReportChargingProfiles(
            request_id=3, charging_limit_source="CSO", evse_id=1, tbc=False,
            charging_profile=[{
                "id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                "charging_profile_kind": "Absolute",
                "charging_schedule": [schedule_201("A", 32.0, start=now_iso())],
            }],
        )),
        # evseId 0: the station's main meter, the usual subject of MeterValues
        # in 2.0.1 (transaction meter values travel in TransactionEvent).
        Step("MeterValues", lambda c: call201.MeterValues(
            evse_id=0, meter_value=energy_201(54321, "Sample.Periodic"),
        )),
        Step("TransactionEvent", lambda c: call201.TransactionEvent(
            event_type="Ended", timestamp=now_iso(), trigger_reason="EVDeparted", seq_no=1,
            transaction_info={"transaction_id": c.transaction_id_201, "stopped_reason": "EVDisconnected"},
            evse=evse1, meter_value=energy_201(2500, "Transaction.End"),
        ), label="TransactionEvent (Ended)"),
        Step("GetCertificateStatus", lambda c: call201.GetCertificateStatus(
            ocsp_request_data={
                "hash_algorithm": "SHA256",
                "issuer_name_hash": "8a2d5e1f3c4b6a7980e1f2d3c4b5a69788e9f0a1b2c3d4e5f60718293a4b5c6d",
                "issuer_key_hash": "1f2e3d4c5b6a79880716253443526170f1e2d3c4b5a69788e9f0a1b2c3d4e5f6",
                "serial_number": "4D2A1F",
                "responder_url": OCSP_RESPONDER_URL,
            },
        )),
        Step("SignCertificate", lambda c: call201.SignCertificate(
            csr=CSR_PEM, certificate_type="ChargingStationCertificate",
        )),
        Step("FirmwareStatusNotification", lambda c: call201.FirmwareStatusNotification(status="Idle")),
        Step("PublishFirmwareStatusNotification", lambda c: call201.PublishFirmwareStatusNotification(
            status="Published", location=[FIRMWARE_PUBLISH_URL], request_id=4,
        )),
        Step("LogStatusNotification", lambda c: call201.LogStatusNotification(status="Idle")),
        Step("NotifyCustomerInformation", lambda c: call201.NotifyCustomerInformation(
            data="idToken PY-TAG: no data stored", seq_no=0, generated_at=now_iso(),
            request_id=5, tbc=False,
        )),
        Step("NotifyDisplayMessages", lambda c: call201.NotifyDisplayMessages(
            request_id=6, tbc=False,
            message_info=[{
                "id": 1, "priority": "NormalCycle", "state": "Idle",
                "message": {"format": "UTF8", "language": "en", "content": "Welcome"},
            }],
        )),
        Step("ReservationStatusUpdate", lambda c: call201.ReservationStatusUpdate(
            reservation_id=1, reservation_update_status="Expired",
        )),
        # 2.0.1 lets data be any JSON value (1.6: a string only); an object
        # checks that the CSMS does not assume a string.
        Step("DataTransfer", lambda c: call201.DataTransfer(
            vendor_id="com.pyvendor", message_id="Ping", data={"seq": 1},
        )),
    ]


# --------------------------------------------------------------------------
# running the table
# --------------------------------------------------------------------------
def schema_actions(version):
    """Actions with a request schema in the installed package."""
    d = Path(ocpp.__file__).parent / ("v16" if version == "1.6" else "v201") / "schemas"
    if version == "1.6":
        # 1.6 names requests X.json and answers XResponse.json.
        return {p.stem for p in d.glob("*.json") if not p.stem.endswith("Response")}
    return {p.stem[: -len("Request")] for p in d.glob("*Request.json")}


def table_problems(version, steps):
    known = schema_actions(version)
    sent = {s.action for s in steps}
    problems = [f"{a}: has a request schema but no step sends it"
                for a in sorted(known - CSMS_INITIATED[version] - sent)]
    problems += [f"{a}: sent but the package has no request schema for it"
                 for a in sorted(sent - known)]
    return problems


async def call_checked(cp, payload):
    cp.last_response = None
    try:
        # suppress=False: a CALLERROR raises instead of returning None.
        return await cp.call(payload, suppress=False)
    except (OCPPError, UnknownCallErrorCodeError) as e:
        r = cp.last_response
        if isinstance(r, CallError):
            raise CheckFailed(f"CALLERROR {r.error_code} {r.error_description!r} {r.error_details!r}")
        # A validation error's "cause" names the offending field; the rest is boilerplate.
        details = getattr(e, "details", None)
        why = details.get("cause", e) if isinstance(details, dict) else e
        if r is None:
            raise CheckFailed(f"our own request fails the OCPP schema (fix the sample): {why}")
        raise CheckFailed(f"response {r.payload!r} fails the OCPP schema: {why}")
    except asyncio.TimeoutError:
        raise CheckFailed(f"no answer within {FRAME_TIMEOUT}s")
    except TypeError as e:
        # The library builds its call_result dataclass from the answer's keys.
        if cp.last_response is None:
            raise
        raise CheckFailed(f"response {cp.last_response.payload!r} does not fit the library's type: {e}")


async def run_step(cp, ctx, step):
    payloads = step.build(ctx)
    if not isinstance(payloads, list):
        payloads = [payloads]
    for i, payload in enumerate(payloads):
        check(type(payload).__name__ == step.action, f"table bug: step builds {type(payload).__name__}")
        try:
            resp = await call_checked(cp, payload)
            if step.after:
                step.after(ctx, resp)
        except CheckFailed as e:
            if len(payloads) > 1:
                raise CheckFailed(f"part {i + 1} of {len(payloads)}: {e}")
            raise


async def run(args):
    tag = "V16" if args.version == "1.6" else "V201"
    steps = steps_16() if args.version == "1.6" else steps_201()
    failures = 0

    for problem in table_problems(args.version, steps):
        print(f"FAIL {tag} (table) {problem}")
        failures += 1

    try:
        ws = await connect(args.url, args.id, args.password, args.version)
    except websockets.exceptions.InvalidStatus as e:
        raise CheckFailed(f"handshake refused: HTTP {e.response.status_code}")
    except (websockets.exceptions.InvalidHandshake, OSError) as e:
        raise CheckFailed(f"cannot connect: {type(e).__name__}: {e}")

    cp_cls = Charger16 if args.version == "1.6" else Charger201
    cp = cp_cls(args.id, ws, response_timeout=FRAME_TIMEOUT)
    # The library's loop also answers any CALL the server sends us meanwhile
    # (with NotImplemented), so the server is never left waiting.
    loop_task = asyncio.create_task(cp.start())
    ctx = Context()
    deadline = asyncio.get_running_loop().time() + TOTAL_TIMEOUT
    try:
        for step in steps:
            name = f"{tag} {step.label or step.action}"
            try:
                if asyncio.get_running_loop().time() > deadline:
                    raise CheckFailed(f"not sent: run already took over {TOTAL_TIMEOUT}s")
                await run_step(cp, ctx, step)
                print(f"ok   {name}")
            except CheckFailed as e:
                print(f"FAIL {name}: {e}")
                failures += 1
            except websockets.exceptions.ConnectionClosed as e:
                print(f"FAIL {name}: connection closed: {e}")
                failures += 1
            except Exception as e:  # noqa: BLE001 - report it and go on with the next action
                print(f"FAIL {name}: {type(e).__name__}: {e}")
                failures += 1
    finally:
        loop_task.cancel()
        try:
            await loop_task
        except (asyncio.CancelledError, websockets.exceptions.ConnectionClosed):
            pass
        await ws.close()
    return failures, len(steps)


def main():
    args = charger_arguments(__doc__).parse_args()
    setup_logging(args.verbose)

    who = f"OCPP {args.version}, {args.id}"
    try:
        failures, total = asyncio.run(run(args))
    except CheckFailed as e:
        print(f"FAIL ({who}): {e}", file=sys.stderr)
        return 1
    if failures:
        print(f"FAIL ({who}): {failures} failure(s) over {total} actions", file=sys.stderr)
        return 1
    print(f"OK ({who}): all {total} actions answered with a valid CALLRESULT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
