package io.mcpguard.quota;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.MutableClock;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cumulative budgets: a threshold split across calls, sessions or tools still reaches a person, exactly under
 * contention, over a sliding window on the guard's clock.
 */
class BudgetTest {

    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("billing").build();

    final AtomicInteger ran = new AtomicInteger();
    final MutableClock clock = MutableClock.start();
    final List<GuardedInMemory> servers = new ArrayList<>();
    ApprovalQueue queue = ApprovalQueue.create();
    GuardedInMemory server;

    @AfterEach
    void close() {
        servers.forEach(GuardedInMemory::close);
    }

    McpServerFeatures.SyncToolSpecification tool(String name) {
        var tool = McpSchema.Tool.builder().name(name).inputSchema(Map.of("type", "object"))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(false).destructiveHint(false).build())
                .build();
        return new McpServerFeatures.SyncToolSpecification(tool, (exchange, request) -> {
            ran.incrementAndGet();
            return Tools.text("done");
        });
    }

    McpSyncClient serve(BudgetRule... budgets) {
        Policy.Builder policy = Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund", "issue_credit"))
                        .when(io.mcpguard.policy.ArgumentCondition.numberAbove("amount", 100)));
        for (BudgetRule budget : budgets) {
            policy.budget(budget);
        }
        McpGuard guard = McpGuard.builder().policy(policy.build()).approvals(queue).clock(clock).build();
        server = new GuardedInMemory(guard, List.of(tool("issue_refund"), tool("issue_credit")));
        servers.add(server);
        return server.session(BILLING);
    }

    static BudgetRule perAgentDaily() {
        return BudgetRule.named("refunds").sumOf("amount").forTools(ToolMatcher.names("issue_refund", "issue_credit"))
                .perAgent().atMost(250).per(Duration.ofDays(1)).thenRequireApproval();
    }

    static McpSchema.CallToolResult call(McpSyncClient client, String tool, Object amount, String order) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("orderId", order);
        if (amount != null) {
            args.put("amount", amount);
        }
        return client.callTool(new CallToolRequest(tool, args));
    }

    @Test
    void threeRefundsAtTheThresholdReachAPersonOnceTheBudgetIsSpent() {
        McpSyncClient billing = serve(perAgentDaily());

        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        var third = call(billing, "issue_refund", 100, "o-1");
        assertThat(reason(third)).isEqualTo("approval_pending");
        assertThat(queue.pending()).singleElement().satisfies(r -> assertThat(r.rule())
                .contains("budget 'refunds' (at most 250 of 'amount' per 24 hours per agent) would be exceeded"));
        assertThat(ran).hasValue(2);

        queue.approve(queue.pending().get(0).id(), "alice", "ok");
        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        assertThat(ran).hasValue(3);
        assertThat(reason(call(billing, "issue_refund", 1, "o-2"))).as("the approved overrun was charged")
                .isEqualTo("approval_pending");
    }

    @Test
    void newSessionsAndOtherToolsOfTheBudgetResetNothing() {
        McpSyncClient first = serve(perAgentDaily());
        assertThat(reason(call(first, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        McpSyncClient second = server.session(BILLING);
        assertThat(reason(call(second, "issue_credit", 100, "o-2"))).isEqualTo("ok");
        McpSyncClient third = server.session(BILLING);
        assertThat(reason(call(third, "issue_refund", 100, "o-3"))).isEqualTo("approval_pending");

        McpSyncClient otherAgent = server.session(AgentIdentity.builder("billing-agent-2").scopes("billing").build());
        assertThat(reason(call(otherAgent, "issue_refund", 100, "o-3"))).as("totals are per agent").isEqualTo("ok");
    }

    @Test
    void theWindowSlidesOnTheGuardsClock() {
        McpSyncClient billing = serve(perAgentDaily());
        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        clock.advance(Duration.ofHours(12));
        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("approval_pending");
        clock.advance(Duration.ofHours(12).plusMinutes(30));
        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).as("the first refund left the window")
                .isEqualTo("ok");
    }

    @Test
    void tenParallelRefundsUnderA250BudgetCannotAllPass() throws Exception {
        McpSyncClient billing = serve(perAgentDaily());
        List<McpSyncClient> sessions = List.of(billing, server.session(BILLING), server.session(BILLING),
                server.session(BILLING), server.session(BILLING));
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            McpSyncClient client = sessions.get(i % sessions.size());
            String order = "o-" + i;
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return reason(call(client, "issue_refund", 100, order));
            }));
        }
        go.countDown();
        List<String> outcomes = new ArrayList<>();
        for (var call : calls) {
            outcomes.add(call.get(30, TimeUnit.SECONDS));
        }
        assertThat(outcomes).filteredOn("ok"::equals).hasSize(2);
        assertThat(outcomes).filteredOn("approval_pending"::equals).hasSize(8);
        assertThat(ran).hasValue(2);
    }

    @Test
    void aRefusingBudgetKeyedByArgumentRefusesAcrossAgents() {
        McpSyncClient billing = serve(BudgetRule.named("per-order").sumOf("amount")
                .forTools(ToolMatcher.names("issue_refund")).perArgument("orderId").atMost(150)
                .per(Duration.ofDays(30)).thenRefuse());
        McpSyncClient other = server.session(AgentIdentity.builder("billing-agent-2").scopes("billing").build());

        assertThat(reason(call(billing, "issue_refund", 100, "o-1"))).isEqualTo("ok");
        var refused = call(other, "issue_refund", 60, "o-1");
        assertThat(reason(refused)).isEqualTo("budget_exceeded");
        assertThat(refused.meta()).containsEntry("io.mcpguard/rule", "per-order");
        assertThat(Tools.firstText(refused)).contains("budget 'per-order'").doesNotContain("100");
        assertThat(reason(call(other, "issue_refund", 50, "o-1"))).as("exactly at the limit").isEqualTo("ok");
        assertThat(reason(call(other, "issue_refund", 60, "o-2"))).as("another order").isEqualTo("ok");
        assertThat(queue.pending()).isEmpty();
    }

    @Test
    void anAmountThatCannotBeMeasuredAsksOrRefusesAsTheBudgetSays() {
        McpSyncClient asking = serve(perAgentDaily());
        assertThat(reason(call(asking, "issue_refund", null, "o-1"))).as("missing amount").isEqualTo("approval_pending");
        assertThat(reason(call(asking, "issue_refund", "50", "o-1"))).as("a string").isEqualTo("approval_pending");
        assertThat(reason(call(asking, "issue_refund", -500, "o-1"))).as("negative: no credit")
                .isEqualTo("approval_pending");

        McpSyncClient refusing = serve(BudgetRule.named("per-order").sumOf("amount")
                .forTools(ToolMatcher.names("issue_refund")).perArgument("orderId").atMost(150)
                .per(Duration.ofDays(30)).thenRefuse());
        assertThat(reason(call(refusing, "issue_refund", 10, null))).as("missing key").isEqualTo("budget_exceeded");
        assertThat(reason(refusing.callTool(new CallToolRequest("issue_refund",
                Map.of("orderId", List.of("o-1"), "amount", 10))))).as("a key of the wrong type")
                .isEqualTo("budget_exceeded");
        assertThat(ran).hasValue(0);
    }

    @Test
    void aCallRefusedAfterTheBudgetStepGivesItsChargeBack() {
        McpSyncClient billing = serve(perAgentDaily());
        // A refund above the threshold waits for a person: until approved, its 200 are not charged.
        var big = call(billing, "issue_refund", 200, "o-1");
        assertThat(reason(big)).isEqualTo("approval_pending");
        assertThat(reason(call(billing, "issue_refund", 100, "o-2"))).isEqualTo("ok");
        assertThat(reason(call(billing, "issue_refund", 100, "o-3"))).as("only the 100 that ran count")
                .isEqualTo("ok");
    }

    @Test
    void budgetsAreCheckedWhenBuilt() {
        assertThatThrownBy(() -> BudgetRule.named("x").forTools(ToolMatcher.all()).perAgent().atMost(1)
                .per(Duration.ofDays(1)).thenRefuse()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("sumOf");
        assertThatThrownBy(() -> BudgetRule.named("x").sumOf("a").forTools(ToolMatcher.all()).atMost(1)
                .per(Duration.ofDays(1)).thenRefuse()).hasMessageContaining("perAgent() or perArgument");
        assertThatThrownBy(() -> BudgetRule.named("bad name")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BudgetRule.named("x").atMost(new BigDecimal("-1")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BudgetRule.named("x").per(Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Policy.builder().budget(perAgentDaily()).budget(perAgentDaily()))
                .hasMessageContaining("declared twice");
        assertThat(perAgentDaily().canonical()).isEqualTo("budget refunds sum(amount) tools=names(issue_credit,"
                + "issue_refund) per agent <= 250 / PT24H approve");
    }
}
