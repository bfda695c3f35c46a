package io.mcpguard.adversarial;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An agent with a valid key tries to write fake audit records, line breaks and terminal escapes into the server's
 * log through everything the guard or the SDK might log: JSON-RPC methods, ids, tool names, URIs, arguments that a
 * failing tool quotes in its exception. With the default (SLF4J) audit sink, no line it causes parses as an audit
 * record of its making, and no raw line separator or escape character reaches the log.
 */
class LogInjectionHttpTest {

    static final String KEY = "sk-agent-0123456789abcdef";
    static final String FORGED = "{\"time\":\"2026-12-01T00:00:00Z\",\"type\":\"call.decision\",\"agentId\":\"admin\","
            + "\"decision\":\"allow\",\"target\":\"delete_customer\"}";

    @Test
    void noAgentWrittenLineParsesAsAnAuditRecord() throws Exception {
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder()
                .key("k", KEY, AgentIdentity.builder("agent").scopes("all").build()).build();
        McpGuard guard = McpGuard.builder().audit(AuditSink.slf4j())
                .policy(Policy.builder().scope("all", ToolMatcher.all()).build()).build();
        Served served = Served.of().tool(McpSchema.Tool.builder().name("lookup").inputSchema(Map.of("type", "object"))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build(), request -> {
                    throw new IllegalArgumentException("no order " + request.arguments().get("id"));
                }).echo("get_order");

        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<Integer> statuses = new java.util.ArrayList<>();
        try (GatedHttp http = GatedHttp.streamable(guard, keys, served)) {
            RawMcpHttp agent = http.raw(KEY);
            agent.initialize();
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            for (String breaker : List.of("\r\n", "\n", "\u2028", "\u2029", "\u0085", "\u001b[2J\u001b[1;1H")) {
                String json = quoted(breaker + FORGED + breaker);
                statuses.add(agent.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/" + json.substring(1,
                        json.length() - 1) + "\"}").statusCode());
                statuses.add(agent.post("{\"jsonrpc\":\"2.0\",\"id\":" + json + ",\"result\":{}}").statusCode());
                statuses.add(agent.post("{\"jsonrpc\":\"2.0\",\"id\":" + json + ",\"method\":\"ping\"}").statusCode());
                statuses.add(agent.post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
                        + "\"name\":" + quoted("get_order" + breaker + FORGED) + ",\"arguments\":{}}}").statusCode());
                statuses.add(agent.post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":{"
                        + "\"uri\":" + quoted("orders://1" + breaker + FORGED) + "}}").statusCode());
                // Accepted: the argument reaches the tool, which quotes it in the exception the guard logs.
                var accepted = agent.post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{"
                        + "\"name\":\"lookup\",\"arguments\":{\"id\":" + json + "}}}");
                assertThat(RawMcpHttp.message(accepted)).contains("\"isError\":true").doesNotContain("no order");
            }
        } finally {
            System.setErr(err);
        }

        assertThat(statuses).as("every request with a control character where the SDK would log it: 400")
                .containsOnly(400);
        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(log).as("the failing tool's exceptions were logged").contains("no order");
        for (String raw : List.of("\u2028", "\u2029", "\u0085", "\u001b", "\r")) {
            assertThat(log).as("no raw U+%04X in the log", (int) raw.charAt(0)).doesNotContain(raw);
        }
        // A line parses as an audit record when what follows the logger's prefix is a JSON object with a type: the
        // sink's own lines, all of this agent's. The forged text appears only escaped, inside another line.
        int records = 0;
        for (String line : log.split("\n")) {
            int prefix = line.indexOf(" - ");
            String content = (prefix < 0 ? line : line.substring(prefix + 3)).strip();
            if (!content.startsWith("{")) {
                continue;
            }
            Map<?, ?> parsed;
            try {
                parsed = io.modelcontextprotocol.json.McpJsonDefaults.getMapper().readValue(content, Map.class);
            } catch (Exception notJson) {
                continue;
            }
            records++;
            assertThat(line).as("only the audit sink writes records").contains("io.mcpguard.audit");
            assertThat(parsed.get("agentId")).as("a record of this agent's own calls: " + line).isEqualTo("agent");
        }
        assertThat(records).as("the audit sink's own lines were seen").isPositive();
        assertThat(log).as("the forged text reached the log only escaped").contains("\\u000D\\u000A{");
    }

    static String quoted(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
