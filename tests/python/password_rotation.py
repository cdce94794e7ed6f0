#!/usr/bin/env python3
"""Password rotation, end to end: OCPP 1.6 and 2.0.1 chargers played by the `ocpp` package.

Usage:
    python password_rotation.py --url ws://127.0.0.1:OCPP_PORT/ocpp \
        --api http://127.0.0.1:API_PORT/api/v1 \
        --admin-user admin --admin-password PASSWORD [--verbose]

Schema validation is ON both ways, so voltgate's ChangeConfiguration and SetVariables are
checked against the official schemas. For each version:

  1. admin registers a charger and a maintenance user; the charger connects and boots;
  2. the maintenance user may not change the password (403);
  3. admin asks for a new password (`POST /chargers/{id}/password`); the charger gets
     2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword, or 1.6 ChangeConfiguration
     AuthorizationKey hex-encoded (decoded here), and accepts it;
  4. like a real charger, it reconnects with the new password: accepted, and from then on
     the old one is refused (401);
  5. a second change the charger rejects leaves the current password alone.

Output: one `ok   ...` / `FAIL ...` line per check; exit 1 on any failure.
"""

import argparse
import asyncio
import sys

import websockets
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

import maintenance_loop as loop
from interop import (
    FRAME_TIMEOUT,
    Charger16,
    Charger201,
    boot_for,
    connect,
    lib_call,
    offline,
    setup_logging,
)

TOTAL_TIMEOUT = 40.0
R = loop.R
FIRST_PASSWORD = "rotation-first-password"
USER_PASSWORD = "Rotate-test-password-61!"


class Station16(Charger16):
    """Takes (or refuses) a new AuthorizationKey, remembering it decoded."""

    accept = True
    received = None

    @on("ChangeConfiguration")
    def on_change_configuration(self, key, value, **kwargs):
        if key == "AuthorizationKey":
            self.received = bytes.fromhex(value).decode()
        return result16.ChangeConfiguration(status="Accepted" if self.accept else "Rejected")


class Station201(Charger201):
    """Takes (or refuses) a new SecurityCtrlr.BasicAuthPassword, remembering it."""

    accept = True
    received = None

    @on("SetVariables")
    def on_set_variables(self, set_variable_data, **kwargs):
        results = []
        for item in set_variable_data:
            ours = (item["component"]["name"], item["variable"]["name"]) == ("SecurityCtrlr", "BasicAuthPassword")
            if ours:
                self.received = item["attribute_value"]
            results.append({
                "attribute_status": "Accepted" if ours and self.accept else "Rejected",
                "component": item["component"],
                "variable": item["variable"],
            })
        return result201.SetVariables(set_variable_result=results)


async def online(url, charger_id, password, version):
    """A booted station with its receive loop running, or a CheckFailed."""
    ws = await connect(url, charger_id, password, version)
    station = (Station16 if version == "1.6" else Station201)(charger_id, ws, response_timeout=FRAME_TIMEOUT)
    task = asyncio.create_task(station.start())
    boot = await lib_call(station, boot_for(version))
    R.must(boot.status == "Accepted", f"{charger_id}: boot Accepted", f"{boot!r}")
    return ws, station, task


async def refused(url, charger_id, password, version):
    try:
        ws = await connect(url, charger_id, password, version)
    except websockets.exceptions.InvalidStatus as e:
        return e.response.status_code == 401
    await ws.close()
    return False


async def rotate(args, api, admin, engineer, version):
    charger_id = "PYROT" + version.replace(".", "")
    await loop.expect(api, "POST", "/chargers",
                      {"id": charger_id, "organisation_id": args.org, "password": FIRST_PASSWORD},
                      admin, want=(201,), name=f"admin registers {charger_id}")
    ws, station, task = await online(args.url, charger_id, FIRST_PASSWORD, version)

    status, body = await api.call("POST", f"/chargers/{charger_id}/password", {}, engineer)
    R.check(status == 403, f"{version}: maintenance may not change a charger's password",
            f"HTTP {status}: {body!r}")
    R.check(station.received is None, f"{version}: nothing reached the charger for it")

    status, reply = await api.call("POST", f"/chargers/{charger_id}/password", {}, admin)
    R.must(status == 200 and reply.get("status") == "Accepted",
           f"{version}: POST /chargers/{charger_id}/password -> Accepted", f"HTTP {status}: {reply!r}")
    new = station.received
    R.check(new is not None and reply.get("password") == new,
            f"{version}: the charger got the generated password (decoded from hex on 1.6)",
            f"charger {new!r}, API {reply.get('password')!r}")
    R.check(len(new or "") == (20 if version == "1.6" else 32), f"{version}: generated length",
            f"{len(new or '')} characters")

    # A real charger drops its connection and comes back with the new password.
    await offline(ws, task)
    ws, station, task = await online(args.url, charger_id, new, version)
    R.check(True, f"{version}: reconnected and booted with the new password")
    R.check(await refused(args.url, charger_id, FIRST_PASSWORD, version),
            f"{version}: the old password is refused (401) once the new one is used")
    status, charger = await api.call("GET", f"/chargers/{charger_id}", token=admin)
    R.check(status == 200 and charger.get("password_changes") == [] and charger.get("password_changed_at"),
            f"{version}: the charger shows the change done", f"HTTP {status}: {charger!r}")

    station.accept = False
    status, reply = await api.call("POST", f"/chargers/{charger_id}/password", {}, admin)
    R.check(status == 200 and reply.get("status") == "Rejected", f"{version}: a refused change is told",
            f"HTTP {status}: {reply!r}")
    refused_one = station.received
    await offline(ws, task)
    R.check(await refused(args.url, charger_id, refused_one, version),
            f"{version}: the refused password never opens")
    ws, station, task = await online(args.url, charger_id, new, version)
    R.check(True, f"{version}: the current password still does")
    await offline(ws, task)


async def run(args):
    api = loop.Api(args.api)
    admin = await loop.login(api, args.admin_user, args.admin_password)
    org = await loop.expect(api, "POST", "/organisations", {"name": "PyRotate", "parent_id": 1}, admin,
                            want=(201,), name="admin creates organisation PyRotate")
    args.org = org["id"]
    user = await loop.expect(api, "POST", "/users",
                             {"username": "rot-mnt", "password": USER_PASSWORD, "organisation_id": args.org},
                             admin, want=(201,), name="admin creates user rot-mnt")
    await loop.expect(api, "PUT", f"/users/{user['id']}/memberships",
                      [{"organisation_id": args.org, "role": "maintenance"}], admin,
                      name="rot-mnt is maintenance on PyRotate")
    engineer = await loop.login(api, "rot-mnt", USER_PASSWORD)
    for version in ("1.6", "2.0.1"):
        await rotate(args, api, admin, engineer, version)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:9000/ocpp")
    ap.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8080/api/v1")
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--verbose", action="store_true", help="log every OCPP frame and HTTP call")
    args = ap.parse_args()
    setup_logging(args.verbose)
    return loop.run_checks(run(args), TOTAL_TIMEOUT, "password rotation")


if __name__ == "__main__":
    sys.exit(main())
