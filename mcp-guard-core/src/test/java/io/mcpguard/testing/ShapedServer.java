package io.mcpguard.testing;

import io.mcpguard.McpGuard;
import io.mcpguard.identity.AgentIdentity;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.spec.McpClientTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A real SDK server in one of the four shapes, guarded, on an in-memory transport, with real SDK clients per agent.
 * The guard is closed with it.
 */
public final class ShapedServer implements AutoCloseable {

    private final Shape shape;
    private final McpGuard guard;
    private final InMemoryTransport stateful = new InMemoryTransport();
    private final InMemoryStatelessTransport stateless = new InMemoryStatelessTransport();
    private final AutoCloseable server;
    private final List<AutoCloseable> clients = new ArrayList<>();

    private ShapedServer(Shape shape, McpGuard guard, Served served) {
        this.shape = shape;
        this.guard = guard;
        this.server = switch (shape) {
            case SYNC -> served.sync(guard, stateful)::close;
            case ASYNC -> served.async(guard, stateful)::close;
            case STATELESS_SYNC -> served.statelessSync(guard, stateless)::close;
            case STATELESS_ASYNC -> served.statelessAsync(guard, stateless)::close;
        };
    }

    /**
     * Starts a guarded server.
     *
     * @param shape the server shape
     * @param guard the guard (closed with the server)
     * @param served what it serves
     * @return the running server
     */
    public static ShapedServer start(Shape shape, McpGuard guard, Served served) {
        return new ShapedServer(shape, guard, served);
    }

    /**
     * Returns the shape.
     *
     * @return the shape
     */
    public Shape shape() {
        return shape;
    }

    /**
     * Returns the guard.
     *
     * @return the guard
     */
    public McpGuard guard() {
        return guard;
    }

    /**
     * Opens an initialized client for an agent (one session on stateful shapes).
     *
     * @param agent the agent, or {@code null} for a caller with no identity
     * @return the client
     */
    public McpSyncClient session(AgentIdentity agent) {
        return session(agent, spec -> spec);
    }

    /**
     * Opens an initialized client with a customized client specification (capabilities, elicitation handler...).
     *
     * @param agent the agent, or {@code null}
     * @param customize changes to the client specification
     * @return the client
     */
    public McpSyncClient session(AgentIdentity agent, UnaryOperator<McpClient.SyncSpec> customize) {
        McpTransportContext context = agent == null ? McpTransportContext.EMPTY
                : McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY, agent));
        McpClientTransport transport = shape.stateful() ? stateful.connect(context) : stateless.connect(context);
        McpSyncClient client = customize.apply(McpClient.sync(transport).requestTimeout(Duration.ofSeconds(30)))
                .build();
        clients.add(client::close);
        client.initialize();
        return client;
    }

    @Override
    public void close() throws Exception {
        for (int i = clients.size() - 1; i >= 0; i--) {
            try {
                clients.get(i).close();
            } catch (RuntimeException e) {
                // best effort
            }
        }
        server.close();
        guard.close();
    }
}
