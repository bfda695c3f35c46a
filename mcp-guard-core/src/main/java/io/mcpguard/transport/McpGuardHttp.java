package io.mcpguard.transport;

import io.mcpguard.McpGuard;
import io.mcpguard.identity.HttpAuthenticator;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.server.transport.ServerHttpHeaderValidator;
import jakarta.servlet.http.HttpServlet;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A guarded MCP HTTP endpoint in a few lines: the SDK's servlet transport, built with the gate's context extractor
 * and limits, and the servlet that serves it behind the {@link McpGate}.
 *
 * <pre>{@code
 * McpGuardHttp<HttpServletStreamableServerTransportProvider> http = McpGuardHttp.streamable(guard, keys).build();
 * McpSyncServer server = guard.install(McpServer.sync(http.transport()).immediateExecution(true), tools).build();
 * Tomcat.addServlet(context, "mcp", http.servlet()).setAsyncSupported(true);   // mapped to /mcp
 * }</pre>
 *
 * @param <T> the SDK transport type
 */
public final class McpGuardHttp<T extends HttpServlet> implements AutoCloseable {

    private final McpGate gate;
    private final T transport;
    private final GuardedServlet servlet;

    private McpGuardHttp(McpGate gate, T transport) {
        this.gate = gate;
        this.transport = transport;
        this.servlet = new GuardedServlet(gate, transport);
    }

    /**
     * Starts a guarded Streamable HTTP endpoint (sessions, SSE).
     *
     * @param guard the guard
     * @param authenticator how callers are verified, from headers only
     * @return a builder
     */
    public static Builder<HttpServletStreamableServerTransportProvider> streamable(McpGuard guard,
            HttpAuthenticator authenticator) {
        return new Builder<>(guard, authenticator, McpGate.Mode.STREAMABLE);
    }

    /**
     * Starts a guarded stateless Streamable HTTP endpoint (no sessions, JSON answers).
     *
     * @param guard the guard
     * @param authenticator how callers are verified, from headers only
     * @return a builder
     */
    public static Builder<HttpServletStatelessServerTransport> stateless(McpGuard guard,
            HttpAuthenticator authenticator) {
        return new Builder<>(guard, authenticator, McpGate.Mode.STATELESS);
    }

    /**
     * Returns the SDK transport, to build the server on.
     *
     * @return the transport
     */
    public T transport() {
        return transport;
    }

    /**
     * Returns the servlet to register (async-supported) at the endpoint, instead of the transport.
     *
     * @return the guarded servlet
     */
    public GuardedServlet servlet() {
        return servlet;
    }

    /**
     * Returns the gate.
     *
     * @return the gate
     */
    public McpGate gate() {
        return gate;
    }

    @Override
    public void close() {
        gate.close();
    }

    /**
     * Builds a {@link McpGuardHttp}.
     *
     * @param <T> the SDK transport type
     */
    public static final class Builder<T extends HttpServlet> {

        private final McpGate.Builder gate;
        private final McpGate.Mode mode;
        private String endpoint = "/mcp";
        private Duration sessionIdle = McpGate.DEFAULT_SESSION_IDLE;
        private int maxBodyBytes = McpGate.DEFAULT_MAX_BODY_BYTES;
        private McpJsonMapper mapper = McpJsonDefaults.getMapper();
        private Duration keepAlive;
        private Consumer<McpGate.Builder> gateSettings = b -> { };

        private Builder(McpGuard guard, HttpAuthenticator authenticator, McpGate.Mode mode) {
            this.gate = McpGate.builder(guard, authenticator).mode(mode);
            this.mode = mode;
        }

        /**
         * Sets the endpoint path the transport serves. Default {@code /mcp}.
         *
         * @param path e.g. {@code /mcp}
         * @return this builder
         */
        public Builder<T> endpoint(String path) {
            this.endpoint = Objects.requireNonNull(path, "path");
            return this;
        }

        /**
         * Checks Host and Origin before anything else (DNS-rebinding protection).
         *
         * @param validator e.g. the SDK's {@code DefaultServerTransportSecurityValidator}
         * @return this builder
         */
        public Builder<T> headerValidator(ServerHttpHeaderValidator validator) {
            gate.headerValidator(validator);
            return this;
        }

        /**
         * Sets the largest request body accepted; see {@link McpGate.Builder#maxBodyBytes}.
         *
         * @param bytes the limit
         * @return this builder
         */
        public Builder<T> maxBodyBytes(int bytes) {
            gate.maxBodyBytes(bytes);
            this.maxBodyBytes = bytes;
            return this;
        }

        /**
         * Sets how many sessions one agent may hold; see {@link McpGate.Builder#sessionsPerAgent}.
         *
         * @param max the cap
         * @return this builder
         */
        public Builder<T> sessionsPerAgent(int max) {
            gate.sessionsPerAgent(max);
            return this;
        }

        /**
         * Sets when idle sessions expire; see {@link McpGate.Builder#sessionIdleTimeout}.
         *
         * @param idle the idle timeout
         * @return this builder
         */
        public Builder<T> sessionIdleTimeout(Duration idle) {
            gate.sessionIdleTimeout(idle);
            this.sessionIdle = idle;
            return this;
        }

        /**
         * Sets the interval of the transport's keep-alive pings on open streams. Default: the SDK's.
         *
         * @param interval the interval
         * @return this builder
         */
        public Builder<T> keepAliveInterval(Duration interval) {
            this.keepAlive = Objects.requireNonNull(interval, "interval");
            return this;
        }

        /**
         * Sets the JSON mapper of the transport (and the gate).
         *
         * @param mapper the mapper
         * @return this builder
         */
        public Builder<T> jsonMapper(McpJsonMapper mapper) {
            this.mapper = Objects.requireNonNull(mapper, "mapper");
            gate.jsonMapper(mapper);
            return this;
        }

        /**
         * Applies further gate settings (a clock for tests, ...).
         *
         * @param settings the settings
         * @return this builder
         */
        public Builder<T> gate(Consumer<McpGate.Builder> settings) {
            this.gateSettings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Builds the transport and the gate.
         *
         * @return the guarded endpoint
         */
        @SuppressWarnings("unchecked")
        public McpGuardHttp<T> build() {
            gateSettings.accept(gate);
            McpGate built = gate.build();
            HttpServlet transport;
            if (mode == McpGate.Mode.STREAMABLE) {
                var b = HttpServletStreamableServerTransportProvider.builder()
                        .jsonMapper(mapper)
                        .mcpEndpoint(endpoint)
                        .contextExtractor(built.contextExtractor())
                        .maxRequestSize(maxBodyBytes)
                        // The gate expires idle sessions; the transport's own sweep then frees what they held.
                        .sessionSweepInterval(sessionIdle);
                if (keepAlive != null) {
                    b.keepAliveInterval(keepAlive);
                }
                transport = b.build();
            } else {
                transport = HttpServletStatelessServerTransport.builder()
                        .jsonMapper(mapper)
                        .messageEndpoint(endpoint)
                        .contextExtractor(built.contextExtractor())
                        .maxRequestSize(maxBodyBytes)
                        .build();
            }
            return new McpGuardHttp<>(built, (T) transport);
        }
    }
}
