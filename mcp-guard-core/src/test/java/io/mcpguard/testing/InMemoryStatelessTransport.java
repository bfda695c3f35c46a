package io.mcpguard.testing;

import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.server.McpStatelessServerHandler;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCMessage;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * An in-memory stateless transport: each client request is serialized to JSON and back, handed to the stateless
 * server's handler with the client's fixed transport context, and its response delivered back. For real SDK clients
 * against real stateless SDK servers in fast tests.
 */
public final class InMemoryStatelessTransport implements McpStatelessServerTransport {

    private final McpJsonMapper mapper = McpJsonDefaults.getMapper();
    private volatile McpStatelessServerHandler handler;

    @Override
    public void setMcpHandler(McpStatelessServerHandler handler) {
        this.handler = handler;
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.empty();
    }

    /**
     * Opens a client connection whose requests carry this context.
     *
     * @param context what the server sees as the client's transport context
     * @return the client side
     */
    public McpClientTransport connect(McpTransportContext context) {
        return new ClientSide(context);
    }

    private JSONRPCMessage roundTrip(JSONRPCMessage message) {
        try {
            return McpSchema.deserializeJsonRpcMessage(mapper, mapper.writeValueAsString(message));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private final class ClientSide implements McpClientTransport {

        private final McpTransportContext context;
        private final Sinks.Many<JSONRPCMessage> toClient = Sinks.many().unicast().onBackpressureBuffer();

        ClientSide(McpTransportContext context) {
            this.context = context;
        }

        @Override
        public Mono<Void> connect(Function<Mono<JSONRPCMessage>, Mono<JSONRPCMessage>> clientHandler) {
            return Mono.fromRunnable(() -> toClient.asFlux()
                    .publishOn(Schedulers.boundedElastic())
                    .flatMap(message -> Mono.just(message).transform(clientHandler))
                    .subscribe());
        }

        @Override
        public Mono<Void> sendMessage(JSONRPCMessage message) {
            JSONRPCMessage wire = roundTrip(message);
            return Mono.fromRunnable(() -> {
                if (wire instanceof McpSchema.JSONRPCRequest request) {
                    handler.handleRequest(context, request)
                            .contextWrite(ctx -> ctx.put(McpTransportContext.KEY, context))
                            .subscribeOn(Schedulers.boundedElastic())
                            .subscribe(response -> toClient.emitNext(roundTrip(response),
                                    Sinks.EmitFailureHandler.busyLooping(java.time.Duration.ofSeconds(1))));
                } else if (wire instanceof McpSchema.JSONRPCNotification notification) {
                    handler.handleNotification(context, notification)
                            .contextWrite(ctx -> ctx.put(McpTransportContext.KEY, context))
                            .subscribeOn(Schedulers.boundedElastic()).subscribe();
                }
            });
        }

        @Override
        public Mono<Void> closeGracefully() {
            return Mono.fromRunnable(toClient::tryEmitComplete);
        }

        @Override
        public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
            return mapper.convertValue(data, typeRef);
        }
    }
}
