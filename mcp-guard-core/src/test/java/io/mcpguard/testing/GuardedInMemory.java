package io.mcpguard.testing;

import io.mcpguard.McpGuard;
import io.mcpguard.identity.AgentIdentity;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A guarded real SDK server on an in-memory transport, and clients for it. Close it after each test. */
public final class GuardedInMemory implements AutoCloseable {

    private final InMemoryTransport transport = new InMemoryTransport();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final McpGuard guard;
    private final McpSyncServer server;

    /**
     * Starts a sync server with the tools behind the guard.
     *
     * @param guard the guard
     * @param tools the tools
     */
    public GuardedInMemory(McpGuard guard, List<McpServerFeatures.SyncToolSpecification> tools) {
        this.guard = guard;
        this.server = guard.install(McpServer.sync(transport).serverInfo("test", "1.0.0"), tools).build();
    }

    /**
     * Returns the server.
     *
     * @return the server
     */
    public McpSyncServer server() {
        return server;
    }

    /**
     * Opens a new session for an agent.
     *
     * @param agent the agent, or {@code null} for an unknown caller
     * @return an initialized client
     */
    public McpSyncClient session(AgentIdentity agent) {
        return session(agent, spec -> spec);
    }

    /**
     * Opens a new session for an agent with a customized client (capabilities, elicitation handler, ...).
     *
     * @param agent the agent, or {@code null} for an unknown caller
     * @param customize changes to the client specification
     * @return an initialized client
     */
    public McpSyncClient session(AgentIdentity agent,
            java.util.function.UnaryOperator<McpClient.SyncSpec> customize) {
        var context = agent == null ? McpTransportContext.EMPTY
                : McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY, agent));
        McpSyncClient client = customize.apply(McpClient.sync(transport.connect(context))
                .requestTimeout(Duration.ofSeconds(30))).build();
        closeables.add(client::close);
        client.initialize();
        return client;
    }

    /**
     * Returns the reason code in a result's {@code _meta}, or {@code "ok"} for a successful result.
     *
     * @param result the result
     * @return the reason
     */
    public static String reason(McpSchema.CallToolResult result) {
        if (!Boolean.TRUE.equals(result.isError())) {
            return "ok";
        }
        Object reason = result.meta() == null ? null : result.meta().get("io.mcpguard/reason");
        return reason == null ? "tool-isError" : reason.toString();
    }

    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
        server.close();
        guard.close();
    }
}
