#!/usr/bin/env bash
# The connector's container image, end to end:
#   1. makes the Dockerfile's base images available and a Docker engine answer
#      (../shared/tools/offline-base-images.sh: pulls when a registry answers,
#      else builds local stand-ins; prints the docker client to use);
#   2. builds the image (release build inside the build stage), and checks it
#      runs as 65532:65532 and stays below IMAGE_MAX_MB;
#   3. starts the bundled hubspot-emulator on the host at 127.0.0.1 and runs,
#      inside the container (--network host), `spec`, `check` and a `write` of
#      IMAGE_COUNT generated contacts plus STATE messages, with the config,
#      catalog and input mounted read-only;
#   4. asserts the SPEC, the SUCCEEDED connection status, the STATE echoed
#      back, and exactly the expected contacts in the emulator.
#
#   bash integration_tests/image/check.sh        # as root, from anywhere
#
# Needs root (the offline script installs and starts dockerd when none
# answers), cargo and python3. Environment: IMAGE_COUNT (250), IMAGE_MAX_MB
# (40), OFFLINE_BASE_IMAGES (path of the offline script; default
# ../shared/tools/offline-base-images.sh beside the repo). Prints each step
# with its time; exits non-zero on the first failed assertion.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

count="${IMAGE_COUNT:-250}"
max_mb="${IMAGE_MAX_MB:-40}"
offline="${OFFLINE_BASE_IMAGES:-$root/../shared/tools/offline-base-images.sh}"
repo="$(sed -n 's/^ *dockerRepository: *//p' metadata.yaml)"
tag="$(sed -n 's/^ *dockerImageTag: *//p' metadata.yaml)"
image="$repo:$tag"
token="pat-local-image-check"

start=$SECONDS
step_name=""
step_start=$SECONDS
step() {
    [[ -n "$step_name" ]] && printf '   ok: %s (%ss)\n' "$step_name" "$((SECONDS - step_start))"
    step_name="$*"
    step_start=$SECONDS
    printf '== [%ss] %s\n' "$((SECONDS - start))" "$*"
}
fail() { echo "image check: $*" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/dh-image-check.XXXXXX")"
emu_pid=""
cleanup() {
    local rc=$?
    if [[ -n "$emu_pid" ]]; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]]; then
        echo "image check FAILED at step: ${step_name:-start} (exit $rc)" >&2
        local f=emulator.err
        [[ "$step_name" == "docker build"* ]] && f=build.log
        if [[ -s "$work/$f" ]]; then
            echo "--- last lines of $f" >&2
            tail -n 40 "$work/$f" >&2
            echo >&2
        fi
    fi
    rm -rf "$work"
}
trap cleanup EXIT

[[ -n "$repo" && -n "$tag" ]] || fail "no dockerRepository/dockerImageTag in metadata.yaml"
command -v python3 >/dev/null || fail "python3 is needed"
command -v cargo >/dev/null || fail "cargo is needed"
[[ -f "$offline" ]] || fail "no $offline (../shared must sit beside the repo, or set OFFLINE_BASE_IMAGES)"
if [[ $EUID -ne 0 ]] && ! docker info >/dev/null 2>&1; then
    fail "run as root: no Docker engine answers and starting one needs root"
fi

step "Docker engine and base images ($(basename "$offline"))"
bash "$offline" >"$work/offline.out"
sed 's/^/   /' "$work/offline.out"
docker_bin="$(sed -n 's/^DOCKER=//p' "$work/offline.out" | tail -n 1)"
[[ -n "$docker_bin" && -x "$docker_bin" ]] || fail "the offline script printed no usable DOCKER=<path>"
export DOCKER_BUILDKIT=1   # RUN --mount needs BuildKit; older clients only use it when asked
docker() { "$docker_bin" "$@"; }

step "hubspot-emulator (host, cargo debug build)"
cargo build --locked --quiet -p hubspot-emulator --bin hubspot-emulator
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
emu_bin="$target_dir/debug/hubspot-emulator"
[[ -x "$emu_bin" ]] || fail "no $emu_bin after the build"

step "docker build $image (release build inside the container)"
if ! docker build --network host --progress plain -t "$image" . >"$work/build.log" 2>&1; then
    fail "docker build failed"
fi
# The cargo step's own line: its compile time, or that BuildKit reused the layer.
awk '/RUN .*cargo build --release/ && !id { id = $1 }
     id && $1 == id && /Finished|CACHED|DONE/ { $1 = ""; print "   cargo step:" $0 }' "$work/build.log" || true

step "image: non-root user and size"
user="$(docker image inspect -f '{{.Config.User}}' "$image")"
[[ "$user" == "65532:65532" ]] || fail "Config.User is '$user', expected 65532:65532"
size="$(docker image inspect -f '{{.Size}}' "$image")"
size_mb="$(python3 -c "print(f'{$size / 1e6:.1f}')")"
echo "   Config.User $user; size $size_mb MB ($size bytes; bound $max_mb MB)"
runtime_base="$(awk 'toupper($1) == "FROM" { img = $2 } END { print img }' Dockerfile)"
if base_size="$(docker image inspect -f '{{.Size}}' "$runtime_base" 2>/dev/null)"; then
    python3 -c "print(f'   of which the runtime base $runtime_base: {$base_size / 1e6:.1f} MB')"
fi
python3 -c "import sys; sys.exit(0 if $size < $max_mb * 1e6 else 1)" \
    || fail "the image is $size_mb MB, above the $max_mb MB bound"

step "emulator on the host"
"$emu_bin" --port 0 --token "$token" --no-rate-limit >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!
base=""
for _ in $(seq 1 100); do
    base="$(head -n 1 "$work/emulator.out" 2>/dev/null || true)"
    [[ "$base" == http://127.0.0.1:* ]] && break
    kill -0 "$emu_pid" 2>/dev/null || fail "the emulator exited"
    sleep 0.1
done
[[ "$base" == http://127.0.0.1:* ]] || fail "the emulator printed no 127.0.0.1 address"
echo "   $base"

# Config, catalog and input, mounted read-only at /in; readable by uid 65532.
mkdir "$work/in"
python3 - "$work/in" "$base" "$token" "$count" <<'PY'
import json, sys
out, base, token, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
json.dump({"access_token": token, "base_url": base, "lifecycle_stage": "lead"},
          open(f"{out}/config.json", "w"))
catalog = json.load(open("integration_tests/configured_catalog.json"))
json.dump(catalog, open(f"{out}/catalog.json", "w"))
def state(n):
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "contacts"}, "stream_state": {"cursor": n}}}}
with open(f"{out}/input.jsonl", "w") as f:
    for i in range(count):
        data = {"email": f"user{i:05d}@image-check.example", "firstname": f"First{i}",
                "lastname": f"Last{i}", "company": f"Company {i % 7}"}
        f.write(json.dumps({"type": "RECORD", "record": {
            "stream": "contacts", "data": data, "emitted_at": 1700000000000 + i}}) + "\n")
        if i == count // 2:
            f.write(json.dumps(state(i + 1)) + "\n")
    f.write(json.dumps(state(count)) + "\n")
PY
chmod 755 "$work" "$work/in"
chmod 644 "$work/in"/*
run() { docker run --rm --network host -v "$work/in:/in:ro" "$@"; }

# protocol FILE TYPE: prints the messages of TYPE in FILE (one JSON per line),
# failing if a line is not an Airbyte message.
protocol() {
    python3 - "$1" "$2" <<'PY'
import json, sys
path, want = sys.argv[1], sys.argv[2]
for n, line in enumerate(open(path), 1):
    if not line.strip():
        continue
    try:
        msg = json.loads(line)
    except ValueError:
        sys.exit(f"{path}:{n}: not JSON: {line[:200]!r}")
    if not isinstance(msg, dict) or "type" not in msg:
        sys.exit(f"{path}:{n}: not an Airbyte message: {line[:200]!r}")
    if msg["type"] == want:
        print(json.dumps(msg, sort_keys=True))
PY
}

step "spec (in the container)"
run "$image" spec >"$work/spec.out" || fail "spec exited $?"
spec="$(protocol "$work/spec.out" SPEC)"
[[ -n "$spec" ]] || fail "spec printed no SPEC message"
python3 -c 'import json,sys; m=json.loads(sys.argv[1]); sys.exit(0 if "base_url" in m["spec"]["connectionSpecification"]["properties"] else "SPEC has no base_url")' \
    "$(head -n 1 <<<"$spec")"
echo "   SPEC message ($(wc -c <"$work/spec.out") bytes)"

step "check against the emulator (in the container)"
run "$image" check --config /in/config.json >"$work/check.out" || fail "check exited $?"
status="$(protocol "$work/check.out" CONNECTION_STATUS)"
python3 -c 'import json,sys; s=json.loads(sys.argv[1])["connectionStatus"]; print("  ", s["status"]); sys.exit(0 if s["status"] == "SUCCEEDED" else f"check: {s}")' \
    "${status:-null}" || fail "no CONNECTION_STATUS SUCCEEDED: $(cat "$work/check.out")"

step "write $count contacts + 2 STATE messages (in the container)"
run -i "$image" write --config /in/config.json --catalog /in/catalog.json \
    <"$work/in/input.jsonl" >"$work/write.out" || fail "write exited $?"
states="$(protocol "$work/write.out" STATE)"
python3 - "$count" "$states" <<'PY' || fail "write did not emit the input's final STATE"
import json, sys
count, lines = int(sys.argv[1]), [l for l in sys.argv[2].splitlines() if l]
cursors = [json.loads(l)["state"]["stream"]["stream_state"]["cursor"] for l in lines]
print(f"   STATE cursors emitted: {cursors}")
sys.exit(0 if cursors and cursors[-1] == count else 1)
PY

step "contacts in the emulator"
python3 - "$base" "$count" <<'PY' || fail "the emulator does not hold the expected contacts"
import json, sys, urllib.request
base, count = sys.argv[1], int(sys.argv[2])
with urllib.request.urlopen(base + "/_emulator/contacts", timeout=30) as r:
    contacts = json.load(r)["results"]
by_email = {c["properties"].get("email"): c["properties"] for c in contacts}
expected = {f"user{i:05d}@image-check.example" for i in range(count)}
problems = []
if len(contacts) != count:
    problems.append(f"{len(contacts)} contacts, expected {count}")
if set(by_email) != expected:
    problems.append(f"emails differ: {len(expected - set(by_email))} missing, {len(set(by_email) - expected)} unexpected")
for i in (0, count // 2, count - 1):
    p = by_email.get(f"user{i:05d}@image-check.example") or {}
    want = {"firstname": f"First{i}", "lastname": f"Last{i}", "company": f"Company {i % 7}", "lifecyclestage": "lead"}
    got = {k: p.get(k) for k in want}
    if got != want:
        problems.append(f"contact {i}: {got}, expected {want}")
for p in problems:
    print("   " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"   {len(contacts)} contacts, the expected emails; spot-checked contacts 0, {count // 2}, {count - 1}")
PY

step "done"
echo "image check OK: $image, $size_mb MB, runs as $user; spec, check and a $count-contact write in the container (total $((SECONDS - start))s)"
