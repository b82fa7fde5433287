#!/usr/bin/env bash
# PyAirbyte end to end: source-faker's `products`, `users` and `purchases`
# streams, in one sync, -> destination-hubspot -> a local hubspot-emulator,
# run twice (the second a full refresh of the same records). The config is
# faker_config.json plus e2e.py's CRM_CONFIG: products become companies and
# purchases deals, both upserted by external_id (= the faker id), users stay
# contacts matched by email (external_id = user id), and each deal is
# associated with its purchase's user (contact) and product (company).
# Then, in the emulator: every user is exactly one contact, every product one
# company, every purchase one deal, with the mapped properties equal to what
# the faker sent and nothing else; every deal is linked to exactly its
# contact (type 3) and its company (type 341); the second sync changed no
# count; the destination logged no association_target_missing/refused,
# rejected nothing and counted every association; PyAirbyte recorded each
# stream's state as the faker sent it.
#
#   bash integration_tests/pyairbyte/run.sh
#
# Needs only python3 (3.11+) with venv/pip, cargo, and PyPI + crates.io. It
# creates two venvs at the repo root (git-ignored), because PyAirbyte and the
# faker cannot share one (the resolver falls back to an old, broken PyAirbyte):
#   .venv-e2e-faker      airbyte-source-faker
#   .venv-e2e-pyairbyte  airbyte (PyAirbyte)
# builds the two binaries (honouring CARGO_TARGET_DIR), starts the emulator on
# a free loopback port, and runs e2e.py. Prints one OK line and exits 0, or
# prints the log and exits non-zero.
#
# Environment: PYTHON (default python3), E2E_COUNT (300: users and about as
# many purchases; at least 100, since purchases name products 1..100 and the
# faker sends min(count, 100) products), E2E_SEED (2024),
# E2E_TIMEOUT seconds for e2e.py, both syncs and checks (480), E2E_KEEP_LOG=1 to keep the log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

PYTHON="${PYTHON:-python3}"
count="${E2E_COUNT:-300}"
seed="${E2E_SEED:-2024}"
timeout_s="${E2E_TIMEOUT:-480}"
start_time=$(date +%s)

log="$(mktemp "${TMPDIR:-/tmp}/dh-pyairbyte-e2e.XXXXXX.log")"
emu_pid=""
cleanup() {
    local rc=$?
    if [[ -n "$emu_pid" ]]; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]]; then
        echo "pyairbyte e2e FAILED (exit $rc); log $log:" >&2
        tail -n 80 "$log" >&2 || true
    elif [[ "${E2E_KEEP_LOG:-0}" != 1 ]]; then
        rm -f "$log"
    fi
}
trap cleanup EXIT

step() { echo "== [$(( $(date +%s) - start_time ))s] $*" >>"$log"; }

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "python 3.11+ needed")'

# Installs go through uv when it can (PyAirbyte's dependency tree takes pip
# several minutes on 2 cores, uv well under one); uv itself comes from PyPI
# into .venv-e2e-uv. E2E_INSTALLER=pip forces plain pip.
uv=""
if [[ "${E2E_INSTALLER:-uv}" == uv ]]; then
    if command -v uv >/dev/null 2>&1; then
        uv="$(command -v uv)"
    else
        if [[ ! -x "$root/.venv-e2e-uv/bin/uv" ]]; then
            step "installing uv into .venv-e2e-uv"
            "$PYTHON" -m venv "$root/.venv-e2e-uv" >>"$log" 2>&1
            "$root/.venv-e2e-uv/bin/python" -m pip install --quiet --disable-pip-version-check uv >>"$log" 2>&1 || true
        fi
        [[ -x "$root/.venv-e2e-uv/bin/uv" ]] && uv="$root/.venv-e2e-uv/bin/uv"
    fi
fi

# make_venv NAME CHECK PACKAGE...: creates the venv if needed and
# installs the packages unless the python snippet CHECK succeeds in it
# (a metadata look-up: importing PyAirbyte alone takes ~20 s).
make_venv() {
    local dir="$root/$1" check="$2"
    shift 2
    if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -c "$check" >>"$log" 2>&1; then
        return
    fi
    step "installing $* into $dir with ${uv:-pip}"
    rm -rf "$dir"
    if [[ -n "$uv" ]]; then
        "$uv" venv --quiet --python "$(command -v "$PYTHON")" "$dir" >>"$log" 2>&1
        "$uv" pip install --quiet --python "$dir/bin/python" "$@" >>"$log" 2>&1
    else
        "$PYTHON" -m venv "$dir" >>"$log" 2>&1
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >>"$log" 2>&1
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >>"$log" 2>&1
    fi
    "$dir/bin/python" -c "$check" >>"$log" 2>&1
}

make_venv .venv-e2e-faker "import importlib.metadata as m; m.version('airbyte-source-faker')" "airbyte-source-faker>=7,<8"
make_venv .venv-e2e-pyairbyte "import importlib.metadata as m; m.version('airbyte')" "airbyte>=0.71,<1"
faker="$root/.venv-e2e-faker/bin/source-faker"
[[ -x "$faker" ]] || { echo "no $faker after install" >>"$log"; exit 1; }

step "building destination-hubspot and hubspot-emulator"
cargo build --locked --quiet -p destination-hubspot -p hubspot-emulator --bins >>"$log" 2>&1
target_dir="$(cargo metadata --format-version 1 --no-deps 2>>"$log" \
    | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
dest_bin="$target_dir/debug/destination-hubspot"
emu_bin="$target_dir/debug/hubspot-emulator"

step "starting the emulator"
emu_out="$(mktemp "${TMPDIR:-/tmp}/dh-emulator.XXXXXX")"
"$emu_bin" --port 0 --no-rate-limit >"$emu_out" 2>>"$log" &
emu_pid=$!
url=""
for _ in $(seq 1 100); do
    url="$(head -n 1 "$emu_out" 2>/dev/null || true)"
    [[ "$url" == http://127.0.0.1:* ]] && break
    kill -0 "$emu_pid" 2>/dev/null || { echo "the emulator exited" >>"$log"; exit 1; }
    sleep 0.1
done
rm -f "$emu_out"
[[ "$url" == http://127.0.0.1:* ]] || { echo "the emulator printed no URL" >>"$log"; exit 1; }
step "emulator at $url"

step "running e2e.py"
result="$(mktemp "${TMPDIR:-/tmp}/dh-e2e-result.XXXXXX")"
set +e
( cd "$(dirname "$log")" && \
  AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1 timeout "$timeout_s" \
  "$root/.venv-e2e-pyairbyte/bin/python" "$here/e2e.py" \
    --destination "$dest_bin" --faker "$faker" --emulator "$url" \
    --config "$root/integration_tests/faker_config.json" \
    --count "$count" --seed "$seed" >"$result" 2>>"$log" )
rc=$?
set -e
cat "$result" >>"$log"
ok_line="$(grep '^pyairbyte e2e OK' "$result" || true)"
rm -f "$result"
if [[ $rc -ne 0 || -z "$ok_line" ]]; then
    [[ $rc -eq 124 ]] && echo "e2e.py timed out after ${timeout_s}s" >>"$log"
    exit $(( rc == 0 ? 1 : rc ))
fi
echo "$ok_line (total $(( $(date +%s) - start_time ))s)"
