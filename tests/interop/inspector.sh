#!/usr/bin/env bash
# Foreign-client interop check with the MCP Inspector CLI (@modelcontextprotocol/inspector, from ./node_modules).
#
#   tests/interop/inspector.sh http://127.0.0.1:8000/mcp
#   tests/interop/inspector.sh lava-crm-mcp stdio --sandbox /tmp/x.sqlite3
#
# Runs tools/list --strict (must exit 0 and list the four core tools), tools/call search_contacts,
# resources/read lava-crm://board, tools/call move_deal_to_stage (a deal from the board to another stage, by name),
# then re-reads the board to check the move. For a stdio target every call spawns a fresh server process, so the
# state must persist between processes (the sandbox's SQLite file does). Each call is bounded by
# INSPECTOR_TIMEOUT seconds (default 60). Needs node, npx and python3 on PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 ]] || { echo "usage: $0 <http(s)://…/mcp | command [args...]>" >&2; exit 2; }
limit="${INSPECTOR_TIMEOUT:-60}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export MCP_CATALOG_PATH="$work/catalog.json"   # keep the Inspector from writing ~/.mcp-inspector/mcp.json

if [[ "$1" =~ ^https?:// ]]; then
  target=("$1" --transport http)
  label="http $1"
else
  # The Inspector parses option-looking words after the target (e.g. --transport) as its own; wrapping the server
  # command in a script keeps every server flag (--sandbox PATH, …) away from it.
  printf '#!/bin/sh\nexec' >"$work/server.sh"
  printf ' %q' "$@" >>"$work/server.sh"
  printf '\n' >>"$work/server.sh"
  chmod +x "$work/server.sh"
  target=("$work/server.sh")
  label="stdio $*"
fi

fail() { echo "inspector[$label] FAIL: $*" >&2; exit 1; }

# inspect NAME ARGS... : run one Inspector call, payload to $work/NAME.json, stderr to $work/NAME.err
inspect() {
  local name="$1"; shift
  local rc=0
  (cd "$here" && timeout "$limit" npx --no-install mcp-inspector --cli "${target[@]}" "$@" -q) \
    >"$work/$name.json" 2>"$work/$name.err" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "--- stdout:" >&2; head -c 2000 "$work/$name.json" >&2 || true
    echo "--- stderr:" >&2; tail -n 30 "$work/$name.err" >&2 || true
    fail "$name exited $rc$([[ $rc -eq 124 ]] && echo " (timeout ${limit}s)")"
  fi
}

# py CODE FILE... : evaluate a check in python3; it prints a result or raises SystemExit("message")
py() { python3 -c "$@" || fail "check failed (see above)"; }

inspect tools_list --method tools/list --strict
py '
import json, sys
names = {t["name"] for t in json.load(open(sys.argv[1]))["tools"]}
missing = {"search_contacts", "move_deal_to_stage", "create_task", "add_stage"} - names
if missing: sys.exit(f"tools/list lacks {sorted(missing)}; got {sorted(names)}")
print(len(names))' "$work/tools_list.json" >"$work/tool_count"
echo "inspector[$label] tools/list --strict: ok ($(cat "$work/tool_count") tools)"

inspect search --method tools/call --tool-name search_contacts
py '
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("isError"): sys.exit(f"search_contacts isError: {r}")
items = (r.get("structuredContent") or {}).get("items")
if not isinstance(items, list) or not items: sys.exit(f"search_contacts: structuredContent.items empty or missing: {r}")
' "$work/search.json"
echo "inspector[$label] tools/call search_contacts: ok"

# The board resource: {"pipeline": {...}, "stages": [{"id","name","stage_type","deals":[{"id",...}]}]}.
board_stages='
def stages(path):
    import json
    res = json.load(open(path))
    board = json.loads(res["contents"][0]["text"])
    s = board if isinstance(board, list) else board.get("stages") or (board.get("board") or {}).get("stages")
    if not isinstance(s, list): raise SystemExit(f"no stages array in board: {str(board)[:300]}")
    return s
'
inspect board --method resources/read --uri lava-crm://board
py "$board_stages"'
import json, sys
st = stages(sys.argv[1])
is_open = lambda s: s.get("stage_type", "open") == "open"
full = [s for s in st if s.get("deals")]
if not full: sys.exit("no stage on the board holds a deal")
src = next((s for s in full if is_open(s)), full[0])
others = [s for s in st if str(s["id"]) != str(src["id"]) and s.get("name") and s["name"] != src["name"]]
if not others: sys.exit("no second stage to move a deal to")
dst = next((s for s in others if is_open(s)), others[0])
deal = src["deals"][0]
json.dump({"deal_id": deal["id"], "stage": dst["name"]}, open(sys.argv[2], "w"))
json.dump({"deal_id": deal["id"], "from": src["name"], "to": dst["name"], "to_id": dst["id"]}, open(sys.argv[3], "w"))
' "$work/board.json" "$work/move_args.json" "$work/move_plan.json"
echo "inspector[$label] resources/read lava-crm://board: ok (plan $(cat "$work/move_plan.json"))"

inspect move --method tools/call --tool-name move_deal_to_stage --tool-args-json "$(cat "$work/move_args.json")"
py '
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("isError") or "content" not in r: sys.exit(f"move_deal_to_stage failed: {r}")
' "$work/move.json"

inspect board_after --method resources/read --uri lava-crm://board
py "$board_stages"'
import json, sys
plan = json.load(open(sys.argv[2]))
deal, to, to_id = str(plan["deal_id"]), plan["to"], str(plan["to_id"])
dst = next((s for s in stages(sys.argv[1]) if str(s["id"]) == to_id), None)
if dst is None or not any(str(d["id"]) == deal for d in dst.get("deals") or []):
    sys.exit(f"deal {deal} is not in stage {to!r} after the move")
' "$work/board_after.json" "$work/move_plan.json"
echo "inspector[$label] tools/call move_deal_to_stage + board re-read: ok"
echo "inspector[$label] OK"
