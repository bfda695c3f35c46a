package io.mcpguard.approval;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides approval requests, asynchronously. The guard fails closed: a handler that throws, answers {@code null},
 * completes exceptionally or does not answer within the approval timeout denies the call.
 *
 * <p>Nothing the agent sends (arguments, {@code _meta}, headers) can approve a call: only a handler can.
 */
@FunctionalInterface
public interface ApprovalHandler {

    /**
     * Asks for a decision.
     *
     * @param request the exact call to decide on
     * @return the decision, when it is made
     */
    CompletionStage<ApprovalDecision> requestApproval(ApprovalRequest request);

    /**
     * The default handler: denies every request at once. With it, calls that need approval never run.
     *
     * @return the handler
     */
    static ApprovalHandler denyAll() {
        return request -> CompletableFuture.completedFuture(
                ApprovalDecision.deny("mcp-guard", "no approval handler is configured"));
    }
}
