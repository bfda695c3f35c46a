package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.examples.orders.OrderStore;
import io.modelcontextprotocol.json.McpJsonDefaults;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The guarded order server driven by an independent peer: the official TypeScript MCP SDK client, run by Node in a
 * real subprocess over Streamable HTTP. The Maven build installs it ({@code npm ci} in {@code src/test/node}).
 */
class TypeScriptClientTest {

    static final File NODE_DIR = new File("src/test/node");

    @Test
    void typeScriptClientSeesTheGuardedServerAsDesigned() throws Exception {
        try (OrderServer server = OrderServer.startHttp(0, OrderStore.seeded(),
                io.mcpguard.approval.ApprovalHandler.denyAll(), io.opentelemetry.api.OpenTelemetry.noop())) {
            Process node = new ProcessBuilder("node", "ts-client.mjs", server.url(),
                    OrderServer.DEMO_KEYS.get("support-bot"), OrderServer.DEMO_KEYS.get("billing-agent"))
                    .directory(NODE_DIR)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            assertThat(node.waitFor(90, TimeUnit.SECONDS)).as("node finished").isTrue();
            String stdout = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertThat(node.exitValue()).as("node exit code; output: %s", stdout).isZero();

            Map<String, Object> out = McpJsonDefaults.getMapper().readValue(stdout.lines().reduce((a, b) -> b)
                    .orElseThrow(), Map.class);

            assertThat(out.get("supportTools")).isEqualTo(List.of("get_order", "list_orders", "update_order_note"));
            assertThat(out.get("billingTools")).isEqualTo(List.of("get_order", "issue_refund", "list_orders"));
            assertThat(map(out, "refund").get("isError")).isEqualTo(false);

            Map<String, Object> hidden = map(out, "hidden");
            Map<String, Object> unknown = map(out, "unknown");
            assertThat(hidden.get("ok")).isEqualTo(false);
            assertThat(hidden.get("code")).isEqualTo(-32602).isEqualTo(unknown.get("code"));
            assertThat(hidden.get("message")).isEqualTo(unknown.get("message"));
            assertThat(hidden.get("data")).isEqualTo("Tool not found: issue_refund");
            assertThat(unknown.get("data")).isEqualTo("Tool not found: transfer_funds");

            Map<String, Object> invalid = map(out, "invalid");
            assertThat(invalid.get("isError")).isEqualTo(true);
            assertThat(map(invalid, "_meta").get("io.mcpguard/reason")).isEqualTo("invalid_arguments");

            Map<String, Object> badKey = map(out, "badKey");
            assertThat(badKey.get("ok")).isEqualTo(false);
            assertThat(badKey.get("code")).as("HTTP status of the refusal: %s", badKey).isEqualTo(401);
            assertThat((String) badKey.get("message")).doesNotContain("Tomcat", "Exception");
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> parent, String key) {
        assertThat(parent).containsKey(key);
        return (Map<String, Object>) parent.get(key);
    }
}
