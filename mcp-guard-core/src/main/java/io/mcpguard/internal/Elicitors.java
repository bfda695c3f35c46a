package io.mcpguard.internal;

import io.mcpguard.approval.ApprovalRequest;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Elicitation channels over the SDK's exchanges, for approval handlers. Unstable API. */
public final class Elicitors {

    private Elicitors() {
    }

    /**
     * A channel over a synchronous exchange; the blocking call runs on the guard's tool executor.
     *
     * @param exchange the exchange
     * @param limits for the executor
     * @return the elicitor
     */
    public static ApprovalRequest.Elicitor of(McpSyncServerExchange exchange, Limits limits) {
        return new ApprovalRequest.Elicitor() {
            @Override
            public boolean supported() {
                var caps = exchange.getClientCapabilities();
                return caps != null && caps.elicitation() != null;
            }

            @Override
            public CompletionStage<McpSchema.ElicitResult> elicit(McpSchema.ElicitRequest request) {
                return CompletableFuture.supplyAsync(() -> exchange.createElicitation(request), limits.toolExecutor());
            }
        };
    }

    /**
     * A channel over an asynchronous exchange.
     *
     * @param exchange the exchange
     * @return the elicitor
     */
    public static ApprovalRequest.Elicitor of(McpAsyncServerExchange exchange) {
        return new ApprovalRequest.Elicitor() {
            @Override
            public boolean supported() {
                var caps = exchange.getClientCapabilities();
                return caps != null && caps.elicitation() != null;
            }

            @Override
            public CompletionStage<McpSchema.ElicitResult> elicit(McpSchema.ElicitRequest request) {
                return exchange.createElicitation(request).toFuture();
            }
        };
    }
}
