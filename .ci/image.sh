#!/usr/bin/env bash
# The container image, built from the project's Dockerfile and run the way a user runs it.
#
#   1. tools: podman, mmdebstrap and runc from Debian (apt-get, only what is missing; CI runs as root);
#   2. base: Debian bookworm's python3 (3.11) bootstrapped with mmdebstrap and `podman import`ed as
#      localhost/bookworm-python:local. No registry image can be pulled here, so this stands in for the Dockerfile's
#      default base (the official python:3.12-slim-bookworm, which users get): CI proves the Dockerfile's steps, not
#      that base. The tarball is cached in ~/.cache/lava-crm-mcp-ci for a week;
#   3. build: `podman build --format docker` (keeps HEALTHCHECK) with PYTHON_IMAGE pointing at that base; the host's
#      CA bundle is mounted over the base's for pip, which reads it (the package registry may present its own
#      certificate authority). A mount is not committed to the image, and this one leaves no empty file behind, as a
#      mounted /etc/pip.conf would;
#   4. run, as a user would: --version; the user is not root; the Claude Desktop snippets manifests/claude-desktop/
#      docker.json (which the README quotes) and docker-sandbox.json as written, through the SDK's stdio client:
#      initialize and tools/list, and on the sandbox a search (.ci/image_client.py); `http` on a loopback port with
#      a static token: /healthz, /readyz, 401 without the token, tools and a search with it; the image's own
#      HEALTHCHECK, run by `podman healthcheck run` in an http container (port 8000: healthy, then unhealthy once the
#      server is stopped with SIGSTOP) and in a stdio one (nothing to check: healthy);
#   5. no credential in the image: `podman history --no-trunc` and every file of every layer (`podman save`) are
#      scanned for this run's token, key-shaped values (sk_live_/sk_test_ + 16 characters) and credential variables
#      set to a value; the image's size.
#
# Containers run with runc and lowered ulimits: crun refuses machines whose cgroups are in hybrid mode, and some
# machines cannot raise rlimits. stdio containers get no network (they need none), so the HEALTHCHECK's port 8000 is
# their own; the http check uses the host's loopback. Every wait is bounded.
#
# Usage: bash .ci/image.sh   (as root; python from the active venv, else .venv, with the project's test extra)
# Env:   IMAGE_CACHE (default ~/.cache/lava-crm-mcp-ci), IMAGE_TAG (default localhost/lava-crm-mcp:ci)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lava-crm-mcp-ci}"
image="${IMAGE_TAG:-localhost/lava-crm-mcp:ci}"
base=localhost/bookworm-python:local
packages=python3,python3-venv,python-is-python3,ca-certificates
python="${VIRTUAL_ENV:-$root/.venv}/bin/python"
version="$("$python" -c 'import lava_crm_mcp; print(lava_crm_mcp.__version__)')"
t0=$SECONDS

step() { echo; echo "=== $*"; }
podman() { command podman --runtime /usr/sbin/runc "$@"; }
# This machine's flags: rlimits it cannot raise; and no systemd for podman's healthcheck timers, so the checks are off
# (podman would log an error at every start) except in the two containers that run the check on demand.
limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --no-healthcheck)
health=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --health-interval=disable)
work="$(mktemp -d "${TMPDIR:-/tmp}/lava-crm-mcp-image.XXXXXX")"
names=("lava-crm-mcp-ci-http-$$" "lava-crm-mcp-ci-health-$$" "lava-crm-mcp-ci-stdio-$$")
cleanup() {
  for name in "${names[@]}"; do command podman rm -f -t 5 "$name" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1. tools ----------------------------------------------------------------------------------------------------
missing=()
for tool in podman mmdebstrap; do type -P "$tool" >/dev/null || missing+=("$tool"); done
[[ -x /usr/sbin/runc ]] || missing+=(runc)
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  t=$SECONDS
  timeout 300 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "installed in $((SECONDS - t)) s"
fi
echo "$(command podman --version) | mmdebstrap $(mmdebstrap --version | awk '{print $2}') | $(/usr/sbin/runc --version | head -n1)"

# --- 2. base -----------------------------------------------------------------------------------------------------
step "base: Debian bookworm with $packages -> $base"
mkdir -p "$cache"
tarball="$cache/bookworm-$(echo "$packages" | sha256sum | cut -c1-12).tar"
if [[ -f "$tarball" && -n "$(find "$tarball" -mtime +7)" ]]; then rm -f "$tarball"; fi  # a week old: security fixes
if [[ ! -f "$tarball" ]]; then
  t=$SECONDS
  timeout 600 mmdebstrap --quiet --variant=apt --format=tar --include="$packages" bookworm "$tarball.part" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" </dev/null
  mv "$tarball.part" "$tarball"
  echo "bootstrapped in $((SECONDS - t)) s ($(($(stat -c %s "$tarball") / 1000000)) MB)"
  podman rmi -f "$base" >/dev/null 2>&1 || true
else
  echo "cached: $tarball"
fi
if ! podman image exists "$base"; then
  timeout 300 podman import --quiet "$tarball" "$base" >/dev/null
fi
podman run --rm "${limits[@]}" --network=none "$base" python --version

# --- 3. build ----------------------------------------------------------------------------------------------------
step "podman build (the project's Dockerfile, PYTHON_IMAGE=$base) -> $image"
build_flags=(--format docker --isolation=chroot --network=host --build-arg "PYTHON_IMAGE=$base" -t "$image")
ca=/etc/ssl/certs/ca-certificates.crt  # the base's bundle too: Debian's pip and pip >= 24.2 (truststore) trust it
if [[ -f "$ca" ]]; then build_flags+=(-v "$ca:$ca:ro"); fi
previous="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
t=$SECONDS
timeout 900 podman build --quiet "${build_flags[@]}" . >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
build_s=$((SECONDS - t))
echo "built in $build_s s"
if [[ -n "$previous" && "$previous" != "$(podman image inspect --format '{{.Id}}' "$image")" ]]; then
  podman rmi "$previous" >/dev/null 2>&1 || true  # the last run's image, untagged by this build
fi

# --- 4. run ------------------------------------------------------------------------------------------------------
step "--version, and the user the server runs as"
got="$(timeout 120 podman run --rm "${limits[@]}" --network=none "$image" --version)"
[[ "$got" == "lava-crm-mcp $version" ]] || { echo "--version said '$got', not 'lava-crm-mcp $version'" >&2; exit 1; }
uid="$(timeout 120 podman run --rm "${limits[@]}" --network=none --entrypoint id "$image" -u)"
user="$(podman image inspect --format '{{.Config.User}}' "$image")"
[[ "$uid" != 0 && -n "$user" ]] || { echo "the container runs as uid $uid (image User '$user')" >&2; exit 1; }
echo "ok: $got; uid $uid (image User $user)"

step "stdio: the Claude Desktop snippets manifests/claude-desktop/docker.json and docker-sandbox.json, as written"
"$python" - <<'PY'  # the README's Docker line is the snippet's
import json, re
args = json.load(open("manifests/claude-desktop/docker.json"))["mcpServers"]["lava-crm"]["args"]
line = re.search(r'^- Docker: `"command": "docker", "args": (\[.*?\])`', open("README.md").read(), re.M)
assert line and json.loads(line[1]) == args, f"README's Docker line differs from docker.json: {args}"
print("ok: README's Docker line is docker.json's")
PY
run=(podman --runtime /usr/sbin/runc run "${limits[@]}" --network=none)  # docker run; stdio needs no network
for snippet in manifests/claude-desktop/docker.json manifests/claude-desktop/docker-sandbox.json; do
  timeout 300 "$python" .ci/image_client.py snippet "$snippet" "$image" -- "${run[@]}"
done

step "http on 127.0.0.1 with a static token: /healthz, /readyz, 401 without it, tools and a search with it"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LAVA_MCP_AUTH_TOKENS="ci-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export LAVA_MCP_AUTH_TOKENS  # passed by name (-e NAME), so the value is in no command line
# The base has no /usr/share/zoneinfo: the stdio runs start on UTC without one, this one reads Paris from tzdata.
podman run -d --name "${names[0]}" "${limits[@]}" --network=host -e LAVA_MCP_AUTH_TOKENS \
  -e LAVA_CRM_TIMEZONE=Europe/Paris "$image" http --host 127.0.0.1 --port "$port" --sandbox >/dev/null
timeout 300 "$python" .ci/image_client.py http "http://127.0.0.1:$port" \
  || { podman logs "${names[0]}" >&2; exit 1; }
podman logs "${names[0]}" 2>&1 | grep -q 'rpc=tools/call tool=search_contacts' \
  || { podman logs "${names[0]}" >&2; echo "no access line for the tool call" >&2; exit 1; }

step "the image's HEALTHCHECK, run by podman healthcheck run: http on port 8000, and stdio"
echo "HEALTHCHECK $(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$image")"
# Each in a network namespace of its own (--network=none: loopback only), so port 8000 is the container's own.
podman run -d --name "${names[1]}" "${health[@]}" --network=none -e LAVA_MCP_AUTH_TOKENS "$image" \
  http --host 127.0.0.1 --port 8000 --sandbox >/dev/null 2>"$work/run.log" || { cat "$work/run.log" >&2; exit 1; }
for _ in $(seq 60); do  # until the server listens (bounded: 60 tries)
  timeout 10 podman exec "${names[1]}" lava-crm-mcp health | grep -q 'healthz: 200' && break
  sleep 0.5
done
timeout 30 podman healthcheck run "${names[1]}" || { podman logs "${names[1]}" >&2; exit 1; }
echo "ok: http container healthy: $(podman exec "${names[1]}" lava-crm-mcp health)"
pid="$(podman inspect --format '{{.State.Pid}}' "${names[1]}")"
kill -STOP "$pid"  # a hung server: the port still accepts, /healthz never answers
if timeout 30 podman healthcheck run "${names[1]}"; then echo "a hung server was reported healthy" >&2; exit 1; fi
kill -CONT "$pid"
echo "ok: the same server, stopped (SIGSTOP), is unhealthy"
podman run -d -i --name "${names[2]}" "${health[@]}" --network=none "$image" stdio --sandbox \
  >/dev/null 2>"$work/run.log" || { cat "$work/run.log" >&2; exit 1; }
timeout 30 podman healthcheck run "${names[2]}" || { podman logs "${names[2]}" >&2; exit 1; }
echo "ok: stdio container healthy: $(podman exec "${names[2]}" lava-crm-mcp health)"

# --- 5. no credential, size --------------------------------------------------------------------------------------
step "no credential in the image: podman history, and every file of every layer"
podman history --no-trunc --format '{{.CreatedBy}}' "$image" >"$work/history.txt"
timeout 300 podman save --quiet --format docker-archive -o "$work/image.tar" "$image"
"$python" - "$work/image.tar" "$work/history.txt" <<'PY'
import io, os, re, sys, tarfile

token = os.environ["LAVA_MCP_AUTH_TOKENS"].encode()
names = rb"LAVA_SECRET_KEY|LAVA_CRM_TOKEN|LAVA_MCP_AUTH_TOKENS|LAVA_MCP_CONFIRM_SECRET|LAVA_MCP_OAUTH_CLIENT_SECRET"
patterns = {
    "this run's token": re.compile(re.escape(token)),
    "a key (sk_live_/sk_test_...)": re.compile(rb"sk_(?:live|test)_[A-Za-z0-9]{16,}"),
    "a credential variable set": re.compile(rb"(?:" + names + rb")\s*[=:]\s*[\"']?[A-Za-z0-9_\-+/]{12,}"),
}
found, scanned, seen_name = [], 0, False

def scan(where: str, data: bytes) -> None:
    global scanned, seen_name
    scanned += 1
    seen_name |= b"LAVA_SECRET_KEY" in data
    found.extend(f"{where}: {what}" for what, pattern in patterns.items() if pattern.search(data))

scan("podman history", open(sys.argv[2], "rb").read())
with tarfile.open(sys.argv[1]) as image:
    for member in image.getmembers():
        if not member.isfile():
            continue
        data = image.extractfile(member).read()
        if member.name.endswith(".tar") or member.name.endswith("/layer.tar"):
            with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                for entry in layer.getmembers():
                    if entry.isfile():
                        scan(f"{member.name}:/{entry.name}", layer.extractfile(entry).read())
        else:
            scan(member.name, data)  # the image config, the manifest
assert seen_name, "the scan never met the name LAVA_SECRET_KEY, which the package's code holds: did it read the layers?"
assert not found, "credentials in the image:\n" + "\n".join(found)
print(f"ok: {scanned} files scanned, no token, key or credential value")
PY

size="$(podman image inspect --format '{{.Size}}' "$image")"
base_size="$(podman image inspect --format '{{.Size}}' "$base")"
step "image.sh passed in $((SECONDS - t0)) s (build $build_s s); $image is $((size / 1000000)) MB" \
  "(the bootstrapped base alone: $((base_size / 1000000)) MB)"
