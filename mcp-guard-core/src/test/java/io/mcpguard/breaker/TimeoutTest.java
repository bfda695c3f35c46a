package io.mcpguard.breaker;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.InMemoryTransport;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** Per-tool call timeouts: the call is cancelled, answered with {@code timeout}, and counted by the breaker. */
class TimeoutTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders").build();
    static final Duration TIMEOUT = Duration.ofMillis(100);

    final CountDownLatch interrupted = new CountDownLatch(1);
    final AtomicBoolean hang = new AtomicBoolean(true);
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    GuardedInMemory server;
    McpGuard guard;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        if (guard != null) {
            guard.close();
        }
    }

    Policy policy() {
        return Policy.builder().scope("orders", ToolMatcher.all())
                .timeout(TIMEOUT, ToolMatcher.names("slow_report"))
                .concurrency(ConcurrencyRule.perAgent(1))
                .circuitBreaker(BreakerRule.forTools(ToolMatcher.all()).minimumNumberOfCalls(5))
                .build();
    }

    /** Hangs until interrupted while {@link #hang} is set. */
    McpServerFeatures.SyncToolSpecification slowReport() {
        return new McpServerFeatures.SyncToolSpecification(Tools.tool("slow_report"), (exchange, request) -> {
            if (hang.get()) {
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    interrupted.countDown();
                    throw new IllegalStateException("cancelled", e);
                }
            }
            return Tools.text("report");
        });
    }

    @Test
    void aSyncCallPastItsTimeoutIsInterruptedRefusedAndCountedAsAFailure() throws Exception {
        guard = McpGuard.builder().policy(policy()).eventListener(events::add).build();
        server = new GuardedInMemory(guard, List.of(slowReport(), Tools.echo("get_order")));
        var support = server.session(SUPPORT);

        CallToolResult result = support.callTool(new CallToolRequest("slow_report", Map.of("id", "q3")));

        assertThat(reason(result)).isEqualTo("timeout");
        assertThat(Tools.firstText(result)).isEqualTo("Tool 'slow_report' did not finish within 100 ms and was "
                + "cancelled.");
        assertThat(interrupted.await(10, TimeUnit.SECONDS)).as("the handler's thread was interrupted").isTrue();
        CircuitBreaker breaker = guard.circuitBreaker("slow_report").orElseThrow();
        assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
        assertThat(events).filteredOn(GuardEvent.CallTimedOut.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((GuardEvent.CallTimedOut) e).timeout()).isEqualTo(TIMEOUT));

        hang.set(false);
        assertThat(reason(support.callTool(new CallToolRequest("slow_report", Map.of("id", "q3")))))
                .as("the concurrency slot came back when the handler ended").isEqualTo("ok");
        assertThat(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", "o-1"))))).isEqualTo("ok");
    }

    @Test
    void anAsyncCallPastItsTimeoutIsCancelledAndCountedAsAFailure() {
        guard = McpGuard.builder().policy(policy()).build();
        AtomicBoolean cancelled = new AtomicBoolean();
        var never = new McpServerFeatures.AsyncToolSpecification(Tools.tool("slow_report"),
                (exchange, request) -> Mono.<io.modelcontextprotocol.spec.McpSchema.CallToolResult>never()
                        .doOnCancel(() -> cancelled.set(true)));
        var transport = new InMemoryTransport();
        var asyncServer = guard.install(McpServer.async(transport).serverInfo("t", "1"), List.of(never)).build();
        var client = McpClient.sync(transport.connect(McpTransportContext.create(
                Map.of(AgentIdentity.CONTEXT_KEY, SUPPORT)))).build();
        try {
            client.initialize();

            CallToolResult result = client.callTool(new CallToolRequest("slow_report", Map.of("id", "q3")));

            assertThat(reason(result)).isEqualTo("timeout");
            assertThat(cancelled).isTrue();
            assertThat(guard.circuitBreaker("slow_report").orElseThrow().getMetrics()
                    .getNumberOfFailedCalls()).isEqualTo(1);
            assertThat(reason(client.callTool(new CallToolRequest("slow_report", Map.of("id", "q3")))))
                    .as("the slot was released on cancel").isEqualTo("timeout");
        } finally {
            client.close();
            asyncServer.close();
        }
    }
}
