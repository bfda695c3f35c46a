package io.mcpguard.approval.internal;

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
     * @param executor where the blocking call runs
     * @return the elicitor
     */
    public static Elicitor of(McpSyncServerExchange exchange, java.util.concurrent.Executor executor) {
        return channel(exchange.getClientCapabilities(),
                request -> CompletableFuture.supplyAsync(() -> exchange.createElicitation(request), executor));
    }

    /**
     * A channel over an asynchronous exchange.
     *
     * @param exchange the exchange
     * @return the elicitor
     */
    public static Elicitor of(McpAsyncServerExchange exchange) {
        return channel(exchange.getClientCapabilities(), request -> exchange.createElicitation(request).toFuture());
    }

    private static Elicitor channel(McpSchema.ClientCapabilities capabilities,
            java.util.function.Function<McpSchema.ElicitRequest, CompletionStage<McpSchema.ElicitResult>> send) {
        return new Elicitor() {
            @Override
            public boolean supported() {
                return capabilities != null && capabilities.elicitation() != null;
            }

            @Override
            public CompletionStage<McpSchema.ElicitResult> elicit(McpSchema.ElicitRequest request) {
                return send.apply(request);
            }
        };
    }
}
