package io.mcpguard.breaker;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.MutableClock;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Circuit breakers per tool, through a real guarded SDK server, with an injected clock. */
class CircuitBreakerTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders").build();
    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("orders").build();

    final MutableClock clock = MutableClock.start();
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    final AtomicBoolean backendDown = new AtomicBoolean(true);
    McpGuard guard;
    GuardedInMemory server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * A tool whose back end fails for everyone while {@link #backendDown} is set (a connection failure: an
     * infrastructure fault), and that rejects order {@code o-bad} with an exception (a failure caused by the caller).
     */
    McpServerFeatures.SyncToolSpecification flaky() {
        return new McpServerFeatures.SyncToolSpecification(Tools.tool("sync_inventory"), (exchange, request) -> {
            if ("o-bad".equals(request.arguments().get("id"))) {
                throw new IllegalArgumentException("no such order: o-bad");
            }
            if (backendDown.get()) {
                throw new java.io.UncheckedIOException(new java.net.ConnectException("inventory service unreachable"));
            }
            return Tools.text("synced " + request.arguments().get("id"));
        });
    }

    /** A tool that reports its own errors as results. */
    static McpServerFeatures.SyncToolSpecification picky() {
        return new McpServerFeatures.SyncToolSpecification(Tools.tool("get_order"), (exchange, request) ->
                CallToolResult.builder().content(List.of(new McpSchema.TextContent("No such order.")))
                        .isError(true).build());
    }

    void serve(BreakerRule rule) {
        guard = McpGuard.builder()
                .policy(Policy.builder().scope("orders", ToolMatcher.names("sync_inventory", "get_order"))
                        .circuitBreaker(rule).build())
                .clock(clock).eventListener(events::add).build();
        server = new GuardedInMemory(guard, List.of(flaky(), picky()));
    }

    static BreakerRule smallBreaker() {
        return BreakerRule.forTools(ToolMatcher.all())
                .slidingWindowSize(4).minimumNumberOfCalls(4).failureRateThreshold(50)
                .waitInOpenState(Duration.ofSeconds(30)).permittedCallsInHalfOpenState(2);
    }

    static CallToolResult call(McpSyncClient client, String tool) {
        return client.callTool(new CallToolRequest(tool, Map.of("id", "o-1")));
    }

    CircuitBreaker breaker(String tool) {
        return guard.circuitBreaker(tool).orElseThrow();
    }

    @Test
    void opensAfterTheConfiguredFailuresRefusesWhileOpenAndRecoversThroughHalfOpen() {
        serve(smallBreaker());
        McpSyncClient support = server.session(SUPPORT);

        for (int i = 0; i < 4; i++) {
            assertThat(reason(call(support, "sync_inventory"))).isEqualTo("tool_error");
        }
        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.OPEN);

        CallToolResult refused = call(server.session(BILLING), "sync_inventory");
        assertThat(reason(refused)).isEqualTo("circuit_open");
        assertThat(refused.meta()).containsEntry("io.mcpguard/retryAfterMs", 30_001);
        assertThat(Tools.firstText(refused)).isEqualTo("Tool 'sync_inventory' is temporarily unavailable after "
                + "repeated failures (circuit open). Retry in 30001 ms.");
        clock.advance(Duration.ofSeconds(10));
        assertThat(call(support, "sync_inventory").meta()).containsEntry("io.mcpguard/retryAfterMs", 20_001);
        clock.advance(Duration.ofSeconds(20));
        assertThat(reason(call(support, "sync_inventory"))).as("not before the hint").isEqualTo("circuit_open");
        assertThat(breaker("sync_inventory").getMetrics().getNumberOfBufferedCalls())
                .as("refusals are not recorded as calls").isEqualTo(4);

        backendDown.set(false);
        clock.advance(Duration.ofMillis(1));
        assertThat(reason(call(support, "sync_inventory"))).isEqualTo("ok");
        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(reason(call(support, "sync_inventory"))).isEqualTo("ok");
        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.CLOSED);

        assertThat(events).filteredOn(GuardEvent.CircuitStateChanged.class::isInstance)
                .extracting(e -> ((GuardEvent.CircuitStateChanged) e).from() + "->"
                        + ((GuardEvent.CircuitStateChanged) e).to())
                .containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
        assertThat(events).filteredOn(GuardEvent.CircuitRejected.class::isInstance).hasSize(3);
    }

    @Test
    void aFailedProbeOpensTheBreakerAgain() {
        serve(smallBreaker().permittedCallsInHalfOpenState(1));
        McpSyncClient support = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            call(support, "sync_inventory");
        }
        clock.advance(Duration.ofMillis(30_001));

        assertThat(reason(call(support, "sync_inventory"))).isEqualTo("tool_error");

        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(reason(call(support, "sync_inventory"))).isEqualTo("circuit_open");
    }

    @Test
    void badArgumentsHiddenCallsAndUnknownAgentsDoNotMoveTheBreaker() {
        serve(smallBreaker());
        McpSyncClient support = server.session(SUPPORT);
        McpSyncClient stranger = server.session(null);
        McpSyncClient outOfScope = server.session(AgentIdentity.builder("intruder").scopes("none").build());

        for (int i = 0; i < 50; i++) {
            assertThat(reason(support.callTool(new CallToolRequest("sync_inventory", Map.of("id", 7)))))
                    .isEqualTo("invalid_arguments");
            assertThat(catchThrowable(() -> call(stranger, "sync_inventory"))).isInstanceOf(McpError.class);
            assertThat(catchThrowable(() -> call(outOfScope, "sync_inventory"))).isInstanceOf(McpError.class);
        }

        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker("sync_inventory").getMetrics().getNumberOfBufferedCalls()).isZero();
    }

    @Test
    void aToolsOwnErrorResultIsNotAFailure() {
        serve(smallBreaker());
        McpSyncClient support = server.session(SUPPORT);

        for (int i = 0; i < 10; i++) {
            assertThat(reason(call(support, "get_order"))).isEqualTo("tool-isError");
        }

        assertThat(breaker("get_order").getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker("get_order").getMetrics().getNumberOfFailedCalls()).isZero();
        assertThat(breaker("get_order").getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(4);
    }

    @Test
    void eachToolHasItsOwnBreaker() {
        serve(smallBreaker());
        McpSyncClient support = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            call(support, "sync_inventory");
        }

        assertThat(reason(call(support, "sync_inventory"))).isEqualTo("circuit_open");
        assertThat(reason(call(support, "get_order"))).isEqualTo("tool-isError");
    }

    @Test
    void aCallRefusedByTheBreakerGivesItsConcurrencySlotBack() {
        guard = McpGuard.builder()
                .policy(Policy.builder().scope("orders", ToolMatcher.all())
                        .concurrency(ConcurrencyRule.perAgent(1))
                        .circuitBreaker(smallBreaker()).build())
                .clock(clock).build();
        server = new GuardedInMemory(guard, List.of(flaky(), picky()));
        McpSyncClient support = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            call(support, "sync_inventory");
        }

        for (int i = 0; i < 5; i++) {
            assertThat(reason(call(support, "sync_inventory"))).isEqualTo("circuit_open");
        }
        assertThat(reason(call(support, "get_order"))).as("no slot leaked").isEqualTo("tool-isError");
    }

    static CallToolResult bad(McpSyncClient client) {
        return client.callTool(new CallToolRequest("sync_inventory", Map.of("id", "o-bad")));
    }

    @Test
    void oneAgentsFailingCallsOpenOnlyItsOwnBreaker() {
        backendDown.set(false);
        serve(smallBreaker());
        McpSyncClient attacker = server.session(SUPPORT);
        McpSyncClient other = server.session(BILLING);

        for (int i = 0; i < 4; i++) {
            assertThat(reason(bad(attacker))).isEqualTo("tool_error");
        }
        CallToolResult refused = bad(attacker);
        assertThat(reason(refused)).isEqualTo("agent_circuit_open");
        assertThat(refused.meta()).containsEntry("io.mcpguard/retryAfterMs", 30_001);
        assertThat(Tools.firstText(refused)).contains("closed to you", "other agents are served");
        assertThat(reason(call(attacker, "sync_inventory"))).as("even its good calls wait out its breaker")
                .isEqualTo("agent_circuit_open");

        for (int i = 0; i < 10; i++) {
            assertThat(reason(call(other, "sync_inventory"))).as("another agent is served").isEqualTo("ok");
        }
        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker("sync_inventory").getMetrics().getNumberOfFailedCalls()).isZero();
        assertThat(events).filteredOn(GuardEvent.CircuitStateChanged.class::isInstance)
                .extracting(e -> ((GuardEvent.CircuitStateChanged) e).agentId() + " "
                        + ((GuardEvent.CircuitStateChanged) e).to()).containsExactly("support-bot OPEN");

        clock.advance(Duration.ofMillis(30_001));
        assertThat(reason(call(attacker, "sync_inventory"))).as("after its wait").isEqualTo("ok");
    }

    @Test
    void failuresFromSeveralAgentsOpenTheToolForEveryone() {
        backendDown.set(false);
        serve(smallBreaker().minFailingAgents(3, Duration.ofMinutes(1)));
        McpSyncClient[] agents = new McpSyncClient[3];
        for (int a = 0; a < 3; a++) {
            agents[a] = server.session(AgentIdentity.builder("agent-" + a).scopes("orders").build());
        }
        for (int round = 0; round < 2; round++) {
            for (McpSyncClient agent : agents) {
                bad(agent);
            }
        }
        assertThat(breaker("sync_inventory").getState()).as("three agents failing: the tool is the problem")
                .isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(reason(call(server.session(BILLING), "sync_inventory"))).isEqualTo("circuit_open");
    }

    @Test
    void infrastructureFaultsCountForTheWholeToolWhoeverCausedThem() {
        serve(smallBreaker());
        McpSyncClient support = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            call(support, "sync_inventory");
        }
        assertThat(breaker("sync_inventory").getState()).isEqualTo(CircuitBreaker.State.OPEN);

        guard.close();
        server.close();
        serve(smallBreaker().infrastructureFaults());
        support = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            call(support, "sync_inventory");
        }
        assertThat(breaker("sync_inventory").getState()).as("with no infrastructure faults declared")
                .isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(reason(call(server.session(BILLING), "get_order"))).isEqualTo("tool-isError");
    }

    @Test
    void errorResultsCountWhereTheRuleSaysSo() {
        serve(smallBreaker().counting(BreakerRule.Failure.ERROR_RESULT));
        McpSyncClient support = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            assertThat(reason(call(support, "get_order"))).isEqualTo("tool-isError");
        }
        assertThat(reason(call(support, "get_order"))).isEqualTo("agent_circuit_open");
        assertThat(reason(call(server.session(BILLING), "get_order"))).isEqualTo("tool-isError");

        backendDown.set(false);
        for (int i = 0; i < 4; i++) {
            assertThat(reason(bad(server.session(BILLING)))).isEqualTo("tool_error");
        }
        assertThat(reason(call(server.session(BILLING), "sync_inventory")))
                .as("exceptions no longer count: only error results").isEqualTo("ok");
    }

    @Test
    void anAgentsBreakerStateIsDroppedOnceItStopsFailing() {
        backendDown.set(false);
        serve(smallBreaker());
        McpSyncClient attacker = server.session(SUPPORT);
        for (int i = 0; i < 4; i++) {
            bad(attacker);
        }
        assertThat(guard.trackedAgentBreakers("sync_inventory")).isEqualTo(1);
        assertThat(reason(call(server.session(BILLING), "sync_inventory"))).isEqualTo("ok");
        assertThat(guard.trackedAgentBreakers("sync_inventory")).as("an agent without failures takes no state")
                .isEqualTo(1);

        clock.advance(Duration.ofSeconds(59));
        guard.sweep();
        assertThat(guard.trackedAgentBreakers("sync_inventory")).as("still within the window").isEqualTo(1);
        clock.advance(Duration.ofSeconds(2));
        guard.sweep();
        assertThat(guard.trackedAgentBreakers("sync_inventory")).isZero();
    }

    @Test
    void breakerRulesCheckTheirArguments() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BreakerRule.forTools(ToolMatcher.all())
                .minFailingAgents(0, Duration.ofMinutes(1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minFailingAgents");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BreakerRule.forTools(ToolMatcher.all()).counting())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one kind");
        var rule = BreakerRule.forTools(ToolMatcher.all());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rule.failureRateThreshold(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(0, 100]");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rule.slidingWindowSize(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slidingWindowSize");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rule.waitInOpenState(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("waitInOpenState");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rule.permittedCallsInHalfOpenState(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("permittedCallsInHalfOpenState");
    }
}
