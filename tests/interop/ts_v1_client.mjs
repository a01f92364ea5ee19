// Foreign-client interop check with the TypeScript SDK 1.x (@modelcontextprotocol/sdk).
//
//   node ts_v1_client.mjs stdio <command> [args...]
//   node ts_v1_client.mjs http <url>
//
// The same checks as py_v1_client.py: tools/list (the SDK compiles every output schema with Ajv), search_contacts
// "ada", search_deals + move_deal_to_stage BY NAME, resources/list + read lava-crm://board (the moved deal is in
// its new stage), prompts/list + get pipeline_review and log_follow_up. The 1.x client validates each tool result's
// structuredContent against the tool's output schema (Ajv) and throws on a mismatch, which fails that check.
// Prints one PASS/FAIL line per check; exits non-zero if any failed. Bounded by INTEROP_TIMEOUT_MS (default 60 s).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const TIMEOUT_MS = Number(process.env.INTEROP_TIMEOUT_MS ?? 60000);
const BOARD_URI = "lava-crm://board";
const DEAL_QUERY = "Route optimisation"; // one open deal of the sandbox's default pipeline
const STAGES = ["Negotiation", "Proposal"]; // move to the first, or to the second if it is already there
const REQUIRED_TOOLS = ["search_contacts", "search_deals", "move_deal_to_stage"];

const [kind, target, ...rest] = process.argv.slice(2);
const tag = `ts_v1[${kind ?? "?"}]`;
const results = { passed: 0, failed: [] };
const state = {};

function bail(message) {
  console.error(`${tag} FAIL: ${message}`);
  process.exit(1);
}

function need(condition, message) {
  if (!condition) throw new Error(message);
}

const short = (value) => JSON.stringify(value)?.slice(0, 300);
const promptText = (result) => (result?.messages ?? []).map((m) => m.content?.text ?? "").join("\n");
const textOf = (result) => (result?.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");

async function check(name, fn) {
  try {
    const detail = await fn();
    results.passed += 1;
    console.log(`${tag} PASS ${name}: ${detail}`);
  } catch (err) {
    results.failed.push(name);
    console.log(`${tag} FAIL ${name}: ${err?.message ?? err}`);
  }
}

// A tool call that must succeed; the SDK has already validated structuredContent against the output schema.
async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  need(!result.isError, `${name} returned isError: ${textOf(result).slice(0, 300)}`);
  need(client.getToolOutputValidator(name), `${name}: no output-schema validator (tools/list not cached?)`);
  return result.structuredContent;
}

async function main() {
  if (!["stdio", "http"].includes(kind) || !target) {
    bail("usage: node ts_v1_client.mjs stdio <cmd> [args...] | http <url>");
  }
  const transport =
    kind === "stdio"
      ? new StdioClientTransport({ command: target, args: rest, env: { ...process.env }, stderr: "inherit" })
      : new StreamableHTTPClientTransport(new URL(target));
  const client = new Client({ name: "lava-crm-interop-ts-v1", version: "0.1.0" });

  await check("initialize", async () => {
    await client.connect(transport);
    const info = client.getServerVersion();
    need(info?.name === "lava-crm-mcp", `serverInfo.name is ${short(info?.name)}`);
    const caps = client.getServerCapabilities() ?? {};
    need(caps.tools && caps.resources && caps.prompts, `capabilities lack tools/resources/prompts: ${short(caps)}`);
    return `${info.name} ${info.version}, protocol ${transport.protocolVersion ?? "(stdio: not exposed)"}`;
  });
  if (results.failed.length) bail("could not initialize; no further checks");

  await check("tools/list", async () => {
    const { tools } = await client.listTools(); // compiles every outputSchema with Ajv (throws on a bad schema)
    const names = new Set(tools.map((t) => t.name));
    const missing = REQUIRED_TOOLS.filter((n) => !names.has(n));
    need(!missing.length, `lacks ${missing.join(", ")}`);
    const withSchema = tools.filter((t) => t.outputSchema);
    const compiled = withSchema.filter((t) => client.getToolOutputValidator(t.name)).length;
    need(compiled === withSchema.length, `${compiled}/${withSchema.length} output schemas compiled`);
    for (const n of REQUIRED_TOOLS) need(client.getToolOutputValidator(n), `${n} has no output schema`);
    return `${tools.length} tools, ${compiled} output schemas compiled by Ajv`;
  });

  await check('tools/call search_contacts "ada"', async () => {
    const out = await call(client, "search_contacts", { query: "ada" });
    const ada = out?.items?.find((c) => c.first_name === "Ada" && c.last_name === "Lovelace");
    need(ada, `no Ada Lovelace in ${short(out)}`);
    return `${out.items.length} row(s), Ada Lovelace ${ada.id}; structured output valid`;
  });

  await check("tools/call search_deals + move_deal_to_stage by name", async () => {
    const found = await call(client, "search_deals", { query: DEAL_QUERY });
    const deal = found?.items?.[0];
    need(found?.items?.length === 1 && deal?.stage?.name, `expected one deal with a stage: ${short(found)}`);
    const to = deal.stage.name === STAGES[0] ? STAGES[1] : STAGES[0];
    const moved = await call(client, "move_deal_to_stage", { deal_id: deal.id, stage: to });
    need(moved.deal_id === deal.id && moved.to_stage === to, `unexpected result ${short(moved)}`);
    need(moved.from_stage === deal.stage.name, `from_stage ${short(moved.from_stage)}, search said ${deal.stage.name}`);
    state.move = { id: deal.id, to, toId: moved.to_stage_id };
    return `deal ${deal.id} "${moved.from_stage}" -> "${moved.to_stage}"; structured output valid`;
  });

  await check(`resources/read ${BOARD_URI}`, async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    need(uris.includes(BOARD_URI), `resources/list lacks ${BOARD_URI}: ${short(uris)}`);
    const res = await client.readResource({ uri: BOARD_URI });
    const text = res.contents?.[0]?.text;
    need(typeof text === "string", `no text content: ${short(res)}`);
    const stages = JSON.parse(text).stages;
    need(Array.isArray(stages) && stages.length, `no stages in ${text.slice(0, 200)}`);
    if (!state.move) return `${stages.length} stages (no move to verify)`;
    const stage = stages.find((s) => s.id === state.move.toId);
    need(stage, `stage "${state.move.to}" (${state.move.toId}) is not on the board`);
    const listed = stage.deals?.some((d) => d.id === state.move.id);
    need(listed || (stage.more && stage.deal_count > 0), `deal ${state.move.id} is not in "${state.move.to}"`);
    return `${stages.length} stages; deal ${state.move.id} is in "${stage.name}"`;
  });

  await check("prompts/list + get pipeline_review", async () => {
    const { prompts } = await client.listPrompts();
    const names = prompts.map((p) => p.name);
    need(names.includes("pipeline_review") && names.includes("log_follow_up"), `prompts/list: ${short(names)}`);
    const args = { pipeline: "Sales Pipeline", stalled_days: "7" };
    const got = await client.getPrompt({ name: "pipeline_review", arguments: args });
    const text = promptText(got);
    need(text.includes(args.pipeline) && text.includes("7 days"), `arguments not in the text: ${text.slice(0, 200)}`);
    return `${got.messages.length} message(s), arguments rendered`;
  });

  await check("prompts/get log_follow_up", async () => {
    const args = { contact: "Ada Lovelace", summary: "Demo call about the pipeline", due_date: "2030-01-15" };
    const got = await client.getPrompt({ name: "log_follow_up", arguments: args });
    const text = promptText(got);
    need(text.includes(args.contact) && text.includes(args.summary), `arguments missing: ${text.slice(0, 200)}`);
    return `${got.messages.length} message(s), arguments rendered`;
  });

  await client.close();
  const total = results.passed + results.failed.length;
  if (results.failed.length) bail(`${results.failed.length}/${total} checks failed: ${results.failed.join("; ")}`);
  console.log(`${tag} OK: ${results.passed}/${total} checks passed`);
}

const timer = setTimeout(() => bail(`timed out after ${TIMEOUT_MS} ms`), TIMEOUT_MS);
timer.unref();
main().then(
  () => process.exit(0),
  (err) => bail(err?.stack ?? String(err)),
);
