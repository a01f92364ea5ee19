#!/usr/bin/env bash
# The MCP Bundle (MCPB), end to end: pack it, check what is inside, unpack it, start it the way a host does and talk
# MCP to it.
#
#   1. stage manifests/mcpb/manifest.json as manifest.json with the files the root .mcpbignore allows (the package,
#      pyproject.toml, README.md, LICENSE) and `mcpb pack` them into dist/lava-crm-mcp-<version>.mcpb;
#   2. check the archive holds exactly those files and every .py file of the package;
#   3. `mcpb unpack` it and resolve server.mcp_config with mcpb's own getMcpConfigForManifest (the code a host uses:
#      manifest defaults, then the user's settings; ${__dirname} and ${user_config.*} substituted);
#   4. start the resolved command (`uv run --directory <unpacked> lava-crm-mcp stdio`) under a host-like environment
#      and drive it with the Python SDK's mcp.Client over stdio (.ci/bundle_client.py):
#        sandbox on  -> every tool the manifest lists is served, search_contacts finds a demo contact;
#        sandbox on, mode read-only -> the write tools are hidden, search still works;
#        sandbox off, no key -> the server exits 2 naming LAVA_SECRET_KEY (not a literal "${user_config...}" key);
#        the entry_point run as a script (`uv run --directory <unpacked> lava_crm_mcp/__main__.py`) serves too.
#
# The first start resolves and installs the dependencies from PyPI (uv; ~20-60 s without a warm cache); later ones
# reuse the unpacked .venv. Pinned tools install into a cache dir outside the repo, never globally.
#
# Usage: bash .ci/bundle.sh          (needs an activated venv with the project installed, node + npm on PATH)
#        bash .ci/bundle.sh --pack   (steps 1-2 only: build dist/lava-crm-mcp-<version>.mcpb to install by hand)
# Env:   MCPB_PREFIX (default ~/.cache/lava-crm-mcp-ci/mcpb-<version>), UV (a uv binary to use instead of the pinned
#        one), BUNDLE_OUT (default <repo>/dist), BUNDLE_TIMEOUT (seconds for the first start, default 300)
set -euo pipefail

MCPB_VERSION=2.1.2            # keep equal to .ci/manifests.sh and tests/interop/package.json
UV_VERSION=0.13.8

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lava-crm-mcp-ci"
out="${BUNDLE_OUT:-$root/dist}"
first_timeout="${BUNDLE_TIMEOUT:-300}"
pack_only=false
if [[ "${1:-}" == "--pack" ]]; then pack_only=true; fi
t0=$SECONDS

step() { echo; echo "=== $*"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/lava-crm-mcp-bundle.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# --- tools ---------------------------------------------------------------------------------------------------
mcpb_prefix="${MCPB_PREFIX:-$cache/mcpb-$MCPB_VERSION}"
if [[ ! -x "$mcpb_prefix/node_modules/.bin/mcpb" ]]; then
  step "install @anthropic-ai/mcpb $MCPB_VERSION into $mcpb_prefix"
  mkdir -p "$mcpb_prefix"
  [[ -f "$mcpb_prefix/package.json" ]] || echo '{"private": true}' >"$mcpb_prefix/package.json"
  timeout 300 npm install --prefix "$mcpb_prefix" --no-audit --no-fund --loglevel=error "@anthropic-ai/mcpb@$MCPB_VERSION"
fi
mcpb="$mcpb_prefix/node_modules/.bin/mcpb"

# --- 1. pack ---------------------------------------------------------------------------------------------------
version="$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' manifests/mcpb/manifest.json)"
bundle="$out/lava-crm-mcp-$version.mcpb"
step "mcpb pack -> ${bundle#"$root/"}"
stage="$work/stage"
mkdir -p "$stage" "$out"
cp manifests/mcpb/manifest.json "$stage/manifest.json"
if [[ -f manifests/mcpb/icon.png ]]; then cp manifests/mcpb/icon.png "$stage/icon.png"; fi
cp -R lava_crm_mcp pyproject.toml README.md LICENSE .mcpbignore "$stage/"
"$mcpb" pack "$stage" "$bundle" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; exit 1; }
grep -E '^(package size|unpacked size|total files|ignored)' "$work/pack.log"

# --- 2. contents -------------------------------------------------------------------------------------------------
step "contents: only what the server needs, and all of the package (code and its catalog.json)"
python - "$bundle" <<'PY'
import json, pathlib, sys, zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
top = {"manifest.json", "pyproject.toml", "README.md", "LICENSE"} | ({"icon.png"} if pathlib.Path("manifests/mcpb/icon.png").exists() else set())
package = {p.as_posix() for p in pathlib.Path("lava_crm_mcp").rglob("*") if p.suffix in (".py", ".json")}
extra, missing = sorted(names - top - package), sorted((top | package) - names)
assert not extra, f"the bundle holds files the server does not need: {extra}"
assert not missing, f"the bundle lacks: {missing}"
entry = json.load(open("manifests/mcpb/manifest.json"))["server"]["entry_point"]
assert entry in names, f"entry_point {entry} is not in the bundle"
print(f"ok: {len(names)} files ({len(package)} in lava_crm_mcp/), {pathlib.Path(sys.argv[1]).stat().st_size / 1024:.0f} kB")
PY
if $pack_only; then
  step "bundle: packed in $((SECONDS - t0)) s: $bundle"
  exit 0
fi

# --- 3. unpack and resolve the host config -------------------------------------------------------------------------
if [[ -n "${UV:-}" ]]; then
  uv_bin="$UV"
else
  uv_venv="$cache/uv-$UV_VERSION"
  if [[ ! -x "$uv_venv/bin/uv" ]]; then
    step "install uv $UV_VERSION (pip) into $uv_venv"
    python -m venv "$uv_venv"
    timeout 300 "$uv_venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  uv_bin="$uv_venv/bin/uv"
fi
# The host finds `uv` on its PATH; give it ours and the system's, not the CI venv's.
mkdir -p "$work/bin"
ln -s "$uv_bin" "$work/bin/uv"
# uv picks a Python >= 3.11 from that PATH (the one running this script comes last). A host would let uv download
# one when there is none; CI must not depend on that download, so it is off.
base_python="$(python -c 'import sys; print(sys._base_executable)')"
host_path="$work/bin:/usr/local/bin:/usr/bin:/bin:$(dirname "$base_python")"
export UV_CACHE_DIR="$cache/uv-cache" UV_PYTHON_INSTALL_DIR="$cache/uv-python" UV_PYTHON_DOWNLOADS=never
export XDG_DATA_HOME="$work/data"           # the sandbox CRM's database goes here, not into the real user dir
echo "uv: $("$uv_bin" --version) | UV_CACHE_DIR=$UV_CACHE_DIR"

step "mcpb unpack, then resolve server.mcp_config as a host does"
ext="$work/extension"
"$mcpb" unpack "$bundle" "$ext" >/dev/null
resolve() {  # resolve USER_CONFIG_JSON > config.json, with mcpb's getMcpConfigForManifest
  node --input-type=module - "$mcpb_prefix/node_modules/@anthropic-ai/mcpb/dist/shared/config.js" "$ext" "$1" <<'JS'
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [lib, ext, userConfig] = process.argv.slice(2);
const { getMcpConfigForManifest } = await import(pathToFileURL(lib).href);
const manifest = JSON.parse(readFileSync(join(ext, "manifest.json"), "utf8"));
const config = await getMcpConfigForManifest({
  manifest, extensionPath: ext, systemDirs: {}, userConfig: JSON.parse(userConfig), pathSeparator: "/",
});
if (!config) { console.error("mcpb resolved no config (a required user_config is missing)"); process.exit(1); }
delete config.platform_overrides;
console.log(JSON.stringify(config));
JS
}
resolve '{"sandbox": true}' >"$work/sandbox.json"
resolve '{"sandbox": true, "mode": "read-only"}' >"$work/read-only.json"
resolve '{}' >"$work/no-key.json"
python -c 'import json,sys; c=json.load(open(sys.argv[1])); print("host runs:", c["command"], *c["args"]); print("env:", c["env"])' \
  "$work/sandbox.json"
# The entry_point as a script, in case a host runs it itself rather than mcp_config (`mcp_config` is optional for
# the uv type in newer MCPB specs): same env, `uv run --directory <unpacked> <entry_point>`.
python - "$work/sandbox.json" "$ext" >"$work/entry-point.json" <<'PY'
import json, sys
config, ext = json.load(open(sys.argv[1])), sys.argv[2]
entry = json.load(open(f"{ext}/manifest.json"))["server"]["entry_point"]
print(json.dumps({**config, "args": ["run", "--directory", ext, entry]}))
PY

# --- 4. start it and talk MCP ------------------------------------------------------------------------------------
client=(python .ci/bundle_client.py --path "$host_path")
step "sandbox on: first start (uv installs the dependencies), tools, search_contacts"
t1=$SECONDS
timeout $((first_timeout + 30)) "${client[@]}" --timeout "$first_timeout" serve "$work/sandbox.json" \
  --manifest "$ext/manifest.json" --search Hedy --expect "Hedy Lamarr"
echo "(first start and calls: $((SECONDS - t1)) s)"

step "sandbox on, mode read-only: write tools hidden"
timeout 120 "${client[@]}" --timeout 90 serve "$work/read-only.json" --search Curie --expect "Marie Curie" \
  --absent create_task --absent move_deal_to_stage --absent delete_contact

step "sandbox off and no key: a clear refusal"
timeout 120 "${client[@]}" --timeout 90 refuse "$work/no-key.json" --code 2 --stderr LAVA_SECRET_KEY

step "the entry_point as a script"
timeout 120 "${client[@]}" --timeout 90 serve "$work/entry-point.json" --search Hedy --expect "Hedy Lamarr"

step "bundle: all checks passed in $((SECONDS - t0)) s (${bundle#"$root/"})"
