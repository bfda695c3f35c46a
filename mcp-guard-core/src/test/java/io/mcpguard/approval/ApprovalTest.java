package io.mcpguard.approval;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The approval gate through a real guarded SDK server and real clients: out of band, bound to the action, used once,
 * never by the agent itself.
 */
class ApprovalTest {

    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("billing")
            .principals("carol@example.com").build();

    final AtomicInteger refundsRun = new AtomicInteger();
    final AtomicInteger deletesRun = new AtomicInteger();
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    final List<GuardedInMemory> servers = new ArrayList<>();
    GuardedInMemory server;

    @AfterEach
    void close() {
        servers.forEach(GuardedInMemory::close);
    }

    /** An irreversible refund tool; its schema leaves {@code amount} untyped so conditions see raw values. */
    McpServerFeatures.SyncToolSpecification refund(String description) {
        var tool = Reversibility.IRREVERSIBLE.annotate(McpSchema.Tool.builder().name("issue_refund")
                .description(description).inputSchema(Map.of("type", "object")).build());
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

    static Policy.Builder policy() {
        return Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund"))
                        .when(ArgumentCondition.numberAbove("amount", 100)));
    }

    McpSyncClient serve(Policy policy, Consumer<McpGuard.Builder> configure) {
        McpGuard.Builder builder = McpGuard.builder().policy(policy).eventListener(events::add);
        configure.accept(builder);
        server = new GuardedInMemory(builder.build(), List.of(refund("Refunds an order"), deleteCustomer(),
                Tools.echo("get_order")));
        servers.add(server);
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

    static String approvalId(CallToolResult result) {
        return (String) result.meta().get("io.mcpguard/approvalId");
    }

    List<GuardEvent.ApprovalChanged> changes() {
        List<GuardEvent.ApprovalChanged> out = new ArrayList<>();
        for (GuardEvent e : events) {
            if (e instanceof GuardEvent.ApprovalChanged c) {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void aSmallRefundRunsAloneAndALargeOneWaitsForAPersonBoundToTheExactAction() throws Exception {
        ApprovalQueue queue = ApprovalQueue.create();
        CountDownLatch asked = new CountDownLatch(1);
        queue.onRequest(request -> asked.countDown());
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));

        assertThat(reason(refund(billing, 25))).isEqualTo("ok");
        assertThat(queue.pending()).isEmpty();

        assertThat(reason(refund(billing, 250))).isEqualTo("approval_pending");
        assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
        ApprovalRequest request = queue.pending().get(0);
        assertThat(request.id()).matches("A-[0-9a-f]{32}");
        assertThat(request.agent().agentId()).isEqualTo("billing-agent");
        assertThat(request.tool()).isEqualTo("issue_refund");
        assertThat(request.canonicalArguments()).isEqualTo("{\"amount\":250,\"orderId\":\"o-1\"}");
        assertThat(request.argumentsSha256()).isEqualTo(CanonicalJson.sha256(request.canonicalArguments()));
        assertThat(request.policySha256()).isEqualTo(policy().build().fingerprint());
        assertThat(request.toolSha256()).hasSize(64);
        assertThat(request.actionDigest()).isEqualTo(io.mcpguard.approval.internal.Approvals.actionDigest(
                BILLING, "issue_refund", request.toolSha256(), Map.of("orderId", "o-1", "amount", 250),
                request.policySha256()));
        assertThat(request.reversibility()).isEqualTo(Reversibility.IRREVERSIBLE);
        assertThat(request.rule()).isEqualTo("approval tools=names(issue_refund) when amount > 100 by person");
        assertThat(request.requiredApprovers()).isEqualTo(1);
        assertThat(refundsRun).hasValue(1);

        assertThat(queue.approve(request.id(), "alice@example.com", "matches ticket 4711"))
                .isEqualTo(ApprovalQueue.Answer.DECIDED);

        assertThat(Tools.firstText(refund(billing, 250))).as("the identical retry").isEqualTo("refunded 250");
        assertThat(refundsRun).hasValue(2);
        assertThat(changes()).extracting(c -> c.state().code() + " " + c.approvers())
                .containsExactly("granted [alice@example.com]", "consumed []");
    }

    @Test
    void approvalIdsAreUnguessable() {
        Set<String> ids = new HashSet<>();
        McpSyncClient billing = serve(policy().approvalRequests(1000, Duration.ofHours(1)).build(),
                b -> b.approvals(ApprovalQueue.create()));
        for (int i = 0; i < 50; i++) {
            String id = approvalId(refund(billing, 1000 + i));
            assertThat(id).matches("A-[0-9a-f]{32}");
            ids.add(id);
        }
        assertThat(ids).hasSize(50);
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
    void irreversibleToolsNeedAPersonByDefaultAndTheDefaultHandlerDenies() {
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

        McpSyncClient again = serve(policy().approval(ApprovalRule.never(ToolMatcher.names("delete_customer")))
                .build(), b -> { });
        assertThat(reason(again.callTool(new CallToolRequest("delete_customer", Map.of("id", "c-1")))))
                .isEqualTo("ok");
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
    void aPersonsApprovalIsNeverAskedOfTheCallingClient() {
        ApprovalQueue queue = ApprovalQueue.create();
        serve(policy().build(), b -> b.approvals(queue));
        AtomicInteger elicited = new AtomicInteger();
        McpSyncClient autoAccepting = server.session(BILLING, spec -> spec
                .capabilities(McpSchema.ClientCapabilities.builder().elicitation().build())
                .elicitation(request -> {
                    elicited.incrementAndGet();
                    return new McpSchema.ElicitResult(McpSchema.ElicitResult.Action.ACCEPT, Map.of("approve", true));
                }));

        assertThat(reason(refund(autoAccepting, 250))).isEqualTo("approval_pending");
        assertThat(reason(autoAccepting.callTool(new CallToolRequest("delete_customer", Map.of("id", "c-1")))))
                .isEqualTo("approval_pending");
        assertThat(elicited).hasValue(0);
        assertThat(refundsRun).hasValue(0);
        assertThat(deletesRun).hasValue(0);
        assertThat(queue.pending()).hasSize(2);
    }

    @Test
    void anAgentCannotApproveItsOwnCallThroughTheQueueOrAHandler() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));
        String id = approvalId(refund(billing, 250));

        assertThat(queue.approve(id, "billing-agent", "me")).isEqualTo(ApprovalQueue.Answer.SELF_APPROVAL);
        assertThat(queue.approve(id, "BILLING-AGENT", "me")).isEqualTo(ApprovalQueue.Answer.SELF_APPROVAL);
        assertThat(queue.approve(id, "carol@example.com", "my agent")).as("the agent's principal")
                .isEqualTo(ApprovalQueue.Answer.SELF_APPROVAL);
        assertThat(reason(refund(billing, 250))).isEqualTo("approval_pending");
        assertThat(changes()).extracting(c -> c.state() + " " + c.approvers()).containsExactly(
                "ANSWER_IGNORED [billing-agent]", "ANSWER_IGNORED [BILLING-AGENT]",
                "ANSWER_IGNORED [carol@example.com]");

        // A handler that reports the agent as its approver is not believed either.
        McpSyncClient other = serve(policy().build(), b -> b.approvals(request -> CompletableFuture.completedFuture(
                ApprovalDecision.approve("billing-agent", "looks fine to me"))));
        CallToolResult selfApproved = refund(other, 250);
        assertThat(reason(selfApproved)).isEqualTo("approval_denied");
        assertThat(Tools.firstText(selfApproved)).contains("self-approval refused");
        assertThat(refundsRun).hasValue(0);
    }

    @Test
    void fourEyesNeedTwoDistinctApprovers() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund")).approvers(2)).build(),
                b -> b.approvals(queue));
        String id = approvalId(refund(billing, 5000));
        assertThat(queue.get(id)).get().extracting(ApprovalRequest::requiredApprovers).isEqualTo(2);

        assertThat(queue.approve(id, "alice", "ok")).isEqualTo(ApprovalQueue.Answer.COUNTED);
        assertThat(queue.approve(id, "ALICE", "ok again")).isEqualTo(ApprovalQueue.Answer.ALREADY_COUNTED);
        assertThat(reason(refund(billing, 5000))).isEqualTo("approval_pending");
        assertThat(queue.approve(id, "bob", "ok")).isEqualTo(ApprovalQueue.Answer.DECIDED);

        assertThat(reason(refund(billing, 5000))).isEqualTo("ok");
        assertThat(changes()).filteredOn(c -> c.state() == ApprovalState.GRANTED).singleElement()
                .extracting(GuardEvent.ApprovalChanged::approvers).isEqualTo(List.of("alice", "bob"));

        // A handler claiming one approver for a four-eyes rule is not enough.
        McpSyncClient single = serve(Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund")).approvers(2)).build(),
                b -> b.approvals(request -> CompletableFuture.completedFuture(
                        ApprovalDecision.approve(List.of("alice", "Alice"), "twice"))));
        assertThat(Tools.firstText(refund(single, 5000))).contains("needs 2 distinct approvers, got 1");
        assertThat(refundsRun).hasValue(1);
    }

    @Test
    void deferredApprovalIsBoundToTheExactArgumentsAndUsedOnce() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));

        CallToolResult pending = refund(billing, 250);
        assertThat(reason(pending)).isEqualTo("approval_pending");
        assertThat(pending.meta()).containsEntry("io.mcpguard/retryAfterMs", 10_000);
        String approvalId = approvalId(pending);
        assertThat(reason(refund(billing, 250))).as("asking again does not ask twice").isEqualTo("approval_pending");
        assertThat(queue.pending()).singleElement().extracting(ApprovalRequest::id).isEqualTo(approvalId);

        queue.approve(approvalId, "alice", "ok");

        CallToolResult tampered = refund(billing, 251);
        assertThat(reason(tampered)).isEqualTo("approval_pending");
        assertThat(approvalId(tampered)).isNotEqualTo(approvalId);
        // The identical call from another session, keys in another order and the amount written differently.
        Map<String, Object> reordered = new LinkedHashMap<>();
        reordered.put("amount", 250.0);
        reordered.put("orderId", "o-1");
        McpSyncClient otherSession = server.session(BILLING);
        assertThat(reason(otherSession.callTool(new CallToolRequest("issue_refund", reordered)))).isEqualTo("ok");
        assertThat(reason(refund(billing, 250))).as("an approval is used once").isEqualTo("approval_pending");
        assertThat(refundsRun).hasValue(1);
    }

    @Test
    void anotherAgentsIdenticalCallDoesNotUseTheApproval() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));
        String id = approvalId(refund(billing, 250));
        queue.approve(id, "alice", "ok");

        McpSyncClient twin = server.session(AgentIdentity.builder("billing-agent-2").scopes("billing").build());
        CallToolResult result = refund(twin, 250);
        assertThat(reason(result)).isEqualTo("approval_pending");
        assertThat(approvalId(result)).isNotEqualTo(id);
        assertThat(refundsRun).hasValue(0);
    }

    @Test
    void aRedefinedToolVoidsAGrantedApproval() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpGuard guard = McpGuard.builder().policy(policy().build()).approvals(queue).eventListener(events::add)
                .build();
        server = new GuardedInMemory(guard, List.of(refund("Refunds an order")));
        servers.add(server);
        McpSyncClient billing = server.session(BILLING);
        String id = approvalId(refund(billing, 250));
        queue.approve(id, "alice", "ok");

        // The server replaces the tool: same name, new definition (a description the approver never saw).
        server.server().removeTool("issue_refund");
        server.server().addTool(guard.wrap(refund("Refunds an order, and closes the customer's account")));

        CallToolResult result = refund(billing, 250);
        assertThat(reason(result)).isEqualTo("approval_action_changed");
        assertThat(Tools.firstText(result)).contains("the action changed since approval " + id);
        assertThat(refundsRun).hasValue(0);
        assertThat(changes()).extracting(GuardEvent.ApprovalChanged::state)
                .containsExactly(ApprovalState.GRANTED, ApprovalState.VOIDED);
        assertThat(reason(refund(billing, 250))).as("a new approval is needed").isEqualTo("approval_pending");
    }

    @Test
    void aChangedPolicyVoidsAnApprovalGrantedUnderTheOldOneOnASharedStore() {
        ApprovalStore shared = InMemoryApprovalStore.create();
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient before = serve(policy().build(), b -> b.approvals(queue).approvalStore(shared));
        String id = approvalId(refund(before, 250));
        queue.approve(id, "alice", "ok");

        // A replica with a new policy (a wider scope) answers the retry.
        Policy changed = policy().scope("reports", ToolMatcher.names("get_order")).build();
        McpSyncClient after = serve(changed, b -> b.approvals(queue).approvalStore(shared));
        assertThat(reason(refund(after, 250))).isEqualTo("approval_action_changed");
        assertThat(refundsRun).hasValue(0);
        assertThat(shared.get(id)).get().extracting(ApprovalStore.Entry::state).isEqualTo(ApprovalState.VOIDED);
    }

    @Test
    void twoIdenticalCallsRacingOnOneApprovalRunOnce() throws Exception {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));
        String approvalId = approvalId(refund(billing, 250));
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
        McpSyncClient billing = serve(policy().build(), b -> b.approvals(queue));
        String approvalId = approvalId(refund(billing, 250));

        assertThat(queue.deny(approvalId, "bob", "refund exceeds the order"))
                .isEqualTo(ApprovalQueue.Answer.DECIDED);

        CallToolResult denied = refund(billing, 250);
        assertThat(reason(denied)).isEqualTo("approval_denied");
        assertThat(Tools.firstText(denied)).contains("refund exceeds the order", approvalId);
        assertThat(reason(refund(billing, 250))).as("still denied, not asked again").isEqualTo("approval_denied");
        assertThat(refundsRun).hasValue(0);
        assertThat(queue.approve(approvalId, "alice", "late")).isEqualTo(ApprovalQueue.Answer.NOT_PENDING);
    }

    @Test
    void agentsCannotFloodApprovers() {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = serve(policy().approvalRequests(2, Duration.ofHours(1)).build(),
                b -> b.approvals(queue).clock(io.mcpguard.testing.MutableClock.start()));

        assertThat(reason(refund(billing, 201))).isEqualTo("approval_pending");
        assertThat(reason(refund(billing, 202))).isEqualTo("approval_pending");
        CallToolResult flooded = refund(billing, 203);

        assertThat(reason(flooded)).isEqualTo("approval_rate_limited");
        assertThat(flooded.meta()).containsEntry("io.mcpguard/retryAfterMs", 1_800_000);
        assertThat(queue.pending()).hasSize(2);
    }

    @Test
    void quotasAreCheckedBeforeAnyPersonIsAsked() {
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
    void clientConfirmationIsAnExplicitWeakerOptInRefusedForIrreversibleToolsUnlessTheRiskIsNamed() {
        Policy unnamedRisk = Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund")).confirmedByClientUser()).build();
        assertThatThrownBy(() -> serve(unnamedRisk, b -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("irreversible tool 'issue_refund'")
                .hasMessageContaining("AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS");

        Policy namedRisk = Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund")).confirmedByClientUser()
                        .acceptingRisk(ClientConfirmationRisk.AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS))
                .build();
        assertThat(namedRisk.canonicalForm()).contains("by client_user accepting "
                + "AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS");
        serve(namedRisk, b -> { });
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
        assertThat(Tools.firstText(refused)).contains("client does not support elicitation");
        assertThat(refundsRun).hasValue(1);
        assertThat(changes()).filteredOn(c -> c.state() == ApprovalState.GRANTED).singleElement()
                .extracting(GuardEvent.ApprovalChanged::approvers).isEqualTo(List.of("client-user:billing-agent"));
    }

    @Test
    void ruleBuildersRefuseContradictions() {
        ApprovalRule rule = ApprovalRule.forTools(ToolMatcher.names("x"));
        assertThatThrownBy(() -> rule.approvers(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> rule.approvers(ApprovalRule.MAX_APPROVERS + 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> rule.approvers(2).confirmedByClientUser()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> rule.confirmedByClientUser().approvers(2)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> rule.acceptingRisk(ClientConfirmationRisk.AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ApprovalRule.never(ToolMatcher.names("x")).approvers(2))
                .isInstanceOf(IllegalStateException.class);
        assertThat(rule.approvers(3).canonical()).isEqualTo("approval tools=names(x) always by person x3");
        assertThat(ApprovalRule.never(ToolMatcher.names("x")).canonical()).isEqualTo("approval tools=names(x) never");
    }
}
