#!/usr/bin/env bash
# Foreign-client interop: the TypeScript SDK v2 client (legacy and auto era) and the MCP Inspector CLI, over stdio
# and streamable HTTP, against `lava-crm-mcp --sandbox` (no credentials, no network beyond loopback).
#
# Needs: lava-crm-mcp on PATH (the activated project venv), python3, node >= 20 and npm.
# Env:   LAVA_CRM_MCP_CMD  the server command (default "lava-crm-mcp"; word-split, e.g. "python -m lava_crm_mcp")
#        INTEROP_TIMEOUT   per client run, seconds (default 90)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
interop="$root/tests/interop"
read -r -a server <<<"${LAVA_CRM_MCP_CMD:-lava-crm-mcp}"
limit="${INTEROP_TIMEOUT:-90}"
export INTEROP_TIMEOUT_MS=$((limit * 1000)) INSPECTOR_TIMEOUT="$limit"

work="$(mktemp -d)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

command -v "${server[0]}" >/dev/null || { echo "interop: '${server[0]}' not on PATH (activate the venv)" >&2; exit 2; }
for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "interop: $tool not on PATH" >&2; exit 2; }
done

step() { echo; echo "=== $*"; }
t0=$SECONDS

step "npm ci in tests/interop (node $(node --version), npm $(npm --version))"
# npm 11 `npm ci` rejects this lock ("Missing: napi-windows-process-start-time@ from lock file"): vite, pulled in by
# the Inspector, names a Windows-only optional dependency that the registry does not serve (404), so npm cannot
# record it. `npm install` then resolves from the same lock without changing it; we check the lock stays unchanged.
if [[ -f "$interop/package-lock.json" ]]; then
  if ! (cd "$interop" && timeout 300 npm ci --no-audit --no-fund --loglevel=error 2>"$work/npm-ci.err"); then
    grep -m1 "Missing:" "$work/npm-ci.err" >&2 || tail -n 5 "$work/npm-ci.err" >&2
    echo "npm ci refused the lock; falling back to npm install (the lock must not change)"
    before="$(cksum <"$interop/package-lock.json")"
    (cd "$interop" && timeout 300 npm install --no-audit --no-fund --loglevel=error)
    [[ "$(cksum <"$interop/package-lock.json")" == "$before" ]] \
      || { echo "interop: npm install changed tests/interop/package-lock.json" >&2; exit 1; }
  fi
else
  (cd "$interop" && timeout 300 npm install --no-audit --no-fund --loglevel=error)
fi

# fresh_db: sets $db to a new, not yet existing sandbox path (no subshell, so the counter sticks).
n=0
fresh_db() { n=$((n + 1)); db="$work/sandbox-$n.sqlite3"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_http: a fresh sandbox db and port; sets $url; waits (bounded) for /healthz.
start_http() {
  local port log
  port="$(free_port)"; fresh_db; log="$work/http-$n.log"
  "${server[@]}" http --host 127.0.0.1 --port "$port" --sandbox "$db" >"$log" 2>&1 &
  server_pid=$!
  url="http://127.0.0.1:$port/mcp"
  for _ in $(seq 60); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "interop: the http server exited early; its log:" >&2; tail -n 40 "$log" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "interop: /healthz not ready after 30 s; server log:" >&2; tail -n 40 "$log" >&2; exit 1
}

passed=0
timed() {
  local s=$SECONDS
  "$@"
  passed=$((passed + 1))
  echo "    ($((SECONDS - s)) s)"
}

for era in legacy auto; do
  step "stdio: TypeScript SDK v2 client, era=$era"
  fresh_db
  timed timeout "$limit" node "$interop/ts_client.mjs" "$era" stdio "${server[@]}" stdio --sandbox "$db"
done
step "stdio: MCP Inspector CLI"
fresh_db
timed "$interop/inspector.sh" "${server[@]}" stdio --sandbox "$db"

for era in legacy auto; do
  step "http: TypeScript SDK v2 client, era=$era"
  start_http
  timed timeout "$limit" node "$interop/ts_client.mjs" "$era" http "$url"
  stop_server
done
step "http: MCP Inspector CLI"
start_http
timed "$interop/inspector.sh" "$url"
stop_server

step "interop: all passed in $((SECONDS - t0)) s"
echo "interop: $passed passed, 0 failed"
