package io.mcpguard;

import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.audit.AuditOverflow;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.internal.AuditTrail;
import io.mcpguard.internal.Approvals;
import io.mcpguard.internal.Elicitors;
import io.mcpguard.internal.Clocks;
import io.mcpguard.internal.GuardChain;
import io.mcpguard.internal.GuardTelemetry;
import io.mcpguard.internal.Limits;
import io.mcpguard.telemetry.TelemetryOptions;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.server.McpAsyncListFilter;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpSyncListFilter;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import io.opentelemetry.api.OpenTelemetry;
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
public final class McpGuard implements AutoCloseable {

    /** How often idle quota and concurrency state is dropped, unless set otherwise. */
    public static final Duration DEFAULT_STATE_SWEEP_INTERVAL = Duration.ofMinutes(1);

    /** How many audit records may wait for the sink unless set otherwise. */
    public static final int DEFAULT_AUDIT_BUFFER = 8192;

    private final Policy policy;
    private final Limits limits;
    private final AuditTrail audit;
    private final GuardChain chain;

    /** How long an approval request stays open unless set otherwise. */
    public static final Duration DEFAULT_APPROVAL_TIMEOUT = Duration.ofMinutes(5);

    /** The retry hint on a pending (deferred) approval unless set otherwise. */
    public static final Duration DEFAULT_PENDING_RETRY_HINT = Duration.ofSeconds(10);

    private McpGuard(Builder builder) {
        this.policy = builder.policy;
        List<GuardEventListener> listeners = new ArrayList<>(builder.listeners);
        AuditTrail[] trail = new AuditTrail[1];
        listeners.add(event -> {
            if (trail[0] != null) {
                trail[0].onEvent(event);
            }
        });
        this.limits = new Limits(builder.policy, builder.clock, listeners, builder.stateSweepInterval);
        Approvals approvals = new Approvals(builder.policy, builder.approvalHandler, builder.approvalMode,
                builder.approvalTimeout, builder.pendingRetryHint, limits);
        this.audit = builder.auditSink == null ? null : new AuditTrail(builder.auditSink, builder.auditBufferCapacity,
                builder.auditOverflow, builder.policy.fingerprint());
        GuardTelemetry telemetry = new GuardTelemetry(builder.openTelemetry, builder.telemetryOptions, builder.policy,
                audit == null ? null : (agent, listed, hidden, traceId, spanId) -> audit.record(
                        new AuditRecord.ToolsListed(new AuditRecord.Context(builder.clock.instant(),
                                agent == null ? null : agent.agentId(), agent == null ? null : agent.credentialId(),
                                agent == null ? null : agent.runId().orElse(null), null, null,
                                builder.policy.fingerprint(), traceId, spanId), listed, hidden)));
        this.chain = new GuardChain(builder.policy, builder.agentResolver, builder.jsonSchemaValidator, limits,
                approvals, telemetry, audit);
        trail[0] = audit;
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

    /**
     * Returns the runtime state of the policy's limits: quota buckets, concurrency counters, circuit breakers.
     * Unstable API, for tests, metrics and operations.
     *
     * @return the limits
     */
    public Limits limits() {
        return limits;
    }

    /**
     * Returns how many audit records were written and lost so far. Unstable API, for metrics and operations.
     *
     * @return {@code [written, lost]}, or {@code [0, 0]} without an audit trail
     */
    public long[] auditCounts() {
        return audit == null ? new long[] {0, 0} : new long[] {audit.written(), audit.lost()};
    }

    /**
     * Stops the guard: its background threads (the idle-state sweeper, the executor of timed tool calls) stop, and
     * the audit trail writes everything it buffered and closes its sink (a JSON Lines sink signs its close
     * checkpoint). Close the guard after the server, so no call arrives during it.
     */
    @Override
    public void close() {
        limits.close();
        if (audit != null) {
            audit.close();
        }
    }

    /**
     * Returns a recorder for {@code tools/call} requests naming tools that do not exist, which the SDK answers before
     * any guard code runs. Give it to {@link io.mcpguard.http.ErrorSanitizingServlet#wrap(jakarta.servlet.http.HttpServlet,
     * UnknownToolRecorder)} with the same context extractor as the transport, so that such probes get a span, decision
     * metrics and an audit record like any refused call.
     *
     * @param contextExtractor the transport's context extractor (e.g. {@code keys.contextExtractor()})
     * @return the recorder
     */
    public UnknownToolRecorder unknownToolRecorder(
            io.modelcontextprotocol.server.McpTransportContextExtractor<jakarta.servlet.http.HttpServletRequest>
                    contextExtractor) {
        Objects.requireNonNull(contextExtractor, "contextExtractor");
        return (request, name, call) -> {
            if (chain.serves(name)) {
                return null;
            }
            McpTransportContext context = contextExtractor.extract(request);
            McpSchema.CallToolRequest parsed = call.get();
            return parsed == null ? null : () -> chain.recordUnknownTool(context, parsed);
        };
    }

    /** Records calls to tools that do not exist; see {@link #unknownToolRecorder}. */
    @FunctionalInterface
    public interface UnknownToolRecorder {

        /**
         * Looks at one call before the transport serves it, reading what it needs from the request then.
         *
         * @param request the HTTP request that carried it
         * @param toolName the tool the call names
         * @param call parses the whole call from the body (asked for only when the name is recorded); may return
         *        null if the body does not parse
         * @return what records the call, run only if the transport accepted the request; {@code null} if the call
         *         names a tool the guard serves (the guard records those itself)
         */
        Runnable prepare(jakarta.servlet.http.HttpServletRequest request, String toolName,
                java.util.function.Supplier<McpSchema.CallToolRequest> call);
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
        GuardChain.GuardedTool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpServerFeatures.SyncToolSpecification(tool.tool(), (exchange, request) -> chain.callSync(
                exchange.transportContext(), exchange.sessionId(), tool, request, req -> handler.apply(exchange, req),
                Elicitors.of(exchange, limits)));
    }

    /**
     * Returns a guarded asynchronous tool specification; see {@link #wrap(McpServerFeatures.SyncToolSpecification)}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.AsyncToolSpecification wrap(McpServerFeatures.AsyncToolSpecification spec) {
        GuardChain.GuardedTool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpServerFeatures.AsyncToolSpecification(tool.tool(), (exchange, request) -> chain.callAsync(
                exchange.transportContext(), exchange.sessionId(), tool, request, req -> handler.apply(exchange, req),
                Elicitors.of(exchange)));
    }

    /**
     * Returns a guarded stateless synchronous tool specification; see
     * {@link #wrap(McpServerFeatures.SyncToolSpecification)}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.SyncToolSpecification wrap(McpStatelessServerFeatures.SyncToolSpecification spec) {
        GuardChain.GuardedTool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpStatelessServerFeatures.SyncToolSpecification(tool.tool(),
                (context, request) -> chain.callSync(context, null, tool, request, req -> handler.apply(context, req),
                        null));
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
        GuardChain.GuardedTool tool = register(spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpStatelessServerFeatures.AsyncToolSpecification(tool.tool(),
                (context, request) -> chain.callAsync(context, null, tool, request,
                        req -> handler.apply(context, req), null));
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

    private GuardChain.GuardedTool register(McpSchema.Tool tool) {
        return chain.register(Objects.requireNonNull(tool, "tool"));
    }

    /** Builds an {@link McpGuard}. */
    public static final class Builder {

        private Policy policy;
        private AgentResolver agentResolver = AgentResolver.fromContext();
        private JsonSchemaValidator jsonSchemaValidator;
        private Clock clock = Clocks.monotonic();
        private final List<GuardEventListener> listeners = new ArrayList<>();
        private Duration stateSweepInterval = DEFAULT_STATE_SWEEP_INTERVAL;
        private ApprovalHandler approvalHandler = ApprovalHandler.denyAll();
        private ApprovalMode approvalMode = ApprovalMode.WAIT;
        private Duration approvalTimeout = DEFAULT_APPROVAL_TIMEOUT;
        private Duration pendingRetryHint = DEFAULT_PENDING_RETRY_HINT;
        private OpenTelemetry openTelemetry = OpenTelemetry.noop();
        private AuditSink auditSink = AuditSink.slf4j();
        private int auditBufferCapacity = DEFAULT_AUDIT_BUFFER;
        private AuditOverflow auditOverflow = AuditOverflow.FAIL_CLOSED;
        private TelemetryOptions telemetryOptions = TelemetryOptions.defaults();

        private Builder() {
        }

        /**
         * Sets where spans and metrics go. Default {@link OpenTelemetry#noop()}: nothing is recorded and the guard
         * allocates nothing for telemetry. Pass your SDK (e.g. from the autoconfigure module) to get a SERVER span per
         * {@code tools/call} and {@code tools/list}, following the MCP semantic conventions.
         *
         * @param openTelemetry the OpenTelemetry instance
         * @return this builder
         */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /**
         * Sets where audit records go. Default {@link AuditSink#slf4j()} (JSON lines on the logger
         * {@code io.mcpguard.audit}); {@link io.mcpguard.audit.JsonLinesAuditSink} writes a signed hash chain;
         * {@code null} turns auditing off.
         *
         * @param sink the sink, or {@code null}
         * @return this builder
         */
        public Builder audit(AuditSink sink) {
            this.auditSink = sink;
            return this;
        }

        /**
         * Sets the audit buffer: how many records may wait for the sink, and what happens when it is full (or the
         * sink is failing). Default {@value McpGuard#DEFAULT_AUDIT_BUFFER} records, {@link AuditOverflow#FAIL_CLOSED}.
         *
         * @param capacity at least 1
         * @param overflow the policy
         * @return this builder
         */
        public Builder auditBuffer(int capacity, AuditOverflow overflow) {
            if (capacity < 1) {
                throw new IllegalArgumentException("audit buffer capacity must be at least 1, got " + capacity);
            }
            this.auditBufferCapacity = capacity;
            this.auditOverflow = Objects.requireNonNull(overflow, "overflow");
            return this;
        }

        /**
         * Sets what telemetry records beyond names and decisions (arguments and results are opt-in, redacted and
         * capped).
         *
         * @param options the options
         * @return this builder
         */
        public Builder telemetryOptions(TelemetryOptions options) {
            this.telemetryOptions = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Sets who decides calls that need approval. Default {@link ApprovalHandler#denyAll()}: such calls never
         * run. Built in: {@link io.mcpguard.approval.ApprovalQueue} (an operator console's back end) and
         * {@link io.mcpguard.approval.ElicitationApprovalHandler} (ask the human at the client).
         *
         * @param handler the approval handler
         * @return this builder
         */
        public Builder approvals(ApprovalHandler handler) {
            this.approvalHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Sets how calls wait for approval: {@link ApprovalMode#WAIT} (default; the call is held) or
         * {@link ApprovalMode#DEFER} (a pending answer at once; the agent retries the identical call).
         *
         * @param mode the mode
         * @return this builder
         */
        public Builder approvalMode(ApprovalMode mode) {
            this.approvalMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Sets how long an approval request stays open: in WAIT mode how long a call is held (then denied); in
         * DEFER mode how long a request waits for a decision, and then how long an approval waits for its call.
         * Default {@link McpGuard#DEFAULT_APPROVAL_TIMEOUT}.
         *
         * @param timeout 1 ms to 1 day
         * @return this builder
         */
        public Builder approvalTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("approvalTimeout must be between 1 ms and 1 day, got " + timeout);
            }
            this.approvalTimeout = timeout;
            return this;
        }

        /**
         * Sets the retry hint given with a pending (DEFER) answer. Default
         * {@link McpGuard#DEFAULT_PENDING_RETRY_HINT}.
         *
         * @param hint not negative
         * @return this builder
         */
        public Builder pendingRetryHint(Duration hint) {
            Objects.requireNonNull(hint, "hint");
            if (hint.isNegative()) {
                throw new IllegalArgumentException("pendingRetryHint must not be negative, got " + hint);
            }
            this.pendingRetryHint = hint;
            return this;
        }

        /**
         * Sets the clock for quotas and circuit breakers. Default: a monotonic clock (wall time at start plus
         * {@link System#nanoTime()}), so that a wall-clock step neither refills nor drains a quota. Tests inject a
         * clock they control.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Adds a listener for limit events (quota, concurrency and breaker refusals, breaker state changes,
         * timeouts).
         *
         * @param listener the listener
         * @return this builder
         */
        public Builder eventListener(GuardEventListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Sets how often a background thread drops the state of idle agents (full quota buckets, counters with
         * nothing in flight). Default {@link McpGuard#DEFAULT_STATE_SWEEP_INTERVAL}; {@code null} turns the
         * background sweep off (then call {@code limits().sweep()} yourself).
         *
         * @param interval the interval, at least 1 ms, or {@code null}
         * @return this builder
         */
        public Builder stateSweepInterval(Duration interval) {
            if (interval != null && interval.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("stateSweepInterval must be at least 1 ms, got " + interval);
            }
            this.stateSweepInterval = interval;
            return this;
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
