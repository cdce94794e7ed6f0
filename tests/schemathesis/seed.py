"""Seeds a fresh voltgate through its API for tests/schemathesis/run.sh.

Logs in as the bootstrap admin, creates the run's operator (a user with an operator membership
on the root organisation) and one of each kind of resource, so small path ids exist and the
fuzzer reaches the handlers' success paths, not only 404s. Prints the run user's id on stdout;
everything else goes to stderr.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def must(base, method, path, body=None, token=None):
    status, out = call(base, method, path, body, token)
    if not 200 <= status < 300:
        sys.exit(f"seed.py: {method} {path} answered {status}: {out}")
    print(f"seed: {method} {path} -> {status}", file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--username", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--root", type=int, default=1)
    a = ap.parse_args()
    base, root = a.base, a.root

    admin = must(base, "POST", "/api/v1/login", {"username": "admin", "password": a.admin_password})["token"]

    user = must(base, "POST", "/api/v1/users",
                {"username": a.username, "password": a.password, "organisation_id": root}, admin)
    must(base, "PUT", f"/api/v1/users/{user['id']}/memberships",
         [{"organisation_id": root, "role": "operator"}], admin)
    # The run user's own token, to check it works before handing it to schemathesis.
    token = must(base, "POST", "/api/v1/login", {"username": a.username, "password": a.password})["token"]
    me = must(base, "GET", "/api/v1/me", token=token)
    if not any(m["organisation_id"] == root and m["role"] == "operator" for m in me["memberships"]):
        sys.exit(f"seed.py: {a.username} is not an operator on organisation {root}: {me}")

    org = must(base, "POST", "/api/v1/organisations", {"name": "Depot", "parent_id": root}, token)
    must(base, "POST", "/api/v1/organisations", {"name": "Depot North", "parent_id": org["id"]}, token)
    site = must(base, "POST", "/api/v1/sites",
                {"organisation_id": root, "name": "Main street", "address": "1 Main St", "kind": "public"}, token)
    must(base, "POST", "/api/v1/sites", {"organisation_id": org["id"], "name": "Depot yard"}, token)
    other = must(base, "POST", "/api/v1/users",
                 {"username": "st-support", "password": "schemathesis-support-pass", "organisation_id": org["id"]},
                 token)
    must(base, "PUT", f"/api/v1/users/{other['id']}/memberships",
         [{"organisation_id": org["id"], "role": "support"}], token)
    must(base, "POST", "/api/v1/users", {"username": "st-invited", "email": "invited@example.com"}, token)
    driver = must(base, "POST", "/api/v1/drivers",
                  {"organisation_id": root, "name": "Dana Driver", "email": "dana@example.com"}, token)
    group = must(base, "POST", "/api/v1/driver-groups", {"organisation_id": root, "name": "Fleet"}, token)
    must(base, "POST", "/api/v1/id-tokens",
         {"token": "04A1B2C3D4", "organisation_id": root, "driver_id": driver["id"], "group_id": group["id"]}, token)
    must(base, "POST", "/api/v1/access-rules", {"site_id": site["id"], "group_id": group["id"]}, token)
    must(base, "POST", "/api/v1/tariffs", {"organisation_id": root, "price_per_kwh": 0.35, "currency": "EUR"}, token)
    ticket = must(base, "POST", "/api/v1/tickets",
                  {"organisation_id": root, "charger_id": "ST-CP-1", "title": "Cable damaged", "body": "seen"}, token)
    must(base, "POST", f"/api/v1/tickets/{ticket['id']}/comments", {"body": "on it"}, token)
    print(user["id"])


if __name__ == "__main__":
    main()
