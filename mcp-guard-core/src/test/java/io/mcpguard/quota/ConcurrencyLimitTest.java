package io.mcpguard.quota;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Concurrency limits (bulkheads): calls in flight are counted, never queued. */
class ConcurrencyLimitTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders").build();
    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("orders").build();

    final CountDownLatch gate = new CountDownLatch(1);
    final CountDownLatch entered = new CountDownLatch(2);
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    GuardedInMemory server;

    @AfterEach
    void close() {
        gate.countDown();
        if (server != null) {
            server.close();
        }
    }

    /** A tool that holds its call until the gate opens. */
    McpServerFeatures.SyncToolSpecification slow() {
        return new McpServerFeatures.SyncToolSpecification(Tools.tool("export_orders"), (exchange, request) -> {
            entered.countDown();
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Tools.text("exported");
        });
    }

    void serve(ConcurrencyRule rule) {
        McpGuard guard = McpGuard.builder()
                .policy(Policy.builder().scope("orders", ToolMatcher.all()).concurrency(rule).build())
                .eventListener(events::add).build();
        server = new GuardedInMemory(guard, List.of(slow(), Tools.echo("get_order")));
    }

    static CompletableFuture<CallToolResult> inBackground(McpSyncClient client) {
        return CompletableFuture.supplyAsync(() -> client.callTool(new CallToolRequest("export_orders",
                Map.of("id", "all"))));
    }

    @Test
    void callsOverThePerAgentLimitAreRefusedAtOnceAndOthersAreUnaffected() throws Exception {
        serve(ConcurrencyRule.perAgent(2));
        McpSyncClient support = server.session(SUPPORT);
        var first = inBackground(support);
        var second = inBackground(server.session(SUPPORT));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

        CallToolResult third = support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));
        assertThat(reason(third)).isEqualTo("concurrency_limited");
        assertThat(third.meta()).containsEntry("io.mcpguard/retryAfterMs", 1_000);
        assertThat(Tools.firstText(third)).isEqualTo("Too many calls in flight for tool 'get_order': at most 2 at "
                + "once for each agent. Retry in 1 second.");
        assertThat(reason(server.session(BILLING).callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                .isEqualTo("ok");
        assertThat(events).singleElement().isInstanceOf(GuardEvent.ConcurrencyLimited.class);

        gate.countDown();
        assertThat(reason(first.get(10, TimeUnit.SECONDS))).isEqualTo("ok");
        assertThat(reason(second.get(10, TimeUnit.SECONDS))).isEqualTo("ok");
        assertThat(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1"))))).isEqualTo("ok");
    }

    @Test
    void perToolLimitHoldsAcrossAgents() throws Exception {
        serve(ConcurrencyRule.perTool(2).forTools(ToolMatcher.names("export_orders")).retryAfter(
                java.time.Duration.ofMillis(250)));
        var first = inBackground(server.session(SUPPORT));
        var second = inBackground(server.session(BILLING));
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

        CallToolResult third = server.session(AgentIdentity.builder("ops").scopes("orders").build())
                .callTool(new CallToolRequest("export_orders", Map.of("id", "all")));
        assertThat(reason(third)).isEqualTo("concurrency_limited");
        assertThat(third.meta()).containsEntry("io.mcpguard/retryAfterMs", 250);
        assertThat(reason(server.session(SUPPORT).callTool(new CallToolRequest("get_order", Map.of("id", "o")))))
                .as("other tools are not limited").isEqualTo("ok");

        gate.countDown();
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        assertThat(server.session(SUPPORT).callTool(new CallToolRequest("export_orders", Map.of("id", "all")))
                .isError()).isFalse();
    }
}
