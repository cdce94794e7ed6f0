#!/usr/bin/env python3
"""Local authorisation lists, end to end: OCPP 1.6 and 2.0.1 chargers played by the `ocpp` package.

Usage:
    python local_list.py --url ws://127.0.0.1:OCPP_PORT/ocpp \
        --api http://127.0.0.1:API_PORT/api/v1 --admin-password PASSWORD [--verbose]

Schema validation is ON both ways, so voltgate's GetConfiguration / GetVariables,
GetLocalListVersion, SendLocalList and ClearCache are checked against the official schemas.
Each station keeps its list as a real one would and takes at most 2 entries per message. For
each version:

  1. admin builds a private depot that keeps local lists and admits group Staff, with three
     Staff cards, a blocked Staff card and a card of no group;
  2. the charger boots: it gets the whole list (Full, then Differential parts of at most 2
     entries): the Staff cards and the blocked one, not the card that may not charge there;
  3. a card issued afterwards arrives as a Differential; a card blocked arrives as Blocked and
     the charger is told to clear its cache;
  4. the charger goes offline, a card is issued meanwhile: `GET /id-tokens/{id}/sync` names
     the charger pending (offline); back online it gets the card, and the sync shows it applied;
  5. Authorize online answers every card exactly as the list holds it.

Output: one `ok   ...` / `FAIL ...` line per check; exit 1 on any failure.
"""

import argparse
import asyncio
import sys

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

TOTAL_TIMEOUT = 60.0
R = loop.R
PASSWORD = "local-list-charger-pw"
ITEMS = 2


class ListKeeper:
    """What a station holds: its list version, token -> status, and what it was sent."""

    def __init__(self):
        self.version = 0
        self.list = {}
        self.sends = []
        self.cache_clears = 0

    def take(self, version, update_type, entries, token_of, info_of):
        if len(entries) > ITEMS:
            return "Failed"
        if update_type == "Differential" and version <= self.version:
            return "VersionMismatch"
        if update_type == "Full":
            self.list = {}
        for e in entries:
            info = info_of(e)
            if info:
                self.list[token_of(e)] = info["status"]
            else:
                self.list.pop(token_of(e), None)
        self.version = version
        self.sends.append((update_type, len(entries)))
        return "Accepted"


class Station16(Charger16):
    keeper = None

    @on("GetConfiguration")
    def on_get_configuration(self, key=None, **kwargs):
        keys = [
            {"key": "SupportedFeatureProfiles", "readonly": True,
             "value": "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger"},
            {"key": "LocalAuthListEnabled", "readonly": False, "value": "true"},
            {"key": "LocalAuthListMaxLength", "readonly": True, "value": "100"},
            {"key": "SendLocalListMaxLength", "readonly": True, "value": str(ITEMS)},
        ]
        wanted = [k for k in keys if not key or k["key"] in key]
        return result16.GetConfiguration(configuration_key=wanted)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **kwargs):
        return result16.GetLocalListVersion(list_version=self.keeper.version)

    @on("SendLocalList")
    def on_send_local_list(self, list_version, update_type, local_authorization_list=None, **kwargs):
        status = self.keeper.take(list_version, update_type, local_authorization_list or [],
                                  lambda e: e["id_tag"], lambda e: e.get("id_tag_info"))
        return result16.SendLocalList(status=status)

    @on("ClearCache")
    def on_clear_cache(self, **kwargs):
        self.keeper.cache_clears += 1
        return result16.ClearCache(status="Accepted")


class Station201(Charger201):
    keeper = None

    @on("GetVariables")
    def on_get_variables(self, get_variable_data, **kwargs):
        values = {"Enabled": "true", "Available": "true", "ItemsPerMessage": str(ITEMS),
                  "BytesPerMessage": "4000"}
        results = []
        for item in get_variable_data:
            value = values.get(item["variable"]["name"]) if item["component"]["name"] == "LocalAuthListCtrlr" else None
            result = {"attribute_status": "Accepted" if value else "UnknownVariable",
                      "component": item["component"], "variable": item["variable"]}
            if value:
                result["attribute_value"] = value
            results.append(result)
        return result201.GetVariables(get_variable_result=results)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **kwargs):
        return result201.GetLocalListVersion(version_number=self.keeper.version)

    @on("SendLocalList")
    def on_send_local_list(self, version_number, update_type, local_authorization_list=None, **kwargs):
        status = self.keeper.take(version_number, update_type, local_authorization_list or [],
                                  lambda e: e["id_token"]["id_token"], lambda e: e.get("id_token_info"))
        return result201.SendLocalList(status=status)

    @on("ClearCache")
    def on_clear_cache(self, **kwargs):
        self.keeper.cache_clears += 1
        return result201.ClearCache(status="Accepted")


async def online(url, charger_id, version, keeper):
    ws = await connect(url, charger_id, PASSWORD, version)
    station = (Station16 if version == "1.6" else Station201)(charger_id, ws, response_timeout=FRAME_TIMEOUT)
    station.keeper = keeper
    task = asyncio.create_task(station.start())
    boot = await lib_call(station, boot_for(version))
    R.must(boot.status == "Accepted", f"{charger_id}: boot Accepted", f"{boot!r}")
    return ws, station, task


async def until(what, done, seconds=10.0):
    for _ in range(int(seconds * 10)):
        if done():
            return True
        await asyncio.sleep(0.1)
    return done()


async def authorize(station, version, token):
    if version == "1.6":
        answer = await lib_call(station, call16.Authorize(id_tag=token))
        return answer.id_tag_info["status"]
    answer = await lib_call(station, call201.Authorize(id_token={"id_token": token, "type": "ISO14443"}))
    return answer.id_token_info["status"]


async def token(api, admin, org, value, group=None, status=None):
    body = {"token": value, "organisation_id": org}
    if group:
        body["group_id"] = group
    if status:
        body["status"] = status
    return await loop.expect(api, "POST", "/id-tokens", body, admin, want=(201,), name=f"admin issues {value}")


async def one_version(args, api, admin, version):
    tag = version.replace(".", "")
    org = (await loop.expect(api, "POST", "/organisations", {"name": f"PyList{tag}", "parent_id": 1}, admin,
                             want=(201,), name=f"{version}: organisation"))["id"]
    site = (await loop.expect(api, "POST", "/sites",
                              {"organisation_id": org, "name": "Depot", "kind": "private", "local_list": True},
                              admin, want=(201,), name=f"{version}: a private depot that keeps local lists"))["id"]
    staff = (await loop.expect(api, "POST", "/driver-groups", {"organisation_id": org, "name": "Staff"}, admin,
                               want=(201,), name=f"{version}: group Staff"))["id"]
    await loop.expect(api, "POST", "/access-rules", {"site_id": site, "group_id": staff}, admin, want=(201,),
                      name=f"{version}: Staff may charge at the depot")
    cards = [f"S{tag}-{i}" for i in range(3)]
    for c in cards:
        await token(api, admin, org, c, staff)
    await token(api, admin, org, f"STOLEN{tag}", staff, "Blocked")
    await token(api, admin, org, f"VISITOR{tag}")
    charger_id = f"PYLIST{tag}"
    await loop.expect(api, "POST", "/chargers",
                      {"id": charger_id, "organisation_id": org, "site_id": site, "password": PASSWORD},
                      admin, want=(201,), name=f"{version}: register {charger_id}")

    keeper = ListKeeper()
    ws, station, task = await online(args.url, charger_id, version, keeper)
    expected = {c: "Accepted" for c in cards} | {f"STOLEN{tag}": "Blocked"}
    R.check(await until("boot list", lambda: keeper.list == expected),
            f"{version}: the whole list at boot: Staff cards and the blocked one, not the visitor",
            f"{keeper.list!r}")
    R.check(keeper.sends and keeper.sends[0][0] == "Full" and all(n <= ITEMS for _, n in keeper.sends)
            and all(k == "Differential" for k, _ in keeper.sends[1:]),
            f"{version}: Full then Differential parts of at most {ITEMS}", f"{keeper.sends!r}")
    # The charger holds the last part before voltgate has its answer and has saved the state;
    # a tree pass that read the rows before the boot sync saved them marks it for one more
    # (whole) sync, which the worker runs within its tick.
    for _ in range(100):
        status, state = await api.call("GET", f"/chargers/{charger_id}/local-list", token=admin)
        synced = (status == 200 and state.get("state") == "synced" and state.get("entries") == 4
                  and state.get("version") == keeper.version)
        if synced:
            break
        await asyncio.sleep(0.1)
    R.check(synced, f"{version}: GET /chargers/{charger_id}/local-list shows it synced", f"HTTP {status}: {state!r}")

    await token(api, admin, org, f"NEW{tag}", staff)
    R.check(await until("new card", lambda: f"NEW{tag}" in keeper.list),
            f"{version}: a card issued afterwards arrives", f"{keeper.list!r}")
    R.check(keeper.sends[-1] == ("Differential", 1), f"{version}: as a Differential of one",
            f"{keeper.sends!r}")

    first = await api.call("GET", "/id-tokens?limit=500", token=admin)
    first_id = next(t["id"] for t in first[1] if t["token"] == cards[0])
    clears = keeper.cache_clears
    await loop.expect(api, "PATCH", f"/id-tokens/{first_id}", {"status": "Blocked"}, admin,
                      name=f"{version}: admin blocks {cards[0]}")
    R.check(await until("blocked", lambda: keeper.list.get(cards[0]) == "Blocked"
                        and keeper.cache_clears > clears),
            f"{version}: the block reaches the list, and the cache is cleared",
            f"{keeper.list!r}, {keeper.cache_clears} clears")

    await offline(ws, task)
    away = await token(api, admin, org, f"AWAY{tag}", staff)
    await asyncio.sleep(0.5)
    status, sync = await api.call("GET", f"/id-tokens/{away['id']}/sync", token=admin)
    pending = (sync or {}).get("pending", []) if status == 200 else []
    R.check(any(p.get("charger_id") == charger_id and p.get("reason") == "offline" for p in pending),
            f"{version}: the sync view names the charger pending while offline", f"HTTP {status}: {sync!r}")
    ws, station, task = await online(args.url, charger_id, version, keeper)
    R.check(await until("caught up", lambda: f"AWAY{tag}" in keeper.list),
            f"{version}: back online, it gets the card it missed", f"{keeper.list!r}")
    applied = False
    for _ in range(50):
        status, sync = await api.call("GET", f"/id-tokens/{away['id']}/sync", token=admin)
        if status == 200 and sync.get("applied") == 1 and not sync.get("pending"):
            applied = True
            break
        await asyncio.sleep(0.1)
    R.check(applied, f"{version}: and the sync view shows it applied", f"{sync!r}")

    agree = []
    for c in cards + [f"STOLEN{tag}", f"VISITOR{tag}", f"NEW{tag}", f"AWAY{tag}", "NO-SUCH-CARD"]:
        answer = await authorize(station, version, c)
        held = keeper.list.get(c)
        ok = held == answer if answer in ("Accepted", "Blocked", "Expired") else held is None
        if not ok:
            agree.append(f"{c}: online {answer}, list {held}")
    R.check(not agree, f"{version}: Authorize online answers every card as the list holds it", "; ".join(agree))
    await offline(ws, task)


async def run(args):
    api = loop.Api(args.api)
    admin = await loop.login(api, args.admin_user, args.admin_password)
    for version in ("1.6", "2.0.1"):
        await one_version(args, api, admin, version)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:9000/ocpp")
    ap.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8080/api/v1")
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--verbose", action="store_true", help="log every OCPP frame and HTTP call")
    args = ap.parse_args()
    setup_logging(args.verbose)
    return loop.run_checks(run(args), TOTAL_TIMEOUT, "local lists")


if __name__ == "__main__":
    sys.exit(main())
