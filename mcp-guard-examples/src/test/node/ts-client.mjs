// Drives a guarded MCP server over Streamable HTTP with the TypeScript SDK client and prints one JSON object.
// Usage: node ts-client.mjs <url> <support-key> <billing-key>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, supportKey, billingKey] = process.argv.slice(2);

async function connect(key) {
  const client = new Client({ name: "ts-interop", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return client;
}

async function failure(promise) {
  try {
    const result = await promise;
    return { ok: true, result };
  } catch (e) {
    return { ok: false, code: e.code ?? null, message: String(e.message), data: e.data ?? null };
  }
}

const out = {};
const support = await connect(supportKey);
const billing = await connect(billingKey);
out.supportTools = (await support.listTools()).tools.map((t) => t.name).sort();
out.billingTools = (await billing.listTools()).tools.map((t) => t.name).sort();
out.refund = await billing.callTool({ name: "issue_refund", arguments: { orderId: "o-1002", amount: 10 } });
out.hidden = await failure(support.callTool({ name: "issue_refund", arguments: { orderId: "o-1002", amount: 10 } }));
out.unknown = await failure(support.callTool({ name: "transfer_funds", arguments: { orderId: "o-1002", amount: 10 } }));
out.invalid = await support.callTool({ name: "update_order_note", arguments: { orderId: 42, note: "x" } });
out.badKey = await failure(connect("not-a-real-key-000000000000"));
console.log(JSON.stringify(out));
await support.close();
await billing.close();
