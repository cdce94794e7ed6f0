"""A minimal CSMS written with the Python `ocpp` package, as a peer for voltgate-bench.

Answers BootNotification (Accepted), Heartbeat, StatusNotification and MeterValues for OCPP 1.6
and 2.0.1 chargers, with the library's own schema validation on. No authentication, no database.

    python peer_csms.py --port 9200
"""

import argparse
import asyncio
import datetime
import logging
import resource

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call_result as r16
from ocpp.v16.enums import RegistrationStatus as Reg16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call_result as r201
from ocpp.v201.enums import RegistrationStatusEnumType as Reg201


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class Charger16(Cp16):
    @on("BootNotification")
    async def boot(self, **_):
        return r16.BootNotification(current_time=now(), interval=300, status=Reg16.accepted)

    @on("Heartbeat")
    async def heartbeat(self, **_):
        return r16.Heartbeat(current_time=now())

    @on("StatusNotification")
    async def status(self, **_):
        return r16.StatusNotification()

    @on("MeterValues")
    async def meter_values(self, **_):
        return r16.MeterValues()


class Charger201(Cp201):
    @on("BootNotification")
    async def boot(self, **_):
        return r201.BootNotification(current_time=now(), interval=300, status=Reg201.accepted)

    @on("Heartbeat")
    async def heartbeat(self, **_):
        return r201.Heartbeat(current_time=now())

    @on("StatusNotification")
    async def status(self, **_):
        return r201.StatusNotification()

    @on("MeterValues")
    async def meter_values(self, **_):
        return r201.MeterValues()


async def handle(ws):
    charger_id = ws.request.path.rstrip("/").split("/")[-1]
    cls = Charger16 if ws.subprotocol == "ocpp1.6" else Charger201
    try:
        await cls(charger_id, ws).start()
    except websockets.exceptions.ConnectionClosed:
        pass


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9200)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    async with websockets.serve(handle, "127.0.0.1", args.port, subprotocols=["ocpp1.6", "ocpp2.0.1"], ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
