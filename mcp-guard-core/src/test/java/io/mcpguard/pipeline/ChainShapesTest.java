package io.mcpguard.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.ResultMeta;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Shape;
import io.mcpguard.testing.ShapedServer;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every step of the pipeline through each of the SDK's four server shapes (sync, async, stateless sync, stateless
 * async), with real SDK servers and clients: the same behaviour whichever executor runs it.
 */
class ChainShapesTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders").build();
    static final AgentIdentity BILLING = AgentIdentity.builder("billing-agent").scopes("orders", "refunds").build();

    final AtomicInteger refunds = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger counted = new AtomicInteger();
    ShapedServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static Policy.Builder policy() {
        return Policy.builder()
                .scope("orders", ToolMatcher.names("get_order", "failing", "slow", "counted"),
                        ResourceMatcher.templates("orders://{id}"), PromptMatcher.names("summarize"))
                .scope("refunds", ToolMatcher.names("issue_refund"), ResourceMatcher.uris("payroll://summary"),
                        PromptMatcher.names("runbook"));
    }

    Served served() {
        McpSchema.Tool refund = Reversibility.IRREVERSIBLE.annotate(McpSchema.Tool.builder().name("issue_refund")
                .inputSchema(Map.of("type", "object", "properties", Map.of("amount", Map.of("type", "number")),
                        "required", List.of("amount"))).build());
        return Served.of().echo("get_order")
                .tool(Tools.tool("counted"), request -> Tools.text("run " + counted.incrementAndGet()))
                .tool(refund, request -> {
                    refunds.incrementAndGet();
                    return Tools.text("refunded " + request.arguments().get("amount"));
                })
                .tool(Tools.tool("failing"), request -> {
                    failures.incrementAndGet();
                    throw new IllegalStateException("jdbc:postgresql://db.internal/orders?password=hunter2");
                })
                .tool(Tools.tool("slow"), request -> {
                    try {
                        Thread.sleep(5_000); // a handler that hangs; the guard's timeout, not this, ends the test
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return Tools.text("late");
                })
                .resource("payroll://summary", "salaries").template("orders://{id}")
                .prompt("summarize", "orderId").prompt("runbook", "service")
                .promptCompletion("runbook", "restart").promptCompletion("summarize", "o-1");
    }

    McpSyncClient as(Shape shape, AgentIdentity agent, Policy policy) {
        return as(shape, agent, policy, b -> { });
    }

    McpSyncClient as(Shape shape, AgentIdentity agent, Policy policy, Consumer<McpGuard.Builder> settings) {
        if (server == null) {
            McpGuard.Builder guard = McpGuard.builder().policy(policy).stateSweepInterval(null);
            settings.accept(guard);
            server = ShapedServer.start(shape, guard.build(), served());
        }
        return server.session(agent);
    }

    static String reason(CallToolResult result) {
        if (!Boolean.TRUE.equals(result.isError())) {
            return "ok";
        }
        return String.valueOf(result.meta().get(ResultMeta.REASON));
    }

    static String wire(McpError error) throws Exception {
        return McpJsonDefaults.getMapper().writeValueAsString(error.getJsonRpcError());
    }

    static CallToolRequest call(String tool, Map<String, Object> arguments) {
        return new CallToolRequest(tool, arguments);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void toolListsShowOnlyWhatTheCallersGrantsSelect(Shape shape) {
        // Resource and prompt lists have no per-caller hook in the SDK: the transport gate answers them (HTTP
        // tests); on stdio the guard registers only what the one caller may see (StdioRegistrationTest).
        McpSyncClient support = as(shape, SUPPORT, policy().build());
        McpSyncClient billing = server.session(BILLING);

        assertThat(support.listTools().tools()).extracting(McpSchema.Tool::name)
                .containsExactlyInAnyOrder("get_order", "failing", "slow", "counted");
        assertThat(billing.listTools().tools()).extracting(McpSchema.Tool::name)
                .containsExactlyInAnyOrder("get_order", "failing", "slow", "counted", "issue_refund");
        assertThat(server.session(null).listTools().tools()).as("an unknown caller sees nothing").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void aHiddenToolAnswersExactlyAsAMissingOneWhateverItsArguments(Shape shape) throws Exception {
        McpSyncClient support = as(shape, SUPPORT, policy().build());

        McpError hidden = catchThrowableOfType(McpError.class,
                () -> support.callTool(call("issue_refund", Map.of("amount", "not a number"))));
        McpError expected = NotFound.tool("issue_refund");

        assertThat(wire(hidden)).isEqualTo(wire(expected));
        assertThat(refunds).hasValue(0);
        assertThat(catchThrowableOfType(McpError.class, () -> server.session(null)
                .callTool(call("get_order", Map.of("id", "o-1"))))).as("unknown caller").isNotNull();
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void hiddenResourcesPromptsAndCompletionsAnswerAsMissingOnes(Shape shape) throws Exception {
        McpSyncClient support = as(shape, SUPPORT, policy().build());
        McpSyncClient billing = server.session(BILLING);

        assertThat(wire(catchThrowableOfType(McpError.class, () -> support.readResource(
                new McpSchema.ReadResourceRequest("payroll://summary"))))).isEqualTo(wire(
                        NotFound.resource("payroll://summary")));
        assertThat(wire(catchThrowableOfType(McpError.class, () -> support.getPrompt(
                new McpSchema.GetPromptRequest("runbook", Map.of()))))).isEqualTo(wire(NotFound.prompt("runbook")));
        assertThat(wire(catchThrowableOfType(McpError.class, () -> support.completeCompletion(
                new McpSchema.CompleteRequest(new McpSchema.PromptReference("runbook"),
                        new McpSchema.CompleteRequest.CompleteArgument("service", "r"))))))
                .isEqualTo(wire(NotFound.completionPrompt("runbook")));

        assertThat(billing.readResource(new McpSchema.ReadResourceRequest("payroll://summary")).contents())
                .hasSize(1);
        assertThat(support.readResource(new McpSchema.ReadResourceRequest("orders://o-3")).contents()).hasSize(1);
        assertThat(support.getPrompt(new McpSchema.GetPromptRequest("summarize", Map.of("orderId", "o-1")))
                .messages()).hasSize(1);
        assertThat(support.completeCompletion(new McpSchema.CompleteRequest(new McpSchema.PromptReference(
                "summarize"), new McpSchema.CompleteRequest.CompleteArgument("orderId", "o"))).completion().values())
                .containsExactly("o-1");
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void argumentsAreValidatedAfterTheScopeCheck(Shape shape) {
        McpSyncClient billing = as(shape, BILLING, policy().approval(ApprovalRule.never(
                ToolMatcher.names("issue_refund"))).build());

        CallToolResult invalid = billing.callTool(call("issue_refund", Map.of("amount", "ten")));

        assertThat(reason(invalid)).isEqualTo("invalid_arguments");
        assertThat(refunds).hasValue(0);
        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 10))))).isEqualTo("ok");
        assertThat(refunds).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void quotasHoldForToolsAndForTheResourcesTheySelect(Shape shape) {
        McpSyncClient support = as(shape, SUPPORT, policy()
                .quota(QuotaRule.perAgentAndTool(2, Duration.ofHours(1)))
                .quota(QuotaRule.perAgent(1, Duration.ofHours(1)).forTools(ToolMatcher.names("none"))
                        .forResources(ResourceMatcher.all()))
                .build());

        assertThat(reason(support.callTool(call("get_order", Map.of("id", "a"))))).isEqualTo("ok");
        assertThat(reason(support.callTool(call("get_order", Map.of("id", "b"))))).isEqualTo("ok");
        CallToolResult third = support.callTool(call("get_order", Map.of("id", "c")));
        assertThat(reason(third)).isEqualTo("quota_exceeded");
        assertThat(((McpSchema.TextContent) third.content().get(0)).text())
                .contains("at most 2 calls per 1 hour for each agent on this tool");
        assertThat(third.meta()).containsKey(ResultMeta.RETRY_AFTER_MS);

        support.readResource(new McpSchema.ReadResourceRequest("orders://1"));
        McpError refused = catchThrowableOfType(McpError.class,
                () -> support.readResource(new McpSchema.ReadResourceRequest("orders://2")));
        assertThat(refused.getJsonRpcError().code()).isEqualTo(-32000);
        assertThat(refused.getJsonRpcError().message()).contains("Quota exceeded for resource 'orders://{id}'");
        assertThat(String.valueOf(refused.getJsonRpcError().data())).contains(ResultMeta.REASON + "=quota_exceeded");
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void aFailingToolIsSanitizedCountedAndTripsItsBreaker(Shape shape) {
        McpSyncClient support = as(shape, SUPPORT, policy().circuitBreaker(BreakerRule.forTools(
                ToolMatcher.names("failing")).slidingWindowSize(2).minimumNumberOfCalls(2)).build());

        CallToolResult first = support.callTool(call("failing", Map.of("id", "x")));
        support.callTool(call("failing", Map.of("id", "x")));
        CallToolResult third = support.callTool(call("failing", Map.of("id", "x")));

        assertThat(reason(first)).isEqualTo("tool_error");
        assertThat(((McpSchema.TextContent) first.content().get(0)).text()).doesNotContain("hunter2", "jdbc")
                .contains("reference E-");
        assertThat(reason(third)).as("its own breaker: one agent cannot open the tool for others")
                .isEqualTo("agent_circuit_open");
        assertThat(failures).as("the open breaker kept the third call from the tool").hasValue(2);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void aCallPastItsTimeoutIsRefusedAndCountedAsAFailure(Shape shape) {
        McpSyncClient support = as(shape, SUPPORT, policy().timeout(Duration.ofMillis(200),
                ToolMatcher.names("slow")).build());

        CallToolResult result = support.callTool(call("slow", Map.of("id", "x")));

        assertThat(reason(result)).isEqualTo("timeout");
        assertThat(((McpSchema.TextContent) result.content().get(0)).text())
                .isEqualTo("Tool 'slow' did not finish within 200 ms and was cancelled.");
        assertThat(server.guard().circuitBreaker("slow")).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void aDeferredApprovalRunsTheIdenticalCallOnceAndOnlyThat(Shape shape) {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = as(shape, BILLING, policy().build(),
                b -> b.approvals(queue).approvalMode(ApprovalMode.DEFER));

        CallToolResult pending = billing.callTool(call("issue_refund", Map.of("amount", 250)));
        assertThat(reason(pending)).isEqualTo("approval_pending");
        String id = String.valueOf(pending.meta().get(ResultMeta.APPROVAL_ID));
        assertThat(queue.approve(id, "alice", "checked")).isEqualTo(ApprovalQueue.Answer.DECIDED);

        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 9999))))).as("other arguments")
                .isEqualTo("approval_pending");
        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 250))))).isEqualTo("ok");
        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 250))))).as("used once")
                .isEqualTo("approval_pending");
        assertThat(refunds).hasValue(1);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void withoutAGateTheWaitingModeDefersSoNoCallWaitsWhereNoOneSeesItsClientLeave(Shape shape) throws Exception {
        ApprovalQueue queue = ApprovalQueue.create();
        McpSyncClient billing = as(shape, BILLING, policy().approval(ApprovalRule.forTools(
                ToolMatcher.names("issue_refund")).when(ArgumentCondition.numberAbove("amount", 100))).build(),
                b -> b.approvals(queue).approvalMode(ApprovalMode.WAIT));

        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 20))))).as("under the threshold")
                .isEqualTo("ok");
        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 200))))).as("answered at once")
                .isEqualTo("approval_pending");
        queue.approve(queue.pending().get(0).id(), "alice", "ok");
        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 200))))).isEqualTo("ok");

        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 300)))))
                .isEqualTo("approval_pending");
        queue.deny(queue.pending().get(0).id(), "alice", "no");
        assertThat(reason(billing.callTool(call("issue_refund", Map.of("amount", 300)))))
                .isEqualTo("approval_denied");
        assertThat(refunds).hasValue(2);
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void everyCallIsAuditedBeforeItRunsAndAfterItEnds(Shape shape) throws Exception {
        BlockingQueue<AuditRecord> records = new LinkedBlockingQueue<>();
        McpSyncClient support = as(shape, SUPPORT, policy().build(), b -> b.audit(records::add));

        support.callTool(call("get_order", Map.of("id", "o-1")));
        support.readResource(new McpSchema.ReadResourceRequest("orders://o-2"));

        List<Map<String, Object>> fields = List.of(records.poll(10, TimeUnit.SECONDS).fields(),
                records.poll(10, TimeUnit.SECONDS).fields(), records.poll(10, TimeUnit.SECONDS).fields(),
                records.poll(10, TimeUnit.SECONDS).fields());
        assertThat(fields).extracting(f -> f.get("type") + " " + f.get("method") + " " + f.get("target") + " "
                + f.getOrDefault("decision", f.get("outcome"))).containsExactly(
                        "call.decision tools/call get_order allow", "call.outcome tools/call get_order success",
                        "call.decision resources/read orders://o-2 allow",
                        "call.outcome resources/read orders://o-2 success");
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void aFailingAuditSinkRefusesCallsUntilItWritesAgain(Shape shape) throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        AuditSink sink = record -> {
            if (broken.get()) {
                throw new java.io.IOException("disk full");
            }
        };
        McpSyncClient support = as(shape, SUPPORT, policy().build(), b -> b.audit(sink)
                .auditBuffer(McpGuard.DEFAULT_AUDIT_BUFFER, io.mcpguard.audit.AuditOverflow.FAIL_CLOSED));

        support.callTool(call("counted", Map.of("id", "o-1")));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.guard().auditCounts()[1] == 0 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // the writer thread reports the failed write
        }
        assertThat(server.guard().auditCounts()[1]).as("the failed write is counted").isPositive();

        CallToolResult refused = support.callTool(call("counted", Map.of("id", "o-2")));
        assertThat(reason(refused)).isEqualTo("audit_unavailable");
        assertThat(counted).as("the refused call never ran").hasValue(1);

        broken.set(false);
        String later = "audit_unavailable";
        for (int i = 0; i < 50 && later.equals("audit_unavailable"); i++) {
            later = reason(support.callTool(call("counted", Map.of("id", "o-3"))));
        }
        assertThat(later).as("the trail recovers once a write succeeds").isEqualTo("ok");
        assertThat(counted).hasValue(2);
    }
}
