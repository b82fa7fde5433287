#!/usr/bin/env bash
# Runs HubSpot's official Python client (hubspot-api-client, client-side
# validation on) against a freshly built emulator binary. Needs only python3
# (with venv/pip) and cargo. Exits non-zero on any failure.
#
# Reuses .venv-ci at the repository root when it exists; otherwise creates a
# throwaway venv in a temp dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
emu_pid=""
cleanup() {
    if [[ -n "$emu_pid" ]]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ -x "$root/.venv-ci/bin/python" ]]; then
    venv="$root/.venv-ci"
else
    venv="$work/venv"
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check hubspot-api-client

cargo build --quiet -p hubspot-emulator --bin hubspot-emulator --manifest-path "$root/Cargo.toml"
target_dir="$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" \
    | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

# The admin-rule flags act on 2026-09 paths only, which the official client
# never calls: the check posts there itself.
"$target_dir/debug/hubspot-emulator" --port 0 --token pat-local-demo \
    --oauth-client ci-client:ci-secret:ci-refresh \
    --required-on-create lastname --validation-error-mode multi-status \
    >"$work/emu.out" 2>"$work/emu.err" &
emu_pid=$!

# The first stdout line is the base URL; give the binary up to 10 s.
base=""
for _ in $(seq 1 100); do
    base="$(head -n 1 "$work/emu.out" 2>/dev/null || true)"
    [[ "$base" == http://* ]] && break
    if ! kill -0 "$emu_pid" 2>/dev/null; then cat "$work/emu.err" >&2; echo "emulator exited" >&2; exit 1; fi
    sleep 0.1
done
if [[ "$base" != http://* ]]; then echo "emulator printed no address" >&2; exit 1; fi
echo "emulator at $base"

"$venv/bin/python" "$here/official_client_check.py" "$base" pat-local-demo
