#!/usr/bin/env bash
# End-to-end demo: builds the connector and the bundled HubSpot emulator,
# starts the emulator on a free loopback port, runs a real `write` of
# integration_tests/messages.txt into it, and shows what HubSpot now holds.
# Needs cargo and python3 only. Extra arguments go to the emulator
# (e.g. --latency-ms 150 or --fault-rate 500:0.1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --quiet --workspace --bins
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target/debug"

work="$(mktemp -d)"
emu_pid=""
cleanup() {
    [[ -n "$emu_pid" ]] && kill "$emu_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/hubspot-emulator" --port 0 --token pat-local-demo "$@" >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!
base=""
for _ in $(seq 1 100); do
    base="$(head -n 1 "$work/emulator.out" 2>/dev/null || true)"
    [[ "$base" == http://* ]] && break
    kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emulator.err" >&2; exit 1; }
    sleep 0.1
done
[[ "$base" == http://* ]] || { echo "the emulator printed no address" >&2; exit 1; }

python3 - "$base" >"$work/config.json" <<'PY'
import json, sys
config = json.load(open("integration_tests/sample_config.json"))
config["base_url"] = sys.argv[1]
print(json.dumps(config))
PY

echo "# emulator: $base"
echo "# destination-hubspot check"
"$bin/destination-hubspot" check --config "$work/config.json"
echo "# destination-hubspot write < integration_tests/messages.txt"
"$bin/destination-hubspot" write --config "$work/config.json" \
    --catalog integration_tests/configured_catalog.json <integration_tests/messages.txt
echo "# contacts now in the emulator"
python3 - "$base" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/contacts") as r:
    contacts = json.load(r)["results"]
for c in contacts:
    p = c["properties"]
    shown = {k: v for k, v in sorted(p.items()) if k not in ("createdate", "lastmodifieddate", "hs_object_id", "hs_email_domain")}
    print(f'  id {c["id"]}: {json.dumps(shown)}')
print(f"{len(contacts)} contacts")
PY
