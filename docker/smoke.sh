#!/usr/bin/env bash
# Build the image with buildah on a locally made Debian base, run it, call health and one op, check
# the image's settings, and validate docker/compose.yaml. For machines without a Docker engine
# (see docs/development.md, "The Docker image"); needs root and Debian's buildah, podman, mmdebstrap and docker-compose.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-mesibo-mock:test}
BASE=${BASE:-localhost/pybase:bookworm}
work=$(mktemp -d)
container=""
server=""
cleanup() {
    [ -n "$server" ] && kill -TERM "$server" 2>/dev/null || true
    [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
step() { echo "== smoke: $*"; }

if ! podman image exists "$BASE"; then
    step "making the base image $BASE with mmdebstrap"
    mmdebstrap --quiet --variant=apt --include=python3,python3-venv,ca-certificates bookworm "$work/base.tar"
    podman import --quiet "$work/base.tar" "$BASE" >/dev/null
fi

step "building $IMAGE"
started=$(date +%s)
buildah build --quiet --isolation chroot --network host --format docker \
    --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    --build-arg BASE_IMAGE="$BASE" -f docker/Dockerfile -t "$IMAGE" . >/dev/null
echo "built in $(( $(date +%s) - started )) s"

step "checking the image's settings"
buildah inspect "$IMAGE" > "$work/inspect.json"
python3 - "$work/inspect.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))["Docker"]["config"]
env = dict(item.split("=", 1) for item in config["Env"])
checks = {
    "non-root user": config.get("User") not in (None, "", "root", "0"),
    "MESIBO_MOCK_HOST=0.0.0.0": env.get("MESIBO_MOCK_HOST") == "0.0.0.0",
    "exposes 8000": "8000/tcp" in (config.get("ExposedPorts") or {}),
    "/data volume": "/data" in (config.get("Volumes") or {}),
    "healthcheck without curl": bool(config.get("Healthcheck")) and "curl" not in json.dumps(config["Healthcheck"]),
    "CMD runs mesibo-mock serve": config.get("Cmd") == ["mesibo-mock", "serve"],
}
for name, ok in checks.items():
    print(("ok   " if ok else "FAIL ") + name)
sys.exit(0 if all(checks.values()) else 1)
PY
size=$(buildah images --format '{{.Size}}' "$IMAGE" | head -n 1)
echo "image size: $size"

step "running the image"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=$(buildah from "$IMAGE")
# Mounted and configured as docker/compose.yaml does: the seed from fixtures/, a fixed app token.
buildah run --isolation chroot --network host --env MESIBO_MOCK_PORT="$port" \
    --env MESIBO_MOCK_APP_TOKEN=smoke-token --env MESIBO_MOCK_SEED=/seed/seed.yaml \
    --volume "$PWD/fixtures:/seed:ro" "$container" -- mesibo-mock serve > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 150); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/_mock/health', timeout=1)" 2>/dev/null && break
    sleep 0.2
done
health=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/_mock/health').read().decode())")
echo "health: $health"
grep -q '"status":"ok"' <<<"$health"

step "the image's HEALTHCHECK command, run inside the image"
check=$(python3 -c "import json; print(json.load(open('$work/inspect.json'))['Docker']['config']['Healthcheck']['Test'][1:][-1])")
buildah run --isolation chroot --network host --env MESIBO_MOCK_PORT="$port" "$container" -- python3 -c "$check"
echo "healthcheck passed"

step "one op through /backend"
answer=$(python3 - "$port" <<'PY'
import json, sys, urllib.request
body = json.dumps({"op": "pushset", "token": "smoke-token", "push": {"sound": True}}).encode()
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/backend", data=body)
print(urllib.request.urlopen(request).read().decode())
PY
)
echo "pushset: $answer"
grep -q '"result":true' <<<"$answer"
grep -q 'app token: smoke-token' "$work/server.log"

step "the compose file's consumer service, run inside the image against the seeded server"
buildah run --isolation chroot --network host --volume "$PWD/docker:/compose:ro" "$container" -- \
    /opt/mesibo-mock/bin/python -c "
import yaml
consumer = yaml.safe_load(open('/compose/compose.yaml'))['services']['consumer']
exec(consumer['command'][0].replace('http://mesibo:8000', 'http://127.0.0.1:$port'))
" > "$work/consumer.log"
grep -q '\"status\": \"sent\"' "$work/consumer.log" || { cat "$work/consumer.log"; exit 1; }
echo "consumer's pushtest: $(grep -c '\"status\": \"sent\"' "$work/consumer.log") push(es) sent"

step "stopping with SIGTERM"
# buildah answers its own SIGTERM by killing the container; signal the server inside it instead.
inner=$(pgrep -f "bin/python[0-9.]* /opt/mesibo-mock/bin/mesibo-mock serve" | head -n 1)
kill -TERM "$inner"
code=0
wait "$server" || code=$?
server=""
echo "server exited $code"
tail -n 4 "$work/server.log"
grep -q "Finished server process" "$work/server.log"
[ "$code" -eq 0 ]

step "validating docker/compose.yaml"
docker-compose -f docker/compose.yaml config -q
echo "compose file valid"
echo "== smoke: all passed (image size $size)"
