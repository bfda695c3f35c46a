package io.mcpguard.approval;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Asks the human at the client, through MCP elicitation, whether the call may run.
 *
 * <p><b>Weaker consent than an out-of-band approver.</b> The question goes to whoever operates the client, which is
 * the same party whose agent asks; a compromised or careless client can answer "yes" by itself, and elicitation
 * needs a live stateful session. Use it where the person at the client is the one who must consent (their own
 * account, their own files), and an {@link ApprovalQueue} or your own handler where someone else must. A client that
 * did not declare the elicitation capability, a call without a live session (stateless servers, deferred mode), and
 * any answer other than an explicit accept with {@code approve: true} all deny.
 */
public final class ElicitationApprovalHandler implements ApprovalHandler {

    private static final Map<String, Object> SCHEMA = Map.of(
            "type", "object",
            "properties", Map.of("approve", Map.of("type", "boolean", "title", "Approve this call",
                    "description", "Run this exact call once")),
            "required", List.of("approve"));

    private ElicitationApprovalHandler() {
    }

    /**
     * Creates the handler.
     *
     * @return the handler
     */
    public static ElicitationApprovalHandler create() {
        return new ElicitationApprovalHandler();
    }

    @Override
    public CompletionStage<ApprovalDecision> requestApproval(ApprovalRequest request) {
        var elicitor = request.elicitation();
        if (elicitor.isEmpty()) {
            return CompletableFuture.completedFuture(ApprovalDecision.deny("mcp-guard",
                    "no live session to ask the user through elicitation"));
        }
        if (!elicitor.get().supported()) {
            return CompletableFuture.completedFuture(ApprovalDecision.deny("mcp-guard",
                    "the client does not support elicitation"));
        }
        String message = "Agent '" + request.agent().agentId() + "' wants to run the " + request.reversibility().code()
                + " tool '" + request.tool() + "' with arguments " + request.canonicalArguments() + " (approval "
                + request.id() + "). Approve this exact call once?";
        return elicitor.get().elicit(McpSchema.ElicitRequest.builder(message, SCHEMA).build())
                .thenApply(result -> {
                    boolean approved = result != null && result.action() == McpSchema.ElicitResult.Action.ACCEPT
                            && result.content() != null && Boolean.TRUE.equals(result.content().get("approve"));
                    String approver = "client-user:" + request.agent().agentId();
                    return approved ? ApprovalDecision.approve(approver, "approved through elicitation")
                            : ApprovalDecision.deny(approver, result == null ? "no answer"
                                    : "answered " + result.action().name().toLowerCase(java.util.Locale.ROOT));
                });
    }
}
