"""Schemathesis hooks for tests/schemathesis/run.sh (loaded through SCHEMATHESIS_HOOKS).

The run logs in again whenever its token is revoked (schemathesis.toml), so only requests that
would make that re-login impossible, or useless, are kept out. They are dropped case by case
rather than by excluding whole operations, so the same operations on every other id stay
under test:

* PATCH /api/v1/users/{run user} with a `password`: sets a password the run does not know
  (and ends its sessions), so every later re-login fails and the rest of the run is 401s.
  Operators may do this to their own account through this route (only `disabled` is guarded).
* PATCH /api/v1/organisations/{root} with `require_2fa: true`: the run user's membership is on
  the root, so its next login only gets an `enrol_2fa` token and every later request is 403
  `enrolment_required`.
* Any stateful step whose path parameter a link filled from a `null` in an earlier answer
  (an audit row's `organisation_id` is `null` for platform-level actions): schemathesis sends
  the Python `None` as the text `None` and then flags the 400 as a schema-valid request
  rejected. The same operations with real ids stay under test.
* PUT /api/v1/users/{id}/memberships naming an organisation id no seeded tree can have (below
  1 or above 10,000, or not an integer): a grant on an organisation outside the caller's
  reach is 404 for that organisation, the same answer whether it exists or not, so nothing
  leaks (docs/api.md "No escalation"); the stateful phase reads that 404 as the user it just
  created having vanished. tests/access_escalation.rs covers those grants.

run.sh exports ST_RUN_USER_ID and ST_ROOT_ORG_ID.
"""

import os
import re

import schemathesis

RUN_USER_ID = int(os.environ["ST_RUN_USER_ID"])
ROOT_ORG_ID = int(os.environ.get("ST_ROOT_ORG_ID", "1"))

# What Rust's `i32::from_str` (axum's Path<i32>) accepts: optional sign, ASCII digits.
_RUST_INT = re.compile(r"[+-]?[0-9]+")


def _as_path_id(value):
    """The integer the server would parse from a path parameter, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _RUST_INT.fullmatch(value):
        return int(value)
    return None


@schemathesis.hook
def filter_case(context, case):
    if any(value is None for value in (case.path_parameters or {}).values()):
        return False
    method = case.method.upper()
    path = case.operation.path
    if method == "PUT" and path == "/api/v1/users/{id}/memberships" and isinstance(case.body, list):
        for item in case.body:
            org = _as_path_id(item.get("organisation_id")) if isinstance(item, dict) else None
            if isinstance(item, dict) and "organisation_id" in item and (org is None or not 1 <= org <= 10_000):
                return False
    if method != "PATCH" or not isinstance(case.body, dict):
        return True
    target = _as_path_id((case.path_parameters or {}).get("id"))
    if path == "/api/v1/users/{id}" and target == RUN_USER_ID and "password" in case.body:
        return False
    if path == "/api/v1/organisations/{id}" and target == ROOT_ORG_ID and case.body.get("require_2fa") is True:
        return False
    return True
