package io.mcpguard.quota;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.MutableClock;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Rate quotas through a real guarded SDK server, with an injected clock. */
class QuotaTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders").build();
    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("orders").build();
    static final List<String> TOOLS = List.of("get_order", "list_orders", "issue_refund");

    final MutableClock clock = MutableClock.start();
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    McpGuard guard;
    GuardedInMemory server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    GuardedInMemory serve(Policy.Builder policy) {
        guard = McpGuard.builder().policy(policy.scope("orders", ToolMatcher.all()).build())
                .clock(clock).eventListener(events::add).stateSweepInterval(null).build();
        server = new GuardedInMemory(guard, TOOLS.stream().map(Tools::echo).toList());
        return server;
    }

    static CallToolResult call(McpSyncClient client, String tool) {
        return client.callTool(new CallToolRequest(tool, Map.of("id", "o-1")));
    }

    @Test
    void exactlyTheQuotaPassesWhen32ThreadsRace1000CallsAcross4Sessions() throws Exception {
        serve(Policy.builder().quota(QuotaRule.perAgentAndTool(100, Duration.ofMinutes(1))));
        List<McpSyncClient> sessions = List.of(server.session(SUPPORT), server.session(SUPPORT),
                server.session(SUPPORT), server.session(SUPPORT));
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(32);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 32; t++) {
                int thread = t;
                done.add(threads.submit(() -> {
                    while (next.getAndIncrement() < 1000) {
                        CallToolResult result = call(sessions.get(thread % 4), "get_order");
                        outcomes.computeIfAbsent(reason(result), k -> new AtomicInteger()).incrementAndGet();
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }

        assertThat(outcomes.get("ok")).hasValue(100);
        assertThat(outcomes.get("quota_exceeded")).hasValue(900);
        assertThat(outcomes).containsOnlyKeys("ok", "quota_exceeded");
    }

    @Test
    void manyAgentsAtOnceEachGetExactlyTheirOwnQuota() throws Exception {
        serve(Policy.builder().quota(QuotaRule.perAgentAndTool(3, Duration.ofMinutes(1))));
        int agents = 20;
        Map<String, AtomicInteger> okByAgent = new ConcurrentHashMap<>();
        ExecutorService threads = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int a = 0; a < agents; a++) {
                AgentIdentity agent = AgentIdentity.builder("agent-" + a).scopes("orders").build();
                McpSyncClient client = server.session(agent);
                for (int i = 0; i < 10; i++) {
                    done.add(threads.submit(() -> {
                        if ("ok".equals(reason(call(client, "get_order")))) {
                            okByAgent.computeIfAbsent(agent.agentId(), k -> new AtomicInteger()).incrementAndGet();
                        }
                    }));
                }
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }

        assertThat(okByAgent).hasSize(agents).allSatisfy((agent, ok) -> assertThat(ok).hasValue(3));
    }

    @Test
    void refusalSaysWhenToRetryAndTheClockNotANewSessionRefillsIt() {
        serve(Policy.builder().quota(QuotaRule.perAgentAndTool(3, Duration.ofMinutes(1))));
        McpSyncClient first = server.session(SUPPORT);
        for (int i = 0; i < 3; i++) {
            assertThat(reason(call(first, "get_order"))).isEqualTo("ok");
        }

        CallToolResult refused = call(first, "get_order");
        assertThat(reason(refused)).isEqualTo("quota_exceeded");
        assertThat(refused.meta()).containsEntry("io.mcpguard/retryAfterMs", 20_000);
        assertThat(Tools.firstText(refused)).isEqualTo("Quota exceeded for tool 'get_order': at most 3 calls per "
                + "1 minute for each agent on this tool. Retry in 20 seconds.");

        McpSyncClient reconnected = server.session(SUPPORT);
        assertThat(reason(call(reconnected, "get_order"))).isEqualTo("quota_exceeded");

        clock.advance(Duration.ofSeconds(19));
        assertThat(call(reconnected, "get_order").meta()).containsEntry("io.mcpguard/retryAfterMs", 1_000);
        clock.advance(Duration.ofSeconds(1));
        assertThat(reason(call(reconnected, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(reconnected, "get_order"))).isEqualTo("quota_exceeded");
    }

    @Test
    void eachAgentAndEachToolHasItsOwnBucket() {
        serve(Policy.builder().quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1))));
        McpSyncClient support = server.session(SUPPORT);
        McpSyncClient billing = server.session(BILLING);

        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(support, "get_order"))).isEqualTo("quota_exceeded");
        assertThat(reason(call(support, "list_orders"))).isEqualTo("ok");
        assertThat(reason(call(billing, "get_order"))).isEqualTo("ok");
    }

    @Test
    void perAgentQuotaCountsAllToolsTogether() {
        serve(Policy.builder().quota(QuotaRule.perAgent(2, Duration.ofMinutes(1))));
        McpSyncClient support = server.session(SUPPORT);

        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(support, "list_orders"))).isEqualTo("ok");
        assertThat(reason(call(support, "issue_refund"))).isEqualTo("quota_exceeded");
        assertThat(reason(call(server.session(BILLING), "issue_refund"))).isEqualTo("ok");
    }

    @Test
    void perToolQuotaIsSharedByAllAgents() {
        serve(Policy.builder().quota(QuotaRule.perTool(2, Duration.ofMinutes(1))
                .forTools(ToolMatcher.names("issue_refund"))));

        assertThat(reason(call(server.session(SUPPORT), "issue_refund"))).isEqualTo("ok");
        assertThat(reason(call(server.session(BILLING), "issue_refund"))).isEqualTo("ok");
        assertThat(reason(call(server.session(BILLING), "issue_refund"))).isEqualTo("quota_exceeded");
        assertThat(reason(call(server.session(BILLING), "get_order"))).isEqualTo("ok");
    }

    @Test
    void irreversibleToolsCanHaveLowerLimitsAndEveryMatchingRuleApplies() {
        serve(Policy.builder()
                .quota(QuotaRule.perAgentAndTool(10, Duration.ofMinutes(1)))
                .quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1)).forTools(ToolMatcher.names("issue_refund"))));
        McpSyncClient support = server.session(SUPPORT);

        assertThat(reason(call(support, "issue_refund"))).isEqualTo("ok");
        assertThat(reason(call(support, "issue_refund"))).isEqualTo("quota_exceeded");
        for (int i = 0; i < 10; i++) {
            assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        }
        assertThat(reason(call(support, "get_order"))).isEqualTo("quota_exceeded");
    }

    @Test
    void aCallRefusedByOneRuleIsNotChargedToTheOthers() {
        serve(Policy.builder()
                .quota(QuotaRule.perAgent(3, Duration.ofMinutes(1)))
                .quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1)).forTools(ToolMatcher.names("issue_refund"))));
        McpSyncClient support = server.session(SUPPORT);

        assertThat(reason(call(support, "issue_refund"))).isEqualTo("ok");
        for (int i = 0; i < 5; i++) {
            assertThat(reason(call(support, "issue_refund"))).isEqualTo("quota_exceeded");
        }
        // The five refused refunds were given back to the per-agent bucket: two calls remain.
        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(support, "get_order"))).isEqualTo("quota_exceeded");
    }

    @Test
    void deniedCallersCannotDrainAnyoneElsesWindow() {
        serve(Policy.builder().quota(QuotaRule.perTool(2, Duration.ofMinutes(1))));
        McpSyncClient stranger = server.session(null);
        McpSyncClient support = server.session(SUPPORT);

        for (int i = 0; i < 20; i++) {
            assertThat(catchThrowable(() -> call(stranger, "get_order"))).isInstanceOf(McpError.class);
            assertThat(reason(support.callTool(new CallToolRequest("get_order", Map.of("id", 42)))))
                    .isEqualTo("invalid_arguments");
        }

        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
    }

    @Test
    void quotaRefusalsArePublishedAsEvents() {
        serve(Policy.builder().quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1))));
        McpSyncClient support = server.session(SUPPORT);
        call(support, "get_order");
        call(support, "get_order");

        assertThat(events).singleElement().isInstanceOfSatisfying(GuardEvent.QuotaExceeded.class, e -> {
            assertThat(e.agentId()).isEqualTo("support-bot");
            assertThat(e.tool()).isEqualTo("get_order");
            assertThat(e.retryAfter()).isEqualTo(Duration.ofMinutes(1));
            assertThat(e.at()).isEqualTo(clock.instant());
        });
    }

    @Test
    void aListenerThatThrowsChangesNothing() {
        McpGuard guard = McpGuard.builder()
                .policy(Policy.builder().scope("orders", ToolMatcher.all())
                        .quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1))).build())
                .clock(clock).eventListener(event -> {
                    throw new IllegalStateException("listener down");
                }).build();
        server = new GuardedInMemory(guard, List.of(Tools.echo("get_order")));
        McpSyncClient support = server.session(SUPPORT);

        assertThat(reason(call(support, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(support, "get_order"))).isEqualTo("quota_exceeded");
    }

    @Test
    void idleStateIsDroppedAndDroppingItChangesNothing() {
        serve(Policy.builder()
                .quota(QuotaRule.perAgentAndTool(2, Duration.ofMinutes(1)))
                .quota(QuotaRule.perAgent(100, Duration.ofMinutes(1))));
        McpSyncClient support = server.session(SUPPORT);
        McpSyncClient billing = server.session(BILLING);
        call(support, "get_order");
        call(billing, "get_order");
        call(billing, "get_order");
        assertThat(guard.trackedLimitEntries()).isEqualTo(4);

        assertThat(guard.sweep()).as("nothing is idle yet").isZero();
        clock.advance(Duration.ofSeconds(30));
        // Full again: support's pair bucket (1 of 2 used, 30 s per call) and both per-agent buckets (0.6 s per call).
        assertThat(guard.sweep()).isEqualTo(3);
        clock.advance(Duration.ofSeconds(30));
        assertThat(guard.sweep()).as("billing's pair bucket, both calls used, refills after 60 s").isEqualTo(1);
        assertThat(guard.trackedLimitEntries()).isZero();

        assertThat(reason(call(billing, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(billing, "get_order"))).isEqualTo("ok");
        assertThat(reason(call(billing, "get_order"))).isEqualTo("quota_exceeded");
    }

    @Test
    void rulesCheckTheirArgumentsWhenBuilt() {
        assertThatThrownBy(() -> QuotaRule.perAgent(0, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1, got 0");
        assertThatThrownBy(() -> QuotaRule.perAgent(5, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("between 1 ms and 366 days");
        assertThatThrownBy(() -> ConcurrencyRule.perTool(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> ConcurrencyRule.perTool(1).retryAfter(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }

    @Test
    void limitsEnterTheFingerprint() {
        Policy base = Policy.builder().scope("orders", ToolMatcher.all()).build();
        Policy limited = Policy.builder().scope("orders", ToolMatcher.all())
                .quota(QuotaRule.perAgentAndTool(5, Duration.ofMinutes(1)).forTools(ToolMatcher.names("issue_refund")))
                .build();

        assertThat(limited.fingerprint()).isNotEqualTo(base.fingerprint());
        assertThat(limited.canonicalForm()).contains("quota agent+tool 5/PT1M tools=names(issue_refund)");
    }
}
