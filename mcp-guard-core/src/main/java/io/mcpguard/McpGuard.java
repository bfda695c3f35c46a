package io.mcpguard;

import io.mcpguard.identity.AgentResolver;
import io.mcpguard.internal.GuardChain;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.server.McpAsyncListFilter;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpSyncListFilter;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * A zero-trust guard in front of the tools of an MCP Java SDK server.
 *
 * <p>Every tool call runs through a fixed chain: the caller's verified identity is resolved, the immutable
 * {@link Policy} must grant the tool, the arguments must satisfy the tool's schema, and only then does the tool's
 * handler run; its failures come back sanitized. A tool outside the caller's scope is hidden from {@code tools/list}
 * and answers a call exactly as an unknown tool does.
 *
 * <pre>{@code
 * McpGuard guard = McpGuard.builder().policy(policy).agentResolver(keys.resolver()).build();
 * McpSyncServer server = guard.install(McpServer.sync(transport).serverInfo("billing", "1.0.0"), tools).build();
 * server.addTool(guard.wrap(laterTool));   // tools added at run time are guarded too
 * }</pre>
 *
 * <p>Both halves are always on: the list filter alone would be cosmetic (the SDK still dispatches hidden tools), so
 * each wrapped handler checks the same decision again at call time. A guard is immutable and thread-safe.
 */
public final class McpGuard {

    private final Policy policy;
    private final GuardChain chain;

    private McpGuard(Builder builder) {
        this.policy = builder.policy;
        this.chain = new GuardChain(builder.policy, builder.agentResolver, builder.jsonSchemaValidator);
    }

    /**
     * Starts a guard.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the guard's policy, fixed for the guard's lifetime.
     *
     * @return the policy
     */
    public Policy policy() {
        return policy;
    }

    // ---- install: one call per SDK server builder shape ----

    /**
     * Guards a synchronous server: wraps the tools, adds them, installs the per-caller {@code tools/list} filter, and
     * turns the SDK's own argument validation off because the guard validates after the scope check (the SDK's
     * check runs first and would reveal hidden tools to a caller sending bad arguments).
     *
     * @param spec the server builder, e.g. {@code McpServer.sync(transport)}
     * @param tools the tools to serve
     * @return the same builder, for chaining to {@code build()}
     */
    public McpServer.SyncSpecification<?> install(McpServer.SyncSpecification<?> spec,
            List<McpServerFeatures.SyncToolSpecification> tools) {
        spec.validateToolInputs(false);
        spec.addToolFilter(syncToolFilter());
        spec.tools(tools.stream().map(this::wrap).toList());
        return spec;
    }

    /**
     * Guards an asynchronous server; see {@link #install(McpServer.SyncSpecification, List)}.
     *
     * @param spec the server builder, e.g. {@code McpServer.async(transport)}
     * @param tools the tools to serve
     * @return the same builder
     */
    public McpServer.AsyncSpecification<?> install(McpServer.AsyncSpecification<?> spec,
            List<McpServerFeatures.AsyncToolSpecification> tools) {
        spec.validateToolInputs(false);
        spec.addToolFilter(asyncToolFilter());
        spec.tools(tools.stream().map(this::wrap).toList());
        return spec;
    }

    /**
     * Guards a stateless synchronous server; see {@link #install(McpServer.SyncSpecification, List)}.
     *
     * @param spec the server builder, e.g. {@code McpServer.sync(statelessTransport)}
     * @param tools the tools to serve
     * @return the same builder
     */
    public McpServer.StatelessSyncSpecification install(McpServer.StatelessSyncSpecification spec,
            List<McpStatelessServerFeatures.SyncToolSpecification> tools) {
        spec.validateToolInputs(false);
        spec.addToolFilter(syncToolFilter());
        spec.tools(tools.stream().map(this::wrap).toList());
        return spec;
    }

    /**
     * Guards a stateless asynchronous server; see {@link #install(McpServer.SyncSpecification, List)}.
     *
     * @param spec the server builder, e.g. {@code McpServer.async(statelessTransport)}
     * @param tools the tools to serve
     * @return the same builder
     */
    public McpServer.StatelessAsyncSpecification install(McpServer.StatelessAsyncSpecification spec,
            List<McpStatelessServerFeatures.AsyncToolSpecification> tools) {
        spec.validateToolInputs(false);
        spec.addToolFilter(asyncToolFilter());
        spec.tools(tools.stream().map(this::wrap).toList());
        return spec;
    }

    // ---- wrap: one per SDK tool specification shape ----

    /**
     * Returns a plain SDK tool specification whose handler runs behind the guard, e.g. for
     * {@code server.addTool(guard.wrap(spec))} at run time. The server must have the guard's list filter (see
     * {@link #install}) and its argument validation off, or hidden tools leak through validation errors.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.SyncToolSpecification wrap(McpServerFeatures.SyncToolSpecification spec) {
        McpSchema.Tool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpServerFeatures.SyncToolSpecification(tool, (exchange, request) -> chain.callSync(
                exchange.transportContext(), tool, request, req -> handler.apply(exchange, req)));
    }

    /**
     * Returns a guarded asynchronous tool specification; see {@link #wrap(McpServerFeatures.SyncToolSpecification)}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.AsyncToolSpecification wrap(McpServerFeatures.AsyncToolSpecification spec) {
        McpSchema.Tool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpServerFeatures.AsyncToolSpecification(tool, (exchange, request) -> chain.callAsync(
                exchange.transportContext(), tool, request, req -> handler.apply(exchange, req)));
    }

    /**
     * Returns a guarded stateless synchronous tool specification; see
     * {@link #wrap(McpServerFeatures.SyncToolSpecification)}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.SyncToolSpecification wrap(McpStatelessServerFeatures.SyncToolSpecification spec) {
        McpSchema.Tool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpStatelessServerFeatures.SyncToolSpecification(tool,
                (context, request) -> chain.callSync(context, tool, request, req -> handler.apply(context, req)));
    }

    /**
     * Returns a guarded stateless asynchronous tool specification; see
     * {@link #wrap(McpServerFeatures.SyncToolSpecification)}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.AsyncToolSpecification wrap(
            McpStatelessServerFeatures.AsyncToolSpecification spec) {
        McpSchema.Tool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpStatelessServerFeatures.AsyncToolSpecification(tool,
                (context, request) -> chain.callAsync(context, tool, request, req -> handler.apply(context, req)));
    }

    // ---- list filters ----

    /**
     * The per-caller {@code tools/list} filter for synchronous and stateless synchronous servers. It only hides;
     * the wrapped handlers are what protect.
     *
     * @return the filter
     */
    public McpSyncListFilter<McpSchema.Tool> syncToolFilter() {
        return chain::isVisible;
    }

    /**
     * The per-caller {@code tools/list} filter for asynchronous servers. It does not block.
     *
     * @return the filter
     */
    public McpAsyncListFilter<McpSchema.Tool> asyncToolFilter() {
        return (context, tool) -> Mono.just(chain.isVisible(context, tool));
    }

    private McpSchema.Tool register(McpSchema.Tool tool) {
        Objects.requireNonNull(tool, "tool");
        chain.register(tool);
        return tool;
    }

    /** Builds an {@link McpGuard}. */
    public static final class Builder {

        private Policy policy;
        private AgentResolver agentResolver = AgentResolver.fromContext();
        private JsonSchemaValidator jsonSchemaValidator;

        private Builder() {
        }

        /**
         * Sets the policy (required). It is immutable; the guard keeps it for its lifetime.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder policy(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Sets how callers are identified. Default: {@link AgentResolver#fromContext()}, which knows only callers
         * a trusted context extractor identified, so a server without authentication denies everyone.
         *
         * @param agentResolver the resolver
         * @return this builder
         */
        public Builder agentResolver(AgentResolver agentResolver) {
            this.agentResolver = Objects.requireNonNull(agentResolver, "agentResolver");
            return this;
        }

        /**
         * Sets the JSON schema validator for tool arguments. Default: the SDK's, found through
         * {@link McpJsonDefaults#getSchemaValidator()}.
         *
         * @param validator the validator
         * @return this builder
         */
        public Builder jsonSchemaValidator(JsonSchemaValidator validator) {
            this.jsonSchemaValidator = Objects.requireNonNull(validator, "validator");
            return this;
        }

        /**
         * Builds the guard.
         *
         * @return an immutable guard
         * @throws IllegalStateException if no policy was given
         */
        public McpGuard build() {
            if (policy == null) {
                throw new IllegalStateException("McpGuard needs a policy: call policy(..) (Policy.denyAll() denies all)");
            }
            if (jsonSchemaValidator == null) {
                jsonSchemaValidator = McpJsonDefaults.getSchemaValidator();
                if (jsonSchemaValidator == null) {
                    throw new McpGuardException("no JSON schema validator found: add io.modelcontextprotocol.sdk:"
                            + "mcp-json-jackson3 (or jackson2) or call jsonSchemaValidator(..)");
                }
            }
            return new McpGuard(this);
        }
    }
}
