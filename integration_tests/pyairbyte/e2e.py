#!/usr/bin/env python3
"""End to end through PyAirbyte: source-faker's `users` stream into the
destination-hubspot binary (a local executable), against a running
hubspot-emulator, then every user is checked in the emulator's store.

Run it with the PyAirbyte venv's python (run.sh prepares everything):

    python e2e.py --destination target/debug/destination-hubspot \
        --faker .venv-e2e-faker/bin/source-faker --emulator http://127.0.0.1:PORT

What it asserts:
- PyAirbyte's write finishes without error (the binary exited 0);
- every faker user's email is exactly one emulator contact, lower-cased,
  also after a second, identical sync (upserts, not inserts);
- the properties named in faker_config.json's property_mapping equal the
  faker values (and nothing else of the record was stored as a property);
- the destination's STATE reached PyAirbyte: the last one PyAirbyte
  recorded carries the faker's final stream_state unchanged (echoed, not
  re-invented) and a numeric destinationStats.recordCount.

The faker runs behind a tiny wrapper that copies its `read` output to a
file, so the expected values are exactly the records PyAirbyte piped.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# PyAirbyte must not reach out: no registry look-ups, no telemetry.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte as ab  # noqa: E402  (after the environment is set)

STREAM = "users"
# Properties HubSpot (and the emulator) maintains itself.
SYSTEM_PROPERTIES = {"hs_object_id", "createdate", "lastmodifieddate", "hs_email_domain", "lifecyclestage"}


def fail(msg: str) -> None:
    print(f"e2e FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:  # loopback only
        return json.load(resp)


def lookup(data: dict, dotted: str):
    cur = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def tee_wrapper(real: Path, capture: Path, workdir: Path) -> Path:
    """A wrapper executable that runs `real` and copies its stdout to `capture`."""
    wrapper = workdir / "source-faker-tee"
    wrapper.write_text(
        "#!/usr/bin/env bash\n"
        "set -o pipefail\n"
        f"{json.dumps(str(real))} \"$@\" | tee -a {json.dumps(str(capture))}\n"
        "exit \"${PIPESTATUS[0]}\"\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--destination", required=True, type=Path, help="destination-hubspot binary")
    ap.add_argument("--faker", required=True, type=Path, help="source-faker executable (its own venv)")
    ap.add_argument("--emulator", required=True, help="hubspot-emulator base URL (loopback)")
    ap.add_argument("--config", type=Path, default=ROOT / "integration_tests/faker_config.json")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()

    if not args.emulator.startswith(("http://127.", "http://localhost", "http://[::1]")):
        fail(f"--emulator must be a loopback URL, got {args.emulator}")
    base = args.emulator.rstrip("/")

    work = Path(tempfile.mkdtemp(prefix="dh-e2e-"))
    captured = work / "faker-stdout.jsonl"
    faker = tee_wrapper(args.faker.resolve(), captured, work)

    dest_config = json.loads(args.config.read_text())
    dest_config["base_url"] = base
    mapping: dict[str, str] = dest_config.get("property_mapping", {})

    source = ab.get_source(
        "source-faker",
        local_executable=str(faker),
        config={"count": args.count, "seed": args.seed, "parallelism": 1, "records_per_slice": 100},
        streams=[STREAM],
    )
    # Faker declares primary_key [["id"]]; the destination must still match
    # contacts by the `email` field (no set_primary_key workaround).

    destination = ab.get_destination(
        "destination-hubspot",
        config=dest_config,
        local_executable=str(args.destination.resolve()),
    )
    destination.check()

    state_cache = ab.new_local_cache(cache_name="dh_e2e_state", cache_dir=str(work / "cache"))
    started = time.monotonic()
    result = destination.write(source, cache=False, state_cache=state_cache, write_strategy="merge")
    elapsed = time.monotonic() - started
    after_first = get_json(f"{base}/_emulator/contacts")["results"]

    # The same users again (a full refresh: same seed, same emails) must
    # update the contacts in place, not duplicate them.
    captured.rename(work / "faker-stdout-first.jsonl")  # the wrapper appends: start afresh
    destination.write(source, cache=False, state_cache=state_cache, write_strategy="merge", force_full_refresh=True)

    # What the faker sent the second time, exactly (the values now stored).
    records, source_states = [], []
    for line in captured.read_text().splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("type") == "RECORD" and msg["record"]["stream"] == STREAM:
            records.append(msg["record"]["data"])
        elif msg.get("type") == "STATE":
            source_states.append(msg["state"])
    if len(records) != args.count:
        fail(f"the faker sent {len(records)} {STREAM} records, expected {args.count}")

    expected: dict[str, dict] = {}
    for r in records:
        email = r["email"].strip().lower()
        if email in expected:
            fail(f"the faker repeated email {email}: the check needs unique emails")
        expected[email] = r

    contacts = get_json(f"{base}/_emulator/contacts")["results"]
    if len(after_first) != len(contacts):
        problems_rerun = [f"the second, identical sync changed the contact count from {len(after_first)} to {len(contacts)}"]
    else:
        problems_rerun = []
    by_email: dict[str, list[dict]] = {}
    for c in contacts:
        by_email.setdefault(c["properties"].get("email", ""), []).append(c)

    problems = list(problems_rerun)
    extra = sorted(set(by_email) - set(expected))
    if extra:
        problems.append(f"{len(extra)} contacts that no faker user has, e.g. {extra[:3]}")
    allowed = set(mapping.values()) | {"email"} | SYSTEM_PROPERTIES
    for email, rec in expected.items():
        found = by_email.get(email, [])
        if len(found) != 1:
            problems.append(f"{email}: {len(found)} contacts, expected exactly 1")
            continue
        props = found[0]["properties"]
        for path, prop in mapping.items():
            want = lookup(rec, path)
            want = None if want is None else str(want)
            got = props.get(prop)
            if got != want:
                problems.append(f"{email}: property {prop} (from {path}) is {got!r}, faker sent {want!r}")
        unexpected = sorted(k for k, v in props.items() if k not in allowed and v not in (None, ""))
        if unexpected:
            problems.append(f"{email}: unexpected properties {unexpected}")

    # The destination must have checkpointed through PyAirbyte, echoing the
    # source's state (PyAirbyte keeps the last state per stream).
    provider = state_cache.get_state_provider(source_name=source.name, destination_name=destination.name)
    states = [json.loads(a.model_dump_json(exclude_none=True)) for a in (provider.state_message_artifacts or [])]
    if not states:
        problems.append("PyAirbyte recorded no STATE from the destination")
    elif not source_states:
        problems.append("the faker sent no STATE, so the echo cannot be checked")
    else:
        last = states[-1]
        want = source_states[-1]["stream"]["stream_state"]
        got = last.get("stream", {}).get("stream_state")
        if got != want:
            problems.append(f"last recorded state's stream_state {got} differs from the faker's last {want}")
        count = (last.get("destinationStats") or {}).get("recordCount")
        if not isinstance(count, (int, float)):
            problems.append(f"last recorded state has no numeric destinationStats.recordCount: {last}")

    if problems:
        print(f"e2e FAILED: {len(problems)} problems", file=sys.stderr)
        for p in problems[:40]:
            print(f"  - {p}", file=sys.stderr)
        if len(problems) > 40:
            print(f"  … and {len(problems) - 40} more", file=sys.stderr)
        return 1

    print(
        f"pyairbyte e2e OK: {len(expected)} faker users -> {len(contacts)} contacts (twice), "
        f"{len(mapping)} mapped properties equal, {len(states)} state(s) recorded, write took {elapsed:.1f}s"
    )
    del result
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
