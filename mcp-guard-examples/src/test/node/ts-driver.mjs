// Drives a guarded MCP server with the official TypeScript SDK client, one step per input line, one JSON result per
// output line, so that a Java test can act (approve, redefine a tool) between steps.
// Usage: node ts-driver.mjs <url>; then write steps such as
//   {"op":"connect","name":"a","key":"...","elicitation":"accept"}
//   {"op":"call","name":"a","tool":"issue_refund","args":{...}}
//   {"op":"start","name":"a","id":"w1","tool":"issue_refund","args":{...}}   (a call left running)
//   {"op":"abort","id":"w1"}                                                   (cancels it, as a user pressing stop)
//   {"op":"await","id":"w1"}
//   {"op":"rawPost","key":"...","sessionOf":"a","body":{...}}                 (plain fetch, another identity)
//   {"op":"elicited","name":"a"}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import readline from "node:readline";

const url = process.argv[2];
const sessions = {};
const running = {};

function outcome(result) {
  const meta = result._meta ?? {};
  return {
    ok: true,
    isError: result.isError === true,
    reason: meta["io.mcpguard/reason"] ?? null,
    rule: meta["io.mcpguard/rule"] ?? null,
    approvalId: meta["io.mcpguard/approvalId"] ?? null,
    text: (result.content ?? []).map((c) => c.text ?? c.type).join(" "),
  };
}

function failure(e) {
  return { ok: false, code: e.code ?? null, message: String(e.message ?? e), data: e.data ?? null };
}

async function run(step) {
  switch (step.op) {
    case "connect": {
      const capabilities = step.elicitation === "accept" ? { elicitation: {} } : {};
      const client = new Client({ name: "ts-adversary", version: "1.0.0" }, { capabilities });
      const session = { client, elicited: 0, transport: null };
      if (step.elicitation === "accept") {
        // The agent's own client answers every confirmation with yes: the attack the guard must survive.
        client.setRequestHandler(ElicitRequestSchema, async () => {
          session.elicited++;
          return { action: "accept", content: { approve: true } };
        });
      }
      session.transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: `Bearer ${step.key}` } },
      });
      await client.connect(session.transport);
      sessions[step.name] = session;
      return { ok: true, sessionId: session.transport.sessionId ?? null };
    }
    case "call": {
      try {
        return outcome(await sessions[step.name].client.callTool({ name: step.tool, arguments: step.args }));
      } catch (e) {
        return failure(e);
      }
    }
    case "start": {
      const controller = new AbortController();
      const promise = sessions[step.name].client
        .callTool({ name: step.tool, arguments: step.args }, undefined, { signal: controller.signal, timeout: 120000 })
        .then(outcome, failure);
      running[step.id] = { controller, promise };
      return { ok: true, started: step.id };
    }
    case "abort": {
      running[step.id].controller.abort("the user pressed stop");
      return { ok: true, aborted: step.id, outcome: await running[step.id].promise };
    }
    case "await":
      return await running[step.id].promise;
    case "rawPost": {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${step.key}`,
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "Mcp-Session-Id": sessions[step.sessionOf].transport.sessionId,
        },
        body: JSON.stringify(step.body),
      });
      return { ok: true, status: response.status, body: await response.text() };
    }
    case "elicited":
      return { ok: true, elicited: sessions[step.name].elicited };
    default:
      return { ok: false, message: `unknown op ${step.op}` };
  }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) {
    continue;
  }
  let result;
  try {
    result = await run(JSON.parse(line));
  } catch (e) {
    result = failure(e);
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}
for (const session of Object.values(sessions)) {
  await session.client.close().catch(() => {});
}
