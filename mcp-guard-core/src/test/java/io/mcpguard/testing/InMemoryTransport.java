package io.mcpguard.testing;

import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.JSONRPCMessage;
import io.modelcontextprotocol.spec.McpServerSession;
import io.modelcontextprotocol.spec.McpServerTransport;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * An in-memory transport pair for fast tests with a real SDK server and real SDK clients. Every message is serialized
 * to JSON and parsed back, as on a wire. Each client connection carries a fixed {@link McpTransportContext}, standing
 * in for what a servlet transport's context extractor would produce for that client's requests.
 */
public final class InMemoryTransport implements McpServerTransportProvider {

    private final McpJsonMapper mapper = McpJsonDefaults.getMapper();
    private final List<McpServerSession> sessions = new CopyOnWriteArrayList<>();
    private volatile McpServerSession.Factory sessionFactory;

    @Override
    public void setSessionFactory(McpServerSession.Factory sessionFactory) {
        this.sessionFactory = sessionFactory;
    }

    /**
     * Opens a new client connection (a new MCP session once initialized).
     *
     * @param context what the server sees as this client's transport context
     * @return the client side, to give to {@code McpClient.sync(..)}
     */
    public McpClientTransport connect(McpTransportContext context) {
        return new ClientSide(context);
    }

    @Override
    public Mono<Void> notifyClients(String method, Object params) {
        return Flux.fromIterable(sessions).flatMap(s -> s.sendNotification(method, params)).then();
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Flux.fromIterable(sessions).flatMap(McpServerSession::closeGracefully).then();
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
        private volatile McpServerSession session;

        ClientSide(McpTransportContext context) {
            this.context = context;
        }

        @Override
        public Mono<Void> connect(Function<Mono<JSONRPCMessage>, Mono<JSONRPCMessage>> handler) {
            return Mono.fromRunnable(() -> {
                session = sessionFactory.create(new ServerSide(this));
                sessions.add(session);
                toClient.asFlux()
                        .publishOn(Schedulers.boundedElastic())
                        .flatMap(message -> Mono.just(message).transform(handler))
                        .subscribe();
            });
        }

        @Override
        public Mono<Void> sendMessage(JSONRPCMessage message) {
            JSONRPCMessage wire = roundTrip(message);
            return Mono.fromRunnable(() -> session.handle(wire)
                    .contextWrite(ctx -> ctx.put(McpTransportContext.KEY, context))
                    .subscribeOn(Schedulers.boundedElastic())
                    .subscribe());
        }

        void deliver(JSONRPCMessage message) {
            toClient.emitNext(roundTrip(message), Sinks.EmitFailureHandler.busyLooping(java.time.Duration.ofSeconds(1)));
        }

        @Override
        public Mono<Void> closeGracefully() {
            return Mono.fromRunnable(() -> {
                toClient.tryEmitComplete();
                if (session != null) {
                    sessions.remove(session);
                    session.close();
                }
            });
        }

        @Override
        public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
            return mapper.convertValue(data, typeRef);
        }
    }

    private final class ServerSide implements McpServerTransport {

        private final ClientSide client;

        ServerSide(ClientSide client) {
            this.client = client;
        }

        @Override
        public Mono<Void> sendMessage(JSONRPCMessage message) {
            return Mono.fromRunnable(() -> client.deliver(message));
        }

        @Override
        public Mono<Void> closeGracefully() {
            return Mono.empty();
        }

        @Override
        public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
            return mapper.convertValue(data, typeRef);
        }
    }
}
