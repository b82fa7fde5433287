#!/usr/bin/env python3
"""Checks the connector's packaging metadata.

1. metadata.yaml validates against integration_tests/metadata_schema.json
   (the subset of Airbyte's registry schema this connector uses).
2. The Dockerfile's final stage carries LABEL io.airbyte.name equal to
   data.dockerRepository and io.airbyte.version equal to data.dockerImageTag,
   which must also equal the package version in Cargo.toml.
3. The Dockerfile is multi-stage, its final stage runs as a non-root USER,
   and its ENTRYPOINT is exec form and names the binary AIRBYTE_ENTRYPOINT
   names.
4. Self-test: a few deliberately broken copies of metadata.yaml and the
   Dockerfile must each be refused, so a check that stopped biting is noticed.

Usage: python integration_tests/metadata_check.py [--root DIR]
Prints one "OK" line and exits 0, or lists every problem and exits 1.
"""
from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _checks_env import ensure  # noqa: E402

ensure("yaml", "jsonschema")

import jsonschema  # noqa: E402
import yaml  # noqa: E402

BINARY = "/usr/local/bin/destination-hubspot"


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continuation are ignored by docker
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            out.append((word.upper(), rest.strip()))
    if pending.strip():
        word, _, rest = pending.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def key_values(args: str) -> dict[str, str]:
    """Parses `k=v k2="v 2"` (LABEL, ENV) or the legacy `ENV K value` form."""
    tokens = shlex.split(args, posix=True)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    pairs = {}
    for t in tokens:
        k, sep, v = t.partition("=")
        if sep:
            pairs[k] = v
    return pairs


class Dockerfile:
    def __init__(self, text: str):
        instructions = dockerfile_instructions(text)
        self.from_count = sum(1 for i, _ in instructions if i == "FROM")
        final: list[tuple[str, str]] = []
        for ins in instructions:
            if ins[0] == "FROM":
                final = []
            final.append(ins)
        self.labels: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.user: str | None = None
        self.entrypoint: str | None = None
        for word, args in final:
            if word == "LABEL":
                self.labels.update(key_values(args))
            elif word == "ENV":
                self.env.update(key_values(args))
            elif word == "USER":
                self.user = args.strip()
            elif word == "ENTRYPOINT":
                self.entrypoint = args.strip()


def dockerfile_problems(text: str, meta: dict, cargo_version: str) -> list[str]:
    problems = []
    df = Dockerfile(text)
    data = meta.get("data") or {}
    if df.from_count < 2:
        problems.append(f"Dockerfile: expected a multi-stage build (>= 2 FROM), found {df.from_count}")
    if df.user is None:
        problems.append("Dockerfile: the final stage has no USER, so the image runs as root")
    else:
        user = df.user.split(":")[0]
        if user in ("root", "0", ""):
            problems.append(f"Dockerfile: the final stage runs as USER {df.user!r}, which is root")
    if df.entrypoint is None:
        problems.append("Dockerfile: the final stage has no ENTRYPOINT")
    else:
        try:
            argv = json.loads(df.entrypoint)
        except json.JSONDecodeError:
            argv = None
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            problems.append(f"Dockerfile: ENTRYPOINT must be exec form (a JSON array), got {df.entrypoint}")
        elif argv[0] != BINARY:
            problems.append(f"Dockerfile: ENTRYPOINT runs {argv[0]!r}, expected {BINARY!r}")
    if df.env.get("AIRBYTE_ENTRYPOINT") != BINARY:
        problems.append(f"Dockerfile: ENV AIRBYTE_ENTRYPOINT is {df.env.get('AIRBYTE_ENTRYPOINT')!r}, expected {BINARY!r}")
    name, version = df.labels.get("io.airbyte.name"), df.labels.get("io.airbyte.version")
    if name != data.get("dockerRepository"):
        problems.append(f"Dockerfile: LABEL io.airbyte.name={name!r} but metadata.yaml dockerRepository={data.get('dockerRepository')!r}")
    if version != data.get("dockerImageTag"):
        problems.append(f"Dockerfile: LABEL io.airbyte.version={version!r} but metadata.yaml dockerImageTag={data.get('dockerImageTag')!r}")
    if data.get("dockerImageTag") != cargo_version:
        problems.append(f"metadata.yaml: dockerImageTag={data.get('dockerImageTag')!r} but Cargo.toml version={cargo_version!r}")
    return problems


# ------------------------------------------------------------- metadata.yaml


def schema_problems(meta: object, schema: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    problems = []
    for err in sorted(validator.iter_errors(meta), key=lambda e: list(e.absolute_path)):
        pointer = "/" + "/".join(str(p) for p in err.absolute_path)
        problems.append(f"metadata.yaml {pointer}: {err.message}")
    return problems


def icon_problems(meta: dict, root: Path) -> list[str]:
    """The icon metadata.yaml names must be an SVG file beside it."""
    icon = meta.get("data", {}).get("icon")
    if icon is None:
        return []
    path = root / str(icon)
    if not path.is_file():
        return [f"metadata.yaml /data/icon: {icon} is not a file beside metadata.yaml"]
    if "<svg" not in path.read_text(errors="replace")[:500]:
        return [f"metadata.yaml /data/icon: {icon} is not an SVG image"]
    return []


def all_problems(meta: object, schema: dict, dockerfile: str, cargo_version: str, root: Path) -> list[str]:
    problems = schema_problems(meta, schema)
    if isinstance(meta, dict):
        problems += dockerfile_problems(dockerfile, meta, cargo_version)
        problems += icon_problems(meta, root)
    return problems


# --------------------------------------------------------------- self-test


def mutants(meta: dict, dockerfile: str) -> list[tuple[str, dict, str]]:
    """Broken variants that the checks must refuse: (what, metadata, Dockerfile)."""

    def meta_with(change) -> dict:
        m = copy.deepcopy(meta)
        change(m["data"])
        return m

    def drop(key):
        return lambda d: d.pop(key)

    def put(key, value):
        return lambda d: d.__setitem__(key, value)

    out = [
        ("unknown data key", meta_with(put("dockerImageName", "x")), dockerfile),
        ("missing definitionId", meta_with(drop("definitionId")), dockerfile),
        ("definitionId not a UUID", meta_with(put("definitionId", "hubspot-rs")), dockerfile),
        ("connectorType outside the enum", meta_with(put("connectorType", "sink")), dockerfile),
        ("releaseStage outside the enum", meta_with(put("releaseStage", "stable")), dockerfile),
        ("supportLevel outside the enum", meta_with(put("supportLevel", "vendor")), dockerfile),
        ("dockerImageTag as a number", meta_with(put("dockerImageTag", 0.1)), dockerfile),
        ("tags without language:rust", meta_with(put("tags", ["language:python"])), dockerfile),
        ("allowedHosts without HubSpot", meta_with(put("allowedHosts", {"hosts": ["example.com"]})), dockerfile),
        ("image tag differs from the labels", meta_with(put("dockerImageTag", "9.9.9")), dockerfile),
        ("repository differs from the labels", meta_with(put("dockerRepository", "airbyte/other")), dockerfile),
        ("icon file missing", meta_with(put("icon", "missing.svg")), dockerfile),
        ("icon not an SVG", meta_with(put("icon", "Cargo.toml")), dockerfile),
        ("documentation link of an unknown type", meta_with(put("externalDocumentationUrls", [{"title": "x", "url": "https://example.com", "type": "blog"}])), dockerfile),
        ("supportsDataActivation not a boolean", meta_with(put("supportsDataActivation", "yes")), dockerfile),
        ("documentation link without a title", meta_with(put("externalDocumentationUrls", [{"url": "https://example.com"}])), dockerfile),
    ]
    if "metadataSpecVersion" in meta:
        m = copy.deepcopy(meta)
        m["extra"] = 1
        out.append(("unknown top-level key", m, dockerfile))
    lines = dockerfile.splitlines()
    first_from = next((i for i, l in enumerate(lines) if l.strip().upper().startswith("FROM ")), None)
    if first_from is not None:
        single = "\n".join(l for i, l in enumerate(lines) if not (l.strip().upper().startswith("FROM ") and i != first_from))
        out.append(("single-stage Dockerfile", meta, single))
    out.append(("root user", meta, "\n".join("USER root" if l.strip().upper().startswith("USER ") else l for l in lines)))
    out.append(("shell-form ENTRYPOINT", meta, "\n".join(f"ENTRYPOINT {BINARY}" if l.strip().upper().startswith("ENTRYPOINT") else l for l in lines)))
    out.append(("label version drift", meta, dockerfile.replace('io.airbyte.version="', 'io.airbyte.version="0.0.0-')))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help="repository root")
    args = ap.parse_args()
    root: Path = args.root

    schema = json.loads((root / "integration_tests/metadata_schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    meta = yaml.safe_load((root / "metadata.yaml").read_text())
    dockerfile = (root / "Dockerfile").read_text()
    cargo_version = tomllib.loads((root / "Cargo.toml").read_text())["package"]["version"]

    problems = all_problems(meta, schema, dockerfile, cargo_version, root)
    if problems:
        print("metadata_check: FAILED", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1

    not_caught = [what for what, m, d in mutants(meta, dockerfile) if not all_problems(m, schema, d, cargo_version, root)]
    if not_caught:
        print("metadata_check: FAILED: the self-test's broken variants passed the checks:", file=sys.stderr)
        for what in not_caught:
            print(f"  - {what}", file=sys.stderr)
        return 1

    d = meta["data"]
    print(
        f"metadata_check OK: {d['dockerRepository']}:{d['dockerImageTag']} "
        f"(metadata.yaml, Dockerfile labels and Cargo.toml agree; {len(mutants(meta, dockerfile))} broken variants refused)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
