#!/usr/bin/env python3
"""Certificates, signed firmware and logs, end to end: OCPP 1.6 (security extension) and
2.0.1 chargers played by the `ocpp` package, which checks every CALL voltgate sends against
the official schemas.

Usage:
    python security_lifecycle.py --url ws://127.0.0.1:OCPP_PORT/ocpp \
        --api http://127.0.0.1:API_PORT/api/v1 --admin-password PASSWORD \
        --ca-file PATH_TO_VOLTGATE_CA_PEM [--verbose]

For each version:
  1. admin asks for a certificate; the charger gets (Extended)TriggerMessage, sends a CSR made
     with openssl, and gets CertificateSigned with a chain whose leaf names it;
  2. a CSR for another identity is Rejected;
  3. InstallCertificate of voltgate's CA as CSMS root, GetInstalledCertificateIds, and
     DeleteCertificate by the id the list gave;
  4. signed firmware (1.6 SignedUpdateFirmware, 2.0.1 UpdateFirmware with a signature); the
     charger reports InvalidSignature, which shows as a critical security event;
  5. GetLog of the security log.

Output: one `ok   ...` / `FAIL ...` line per check; exit 1 on any failure.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile

from ocpp.routing import after, on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

import maintenance_loop as loop
from interop import Charger16, Charger201, boot_for, connect, lib_call, offline, setup_logging

TOTAL_TIMEOUT = 60.0
R = loop.R
PASSWORD = "security-lifecycle-password"
HASH = {"hash_algorithm": "SHA256", "issuer_name_hash": "0a0b", "issuer_key_hash": "0c0d", "serial_number": "01"}
SIGNING_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def csr_for(cn):
    """A fresh key and a PEM CSR whose subject CN is `cn`, made by openssl."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", f"/CN={cn}", "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "csr.pem")],
            check=True, capture_output=True)
        with open(os.path.join(d, "csr.pem")) as f:
            return f.read()


class Recording:
    """What the CSMS sent, by action."""

    def remember(self, action, payload):
        self.got = getattr(self, "got", {})
        self.got.setdefault(action, []).append(payload)


class Station16(Recording, Charger16):
    @on("ExtendedTriggerMessage")
    def on_trigger(self, requested_message, **kw):
        self.remember("ExtendedTriggerMessage", requested_message)
        return result16.ExtendedTriggerMessage(status="Accepted")

    @after("ExtendedTriggerMessage")
    async def send_csr(self, requested_message, **kw):
        if requested_message == "SignChargePointCertificate":
            self.sign_answer = await self.call(call16.SignCertificate(csr=csr_for(self.id)))

    @on("CertificateSigned")
    def on_signed(self, certificate_chain, **kw):
        self.remember("CertificateSigned", certificate_chain)
        return result16.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    def on_install(self, certificate_type, certificate, **kw):
        self.remember("InstallCertificate", certificate_type)
        return result16.InstallCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    def on_list(self, certificate_type, **kw):
        self.remember("GetInstalledCertificateIds", certificate_type)
        return result16.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=[HASH])

    @on("DeleteCertificate")
    def on_delete(self, certificate_hash_data, **kw):
        self.remember("DeleteCertificate", certificate_hash_data)
        return result16.DeleteCertificate(status="Accepted")

    @on("SignedUpdateFirmware")
    def on_firmware(self, request_id, firmware, **kw):
        self.remember("SignedUpdateFirmware", {"request_id": request_id, **firmware})
        return result16.SignedUpdateFirmware(status="Accepted")

    @on("GetLog")
    def on_log(self, log, log_type, request_id, **kw):
        self.remember("GetLog", log_type)
        return result16.GetLog(status="Accepted", filename="security.log")


class Station201(Recording, Charger201):
    @on("TriggerMessage")
    def on_trigger(self, requested_message, **kw):
        self.remember("TriggerMessage", requested_message)
        return result201.TriggerMessage(status="Accepted")

    @after("TriggerMessage")
    async def send_csr(self, requested_message, **kw):
        if requested_message == "SignChargingStationCertificate":
            self.sign_answer = await self.call(call201.SignCertificate(csr=csr_for(self.id)))

    @on("CertificateSigned")
    def on_signed(self, certificate_chain, **kw):
        self.remember("CertificateSigned", certificate_chain)
        return result201.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    def on_install(self, certificate_type, certificate, **kw):
        self.remember("InstallCertificate", certificate_type)
        return result201.InstallCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    def on_list(self, **kw):
        self.remember("GetInstalledCertificateIds", kw.get("certificate_type"))
        chain = [{"certificate_type": "CSMSRootCertificate", "certificate_hash_data": HASH}]
        return result201.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=chain)

    @on("DeleteCertificate")
    def on_delete(self, certificate_hash_data, **kw):
        self.remember("DeleteCertificate", certificate_hash_data)
        return result201.DeleteCertificate(status="Accepted")

    @on("UpdateFirmware")
    def on_firmware(self, request_id, firmware, **kw):
        self.remember("UpdateFirmware", {"request_id": request_id, **firmware})
        return result201.UpdateFirmware(status="Accepted")

    @on("GetLog")
    def on_log(self, log, log_type, request_id, **kw):
        self.remember("GetLog", log_type)
        return result201.GetLog(status="Accepted", filename="security.log")


async def waited(station, action):
    for _ in range(100):
        if action in getattr(station, "got", {}):
            return station.got[action][-1]
        await asyncio.sleep(0.05)
    return None


async def lifecycle(args, api, admin, version):
    charger_id = "PYSEC" + version.replace(".", "")
    await loop.expect(api, "POST", "/chargers", {"id": charger_id, "organisation_id": 1, "password": PASSWORD},
                      admin, want=(201,), name=f"admin registers {charger_id}")
    ws = await connect(args.url, charger_id, PASSWORD, version)
    station = (Station16 if version == "1.6" else Station201)(charger_id, ws, response_timeout=10)
    task = asyncio.create_task(station.start())
    try:
        await lib_call(station, boot_for(version))

        status, reply = await api.call("POST", f"/chargers/{charger_id}/certificate", {}, admin)
        R.check(status == 200 and reply.get("status") == "Accepted", f"{version}: certificate asked for",
                f"HTTP {status}: {reply!r}")
        chain = await waited(station, "CertificateSigned")
        R.check(chain is not None and chain.count("BEGIN CERTIFICATE") == 2,
                f"{version}: CertificateSigned carries the leaf and the CA", f"{chain!r}")
        R.check(getattr(station, "sign_answer", None) is not None and station.sign_answer.status == "Accepted",
                f"{version}: SignCertificate for its own id Accepted")
        # The charger has the chain before voltgate has its answer (and stores the certificate).
        for _ in range(50):
            status, charger = await api.call("GET", f"/chargers/{charger_id}", token=admin)
            if charger.get("certificate_expires_at"):
                break
            await asyncio.sleep(0.1)
        R.check(bool(charger.get("certificate_expires_at")), f"{version}: the charger shows its certificate",
                f"{charger!r}")
        refused = await station.call(
            (call16 if version == "1.6" else call201).SignCertificate(csr=csr_for("SOMEONE-ELSE")))
        R.check(refused.status == "Rejected", f"{version}: a CSR for another identity is Rejected", f"{refused!r}")

        with open(args.ca_file) as f:
            ca_pem = f.read()
        status, reply = await api.call("POST", f"/chargers/{charger_id}/certificates",
                                       {"certificate_type": "csms_root", "certificate": ca_pem}, admin)
        expected = "CentralSystemRootCertificate" if version == "1.6" else "CSMSRootCertificate"
        R.check(status == 200 and station.got.get("InstallCertificate") == [expected],
                f"{version}: InstallCertificate of the CSMS root", f"HTTP {status}: {reply!r}")
        status, reply = await api.call("GET", f"/chargers/{charger_id}/certificates", token=admin)
        ids = [c.get("id") for c in reply.get("certificates", [])] if isinstance(reply, dict) else reply
        R.check(status == 200 and ids == ["SHA256.0a0b.0c0d.01"], f"{version}: GetInstalledCertificateIds listed",
                f"HTTP {status}: {reply!r}")
        status, reply = await api.call("DELETE", f"/chargers/{charger_id}/certificates/SHA256.0a0b.0c0d.01",
                                       token=admin)
        deleted = station.got.get("DeleteCertificate", [None])[-1]
        R.check(status == 200 and deleted and deleted.get("serial_number") == "01",
                f"{version}: DeleteCertificate by the listed id", f"HTTP {status}: {reply!r}, charger got {deleted!r}")

        body = {"location": "https://fw.example/2.1.bin", "signing_certificate": SIGNING_CERT, "signature": "c2ln"}
        status, reply = await api.call("POST", f"/chargers/{charger_id}/firmware", body, admin)
        firmware = station.got.get("SignedUpdateFirmware" if version == "1.6" else "UpdateFirmware", [None])[-1]
        R.check(status == 200 and firmware and firmware.get("signature") == "c2ln",
                f"{version}: signed firmware sent with its signature", f"HTTP {status}: {reply!r}, {firmware!r}")
        notify = (call16.SignedFirmwareStatusNotification if version == "1.6" else call201.FirmwareStatusNotification)
        await lib_call(station, notify(status="InvalidSignature", request_id=firmware["request_id"]))
        status, events = await api.call("GET", f"/chargers/{charger_id}/security-events", token=admin)
        alarms = [e for e in events if e.get("status") == "InvalidFirmwareSignature" and e.get("critical")]
        R.check(status == 200 and alarms, f"{version}: an invalid firmware signature is a critical security event",
                f"HTTP {status}: {events!r}")

        status, reply = await api.call("POST", f"/chargers/{charger_id}/logs",
                                       {"log_type": "security", "location": "https://logs.example/up"}, admin)
        R.check(status == 200 and reply.get("file_name") == "security.log"
                and station.got.get("GetLog") == ["SecurityLog"], f"{version}: GetLog of the security log",
                f"HTTP {status}: {reply!r}")
    finally:
        await offline(ws, task)


async def run(args):
    api = loop.Api(args.api)
    admin = await loop.login(api, args.admin_user, args.admin_password)
    for version in ("1.6", "2.0.1"):
        await lifecycle(args, api, admin, version)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--ca-file", required=True, help="voltgate's charger CA certificate (PEM)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    setup_logging(args.verbose)
    return loop.run_checks(run(args), TOTAL_TIMEOUT, "security lifecycle")


if __name__ == "__main__":
    sys.exit(main())
