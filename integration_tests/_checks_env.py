"""Makes the check scripts self-sufficient: imports their third-party
packages, and when one is missing, re-runs the script inside a venv at the
repo root (`.venv-airbyte-checks`, git-ignored) that it creates and fills.

Only the standard library is used here, so any python3.11+ can start a
check script: `python integration_tests/metadata_check.py` just works on a
fresh machine (it needs PyPI reachable the first time).
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("AIRBYTE_CHECKS_VENV", ROOT / ".venv-airbyte-checks"))

# What the check scripts need, as pip requirement -> module to import.
REQUIREMENTS = {
    "pyyaml>=6": "yaml",
    "jsonschema>=4.18": "jsonschema",
    "airbyte-protocol-models>=0.18,<1": "airbyte_protocol.models",
}


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _missing(modules: list[str]) -> list[str]:
    missing = []
    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError:
            missing.append(m)
    return missing


def ensure(*modules: str) -> None:
    """Returns once every module imports; may re-exec the running script."""
    if not _missing(list(modules)):
        return
    in_venv = Path(sys.prefix).resolve() == VENV.resolve()
    if not in_venv:
        if not _venv_python().exists():
            print(f"[checks] creating {VENV}", file=sys.stderr)
            venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
        script = os.path.abspath(sys.argv[0])
        os.execv(str(_venv_python()), [str(_venv_python()), script, *sys.argv[1:]])
    # Inside our venv: install everything the scripts use (cheap when present).
    print(f"[checks] installing {', '.join(REQUIREMENTS)} into {VENV}", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
        check=True,
        stdout=sys.stderr,
    )
    importlib.invalidate_caches()
    still = _missing(list(modules))
    if still:
        sys.exit(f"[checks] still cannot import {', '.join(still)} after installing into {VENV}")
