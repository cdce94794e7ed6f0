#!/usr/bin/env python3
"""Maintenance loop, end to end: an OCPP 2.0.1 station and an engineer on the HTTP API.

Usage:
    python maintenance_loop.py --url ws://127.0.0.1:OCPP_PORT/ocpp \
        --api http://127.0.0.1:API_PORT/api/v1 \
        --admin-user admin --admin-password PASSWORD [--verbose]

The station is played with the `ocpp` package (schema validation ON in both
directions: our requests and handler answers, and voltgate's answers and
CALLs); the engineer uses the HTTP API through urllib.

  1. admin creates organisations A and B under the root, charger PYLOOP in A,
     users mnt-a (maintenance on A) and mnt-b (maintenance on B); both log in;
  2. PYLOOP connects and boots (Accepted);
  3. fault: NotifyEvent ConnectorPlugRetentionLock/Problem techCode E42 ->
     mnt-a sees the fault on the charger, in the dashboard and in
     `?faulted=true`; mnt-b sees neither the charger (404) nor the fault;
     the cleared NotifyEvent empties the faults again;
  4. device model: mnt-a asks for a report (GetBaseReport, answered Accepted),
     the station sends NotifyReport in two parts; `GET .../variables` lists
     them with the variable instance, the password's value null;
  5. SetVariables with a variable instance: the station gets
     OCPPCommCtrlr/MessageAttempts[TransactionEvent] and accepts it; the
     stored value becomes "5".

Output: one `ok   ...` / `FAIL ...` line per check; exit 1 on any failure.
The whole run is bounded by a 30 s timeout.
"""

import argparse
import asyncio
import json
import logging
import sys
import urllib.error
import urllib.parse
import urllib.request

import websockets
from ocpp.routing import on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as datatypes201

# Shared with the other checks next to this file.
from interop import (
    setup_logging,
    FIRMWARE,
    FRAME_TIMEOUT,
    MODEL,
    SERIAL,
    VENDOR,
    Charger201,
    CheckFailed,
    connect,
    lib_call,
    now_iso,
)

TOTAL_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0

CHARGER_ID = "PYLOOP"
CHARGER_PASSWORD = "pyloop-secret-password"
USER_PASSWORD = "Loop-test-password-83!"

FAULT_COMPONENT = {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1, "connector_id": 1}}
FAULT_VARIABLE = {"name": "Problem"}


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------
class Results:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return bool(cond)

    def must(self, cond, name, detail=""):
        """A check later steps depend on: stop the run when it fails."""
        if not self.check(cond, name, detail):
            raise CheckFailed(f"cannot go on after: {name}")


R = Results()


# --------------------------------------------------------------------------
# HTTP API (stdlib only); blocking, so always called through asyncio.to_thread
# --------------------------------------------------------------------------
class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def request(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        logging.info("%s %s %s -> %s %s", method, path, body, status, payload)
        return status, payload

    async def call(self, method, path, body=None, token=None):
        return await asyncio.to_thread(self.request, method, path, body, token)


async def expect(api, method, path, body=None, token=None, want=(200,), name=None):
    """A request whose status must be in `want` for the run to go on."""
    status, payload = await api.call(method, path, body, token)
    R.must(status in want, name or f"{method} {path} -> {status}", f"HTTP {status}: {payload!r}")
    return payload


async def login(api, username, password):
    body = await expect(api, "POST", "/login", {"username": username, "password": password},
                        name=f"login {username}")
    token = body.get("token") if isinstance(body, dict) else None
    R.must(isinstance(token, str) and token, f"login {username}: token", f"answer {body!r}")
    return token


# --------------------------------------------------------------------------
# the station
# --------------------------------------------------------------------------
class Station(Charger201):
    """Answers the CSMS's GetBaseReport and SetVariables, remembering what it got."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.base_report_requests = []
        self.set_variables_requests = []

    @on("GetBaseReport")
    def on_get_base_report(self, request_id, report_base, **kwargs):
        self.base_report_requests.append({"request_id": request_id, "report_base": report_base})
        return result201.GetBaseReport(status="Accepted")

    @on("SetVariables")
    def on_set_variables(self, set_variable_data, **kwargs):
        self.set_variables_requests.append(set_variable_data)
        results = []
        for item in set_variable_data:
            variable = item.get("variable", {})
            ours = (
                item.get("component", {}).get("name") == "OCPPCommCtrlr"
                and variable.get("name") == "MessageAttempts"
                and variable.get("instance") == "TransactionEvent"
            )
            results.append({
                "attribute_type": item.get("attribute_type", "Actual"),
                "attribute_status": "Accepted" if ours else "UnknownVariable",
                "component": item["component"],
                "variable": variable,
            })
        return result201.SetVariables(set_variable_result=results)


def fault_event(event_id, cleared):
    data = {
        "event_id": event_id,
        "timestamp": now_iso(),
        "trigger": "Delta",
        "actual_value": "false" if cleared else "true",
        "tech_code": "E42",
        "event_notification_type": "HardWiredNotification",
        "component": FAULT_COMPONENT,
        "variable": FAULT_VARIABLE,
    }
    if cleared:
        data["cleared"] = True
    return call201.NotifyEvent(generated_at=now_iso(), seq_no=0, event_data=[data])


def report_parts(request_id):
    """The device model in two NotifyReport parts."""
    def entry(component, variable, value, mutability, data_type, instance=None, **extra):
        var = {"name": variable}
        if instance:
            var["instance"] = instance
        attribute = {"type": "Actual", "mutability": mutability}
        if value is not None:
            attribute["value"] = value
        return {
            "component": {"name": component, **extra},
            "variable": var,
            "variable_attribute": [attribute],
            "variable_characteristics": {"data_type": data_type, "supports_monitoring": False},
        }

    part0 = [
        entry("OCPPCommCtrlr", "MessageAttempts", "3", "ReadWrite", "integer", instance="TransactionEvent"),
        entry("OCPPCommCtrlr", "MessageAttemptInterval", "10", "ReadWrite", "integer",
              instance="TransactionEvent"),
        entry("OCPPCommCtrlr", "HeartbeatInterval", "300", "ReadWrite", "integer"),
    ]
    part1 = [
        # Really WriteOnly; reported ReadWrite (as some stations do) so the value must be
        # dropped for being a credential, not just for its mutability.
        entry("SecurityCtrlr", "BasicAuthPassword", CHARGER_PASSWORD, "ReadWrite", "string"),
        entry("SecurityCtrlr", "SecurityProfile", "1", "ReadOnly", "integer"),
        entry("EVSE", "AvailabilityState", "Available", "ReadOnly", "OptionList", evse={"id": 1}),
    ]
    ts = now_iso()
    return [
        call201.NotifyReport(request_id=request_id, generated_at=ts, seq_no=0, tbc=True, report_data=part0),
        call201.NotifyReport(request_id=request_id, generated_at=ts, seq_no=1, tbc=False, report_data=part1),
    ]


# --------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------
def fault_codes(charger):
    faults = charger.get("faults") if isinstance(charger, dict) else None
    return faults, [f.get("code") for f in faults or [] if isinstance(f, dict)]


def faulted_count(dashboard):
    try:
        return dashboard["chargers"]["faulted"]
    except (TypeError, KeyError):
        return None


def find_variable(rows, component, variable, instance=None):
    for r in rows or []:
        if (r.get("component") == component and r.get("variable") == variable
                and (instance is None or r.get("variable_instance") == instance)):
            return r
    return None


async def setup(api, admin_user, admin_password):
    admin = await login(api, admin_user, admin_password)
    orgs = {}
    for name in ("PyLoop A", "PyLoop B"):
        org = await expect(api, "POST", "/organisations", {"name": name, "parent_id": 1}, admin,
                           want=(201,), name=f"admin creates organisation {name!r}")
        orgs[name[-1]] = org["id"]
    await expect(api, "POST", "/chargers",
                 {"id": CHARGER_ID, "organisation_id": orgs["A"], "password": CHARGER_PASSWORD},
                 admin, want=(201,), name=f"admin creates charger {CHARGER_ID} in A")
    tokens = {}
    for user, org in (("mnt-a", orgs["A"]), ("mnt-b", orgs["B"])):
        u = await expect(api, "POST", "/users",
                         {"username": user, "password": USER_PASSWORD, "organisation_id": org},
                         admin, want=(201,), name=f"admin creates user {user}")
        await expect(api, "PUT", f"/users/{u['id']}/memberships",
                     [{"organisation_id": org, "role": "maintenance"}], admin,
                     name=f"admin makes {user} maintenance on its organisation")
        tokens[user] = await login(api, user, USER_PASSWORD)
    return tokens


async def station_call(cp, payload, name):
    try:
        return await lib_call(cp, payload)
    except CheckFailed as e:
        R.must(False, name, str(e))


async def check_fault_open(api, tokens):
    a, b = tokens["mnt-a"], tokens["mnt-b"]
    status, charger = await api.call("GET", f"/chargers/{CHARGER_ID}", token=a)
    faults, codes = fault_codes(charger)
    R.check(status == 200 and "E42" in codes, "mnt-a: GET /chargers/PYLOOP has a fault with code E42",
            f"HTTP {status}, faults {faults!r}")
    status, dash = await api.call("GET", "/dashboard", token=a)
    R.check(status == 200 and faulted_count(dash) == 1, "mnt-a: dashboard chargers.faulted == 1",
            f"HTTP {status}, chargers {dash.get('chargers') if isinstance(dash, dict) else dash!r}")
    status, listed = await api.call("GET", "/chargers?faulted=true", token=a)
    ids = [c.get("id") for c in listed] if isinstance(listed, list) else listed
    R.check(status == 200 and isinstance(ids, list) and CHARGER_ID in ids,
            "mnt-a: GET /chargers?faulted=true lists PYLOOP", f"HTTP {status}, ids {ids!r}")
    status, body = await api.call("GET", f"/chargers/{CHARGER_ID}", token=b)
    R.check(status == 404, "mnt-b: GET /chargers/PYLOOP is 404", f"HTTP {status}: {body!r}")
    status, dash = await api.call("GET", "/dashboard", token=b)
    R.check(status == 200 and faulted_count(dash) == 0, "mnt-b: dashboard chargers.faulted == 0",
            f"HTTP {status}, chargers {dash.get('chargers') if isinstance(dash, dict) else dash!r}")


async def check_fault_cleared(api, tokens):
    a = tokens["mnt-a"]
    status, charger = await api.call("GET", f"/chargers/{CHARGER_ID}", token=a)
    faults, _ = fault_codes(charger)
    R.check(status == 200 and faults == [], "mnt-a: after clearing, faults is empty",
            f"HTTP {status}, faults {faults!r}")
    status, dash = await api.call("GET", "/dashboard", token=a)
    R.check(status == 200 and faulted_count(dash) == 0, "mnt-a: after clearing, dashboard faulted == 0",
            f"HTTP {status}, chargers {dash.get('chargers') if isinstance(dash, dict) else dash!r}")
    status, listed = await api.call("GET", "/chargers?faulted=true", token=a)
    ids = [c.get("id") for c in listed] if isinstance(listed, list) else listed
    R.check(status == 200 and isinstance(ids, list) and CHARGER_ID not in ids,
            "mnt-a: after clearing, ?faulted=true does not list PYLOOP", f"HTTP {status}, ids {ids!r}")


async def check_report(api, tokens, cp):
    a = tokens["mnt-a"]
    status, reply = await api.call("POST", f"/chargers/{CHARGER_ID}/report", {}, a)
    R.check(status == 200 and isinstance(reply, dict) and reply.get("status") == "Accepted",
            "mnt-a: POST /chargers/PYLOOP/report -> Accepted", f"HTTP {status}: {reply!r}")
    R.must(len(cp.base_report_requests) == 1, "station got one GetBaseReport",
           f"got {cp.base_report_requests!r}")
    req = cp.base_report_requests[0]
    R.check(req["report_base"] == "FullInventory", "GetBaseReport asks for FullInventory",
            f"reportBase {req['report_base']!r}")
    for part in report_parts(req["request_id"]):
        await station_call(cp, part, f"NotifyReport seqNo {part.seq_no}")
    R.check(True, "station sent NotifyReport in two parts (answered, schema-valid)")

    status, rows = await api.call("GET", f"/chargers/{CHARGER_ID}/variables", token=a)
    R.must(status == 200 and isinstance(rows, list), "mnt-a: GET /chargers/PYLOOP/variables",
           f"HTTP {status}: {rows!r}")
    R.check(len(rows) >= 6, "variables lists every reported entry (6)",
            f"{len(rows)} rows: {[(r.get('component'), r.get('variable')) for r in rows]!r}")
    attempts = find_variable(rows, "OCPPCommCtrlr", "MessageAttempts")
    R.check(attempts is not None and attempts.get("variable_instance") == "TransactionEvent"
            and attempts.get("value") == "3" and attempts.get("mutability") == "ReadWrite",
            "variables: OCPPCommCtrlr/MessageAttempts[TransactionEvent] = \"3\", ReadWrite",
            f"row {attempts!r}")
    R.check(attempts is not None and attempts.get("request_id") == req["request_id"],
            "variables: request_id is the GetBaseReport's requestId",
            f"row {attempts!r}, requestId {req['request_id']}")
    password = find_variable(rows, "SecurityCtrlr", "BasicAuthPassword")
    R.check(password is not None and password.get("value") is None,
            "variables: SecurityCtrlr/BasicAuthPassword listed with value null", f"row {password!r}")
    R.check(CHARGER_PASSWORD not in json.dumps(rows), "variables: the reported password appears nowhere")
    evse = find_variable(rows, "EVSE", "AvailabilityState")
    R.check(evse is not None and evse.get("evse_id") == 1 and evse.get("value") == "Available",
            "variables: EVSE@1/AvailabilityState = Available", f"row {evse!r}")


async def check_set_variables(api, tokens, cp):
    a = tokens["mnt-a"]
    body = [{"component": "OCPPCommCtrlr", "variable": "MessageAttempts",
             "variable_instance": "TransactionEvent", "value": "5"}]
    status, reply = await api.call("POST", f"/chargers/{CHARGER_ID}/variables", body, a)
    R.check(status == 200 and isinstance(reply, dict) and reply.get("status") == "Accepted",
            "mnt-a: POST /chargers/PYLOOP/variables -> Accepted", f"HTTP {status}: {reply!r}")
    got = cp.set_variables_requests
    item = got[0][0] if len(got) == 1 and len(got[0]) == 1 else None
    R.check(item is not None
            and item.get("component", {}).get("name") == "OCPPCommCtrlr"
            and item.get("variable") == {"name": "MessageAttempts", "instance": "TransactionEvent"}
            and item.get("attribute_value") == "5",
            "station got SetVariables for MessageAttempts[TransactionEvent] = \"5\"", f"got {got!r}")
    entries = reply.get("configuration") if isinstance(reply, dict) else None
    statuses = [e.get("status") for e in entries or [] if isinstance(e, dict)]
    R.check(statuses == ["Accepted"], "SetVariables answer: the variable's status is Accepted",
            f"configuration {entries!r}")

    status, rows = await api.call("GET", f"/chargers/{CHARGER_ID}/variables?variable=MessageAttempts",
                                  token=a)
    row = find_variable(rows if isinstance(rows, list) else [], "OCPPCommCtrlr", "MessageAttempts",
                        "TransactionEvent")
    R.check(status == 200 and row is not None and row.get("value") == "5",
            "variables?variable=MessageAttempts shows value \"5\"", f"HTTP {status}: {rows!r}")
    others = [r for r in rows or [] if isinstance(r, dict) and r.get("variable") != "MessageAttempts"]
    R.check(status == 200 and not others, "variables?variable=MessageAttempts lists only MessageAttempts",
            f"others {others!r}")


async def run(args):
    api = Api(args.api)
    tokens = await setup(api, args.admin_user, args.admin_password)

    try:
        ws = await connect(args.url, CHARGER_ID, CHARGER_PASSWORD, "2.0.1")
    except (websockets.exceptions.InvalidHandshake, OSError) as e:
        R.must(False, "PYLOOP connects", f"{type(e).__name__}: {e}")
    R.check(ws.subprotocol == "ocpp2.0.1", "PYLOOP connects with subprotocol ocpp2.0.1",
            f"selected {ws.subprotocol!r}")
    cp = Station(CHARGER_ID, ws, response_timeout=FRAME_TIMEOUT)
    loop_task = asyncio.create_task(cp.start())
    try:
        boot = call201.BootNotification(
            charging_station=datatypes201.ChargingStationType(
                vendor_name=VENDOR, model=MODEL, serial_number=SERIAL, firmware_version=FIRMWARE,
            ),
            reason="PowerUp",
        )
        resp = await station_call(cp, boot, "BootNotification")
        R.must(resp.status == "Accepted", "BootNotification Accepted", f"status {resp.status!r}")

        await station_call(cp, fault_event(1, cleared=False), "NotifyEvent (fault E42)")
        R.check(True, "station reported fault E42 (NotifyEvent answered)")
        await check_fault_open(api, tokens)
        await station_call(cp, fault_event(2, cleared=True), "NotifyEvent (cleared)")
        R.check(True, "station cleared fault E42 (NotifyEvent answered)")
        await check_fault_cleared(api, tokens)

        await check_report(api, tokens, cp)
        await check_set_variables(api, tokens, cp)
    finally:
        loop_task.cancel()
        try:
            await loop_task
        except asyncio.CancelledError:
            pass
        except websockets.exceptions.ConnectionClosed as e:
            R.check(False, "connection stays open", str(e))
        await ws.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:9000/ocpp")
    ap.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8080/api/v1")
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--verbose", action="store_true", help="log every OCPP frame and HTTP call")
    args = ap.parse_args()

    setup_logging(args.verbose)
    return run_checks(run(args), TOTAL_TIMEOUT, "maintenance loop")


def run_checks(checks, total_timeout, name):
    """Runs the coroutine `checks` within `total_timeout`, prints the tally; the exit status."""
    try:
        asyncio.run(asyncio.wait_for(checks, total_timeout))
    except CheckFailed as e:
        print(f"FAIL {e}", flush=True)
        R.failed += 1
    except (asyncio.TimeoutError, TimeoutError):
        print(f"FAIL timed out after {total_timeout}s", flush=True)
        R.failed += 1
    except Exception as e:  # noqa: BLE001 - any other failure is a failure too
        print(f"FAIL {type(e).__name__}: {e}", flush=True)
        R.failed += 1
    print(f"{name}: {R.passed} passed, {R.failed} failed")
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
