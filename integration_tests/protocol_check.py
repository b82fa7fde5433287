#!/usr/bin/env python3
"""Validates Airbyte protocol output against `airbyte-protocol-models`.

    python integration_tests/protocol_check.py [PATH ...] [--destination-output]
        [--binary target/debug/destination-hubspot
         (--emulator http://127.0.0.1:PORT | --emulator-bin target/debug/hubspot-emulator)]

PATH is a file or a directory (its *.jsonl, *.ndjson and *.txt files, recursively);
every non-empty line must be one AirbyteMessage. Each line is checked three ways:
  1. the package's AirbyteMessage model parses it (pydantic v1 `parse_obj` in
     airbyte-protocol-models 0.x, `model_validate` where the models are pydantic v2);
  2. it validates against the JSON Schema of that model with strict JSON types
     (pydantic v1 would quietly turn "5" into 5.0; the platform's Java side
     would not), optional fields allowed to be null;
  3. the payload its `type` names is present (`"type":"STATE"` needs `state`).
With --destination-output (implied for the binary's own runs) a line may not
be a RECORD or a CATALOG: a destination never prints those.

With --binary the connector itself is run:
  spec               one SPEC; spec.spec is a ConnectorSpecification whose
                     connectionSpecification is a valid draft-07 schema, equal
                     to integration_tests/spec.json
  check (good)       sample_config.json pointed at the emulator: SUCCEEDED, exit 0
  check (bad)        invalid_config.json, and a good one with a wrong token:
                     FAILED with a message, exit 0, the token not echoed
  discover           (when `--help` lists it) one DESTINATION_CATALOG, a valid
                     DestinationCatalog
  write              configured_catalog.json + messages.txt: exit 0, at least one
                     STATE, states echoed in input order with destinationStats
Failures print as FILE:LINE: problem (or run NAME:LINE: problem); exit 1.
Success prints one line starting "protocol_check OK".
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _checks_env import ensure  # noqa: E402

ensure("jsonschema", "airbyte_protocol.models")

import jsonschema  # noqa: E402
from airbyte_protocol import models  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "integration_tests"
SUFFIXES = {".jsonl", ".ndjson", ".txt"}
PAYLOAD_KEY = {
    "RECORD": "record",
    "STATE": "state",
    "LOG": "log",
    "SPEC": "spec",
    "CONNECTION_STATUS": "connectionStatus",
    "CATALOG": "catalog",
    "TRACE": "trace",
    "CONTROL": "control",
    "DESTINATION_CATALOG": "destination_catalog",
}
NOT_FROM_A_DESTINATION = {"RECORD", "CATALOG"}
MAX_REPORTED = 60


# ------------------------------------------------------------------ models


def _pydantic_v2(model) -> bool:
    return hasattr(model, "model_validate")


def parse_model(model, obj):
    return model.model_validate(obj) if _pydantic_v2(model) else model.parse_obj(obj)


def model_errors(model, obj) -> list[str]:
    try:
        parse_model(model, obj)
        return []
    except Exception as e:  # pydantic.ValidationError (v1 or v2), or a TypeError on odd input
        errors = getattr(e, "errors", None)
        if callable(errors):
            return [f"{'/'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}" for err in errors()]
        return [str(e)]


def _nullable_optionals(node):
    """pydantic Optional[...] fields accept null; its JSON Schema forgets that."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            required = set(node.get("required", []))
            for name, sub in list(props.items()):
                _nullable_optionals(sub)
                if name not in required:
                    props[name] = {"anyOf": [sub, {"type": "null"}]}
        for key, sub in node.items():
            if key != "properties":
                _nullable_optionals(sub)
    elif isinstance(node, list):
        for sub in node:
            _nullable_optionals(sub)


def strict_validator(model) -> jsonschema.Draft7Validator:
    schema = model.model_json_schema() if _pydantic_v2(model) else model.schema()
    schema = copy.deepcopy(schema)
    _nullable_optionals(schema)
    return jsonschema.Draft7Validator(schema)


MESSAGE_SCHEMA = strict_validator(models.AirbyteMessage)
SPEC_SCHEMA = strict_validator(models.ConnectorSpecification)
DEST_CATALOG_MODEL = getattr(models, "DestinationCatalog", None)


def schema_errors(validator: jsonschema.Draft7Validator, obj) -> list[str]:
    out = []
    for err in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        # anyOf(optional, null) hides the useful inner message: show the one
        # that is not about null.
        best = err
        while best.context:
            inner = [e for e in best.context if e.validator_value != "null"]
            if not inner:
                break
            best = min(inner, key=lambda e: len(list(e.absolute_path)) * -1)
        pointer = "/" + "/".join(str(p) for p in best.absolute_path)
        out.append(f"{pointer}: {best.message}")
    return out


def message_problems(obj, destination_output: bool) -> list[str]:
    if not isinstance(obj, dict):
        return [f"not a JSON object but {type(obj).__name__}"]
    problems = model_errors(models.AirbyteMessage, obj)
    problems += [f"strict types: {p}" for p in schema_errors(MESSAGE_SCHEMA, obj)]
    kind = obj.get("type")
    key = PAYLOAD_KEY.get(kind) if isinstance(kind, str) else None
    if key and obj.get(key) is None:
        problems.append(f"type {kind} without its `{key}` payload")
    if destination_output and kind in NOT_FROM_A_DESTINATION:
        problems.append(f"a destination must not print {kind} messages")
    # de-duplicate (the model and the schema often say the same thing)
    seen, unique = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


# ------------------------------------------------------------------- lines


class Report:
    def __init__(self):
        self.failures: list[str] = []
        self.lines = 0
        self.sources = 0
        self.runs: list[str] = []

    def fail(self, where: str, problem: str):
        self.failures.append(f"{where}: {problem}")


def check_lines(report: Report, name: str, text: str, destination_output: bool) -> list[dict]:
    """Validates each line; returns the parsed messages (valid or not)."""
    messages = []
    report.sources += 1
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        report.lines += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            report.fail(f"{name}:{n}", f"not JSON ({e.msg} at column {e.colno}): {line[:120]}")
            continue
        for p in message_problems(obj, destination_output):
            report.fail(f"{name}:{n}", p)
        messages.append(obj)
    return messages


def files_under(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in SUFFIXES and not f.name.startswith("."))
        elif p.is_file():
            out.append(p)
        else:
            raise SystemExit(f"protocol_check: {p} does not exist")
    return out


# ------------------------------------------------------------- binary runs


def run_binary(report: Report, binary: Path, name: str, args: list[str], stdin: bytes = b"", timeout: int = 120):
    started = time.monotonic()
    try:
        proc = subprocess.run([str(binary), *args], input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        report.fail(f"run {name}", f"no exit within {timeout}s")
        return None, []
    report.runs.append(f"{name} ({time.monotonic() - started:.1f}s)")
    try:
        text = proc.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        report.fail(f"run {name}", f"stdout is not UTF-8: {e}")
        return proc, []
    return proc, check_lines(report, f"run {name}", text, destination_output=True)


def of_type(messages, kind):
    return [m for m in messages if isinstance(m, dict) and m.get("type") == kind]


def only_one(report: Report, name: str, messages, kind: str):
    """The single message of `kind` a command must print, or None (reported)."""
    found = of_type(messages, kind)
    if len(found) != 1:
        report.fail(f"run {name}", f"expected exactly one {kind} message, got {len(found)}")
        return None
    return found[0]


def run_one(report: Report, binary: Path, name: str, args: list, kind: str, exit_note: str | None = None):
    """Runs a command that must exit 0 and print exactly one message of
    `kind`: (process, that message), either None when it failed (reported)."""
    proc, msgs = run_binary(report, binary, name, args)
    if proc is None:
        return None, None
    if proc.returncode != 0:
        note = exit_note or proc.stderr.decode(errors="replace")[:300]
        report.fail(f"run {name}", f"exit code {proc.returncode}: {note}")
    return proc, only_one(report, name, msgs, kind)


def run_spec(report: Report, binary: Path):
    _, message = run_one(report, binary, "spec", ["spec"], "SPEC")
    if message is None:
        return
    spec = message.get("spec")
    for p in model_errors(models.ConnectorSpecification, spec) + [f"strict types: {e}" for e in schema_errors(SPEC_SCHEMA, spec)]:
        report.fail("run spec: spec", p)
    conn = (spec or {}).get("connectionSpecification")
    try:
        jsonschema.Draft7Validator.check_schema(conn)
    except jsonschema.exceptions.SchemaError as e:
        report.fail("run spec: spec/connectionSpecification", f"not a valid draft-07 schema: {e.message}")
    expected_path = FIXTURES / "spec.json"
    if expected_path.exists():
        expected = json.loads(expected_path.read_text())
        if spec != expected:
            report.fail("run spec", f"the SPEC differs from {expected_path.relative_to(ROOT)} (the expected spec)")


def run_check(report: Report, binary: Path, name: str, config: dict, want: str, secret: str | None, work: Path):
    path = work / f"{name}.json"
    path.write_text(json.dumps(config))
    proc, message = run_one(report, binary, name, ["check", "--config", str(path)], "CONNECTION_STATUS",
                            exit_note="check answers with a status and exits 0")
    if message is None:
        return
    status = message.get("connectionStatus") or {}
    if status.get("status") != want:
        report.fail(f"run {name}", f"status {status.get('status')!r}, expected {want!r}: {status.get('message')}")
    if want == "FAILED" and not (status.get("message") or "").strip():
        report.fail(f"run {name}", "a FAILED status needs a message saying what to fix")
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    if secret and secret in out:
        report.fail(f"run {name}", "the output echoes the access token")


def run_discover(report: Report, binary: Path, config: dict, work: Path):
    helptext = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=30).stdout
    if "discover" not in helptext:
        report.runs.append("discover (not offered)")
        return
    path = work / "discover-config.json"
    path.write_text(json.dumps(config))
    _, message = run_one(report, binary, "discover", ["discover", "--config", str(path)], "DESTINATION_CATALOG")
    if message is None:
        return
    payload = message.get("destination_catalog")
    if DEST_CATALOG_MODEL is not None:
        problems = model_errors(DEST_CATALOG_MODEL, payload)
        problems += [f"strict types: {e}" for e in schema_errors(strict_validator(DEST_CATALOG_MODEL), payload)]
        for p in problems:
            report.fail("run discover: destination_catalog", p)
    for i, op in enumerate((payload or {}).get("operations") or []):
        try:
            jsonschema.Draft7Validator.check_schema(op.get("json_schema"))
        except jsonschema.exceptions.SchemaError as e:
            report.fail(f"run discover: operations/{i}/json_schema", f"not a valid draft-07 schema: {e.message}")


def run_write(report: Report, binary: Path, config: dict, work: Path):
    cfg = work / "write-config.json"
    cfg.write_text(json.dumps(config))
    catalog = FIXTURES / "configured_catalog.json"
    messages_txt = FIXTURES / "messages.txt"
    input_text = messages_txt.read_text()
    check_lines(report, str(messages_txt.relative_to(ROOT)), input_text, destination_output=False)
    proc, msgs = run_binary(report, binary, "write", ["write", "--config", str(cfg), "--catalog", str(catalog)], input_text.encode())
    if proc is None:
        return
    if proc.returncode != 0:
        report.fail("run write", f"exit code {proc.returncode}: {proc.stderr.decode(errors='replace')[:300]}")
    input_states = [json.loads(l)["state"] for l in input_text.splitlines() if l.strip() and json.loads(l).get("type") == "STATE"]
    out_states = [m.get("state") or {} for m in of_type(msgs, "STATE")]
    if input_states and not out_states:
        report.fail("run write", "no STATE emitted, though the input had states and the sync succeeded")

    def without_stats(s):
        return {k: v for k, v in s.items() if k != "destinationStats"}

    # Every emitted state is one of the input states, unchanged but for
    # destinationStats, in input order (skipping is allowed, reordering not).
    pos = 0
    for i, s in enumerate(out_states, start=1):
        match = next((j for j in range(pos, len(input_states)) if without_stats(s) == input_states[j]), None)
        if match is None:
            report.fail("run write", f"STATE #{i} is not an unchanged input state in order: {json.dumps(s)[:200]}")
            break
        pos = match + 1
        stats = s.get("destinationStats")
        if not isinstance(stats, dict) or not isinstance(stats.get("recordCount"), (int, float)):
            report.fail("run write", f"STATE #{i} has no numeric destinationStats.recordCount")
    if out_states and pos != len(input_states):
        report.fail("run write", "the last input state was not emitted at the end of a successful sync")


class Emulator:
    """Starts hubspot-emulator on a free loopback port (for --emulator-bin)."""

    def __init__(self, binary: Path):
        self.proc = subprocess.Popen(
            [str(binary), "--port", "0", "--no-rate-limit"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.url = (self.proc.stdout.readline() or "").strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise SystemExit(f"protocol_check: the emulator printed {self.url!r}, not its URL")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_binary_checks(report: Report, binary: Path, url: str):
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit(f"protocol_check: --emulator must be a loopback URL, got {url}")
    sample = json.loads((FIXTURES / "sample_config.json").read_text())
    sample["base_url"] = url.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="dh-protocol-") as tmp:
        work = Path(tmp)
        run_spec(report, binary)
        run_check(report, binary, "check-good", sample, "SUCCEEDED", None, work)
        invalid = json.loads((FIXTURES / "invalid_config.json").read_text())
        run_check(report, binary, "check-invalid-config", invalid, "FAILED", None, work)
        wrong = dict(sample, access_token="pat-na1-wrong-token-0000")
        run_check(report, binary, "check-wrong-token", wrong, "FAILED", "pat-na1-wrong-token-0000", work)
        run_discover(report, binary, sample, work)
        run_write(report, binary, sample, work)


# -------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", type=Path, help="files or directories of captured JSON lines")
    ap.add_argument("--destination-output", action="store_true", help="the PATHs hold a destination's stdout: RECORD/CATALOG lines are errors")
    ap.add_argument("--binary", type=Path, help="destination-hubspot binary to run spec/check/write")
    ap.add_argument("--emulator", help="base URL of a running hubspot-emulator (loopback)")
    ap.add_argument("--emulator-bin", type=Path, help="hubspot-emulator binary to start instead of --emulator")
    args = ap.parse_args()
    if not args.paths and not args.binary:
        ap.error("give PATHs, --binary, or both")
    if args.binary and not (args.emulator or args.emulator_bin):
        ap.error("--binary needs --emulator URL or --emulator-bin PATH")

    for opt in ("binary", "emulator_bin"):
        path = getattr(args, opt)
        if path is not None:
            if not path.is_file():
                ap.error(f"--{opt.replace('_', '-')} {path}: no such file (build it first: cargo build)")
            setattr(args, opt, path.resolve())

    report = Report()
    files = files_under(args.paths)
    if args.paths and not files:
        report.fail(" ".join(map(str, args.paths)), "no *.jsonl/*.ndjson/*.txt files to check")
    for f in files:
        check_lines(report, str(f), f.read_text(encoding="utf-8", errors="replace"), args.destination_output)
    file_lines = report.lines

    if args.binary:
        emulator = Emulator(args.emulator_bin) if args.emulator_bin and not args.emulator else None
        try:
            run_binary_checks(report, args.binary, args.emulator or emulator.url)
        finally:
            if emulator:
                emulator.stop()

    version = getattr(sys.modules.get("airbyte_protocol"), "__version__", None)
    try:
        from importlib.metadata import version as dist_version

        version = dist_version("airbyte-protocol-models")
    except Exception:
        pass
    if report.failures:
        print(f"protocol_check FAILED: {len(report.failures)} problems", file=sys.stderr)
        for f in report.failures[:MAX_REPORTED]:
            print(f"  {f}", file=sys.stderr)
        if len(report.failures) > MAX_REPORTED:
            print(f"  … and {len(report.failures) - MAX_REPORTED} more", file=sys.stderr)
        return 1
    runs = f"; runs: {', '.join(report.runs)}" if report.runs else ""
    print(
        f"protocol_check OK: {report.lines} lines valid against airbyte-protocol-models {version} "
        f"({file_lines} from {len(files)} files{', the rest from the binary' if args.binary else ''}){runs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
