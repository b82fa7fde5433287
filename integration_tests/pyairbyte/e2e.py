#!/usr/bin/env python3
"""End to end through PyAirbyte: source-faker's `products`, `users` and
`purchases` streams, in one sync, into the destination-hubspot binary (a
local executable) against a running hubspot-emulator; then the emulator's
store is compared with exactly what the faker sent.

Run it with the PyAirbyte venv's python (run.sh prepares everything):

    python e2e.py --destination target/debug/destination-hubspot \
        --faker .venv-e2e-faker/bin/source-faker --emulator http://127.0.0.1:PORT

The destination config is faker_config.json plus CRM_CONFIG below (PyAirbyte
has no destination_object_name, so the streams are routed by `objects`):
- `products`  -> companies, upserted by external_id (= product id), name = make
- `users`     -> contacts, upserted by email, external_id = user id
- `purchases` -> deals, upserted by external_id (= purchase id),
  closedate = purchased_at (a datetime property; when set), each
  associated with the contact of its user_id and the company of its
  product_id (both looked up by external_id).

What it asserts:
- PyAirbyte's write finishes without error (the binary exited 0), twice:
  the second, identical sync (a full refresh) changes no count of objects
  or associations (upserts, not inserts; existing links kept);
- every faker user's email is exactly one contact, lower-cased; every
  product exactly one company and every purchase exactly one deal, by
  external_id; nothing else is in the store;
- the properties of property_mapping equal the faker values, on every
  object type, and nothing else of a record was stored as a property;
- every deal is associated with exactly the contact (type 3) and the
  company (type 341) its purchase names, and nothing else; no contact is
  associated with a company (none configured);
- the destination reported no association_target_missing or
  association_refused, rejected nothing (rejected_records_path stays
  empty), and its sync summary counts every association;
- the destination's STATE reached PyAirbyte: the last state PyAirbyte
  recorded for each stream carries the faker's final stream_state for that
  stream unchanged, and a numeric destinationStats.recordCount.

The faker and the destination run behind tiny wrappers that copy their
stdout to files, so the expected values are exactly the records PyAirbyte
piped, and the destination's log can be read.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# PyAirbyte must not reach out: no registry look-ups, no telemetry.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte as ab  # noqa: E402  (after the environment is set)

STREAMS = ["products", "users", "purchases"]
# Added to faker_config.json. property_mapping is global: `id` exists in
# all three streams, `make` only in products (companies get a name),
# `purchased_at` only in purchases.
CRM_CONFIG = {
    "objects": {
        "products": {"object": "companies", "matching_key": "external_id"},
        "purchases": {"object": "deals", "matching_key": "external_id"},
    },
    "property_mapping": {"id": "external_id", "make": "name", "purchased_at": "closedate"},
    "associations": [
        {"stream": "purchases", "field": "user_id", "to_object": "contacts", "to_matching_key": "external_id"},
        {"stream": "purchases", "field": "product_id", "to_object": "companies", "to_matching_key": "external_id"},
    ],
}
# stream -> (emulator object type, the record field its matching key holds)
ROUTES = {"users": ("contacts", "email"), "products": ("companies", "id"), "purchases": ("deals", "id")}
# HubSpot's default association type ids of the pairs written.
DEAL_CONTACT, DEAL_COMPANY = 3, 341
# Faker purchases name product ids 1..100, whatever `count` is.
FAKER_PRODUCTS = 100
# Properties HubSpot (and the emulator) maintains itself.
SYSTEM_PROPERTIES = {
    "hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate",
    "hs_email_domain", "lifecyclestage",
}


def fail(msg: str) -> None:
    print(f"e2e FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as resp:  # loopback only
        return json.load(resp)


def present(data: dict, dotted: str) -> bool:
    """Whether the record has the top-level field a mapping path starts at."""
    return dotted.split(".")[0] in data


def lookup(data: dict, dotted: str):
    cur = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def instant(text):
    """The moment a zoned ISO datetime names, else None."""
    try:
        t = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return t if t.tzinfo is not None else None


def same_value(want, got) -> bool:
    """Equal as written, or (datetime properties) the same instant:
    HubSpot answers `2023-05-24T19:39:35.000Z` for `…35+00:00`."""
    return want == got or (instant(want) is not None and instant(want) == instant(got))


def tee_wrapper(real: Path, capture: Path, workdir: Path) -> Path:
    """A wrapper executable that runs `real` and copies its stdout to `capture`."""
    wrapper = workdir / f"{real.name}-tee"
    wrapper.write_text(
        "#!/usr/bin/env bash\n"
        "set -o pipefail\n"
        f"{json.dumps(str(real))} \"$@\" | tee -a {json.dumps(str(capture))}\n"
        "exit \"${PIPESTATUS[0]}\"\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


def messages(path: Path):
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(msg, dict):
            yield msg


def merged_config(path: Path, base: str, rejects: Path) -> dict:
    config = json.loads(path.read_text())
    mapping = dict(config.get("property_mapping", {}))
    for field, prop in CRM_CONFIG["property_mapping"].items():
        if mapping.get(field, prop) != prop or prop in mapping.values():
            fail(f"{path.name} already maps {field} or to {prop}: CRM_CONFIG's mapping would clash")
        mapping[field] = prop
    config.update(CRM_CONFIG)
    config["property_mapping"] = mapping
    config["base_url"] = base
    config["rejected_records_path"] = str(rejects)
    return config


class Store:
    """One snapshot of the emulator: objects by type, deal links."""

    def __init__(self, base: str):
        self.objects = {t: get_json(f"{base}/_emulator/objects/{t}")["results"] for t in ("contacts", "companies", "deals")}
        self.links = {
            pair: get_json(f"{base}/_emulator/associations?from={pair[0]}&to={pair[1]}")["results"]
            for pair in (("deals", "contacts"), ("deals", "companies"), ("contacts", "companies"))
        }

    def counts(self) -> dict[str, int]:
        out = {t: len(v) for t, v in self.objects.items()}
        out.update({f"{a}->{b}": len(v) for (a, b), v in self.links.items()})
        return out


def check_objects(store: Store, records: dict[str, list[dict]], mapping: dict[str, str]) -> list[str]:
    """Every record is exactly one object of its type with its mapped values."""
    problems = []
    for stream, (otype, key_field) in ROUTES.items():
        key_prop = "email" if otype == "contacts" else mapping[key_field]
        expected: dict[str, dict] = {}
        for r in records[stream]:
            key = str(r[key_field]).strip()
            key = key.lower() if key_prop == "email" else key
            if key in expected:
                fail(f"the faker repeated {stream} {key_field} {key}: the check needs unique keys")
            expected[key] = r
        found: dict[str, list[dict]] = {}
        for obj in store.objects[otype]:
            found.setdefault(obj["properties"].get(key_prop) or "", []).append(obj)
        extra = sorted(set(found) - set(expected))
        if extra:
            problems.append(f"{len(extra)} {otype} that no faker {stream} record has, e.g. {extra[:3]}")
        for key, rec in expected.items():
            objs = found.get(key, [])
            if len(objs) != 1:
                problems.append(f"{stream} {key}: {len(objs)} {otype}, expected exactly 1")
                continue
            props = objs[0]["properties"]
            allowed = {key_prop} | SYSTEM_PROPERTIES
            for path, prop in mapping.items():
                if not present(rec, path):
                    continue  # a field of another stream
                allowed.add(prop)
                want = lookup(rec, path)
                want = None if want is None else str(want)
                if not same_value(want, props.get(prop)):
                    problems.append(f"{stream} {key}: {otype} property {prop} (from {path}) is {props.get(prop)!r}, faker sent {want!r}")
            unexpected = sorted(k for k, v in props.items() if k not in allowed and v not in (None, ""))
            if unexpected:
                problems.append(f"{stream} {key}: unexpected {otype} properties {unexpected}")
    return problems


def check_links(store: Store, purchases: list[dict]) -> list[str]:
    """Every deal links to exactly its purchase's contact and company."""
    problems = []
    ext = {
        t: {o["id"]: o["properties"].get("external_id") for o in objs}
        for t, objs in store.objects.items()
    }
    for (frm, to), type_id, field in (
        (("deals", "contacts"), DEAL_CONTACT, "user_id"),
        (("deals", "companies"), DEAL_COMPANY, "product_id"),
    ):
        got: dict[str, list[tuple[str | None, list]]] = {}
        for link in store.links[(frm, to)]:
            deal = ext[frm].get(str(link["from"]))
            got.setdefault(deal, []).append((ext[to].get(str(link["to"])), link.get("types")))
        want = {str(p["id"]): str(p[field]) for p in purchases}
        stray = sorted(set(got) - set(want), key=str)
        if stray:
            problems.append(f"{frm}->{to}: links from deals no purchase has, e.g. {stray[:3]}")
        for deal, target in want.items():
            have = got.get(deal, [])
            if have != [(target, [type_id])]:
                problems.append(
                    f"deal {deal}: {to} links (external_id, types) {have}, expected [({target!r}, [{type_id}])] from {field}"
                )
    if store.links[("contacts", "companies")]:
        problems.append(f"{len(store.links[('contacts', 'companies')])} contact->company links, none configured")
    return problems


def check_log(path: Path, want_links: int | None, label: str) -> tuple[list[str], str]:
    """The destination's LOG lines: no failed association, a summary that
    counts `want_links` associations made (unless None)."""
    problems, summary = [], ""
    for msg in messages(path):
        if msg.get("type") != "LOG":
            continue
        text = msg["log"].get("message", "")
        if "association_target_missing" in text or "association_refused" in text:
            problems.append(f"{label}: destination log: {text}")
        if text.startswith("sync summary:"):
            summary = text
    if not summary:
        problems.append(f"{label}: the destination logged no sync summary")
    else:
        m = re.search(r", (\d+) associations made( \((\d+) not\))?", summary)
        made = int(m.group(1)) if m else 0
        if m and m.group(2):
            problems.append(f"{label}: {m.group(3)} associations not made: {summary}")
        if want_links is not None and made != want_links:
            problems.append(f"{label}: summary counts {made} associations made, expected {want_links}: {summary}")
    return problems, summary


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
    if args.count < FAKER_PRODUCTS:
        fail(f"--count must be at least {FAKER_PRODUCTS}: the faker emits min(count, {FAKER_PRODUCTS}) products "
             f"but its purchases name products 1..{FAKER_PRODUCTS}, so some deals would miss their company")
    base = args.emulator.rstrip("/")

    work = Path(tempfile.mkdtemp(prefix="dh-e2e-"))
    captured = work / "faker-stdout.jsonl"
    dest_out = work / "destination-stdout.jsonl"
    rejects = work / "rejected.jsonl"
    faker = tee_wrapper(args.faker.resolve(), captured, work)
    dest_bin = tee_wrapper(args.destination.resolve(), dest_out, work)

    dest_config = merged_config(args.config, base, rejects)
    mapping: dict[str, str] = dest_config["property_mapping"]

    source = ab.get_source(
        "source-faker",
        local_executable=str(faker),
        config={"count": args.count, "seed": args.seed, "parallelism": 1, "records_per_slice": 100},
        streams=STREAMS,
    )
    # Faker declares primary_key [["id"]] for every stream; the destination
    # must still match contacts by `email` and the others by `objects`.

    destination = ab.get_destination(
        "destination-hubspot",
        config=dest_config,
        local_executable=str(dest_bin),
    )
    destination.check()

    # One sync of all three streams, so purchases name users and products
    # written earlier in the same sync: the association stage resolves them
    # from what it wrote. (PyAirbyte builds the catalog in the source's
    # discovery order whatever the selection order, and the faker sends
    # products, users, purchases, so targets written *later* cannot be had
    # here.) The second, full-refresh sync of the same records finds every
    # object and link there already.
    state_cache = ab.new_local_cache(cache_name="dh_e2e_state", cache_dir=str(work / "cache"))
    syncs = []
    for n in (1, 2):
        for f in (captured, dest_out):  # the wrappers append: start afresh
            if f.exists():
                f.rename(work / f"{f.stem}-before-{n}{f.suffix}")
        started = time.monotonic()
        destination.write(
            source, cache=False, state_cache=state_cache, write_strategy="merge", force_full_refresh=(n == 2)
        )
        syncs.append((time.monotonic() - started, Store(base), dest_out.read_text() if dest_out.exists() else ""))
        (work / f"destination-stdout-{n}.jsonl").write_text(syncs[-1][2])

    # What the faker sent the second time, exactly (the values now stored).
    records: dict[str, list[dict]] = {s: [] for s in STREAMS}
    source_states: dict[str, dict] = {}
    for msg in messages(captured):
        if msg.get("type") == "RECORD" and msg["record"]["stream"] in records:
            records[msg["record"]["stream"]].append(msg["record"]["data"])
        elif msg.get("type") == "STATE" and "stream" in msg["state"]:
            source_states[msg["state"]["stream"]["stream_descriptor"]["name"]] = msg["state"]["stream"]
    want_counts = {"users": args.count, "products": FAKER_PRODUCTS}
    for stream, n in want_counts.items():
        if len(records[stream]) != n:
            fail(f"the faker sent {len(records[stream])} {stream} records, expected {n}")
    if not records["purchases"]:
        fail("the faker sent no purchases")
    users = {str(u["id"]) for u in records["users"]}
    products = {str(p["id"]) for p in records["products"]}
    for p in records["purchases"]:
        if str(p["user_id"]) not in users or str(p["product_id"]) not in products:
            fail(f"purchase {p['id']} names user {p['user_id']} / product {p['product_id']} the faker did not send")

    problems: list[str] = []
    (t1, first, _), (t2, store, _) = syncs
    if first.counts() != store.counts():
        problems.append(f"the second, identical sync changed the counts from {first.counts()} to {store.counts()}")
    problems += check_objects(store, records, mapping)
    problems += check_links(store, records["purchases"])
    want_links = 2 * len(records["purchases"])
    summaries = []
    for n in (1, 2):
        # The second sync finds every link there already: how it counts
        # them is its own business; only the first sync's count is checked.
        p, summary = check_log(work / f"destination-stdout-{n}.jsonl", want_links if n == 1 else None, f"sync {n}")
        problems += p
        summaries.append(summary)
    if rejects.exists() and rejects.read_text().strip():
        rows = rejects.read_text().splitlines()
        problems.append(f"{len(rows)} row(s) in rejected_records_path, e.g. {rows[0][:300]}")

    # The destination must have checkpointed through PyAirbyte, echoing each
    # stream's state (PyAirbyte keeps the last state per stream).
    provider = state_cache.get_state_provider(source_name=source.name, destination_name=destination.name)
    states = [json.loads(a.model_dump_json(exclude_none=True)) for a in (provider.state_message_artifacts or [])]
    by_stream = {s.get("stream", {}).get("stream_descriptor", {}).get("name"): s for s in states}
    for stream in STREAMS:
        want = source_states.get(stream)
        last = by_stream.get(stream)
        if want is None:
            problems.append(f"the faker sent no {stream} STATE, so its echo cannot be checked")
        elif last is None:
            problems.append(f"PyAirbyte recorded no {stream} STATE from the destination (recorded: {sorted(map(str, by_stream))})")
        else:
            if last["stream"].get("stream_state") != want.get("stream_state"):
                problems.append(f"{stream}: last recorded stream_state {last['stream'].get('stream_state')} differs from the faker's {want.get('stream_state')}")
            count = (last.get("destinationStats") or {}).get("recordCount")
            if not isinstance(count, (int, float)):
                problems.append(f"{stream}: last recorded state has no numeric destinationStats.recordCount: {last}")

    for i, s in enumerate(summaries, 1):
        print(f"destination, sync {i}: {s}", file=sys.stderr)
    if problems:
        print(f"e2e FAILED: {len(problems)} problems (work dir {work} kept)", file=sys.stderr)
        for p in problems[:40]:
            print(f"  - {p}", file=sys.stderr)
        if len(problems) > 40:
            print(f"  … and {len(problems) - 40} more", file=sys.stderr)
        return 1

    c = store.counts()
    print(
        f"pyairbyte e2e OK: {len(records['users'])} users -> {c['contacts']} contacts, "
        f"{len(records['products'])} products -> {c['companies']} companies, "
        f"{len(records['purchases'])} purchases -> {c['deals']} deals with "
        f"{c['deals->contacts']} deal-contact + {c['deals->companies']} deal-company associations (twice, unchanged), "
        f"{len(mapping)} mapped properties equal, {len(by_stream)} stream state(s) recorded, "
        f"writes took {t1:.1f}s + {t2:.1f}s"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
