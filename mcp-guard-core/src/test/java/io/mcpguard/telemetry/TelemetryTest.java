package io.mcpguard.telemetry;

import static io.mcpguard.testing.GuardedInMemory.reason;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.equalTo;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.satisfies;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.testing.GuardedInMemory;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Spans and metrics of a real guarded SDK server, asserted on names, kinds, parents and attributes exactly. */
class TelemetryTest {

    @RegisterExtension
    static final OpenTelemetryExtension otel = OpenTelemetryExtension.create();

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders")
            .credentialId("key-support-1").runId("run-42").build();

    GuardedInMemory server;
    McpGuard guard;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    McpSyncClient serve(Policy.Builder policy, Consumer<McpGuard.Builder> configure,
            List<McpServerFeatures.SyncToolSpecification> tools) {
        McpGuard.Builder builder = McpGuard.builder().policy(policy.build()).openTelemetry(otel.getOpenTelemetry());
        configure.accept(builder);
        guard = builder.build();
        server = new GuardedInMemory(guard, tools);
        return server.session(SUPPORT);
    }

    McpSyncClient serve(Policy.Builder policy) {
        return serve(policy, b -> { }, List.of(Tools.echo("get_order"), Tools.echo("list_orders"),
                Tools.echo("secret_tool")));
    }

    static Policy.Builder orders() {
        return Policy.builder().scope("orders", ToolMatcher.names("get_order", "list_orders", "failing",
                "issue_refund"));
    }

    SpanData onlySpan(String name) {
        return otel.getSpans().stream().filter(s -> s.getName().equals(name)).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void anAllowedCallIsAServerSpanWithTheMcpAttributesAndTheGuardsDecision() {
        McpSyncClient client = serve(orders());

        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));

        SpanData span = onlySpan("tools/call get_order");
        assertThat(span).hasKind(SpanKind.SERVER).hasNoParent().hasStatus(io.opentelemetry.sdk.trace.data.StatusData.unset())
                .hasAttributesSatisfyingExactly(
                        equalTo(AttributeKey.stringKey("mcp.method.name"), "tools/call"),
                        equalTo(AttributeKey.stringKey("gen_ai.tool.name"), "get_order"),
                        equalTo(AttributeKey.stringKey("gen_ai.operation.name"), "execute_tool"),
                        satisfies(AttributeKey.stringKey("mcp.session.id"), id -> id.isNotBlank()),
                        equalTo(AttributeKey.stringKey("gen_ai.agent.id"), "support-bot"),
                        equalTo(AttributeKey.stringKey("gen_ai.conversation.id"), "run-42"),
                        equalTo(AttributeKey.stringKey("mcp_guard.credential.id"), "key-support-1"),
                        equalTo(AttributeKey.stringKey("mcp_guard.reversibility"), "read_only"),
                        equalTo(AttributeKey.stringKey("mcp_guard.policy.fingerprint"), guard.policy().fingerprint()),
                        equalTo(AttributeKey.stringKey("mcp_guard.decision"), "allow"));
    }

    @Test
    void aHiddenToolIsTracedAsAJsonRpcErrorWithTheRealReason() {
        McpSyncClient client = serve(orders());

        assertThat(catchThrowable(() -> client.callTool(new CallToolRequest("secret_tool", Map.of("id", "x")))))
                .isInstanceOf(McpError.class);

        assertThat(onlySpan("tools/call secret_tool")).hasStatus(io.opentelemetry.sdk.trace.data.StatusData.error())
                .hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "deny")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.reason"), "out_of_scope")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.step"), "scope")
                .hasAttribute(AttributeKey.stringKey("error.type"), "-32602")
                .hasAttribute(AttributeKey.stringKey("rpc.response.status_code"), "-32602")
                .hasAttribute(AttributeKey.stringKey("gen_ai.agent.id"), "support-bot");
    }

    @Test
    void aCallToAToolThatDoesNotExistIsTracedWhenTheGateAnsweredIt() {
        serve(orders());

        guard.pipeline().recordUnanswered(io.mcpguard.pipeline.Operation.TOOL_CALL,
                io.modelcontextprotocol.common.McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY, SUPPORT)),
                null, "drop_database", Map.of("confirm", true), null, io.mcpguard.policy.Primitive.Kind.TOOL);

        assertThat(otel.getSpans()).hasSize(1);
        assertThat(onlySpan("tools/call drop_database")).hasKind(SpanKind.SERVER)
                .hasStatus(io.opentelemetry.sdk.trace.data.StatusData.error())
                .hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "deny")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.reason"), "unknown_tool")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.step"), "dispatch")
                .hasAttribute(AttributeKey.stringKey("error.type"), "-32602")
                .hasAttribute(AttributeKey.stringKey("gen_ai.agent.id"), "support-bot");
    }

    @Test
    void quotaRefusalsAndRemainingQuotaAreTraced() {
        McpSyncClient client = serve(orders().quota(QuotaRule.perAgentAndTool(2, Duration.ofMinutes(1))));

        for (int i = 0; i < 3; i++) {
            client.callTool(new CallToolRequest("get_order", Map.of("id", "o-" + i)));
        }

        List<SpanData> spans = otel.getSpans().stream().filter(s -> s.getName().equals("tools/call get_order"))
                .toList();
        assertThat(spans).hasSize(3);
        assertThat(spans.get(0)).hasAttribute(AttributeKey.longKey("mcp_guard.quota.remaining"), 1L);
        assertThat(spans.get(1)).hasAttribute(AttributeKey.longKey("mcp_guard.quota.remaining"), 0L);
        assertThat(spans.get(2)).hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "deny")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.reason"), "quota_exceeded")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.step"), "quota")
                .hasAttribute(AttributeKey.stringKey("error.type"), "tool_error");
    }

    @Test
    void toolErrorsAndOpenBreakersAreTraced() {
        var failing = new McpServerFeatures.SyncToolSpecification(Tools.tool("failing"), (e, r) -> {
            throw new IllegalStateException("down");
        });
        McpSyncClient client = serve(orders().circuitBreaker(BreakerRule.forTools(ToolMatcher.all())
                .slidingWindowSize(2).minimumNumberOfCalls(2)), b -> { }, List.of(failing));

        for (int i = 0; i < 3; i++) {
            client.callTool(new CallToolRequest("failing", Map.of("id", "x")));
        }

        List<SpanData> spans = otel.getSpans();
        assertThat(spans.get(0)).hasAttribute(AttributeKey.stringKey("mcp_guard.reason"), "tool_error")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.step"), "handler")
                .hasAttribute(AttributeKey.stringKey("error.type"), "tool_error")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "allow");
        assertThat(spans.get(0).getAttributes().get(AttributeKey.stringKey("mcp_guard.error.id"))).matches("E-[0-9a-f]{12}");
        assertThat(spans.get(2)).hasAttribute(AttributeKey.stringKey("mcp_guard.reason"), "agent_circuit_open")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.step"), "breaker")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "deny");
    }

    @Test
    void approvalsArePendingThenAllowedWithTheirIdAndWait() {
        ApprovalQueue queue = ApprovalQueue.create();
        var refund = new McpServerFeatures.SyncToolSpecification(Tools.bareTool("issue_refund"),
                (e, r) -> Tools.text("refunded"));
        McpSyncClient client = serve(orders().approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund"))),
                b -> b.approvals(queue).approvalMode(ApprovalMode.DEFER), List.of(refund));

        var pending = client.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-1")));
        String approvalId = (String) pending.meta().get("io.mcpguard/approvalId");
        queue.approve(approvalId, "alice", "ok");
        assertThat(reason(client.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-1"))))).isEqualTo("ok");

        List<SpanData> spans = otel.getSpans();
        assertThat(spans.get(0)).hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "pending")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.reason"), "approval_pending")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.approval.id"), approvalId)
                .hasAttribute(AttributeKey.stringKey("mcp_guard.reversibility"), "irreversible");
        assertThat(spans.get(1)).hasAttribute(AttributeKey.stringKey("mcp_guard.decision"), "allow")
                .hasAttribute(AttributeKey.stringKey("mcp_guard.approval.id"), approvalId);
        assertThat(queue.pending()).isEmpty();
    }

    @Test
    void aTraceparentInMetaBecomesTheParentSoOneAgentRunIsOneTrace() {
        McpSyncClient client = serve(orders());
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String parentSpanId = "00f067aa0ba902b7";
        Map<String, Object> meta = Map.of("traceparent", "00-" + traceId + "-" + parentSpanId + "-01",
                "tracestate", "vendor=x", "baggage", "tenant=acme");

        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1"), meta));
        client.callTool(new CallToolRequest("list_orders", Map.of("id", "o-1"), meta));

        assertThat(otel.getSpans()).allSatisfy(span -> assertThat(span).hasTraceId(traceId)
                .hasParentSpanId(parentSpanId));
        assertThat(onlySpan("tools/call get_order").getSpanContext().getTraceState().get("vendor")).isEqualTo("x");
    }

    @Test
    void aMalformedTraceparentIsIgnoredAndTheCallGoesOn() {
        McpSyncClient client = serve(orders());
        for (Object bad : List.of("00-xyz-abc-01", "garbage", 42, "00-00000000000000000000000000000000-0000000000000000-01")) {
            var result = client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1"),
                    Map.of("traceparent", bad)));
            assertThat(reason(result)).isEqualTo("ok");
        }

        assertThat(otel.getSpans()).hasSize(4).allSatisfy(span -> assertThat(span).hasNoParent());
    }

    @Test
    void whenBothExistTheMetaContextIsTheParentAndTheAmbientSpanIsLinked() {
        guard = McpGuard.builder().policy(orders().build()).openTelemetry(otel.getOpenTelemetry()).build();
        var stateless = guard.wrap(new McpStatelessServerFeatures.SyncToolSpecification(Tools.tool("get_order"),
                (context, request) -> Tools.text("ok")));
        var context = McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY, SUPPORT));
        Span ambient = otel.getOpenTelemetry().getTracer("test").spanBuilder("HTTP POST").startSpan();
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        try (Scope scope = ambient.makeCurrent()) {
            stateless.callHandler().apply(context, new CallToolRequest("get_order", Map.of("id", "o-1"),
                    Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")));
        } finally {
            ambient.end();
        }

        SpanData call = onlySpan("tools/call get_order");
        assertThat(call).hasTraceId(traceId).hasParentSpanId("00f067aa0ba902b7")
                .hasLinksSatisfying(links -> assertThat(links).singleElement()
                        .satisfies(link -> assertThat(link.getSpanContext().getSpanId())
                                .isEqualTo(ambient.getSpanContext().getSpanId())));
        assertThat(call.getAttributes().get(AttributeKey.stringKey("mcp.session.id"))).as("stateless").isNull();
    }

    @Test
    void aToolsListIsOneSpanWithWhatTheCallerSawAndWhatWasHidden() {
        McpSyncClient client = serve(orders());

        client.listTools();

        assertThat(onlySpan("tools/list")).hasKind(SpanKind.SERVER)
                .hasAttribute(AttributeKey.stringKey("mcp.method.name"), "tools/list")
                .hasAttribute(AttributeKey.stringKey("gen_ai.agent.id"), "support-bot")
                .hasAttribute(AttributeKey.longKey("mcp_guard.list.listed"), 2L)
                .hasAttribute(AttributeKey.longKey("mcp_guard.list.hidden"), 1L);
    }

    @Test
    void durationAndDecisionMetricsAreRecorded() {
        McpSyncClient client = serve(orders());
        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));
        catchThrowable(() -> client.callTool(new CallToolRequest("secret_tool", Map.of("id", "o-1"))));

        assertThat(otel.getMetrics()).anySatisfy(metric -> assertThat(metric)
                .hasName("mcp.server.operation.duration").hasUnit("s")
                .hasHistogramSatisfying(h -> h.hasPointsSatisfying(
                        p -> p.hasCount(1).hasBucketBoundaries(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
                                30.0, 60.0, 120.0, 300.0).hasAttributesSatisfying(a -> assertThat(a.get(
                                AttributeKey.stringKey("gen_ai.tool.name"))).isEqualTo("get_order")),
                        p -> p.hasCount(1).hasAttributesSatisfying(a -> assertThat(a.get(
                                AttributeKey.stringKey("error.type"))).isEqualTo("-32602")))));
        assertThat(otel.getMetrics()).anySatisfy(metric -> assertThat(metric).hasName("mcp_guard.decisions")
                .hasLongSumSatisfying(sum -> sum.hasPointsSatisfying(
                        p -> p.hasValue(1).hasAttributesSatisfying(a -> assertThat(a.get(
                                AttributeKey.stringKey("mcp_guard.decision"))).isEqualTo("allow")),
                        p -> p.hasValue(1).hasAttributesSatisfying(a -> assertThat(a.get(
                                AttributeKey.stringKey("mcp_guard.reason"))).isEqualTo("out_of_scope")))));
    }

    @Test
    void argumentsAndResultsAreRecordedOnlyWhenOptedInRedactedAndCapped() {
        var echoArgs = new McpServerFeatures.SyncToolSpecification(
                io.modelcontextprotocol.spec.McpSchema.Tool.builder().name("get_order")
                        .inputSchema(Map.of("type", "object")).build(),
                (e, r) -> Tools.text("card " + r.arguments().get("card") + " " + "x".repeat(100)));
        McpSyncClient client = serve(orders().irreversibleNeedsApproval(false), b -> b.telemetryOptions(
                TelemetryOptions.builder().recordArguments(true).recordResults(true).redact("card", "PASSWORD")
                        .maxAttributeLength(80).build()), List.of(echoArgs));

        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1", "card", "4111111111111111",
                "nested", Map.of("password", "hunter2", "keep", 1))));

        SpanData span = onlySpan("tools/call get_order");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("gen_ai.tool.call.arguments"))).isEqualTo(
                "{\"card\":\"[REDACTED]\",\"id\":\"o-1\",\"nested\":{\"keep\":1,\"password\":\"[REDACTED]\"}}");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("gen_ai.tool.call.result"))).hasSize(80)
                .endsWith("...");
    }

    @Test
    void withoutAnOpenTelemetryNothingIsRecorded() {
        McpSyncClient client = serve(orders(), b -> b.openTelemetry(io.opentelemetry.api.OpenTelemetry.noop()),
                List.of(Tools.echo("get_order")));
        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));
        client.listTools();

        assertThat(otel.getSpans()).isEmpty();
        assertThat(otel.getMetrics()).isEmpty();
    }

    @Test
    void statusIsErrorForToolErrorResults() {
        McpSyncClient client = serve(orders().quota(QuotaRule.perAgentAndTool(1, Duration.ofMinutes(1))));
        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));
        client.callTool(new CallToolRequest("get_order", Map.of("id", "o-1")));

        assertThat(otel.getSpans().get(1).getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    }
}
