"""Groups the failures of a schemathesis NDJSON report by class (tests/schemathesis/run.sh).

Usage: python summarize.py [--examples] REPORT.ndjson...

Prints, per failure class (check code and title, and the received status), the operations it
was seen on with a count, then one example request and response per operation for the classes
worth reading one by one (server errors, schema mismatches, rejected or accepted data), then
the network errors (connection dropped: usually a panic in a handler).
"""

import base64
import collections
import json
import re
import sys

# Classes whose every operation gets an example printed.
DETAILED = {"ST101", "ST201", "ST202", "ST104", "ST105", "ST301", "ST302", "ST303", "ST401", "ST402"}


# What POST /api/v1/login hands out: 32 random bytes, base64url without padding.
REAL_TOKEN = re.compile(r"Bearer [A-Za-z0-9_-]{43}")


def auth_header(interaction):
    for name, value in ((interaction.get("request") or {}).get("headers") or {}).items():
        if name.lower() == "authorization":
            return value[0] if isinstance(value, list) else str(value)
    return ""


def decode(content):
    if not content:
        return ""
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", errors="replace")
    return str(content)


def events(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def main(paths, with_examples):
    groups = collections.defaultdict(lambda: collections.defaultdict(int))
    examples = {}
    errors = collections.defaultdict(set)
    revoked = 0
    for event in events(paths):
        if "NonFatalError" in event:
            e = event["NonFatalError"]
            errors[(e["value"]["type"], e["value"]["message"])].add(e.get("label") or "?")
            continue
        if "ScenarioFinished" not in event:
            continue
        rec = event["ScenarioFinished"]["recorder"]
        for inter in rec.get("interactions", {}).values():
            resp = inter.get("response") or {}
            if resp.get("status_code") == 401 and REAL_TOKEN.fullmatch(auth_header(inter)) \
                    and '"unauthenticated"' in decode(resp.get("content")):
                revoked += 1
        for case_id, checks in rec.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                inter = rec.get("interactions", {}).get(case_id) or {}
                resp = inter.get("response") or {}
                status = resp.get("status_code")
                key = (failure["code"], failure["title"], check["name"], status)
                case = rec["cases"][case_id]["value"]
                label = rec["label"]
                if event["ScenarioFinished"]["phase"] == "stateful":
                    # Stateful scenarios are all labelled "Stateful tests": name the step instead.
                    label = f"{case['method']} {case['path']} (stateful)"
                groups[key][label] += 1
                if (key, label) not in examples:
                    req = inter.get("request") or {}
                    examples[(key, label)] = {
                        "phase": case["meta"]["phase"]["name"],
                        "mode": case["meta"]["generation"]["mode"],
                        "what": case["meta"]["phase"].get("data", {}).get("description", ""),
                        "request": f"{req.get('method')} {req.get('uri')}",
                        "body": decode(req.get("body"))[:300],
                        "response": decode(resp.get("content"))[:300],
                        "message": failure.get("message", "")[:400],
                    }
    if not groups and not errors:
        print("no failures")
        return
    print("== failure classes")
    for key in sorted(groups, key=lambda k: (k[0], str(k[3]))):
        code, title, check, status = key
        ops = groups[key]
        print(f"\n{code} {title} [{check}] status {status}: {len(ops)} operation(s), {sum(ops.values())} case(s)")
        for label in sorted(ops):
            print(f"    {label} ({ops[label]})")
    if revoked:
        print(f"\nnote: {revoked} request(s) got 401 `unauthenticated` with a token the run had logged in for,"
              " i.e. the run's token was revoked (a harness artefact, not a server finding)")
    if with_examples:
        print_examples(groups, examples)
    print_errors(errors)


def print_examples(groups, examples):
    print("\n== examples")
    for key in sorted(groups, key=lambda k: (k[0], str(k[3]))):
        code, title, check, status = key
        labels = sorted(groups[key]) if code in DETAILED else sorted(groups[key])[:1]
        for label in labels:
            ex = examples[(key, label)]
            print(f"\n-- {code} {title}, status {status}: {label} ({ex['phase']}, {ex['mode']}: {ex['what']})")
            print(f"   request:  {ex['request']}")
            if ex["body"]:
                print(f"   body:     {ex['body']}")
            print(f"   response: {ex['response']}")
            if ex["message"]:
                print("   " + ex["message"].replace("\n", "\n   "))


def print_errors(errors):
    if errors:
        print("\n== network errors (connection dropped or refused)")
        for (kind, message), labels in sorted(errors.items()):
            print(f"{kind}: {message}")
            for label in sorted(labels):
                print(f"    {label}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main([a for a in args if a != "--examples"], "--examples" in args)
