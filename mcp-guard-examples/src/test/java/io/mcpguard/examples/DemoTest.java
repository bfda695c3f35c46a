package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The README's "run the demo" command runs this program; its transcript must keep telling the true story. */
class DemoTest {

    @Test
    void demoTranscriptShowsScopedDiscoveryRefusalsAndAuthentication() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SpanRecorder recorder = new SpanRecorder();
        try (var sdk = io.opentelemetry.sdk.OpenTelemetrySdk.builder()
                .setTracerProvider(io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
                        .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(recorder))
                        .build())
                .build()) {
            new Demo(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(sdk, recorder);
        }
        String transcript = bytes.toString(StandardCharsets.UTF_8);

        assertThat(transcript)
                .contains("support-bot    scopes orders:read orders:write     sees [get_order, list_orders, update_order_note]")
                .contains("billing-agent  scopes orders:read refunds          sees [get_order, issue_refund, list_orders]")
                .containsPattern("billing-agent +issue_refund .* -> ok: Refunded 25 EUR on o-1002")
                .containsPattern("support-bot +issue_refund .* -> JSON-RPC error -32602 \"Unknown tool: invalid_tool_name\"")
                .containsPattern("support-bot +transfer_funds .* -> JSON-RPC error -32602 \"Unknown tool: invalid_tool_name\"")
                .containsPattern("update_order_note .* -> isError \\[invalid_arguments\\]")
                .containsPattern("billing-agent +issue_refund +\\{\"amount\":25,.* -> ok: Refunded 25 EUR")
                .containsPattern("\\[console: alice\\] +sees A-[0-9a-f]{32}: billing-agent wants issue_refund "
                        + "\\{\"amount\":250,\"orderId\":\"o-1002\"\\} \\(approval tools=names\\(issue_refund\\) when "
                        + "amount > 100 by person; budget 'refunds-per-agent-day'")
                .containsPattern("billing-agent +issue_refund +\\{\"amount\":250,.* -> isError \\[approval_pending\\]: "
                        + "Call to 'issue_refund' needs a person's approval \\(approval A-[0-9a-f]{32}\\)")
                .containsPattern("\\[console: alice\\] +approves A-[0-9a-f]{32} .* -> DECIDED")
                .containsPattern("billing-agent +issue_refund +\\{\"amount\":250,.* -> ok: Refunded 250 EUR")
                .containsPattern("ops-admin +delete_customer .* -> isError \\[approval_denied\\]: Call to "
                        + "'delete_customer' was not approved: customers are deleted by the DPO only")
                .containsPattern("billing-agent +approves A-[0-9a-f]{32} itself through the approvals API -> "
                        + "SELF_APPROVAL")
                .containsPattern("billing-agent +issue_refund +\\{\"amount\":100,\"orderId\":\"o-1003\"\\} +-> isError "
                        + "\\[approval_pending\\]")
                .containsPattern("billing-agent +issue_refund +\\{\"amount\":5000,.* -> isError \\[argument_boundary\\]: "
                        + "Call to 'issue_refund' refused: argument 'amount' is outside boundary 'refund-cap'")
                .containsPattern("list_orders +\\{\"status\":\"archived\"\\} +-> isError \\[tool_error\\]: Tool 'list_orders' "
                        + "failed\\. The server logged the cause under reference E-[0-9a-f]{12}\\.")
                .containsPattern("support-bot +get_order .* -> isError \\[quota_exceeded\\]: Quota exceeded for "
                        + "tool 'get_order': at most 30 calls per 1 minute for each agent on this tool\\. Retry in")
                .containsPattern("support-bot +list_orders +\\{\"status\":\"archived\"\\} +-> isError "
                        + "\\[agent_circuit_open\\]: Tool 'list_orders' is temporarily closed to you")
                .containsPattern("billing-agent +list_orders +\\{\"status\":\"open\"\\} +-> ok")
                .contains("no Authorization header   -> HTTP 401", "unknown key               -> HTTP 401")
                .contains("clientInfo claiming \"ops-admin\" -> sees [get_order, list_orders, update_order_note]")
                .contains("subprocess OrderServer --stdio --agent billing-agent -> sees [get_order, issue_refund, list_orders]")
                .containsPattern("billing-agent \\(stdio\\) +delete_customer .* -> JSON-RPC error -32602");
        assertThat(transcript)
                .containsPattern("support-bot  trace [0-9a-f]{32}  12 guarded calls")
                .containsPattern("tools/call issue_refund +deny +out_of_scope")
                .containsPattern("tools/call transfer_funds +deny +unknown_tool")
                .containsPattern("ops-admin  trace [0-9a-f]{32}  2 guarded calls\\R +tools/call delete_customer +pending "
                        + "+approval_pending +[0-9.]+ ms\\R +tools/call delete_customer +deny +approval_denied");
        assertThat(transcript)
                .containsPattern("verify: OK: \\d+ lines, \\d+ signed checkpoints, chain intact")
                .containsPattern("issue_refund args=[0-9a-f]{64} success")
                .contains("    issue_refund out_of_scope at scope\n    transfer_funds unknown_tool at dispatch")
                .containsPattern("a copy with one refusal edited into an allow: TAMPERED at line \\d+: its "
                        + "content does not match its hash");
        // The agent never sees the back end's details; they stay in the transcript only where the demo quotes the
        // server's own log.
        String agentFacing = transcript.substring(0, transcript.indexOf("8. What the operator sees"));
        assertThat(agentFacing).doesNotContain("archive-db.internal", "svc_orders", "ArchiveUnavailableException");
    }
}
