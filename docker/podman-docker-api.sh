# Sourced: a Docker API from podman, for Testcontainers on a machine without a Docker engine (CI; see
# docs/development.md, "Testcontainers through podman"). The four settings it needs:
#   1. a containers.conf with no default ulimits and the runc runtime (crun refuses hybrid cgroups here);
#   2. `podman system service` listening on a unix socket;
#   3. DOCKER_HOST pointing at that socket;
#   4. TESTCONTAINERS_RYUK_DISABLED=true (the Ryuk image cannot be pulled) and
#      TESTCONTAINERS_CONNECTION_MODE=docker_host (/.dockerenv would make it pick a gateway podman lacks).
# The service is stopped when the sourcing shell exits.
podman_api_dir=$(mktemp -d)
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' > "$podman_api_dir/containers.conf"
export CONTAINERS_CONF="$podman_api_dir/containers.conf"
podman system service --time=0 "unix://$podman_api_dir/podman.sock" > "$podman_api_dir/service.log" 2>&1 &
podman_api_pid=$!
trap 'kill $podman_api_pid 2>/dev/null || true; rm -rf "$podman_api_dir"' EXIT
for _ in $(seq 100); do [ -S "$podman_api_dir/podman.sock" ] && break; sleep 0.1; done
export DOCKER_HOST="unix://$podman_api_dir/podman.sock"
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CONNECTION_MODE=docker_host
echo "podman's Docker API: $DOCKER_HOST"
