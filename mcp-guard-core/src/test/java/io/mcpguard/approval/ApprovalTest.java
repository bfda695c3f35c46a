package io.mcpguard.approval;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The human approval gate, through a real guarded SDK server and real clients. */
class ApprovalTest {

    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("billing").build();

    final AtomicInteger refundsRun = new AtomicInteger();
    final AtomicInteger deletesRun = new AtomicInteger();
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    GuardedInMemory server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /** An irreversible refund tool; its schema leaves {@code amount} untyped so conditions see raw values. */
    McpServerFeatures.SyncToolSpecification refund() {
        var tool = Reversibility.IRREVERSIBLE.annotate(McpSchema.Tool.builder().name("issue_refund")
                .inputSchema(Map.of("type", "object")).build());
        return new McpServerFeatures.SyncToolSpecification(tool, (exchange, request) -> {
            refundsRun.incrementAndGet();
            return Tools.text("refunded " + request.arguments().get("amount"));
        });
    }

    /** A tool with no annotations at all: irreversible by the specification's defaults. */
    McpServerFeatures.SyncToolSpecification deleteCustomer() {
        return new McpServerFeatures.SyncToolSpecification(Tools.bareTool("delete_customer"), (exchange, request) -> {
            deletesRun.incrementAndGet();
            return Tools.text("deleted");
        });
    }

    Policy.Builder policy() {
        return Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund"))
                        .when(ArgumentCondition.numberAbove("amount", 100)));
    }

    McpSyncClient serve(Policy policy, Consumer<McpGuard.Builder> configure) {
        McpGuard.Builder builder = McpGuard.builder().policy(policy).eventListener(events::add);
        configure.accept(builder);
        server = new GuardedInMemory(builder.build(), List.of(refund(), deleteCustomer(), Tools.echo("get_order")));
        return server.session(BILLING);
    }

    static CallToolResult refund(McpSyncClient client, Object amount) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("orderId", "o-1");
        if (amount != null) {
            args.put("amount", amount);
        }
        return client.callTool(new CallToolRequest("issue_refund", args));
    }

    @Test
    void aSmallRefundRunsAloneAndALargeOneWaitsForAHuman() throws Exception {
        ApprovalQueue queue = ApprovalQueue.create();
        CountDownLatch asked = new CountDownLatch(1);
        queue.onRequest(request -> asked.countDown());
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));

        assertThat(reason(refund(billing, 25))).isEqualTo("ok");
        assertThat(queue.pending()).isEmpty();

        CompletableFuture<CallToolResult> large = CompletableFuture.supplyAsync(() -> refund(billing, 250));
        assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
        ApprovalRequest request = queue.pending().get(0);
        assertThat(request.agent().agentId()).isEqualTo("billing-agent");
        assertThat(request.agent().credentialId()).isEqualTo("none");
        assertThat(request.tool()).isEqualTo("issue_refund");
        assertThat(request.canonicalArguments()).isEqualTo("{\"amount\":250,\"orderId\":\"o-1\"}");
        assertThat(request.argumentsSha256()).isEqualTo(CanonicalJson.sha256(request.canonicalArguments()));
        assertThat(request.reversibility()).isEqualTo(Reversibility.IRREVERSIBLE);
        assertThat(request.rule()).isEqualTo("approval tools=names(issue_refund) when amount > 100");
        assertThat(large).isNotDone();
        assertThat(refundsRun).hasValue(1);

        assertThat(queue.approve(request.id(), "alice@example.com", "matches ticket 4711")).isTrue();

        assertThat(Tools.firstText(large.get(10, TimeUnit.SECONDS))).isEqualTo("refunded 250");
        assertThat(refundsRun).hasValue(2);
        assertThat(events).filteredOn(GuardEvent.ApprovalResolved.class::isInstance).singleElement()
                .satisfies(e -> {
                    var resolved = (GuardEvent.ApprovalResolved) e;
                    assertThat(resolved.approved()).isTrue();
                    assertThat(resolved.approver()).isEqualTo("alice@example.com");
                });
    }

    @Test
    void theThresholdHoldsOnBothSidesAndMissingOrMistypedValuesNeedApproval() {
        List<ApprovalRequest> asked = new CopyOnWriteArrayList<>();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(request -> {
            asked.add(request);
            return CompletableFuture.completedFuture(ApprovalDecision.deny("bot", "test"));
        }));

        assertThat(reason(refund(billing, 100))).isEqualTo("ok");
        assertThat(reason(refund(billing, 100.0))).isEqualTo("ok");
        assertThat(reason(refund(billing, 100.01))).isEqualTo("approval_denied");
        assertThat(reason(refund(billing, "50"))).as("a string is not a number").isEqualTo("approval_denied");
        assertThat(reason(refund(billing, null))).as("missing").isEqualTo("approval_denied");
        assertThat(reason(refund(billing, List.of(50)))).isEqualTo("approval_denied");
        assertThat(asked).hasSize(4);
        assertThat(refundsRun).hasValue(2);
    }

    @Test
    void irreversibleToolsNeedApprovalByDefaultAndTheDefaultHandlerDenies() {
        McpSyncClient billing = serve(policy().build(), b -> { });

        CallToolResult result = billing.callTool(new CallToolRequest("delete_customer", Map.of("id", "c-1")));

        assertThat(reason(result)).isEqualTo("approval_denied");
        assertThat(Tools.firstText(result)).startsWith("Call to 'delete_customer' was not approved: no approval "
                + "handler is configured (approval A-");
        assertThat(result.meta()).containsKey("io.mcpguard/approvalId");
        assertThat(deletesRun).hasValue(0);
        assertThat(reason(billing.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")))))
                .as("read-only tools need no approval").isEqualTo("ok");
    }

    @Test
    void theDefaultForIrreversibleToolsCanBeTurnedOffAndRulesCanExemptATool() {
        McpSyncClient billing = serve(policy().irreversibleNeedsApproval(false).build(), b -> { });
        assertThat(reason(billing.callTool(new CallToolRequest("delete_customer", Map.of("id", "c-1")))))
                .isEqualTo("ok");
        server.close();

        McpSyncClient again = serve(policy().approval(ApprovalRule.never(ToolMatcher.names("delete_customer")))
                .build(), b -> { });
        assertThat(reason(again.callTool(new CallToolRequest("delete_customer", Map.of("id", "c-1")))))
                .isEqualTo("ok");
    }

    @Test
    void theApprovalTimeoutDenies() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(),
                b -> b.approvals(queue).approvalTimeout(Duration.ofMillis(100)));

        CallToolResult result = refund(billing, 500);

        assertThat(reason(result)).isEqualTo("approval_timeout");
        assertThat(Tools.firstText(result)).contains("not approved in time (no decision within 100 ms");
        assertThat(queue.pending()).as("the abandoned request leaves the queue").isEmpty();
        assertThat(refundsRun).hasValue(0);
    }

    @Test
    void aHandlerThatThrowsAnswersNullOrFailsDenies() {
        List<ApprovalHandler> broken = List.of(
                request -> {
                    throw new IllegalStateException("approval service down");
                },
                request -> null,
                request -> CompletableFuture.completedFuture(null),
                request -> CompletableFuture.failedFuture(new IllegalStateException("boom")));
        for (ApprovalHandler handler : broken) {
            McpSyncClient billing = serve(policy().build(), b -> b.approvals(handler));
            CallToolResult result = refund(billing, 500);
            assertThat(reason(result)).isEqualTo("approval_denied");
            assertThat(Tools.firstText(result)).doesNotContain("approval service down", "boom");
            server.close();
            server = null;
        }
        assertThat(refundsRun).hasValue(0);
    }

    @Test
    void nothingTheAgentSendsCanApproveACall() {
        McpSyncClient billing = serve(policy().build(), b -> { });
        Map<String, Object> args = Map.of("orderId", "o-1", "amount", 500, "approved", true, "confirm", true,
                "approvalId", "A-0000");
        Map<String, Object> meta = Map.of("io.mcpguard/approvalId", "A-0000", "approved", true);

        CallToolResult result = billing.callTool(new CallToolRequest("issue_refund", args, meta));

        assertThat(reason(result)).isEqualTo("approval_denied");
        assertThat(refundsRun).hasValue(0);
    }

    @Test
    void deferredApprovalIsBoundToTheExactArgumentsAndUsedOnce() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue).approvalMode(ApprovalMode.DEFER));

        CallToolResult pending = refund(billing, 250);
        assertThat(reason(pending)).isEqualTo("approval_pending");
        assertThat(pending.meta()).containsEntry("io.mcpguard/retryAfterMs", 10_000);
        String approvalId = (String) pending.meta().get("io.mcpguard/approvalId");
        assertThat(reason(refund(billing, 250))).as("asking again does not ask twice").isEqualTo("approval_pending");
        assertThat(queue.pending()).singleElement().extracting(ApprovalRequest::id).isEqualTo(approvalId);

        queue.approve(approvalId, "alice", "ok");

        CallToolResult tampered = refund(billing, 251);
        assertThat(reason(tampered)).isEqualTo("approval_pending");
        assertThat(tampered.meta().get("io.mcpguard/approvalId")).isNotEqualTo(approvalId);
        // The identical call, keys in another order and the amount written differently, runs once.
        Map<String, Object> reordered = new LinkedHashMap<>();
        reordered.put("amount", 250.0);
        reordered.put("orderId", "o-1");
        assertThat(reason(billing.callTool(new CallToolRequest("issue_refund", reordered)))).isEqualTo("ok");
        assertThat(reason(refund(billing, 250))).as("an approval is used once").isEqualTo("approval_pending");
        assertThat(refundsRun).hasValue(1);
    }

    @Test
    void twoIdenticalCallsRacingOnOneApprovalRunOnce() throws Exception {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue).approvalMode(ApprovalMode.DEFER));
        String approvalId = (String) refund(billing, 250).meta().get("io.mcpguard/approvalId");
        queue.approve(approvalId, "alice", "ok");
        List<McpSyncClient> sessions = List.of(billing, server.session(BILLING), server.session(BILLING));

        List<CompletableFuture<String>> racers = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            McpSyncClient client = sessions.get(i % sessions.size());
            racers.add(CompletableFuture.supplyAsync(() -> reason(refund(client, 250))));
        }
        List<String> outcomes = new ArrayList<>();
        for (var racer : racers) {
            outcomes.add(racer.get(30, TimeUnit.SECONDS));
        }

        assertThat(outcomes).filteredOn("ok"::equals).hasSize(1);
        assertThat(outcomes).filteredOn("approval_pending"::equals).hasSize(11);
        assertThat(refundsRun).hasValue(1);
    }

    @Test
    void aDeniedDeferredApprovalIsReportedOnTheRetry() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue).approvalMode(ApprovalMode.DEFER));
        String approvalId = (String) refund(billing, 250).meta().get("io.mcpguard/approvalId");

        queue.deny(approvalId, "bob", "refund exceeds the order");

        CallToolResult denied = refund(billing, 250);
        assertThat(reason(denied)).isEqualTo("approval_denied");
        assertThat(Tools.firstText(denied)).contains("refund exceeds the order", approvalId);
        assertThat(refundsRun).hasValue(0);
    }

    @Test
    void agentsCannotFloodApprovers() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().approvalRequests(2, Duration.ofHours(1)).build(),
                b -> b.approvals(queue).approvalMode(ApprovalMode.DEFER).clock(io.mcpguard.testing.MutableClock.start()));

        assertThat(reason(refund(billing, 201))).isEqualTo("approval_pending");
        assertThat(reason(refund(billing, 202))).isEqualTo("approval_pending");
        CallToolResult flooded = refund(billing, 203);

        assertThat(reason(flooded)).isEqualTo("approval_rate_limited");
        assertThat(flooded.meta()).containsEntry("io.mcpguard/retryAfterMs", 1_800_000);
        assertThat(queue.pending()).hasSize(2);
    }

    @Test
    void quotasAreCheckedBeforeAnyHumanIsAsked() {
        List<ApprovalRequest> asked = new CopyOnWriteArrayList<>();
        McpSyncClient billing = serve(policy().quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1))).build(),
                b -> b.approvals(request -> {
                    asked.add(request);
                    return CompletableFuture.completedFuture(ApprovalDecision.approve("bot", "fine"));
                }));

        assertThat(reason(refund(billing, 500))).isEqualTo("ok");
        assertThat(reason(refund(billing, 500))).isEqualTo("quota_exceeded");
        assertThat(asked).hasSize(1);
    }

    @Test
    void aDeniedCallGivesItsQuotaBack() {
        McpSyncClient billing = serve(policy().quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1))).build(),
                b -> { });

        assertThat(reason(refund(billing, 500))).isEqualTo("approval_denied");
        assertThat(reason(refund(billing, 50))).as("the denied call did not use the quota").isEqualTo("ok");
    }

    @Test
    void elicitationAsksTheHumanAtTheClientAndIsRefusedWithoutTheCapability() {
        serve(policy().build(), b -> b.approvals(ElicitationApprovalHandler.create()));
        List<String> asked = new CopyOnWriteArrayList<>();
        McpSyncClient withUser = server.session(BILLING, spec -> spec
                .capabilities(McpSchema.ClientCapabilities.builder().elicitation().build())
                .elicitation(request -> {
                    asked.add(request.message());
                    return new McpSchema.ElicitResult(McpSchema.ElicitResult.Action.ACCEPT, Map.of("approve", true));
                }));
        McpSyncClient decliningUser = server.session(BILLING, spec -> spec
                .capabilities(McpSchema.ClientCapabilities.builder().elicitation().build())
                .elicitation(request -> new McpSchema.ElicitResult(McpSchema.ElicitResult.Action.DECLINE, null)));
        McpSyncClient noCapability = server.session(BILLING);

        assertThat(reason(refund(withUser, 500))).isEqualTo("ok");
        assertThat(asked).singleElement().asString().contains("billing-agent", "issue_refund",
                "{\"amount\":500,\"orderId\":\"o-1\"}");
        assertThat(reason(refund(decliningUser, 500))).isEqualTo("approval_denied");
        CallToolResult refused = refund(noCapability, 500);
        assertThat(reason(refused)).isEqualTo("approval_denied");
        assertThat(Tools.firstText(refused)).contains("the client does not support elicitation");
        assertThat(refundsRun).hasValue(1);
    }
}
