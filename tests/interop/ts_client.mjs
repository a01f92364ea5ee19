// Foreign-client interop check with the TypeScript SDK v2 (@modelcontextprotocol/client).
//
//   node ts_client.mjs <legacy|auto> stdio <command> [args...]
//   node ts_client.mjs <legacy|auto> http <url>
//
// Lists tools, calls search_contacts, reads lava-crm://board, moves a deal to another stage BY NAME with
// move_deal_to_stage, re-reads the board and checks the deal landed there. Exits non-zero with a message on any
// failure; prints one summary line on success. The whole run is bounded by INTEROP_TIMEOUT_MS (default 60 s).
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const REQUIRED_TOOLS = ["search_contacts", "move_deal_to_stage", "create_task", "add_stage"];
const BOARD_URI = "lava-crm://board";
const TIMEOUT_MS = Number(process.env.INTEROP_TIMEOUT_MS ?? 60000);

const usage = "usage: node ts_client.mjs <legacy|auto> stdio <command> [args...] | <legacy|auto> http <url>";
const [era, kind, target, ...rest] = process.argv.slice(2);
const tag = `ts_client[${era ?? "?"}/${kind ?? "?"}]`;

function fail(message) {
  console.error(`${tag} FAIL: ${message}`);
  process.exit(1);
}

function textOf(result) {
  return (result?.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}

// The board is {"pipeline": {...}, "stages": [{"id","name","stage_type","deals":[{"id",...}]}]}; tolerate a
// {"board": {...}} wrapper or a bare stage list so a small shape change gives a clear message, not a crash.
function stagesOf(board) {
  const stages = Array.isArray(board) ? board : (board?.stages ?? board?.board?.stages);
  if (!Array.isArray(stages)) fail(`${BOARD_URI}: no "stages" array in ${JSON.stringify(board).slice(0, 300)}`);
  return stages;
}

async function readBoard(client) {
  const res = await client.readResource({ uri: BOARD_URI });
  const text = res?.contents?.[0]?.text;
  if (typeof text !== "string") fail(`${BOARD_URI}: first content has no text: ${JSON.stringify(res).slice(0, 300)}`);
  try {
    return stagesOf(JSON.parse(text));
  } catch (err) {
    if (err instanceof SyntaxError) fail(`${BOARD_URI}: not JSON: ${text.slice(0, 200)}`);
    throw err;
  }
}

// Pick a deal in one stage and a different stage to move it to (prefer open stages: Won/Lost close the deal).
function pickMove(stages) {
  const isOpen = (s) => (s.stage_type ?? "open") === "open";
  const withDeals = stages.filter((s) => Array.isArray(s.deals) && s.deals.length > 0);
  const from = withDeals.find(isOpen) ?? withDeals[0];
  if (!from) fail(`${BOARD_URI}: no stage holds a deal (stages: ${stages.map((s) => s.name).join(", ")})`);
  const others = stages.filter((s) => String(s.id) !== String(from.id) && s.name && s.name !== from.name);
  const to = others.find(isOpen) ?? others[0];
  if (!to) fail(`${BOARD_URI}: no second stage to move a deal to`);
  return { deal: from.deals[0], from, to };
}

async function main() {
  if (!["legacy", "auto"].includes(era) || !["stdio", "http"].includes(kind) || !target) fail(usage);
  const transport =
    kind === "stdio"
      ? new StdioClientTransport({ command: target, args: rest, env: { ...process.env }, stderr: "inherit" })
      : new StreamableHTTPClientTransport(new URL(target));
  const client = new Client({ name: "lava-crm-interop-ts", version: "0.1.0" }, { versionNegotiation: { mode: era } });
  await client.connect(transport);
  try {
    const negotiated = client.getProtocolEra?.() ?? "?";

    const { tools } = await client.listTools();
    const names = new Set(tools.map((t) => t.name));
    const missing = REQUIRED_TOOLS.filter((n) => !names.has(n));
    if (missing.length) fail(`tools/list lacks ${missing.join(", ")} (got ${[...names].sort().join(", ")})`);

    const search = await client.callTool({ name: "search_contacts", arguments: {} });
    if (search.isError) fail(`search_contacts returned isError: ${textOf(search)}`);
    const items = search.structuredContent?.items;
    if (!Array.isArray(items) || items.length === 0) {
      fail(`search_contacts: structuredContent.items is not a non-empty array: ${JSON.stringify(search.structuredContent)?.slice(0, 300)}`);
    }

    const { deal, from, to } = pickMove(await readBoard(client));
    const moved = await client.callTool({ name: "move_deal_to_stage", arguments: { deal_id: deal.id, stage: to.name } });
    if (moved.isError) fail(`move_deal_to_stage(${deal.id} -> "${to.name}") returned isError: ${textOf(moved)}`);

    const after = await readBoard(client);
    const landed = after.find((s) => String(s.id) === String(to.id));
    if (!landed?.deals?.some((d) => String(d.id) === String(deal.id))) {
      const where = after.find((s) => s.deals?.some((d) => String(d.id) === String(deal.id)));
      fail(`deal ${deal.id} is not in stage "${to.name}" after the move (found in: ${where ? `"${where.name}"` : "no stage"})`);
    }

    console.log(
      `${tag} OK: era=${negotiated} server=${client.getServerVersion()?.name ?? "?"} tools=${tools.length} ` +
        `contacts=${items.length} moved deal ${deal.id} "${from.name}" -> "${to.name}"`,
    );
  } finally {
    await client.close();
  }
}

const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS} ms`), TIMEOUT_MS);
timer.unref();
main().then(
  () => process.exit(0),
  (err) => fail(err?.stack ?? String(err)),
);
