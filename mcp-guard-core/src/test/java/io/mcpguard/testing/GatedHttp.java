package io.mcpguard.testing;

import io.mcpguard.McpGuard;
import io.mcpguard.identity.HttpAuthenticator;
import io.mcpguard.transport.McpGate;
import io.mcpguard.transport.McpGuardHttp;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A guarded SDK server behind the transport gate on an embedded Tomcat, over real HTTP: the setup a user writes
 * with {@link McpGuardHttp}. Sync servers run handlers on the request thread ({@code immediateExecution}).
 */
public final class GatedHttp implements AutoCloseable {

    private final McpGuard guard;
    private final McpGuardHttp<?> http;
    private final Tomcats.Running tomcat;
    private final AutoCloseable server;
    private Object sdkServer;
    private final List<AutoCloseable> clients = new ArrayList<>();

    private GatedHttp(McpGuard guard, McpGuardHttp<?> http, AutoCloseable server, Tomcats.Running tomcat) {
        this.guard = guard;
        this.http = http;
        this.server = server;
        this.tomcat = tomcat;
    }

    /**
     * Serves over Streamable HTTP.
     *
     * @param guard the guard (closed with the server)
     * @param authenticator how callers are verified
     * @param served what it serves
     * @return the running server
     * @throws Exception if Tomcat cannot start
     */
    public static GatedHttp streamable(McpGuard guard, HttpAuthenticator authenticator, Served served)
            throws Exception {
        return streamable(guard, authenticator, served, b -> { });
    }

    /**
     * Serves over Streamable HTTP with gate settings.
     *
     * @param guard the guard
     * @param authenticator how callers are verified
     * @param served what it serves
     * @param settings gate settings
     * @return the running server
     * @throws Exception if Tomcat cannot start
     */
    public static GatedHttp streamable(McpGuard guard, HttpAuthenticator authenticator, Served served,
            Consumer<McpGuardHttp.Builder<HttpServletStreamableServerTransportProvider>> settings) throws Exception {
        return streamable(guard, authenticator, served, settings, 0);
    }

    /**
     * Serves over Streamable HTTP with gate settings and at most {@code maxThreads} request threads.
     *
     * @param guard the guard
     * @param authenticator how callers are verified
     * @param served what it serves
     * @param settings gate settings
     * @param maxThreads Tomcat's request threads, or 0 for its default
     * @return the running server
     * @throws Exception if Tomcat cannot start
     */
    public static GatedHttp streamable(McpGuard guard, HttpAuthenticator authenticator, Served served,
            Consumer<McpGuardHttp.Builder<HttpServletStreamableServerTransportProvider>> settings, int maxThreads)
            throws Exception {
        var builder = McpGuardHttp.streamable(guard, authenticator);
        settings.accept(builder);
        McpGuardHttp<HttpServletStreamableServerTransportProvider> http = builder.build();
        var sdk = served.syncImmediate(guard, http.transport());
        GatedHttp running = new GatedHttp(guard, http, sdk::close, Tomcats.start(http.servlet(), "/mcp", maxThreads));
        running.sdkServer = sdk;
        return running;
    }

    /**
     * Returns the port.
     *
     * @return the local port
     */
    public int port() {
        return tomcat.port();
    }

    /**
     * Serves over stateless Streamable HTTP.
     *
     * @param guard the guard
     * @param authenticator how callers are verified
     * @param served what it serves
     * @return the running server
     * @throws Exception if Tomcat cannot start
     */
    public static GatedHttp stateless(McpGuard guard, HttpAuthenticator authenticator, Served served)
            throws Exception {
        McpGuardHttp<HttpServletStatelessServerTransport> http = McpGuardHttp.stateless(guard, authenticator).build();
        var sdk = served.statelessSync(guard, http.transport());
        return new GatedHttp(guard, http, sdk::close, Tomcats.start(http.servlet(), "/mcp"));
    }

    /**
     * Returns the MCP endpoint URL.
     *
     * @return the URL
     */
    public String url() {
        return tomcat.url("/mcp");
    }

    /**
     * Returns the gate.
     *
     * @return the gate
     */
    public McpGate gate() {
        return http.gate();
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
     * A raw client with a bearer key.
     *
     * @param key the key, or {@code null} for none
     * @return the client
     */
    public RawMcpHttp raw(String key) {
        return new RawMcpHttp(url(), key == null ? null : "Bearer " + key);
    }

    /**
     * Returns the SDK server behind the gate (Streamable HTTP servers only), e.g. to send notifications.
     *
     * @return the server
     */
    public io.modelcontextprotocol.server.McpSyncServer sdkServer() {
        return (io.modelcontextprotocol.server.McpSyncServer) sdkServer;
    }

    /**
     * An initialized Java SDK client with a bearer key.
     *
     * @param key the key
     * @return the client
     */
    public McpSyncClient client(String key) {
        return client(key, spec -> { });
    }

    /**
     * An initialized Java SDK client with a bearer key and client settings (consumers of notifications).
     *
     * @param key the key
     * @param settings what to set on the client
     * @return the client
     */
    public McpSyncClient client(String key, Consumer<McpClient.SyncSpec> settings) {
        var transport = HttpClientStreamableHttpTransport.builder("http://localhost:" + tomcat.port())
                .endpoint("/mcp")
                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + key))
                .build();
        McpClient.SyncSpec spec = McpClient.sync(transport);
        settings.accept(spec);
        McpSyncClient client = spec.build();
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
        tomcat.close();
        http.close();
        guard.close();
    }
}
