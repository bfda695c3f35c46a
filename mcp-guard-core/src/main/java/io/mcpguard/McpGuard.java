package io.mcpguard;

import io.mcpguard.support.LogSafe;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalStore;
import io.mcpguard.approval.InMemoryApprovalStore;
import io.mcpguard.approval.internal.Approvals;
import io.mcpguard.audit.AuditOverflow;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.audit.internal.AuditTrail;
import io.mcpguard.breaker.internal.Breakers;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.pipeline.Catalog;
import io.mcpguard.pipeline.Pipeline;
import io.mcpguard.pipeline.Target;
import io.mcpguard.policy.Primitive;
import io.mcpguard.quota.InMemoryLimitStore;
import io.mcpguard.quota.LimitStore;
import io.mcpguard.quota.internal.Quotas;
import io.mcpguard.sdk.Adapters;
import io.mcpguard.sdk.GuardedAsyncServer;
import io.mcpguard.sdk.GuardedStatelessAsyncServer;
import io.mcpguard.sdk.GuardedStatelessSyncServer;
import io.mcpguard.sdk.GuardedSyncServer;
import io.mcpguard.support.Clocks;
import io.mcpguard.telemetry.TelemetryOptions;
import io.mcpguard.telemetry.internal.GuardTelemetry;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.server.McpAsyncListFilter;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpSyncListFilter;
import io.modelcontextprotocol.spec.McpSchema;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * A zero-trust guard in front of the tools, resources and prompts of an MCP Java SDK server.
 *
 * <p>Every use of a primitive runs through one fixed pipeline: the caller's verified identity is resolved, the
 * immutable {@link Policy} must grant the primitive, a tool's arguments must satisfy its schema, quotas, concurrency
 * limits and the breaker must admit the call, a person must approve it where the policy says so, the audit trail
 * records the decision, and only then does the handler run; its failures come back sanitized. What a caller may not
 * use it does not see, and a call to it is answered exactly as for a name that does not exist.
 *
 * <pre>{@code
 * McpGuard guard = McpGuard.builder().policy(policy).build();
 * McpSyncServer server = guard.install(McpServer.sync(transport).serverInfo("billing", "1.0.0"))
 *         .tools(tools).resources(resources).prompts(prompts)
 *         .build();
 * server.addTool(guard.wrap(laterTool));   // primitives added at run time are guarded too
 * }</pre>
 *
 * <p>Over HTTP, put the transport gate ({@link io.mcpguard.transport.McpGuardHttp}) in front of the SDK transport:
 * it authenticates before reading a body, binds sessions to the identity that opened them, answers the lists and
 * every name the caller may not see, and keeps SDK internals out of error bodies. A guard is thread-safe; its policy
 * cannot change.
 */
public final class McpGuard implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(McpGuard.class);

    /** How often idle quota and concurrency state is dropped, unless set otherwise. */
    public static final Duration DEFAULT_STATE_SWEEP_INTERVAL = Duration.ofMinutes(1);

    /** How many audit records may wait for the sink unless set otherwise. */
    public static final int DEFAULT_AUDIT_BUFFER = 8192;

    /** The longest a written audit record waits for the sink's flush unless set otherwise: what a crash can lose. */
    public static final Duration DEFAULT_AUDIT_FLUSH_INTERVAL = Duration.ofMillis(50);

    /** How long an approval request stays open unless set otherwise. */
    public static final Duration DEFAULT_APPROVAL_TIMEOUT = Duration.ofMinutes(5);

    /** The retry hint on a pending (deferred) approval unless set otherwise. */
    public static final Duration DEFAULT_PENDING_RETRY_HINT = Duration.ofSeconds(10);

    /** How many calls one agent may have waiting for approval at once (WAIT mode), unless configured otherwise. */
    public static final int DEFAULT_MAX_WAITING_PER_AGENT = 4;

    private final Policy policy;
    private final AgentResolver resolver;
    private final AuditTrail audit;
    private final Quotas quotas;
    private final Pipeline pipeline;
    private final Adapters adapters;
    private final ScheduledExecutorService sweeper;

    private McpGuard(Builder builder) {
        this.policy = builder.policy;
        this.resolver = builder.agentResolver;
        this.audit = builder.auditSink == null ? null : new AuditTrail(builder.auditSink,
                builder.auditBufferCapacity, builder.auditOverflow, builder.policy.fingerprint(),
                builder.auditFlushInterval, java.time.Clock.systemUTC());
        List<GuardEventListener> listeners = new ArrayList<>(builder.listeners);
        if (audit != null) {
            listeners.add(audit);
        }
        GuardEventListener events = GuardEventListener.all(listeners);
        Clock clock = builder.clock;
        this.quotas = new Quotas(policy, builder.limitStore != null ? builder.limitStore
                : InMemoryLimitStore.withClock(clock), events);
        Breakers breakers = new Breakers(policy, clock, events);
        Approvals approvals = new Approvals(new Approvals.Settings(policy, builder.approvalHandler,
                builder.approvalStore != null ? builder.approvalStore : InMemoryApprovalStore.create(),
                builder.approvalMode, builder.approvalTimeout, builder.pendingRetryHint, builder.maxWaitingPerAgent,
                clock, events));
        GuardTelemetry telemetry = new GuardTelemetry(builder.openTelemetry, builder.telemetryOptions, policy,
                audit == null ? null : (method, agent, listed, hidden, traceId, spanId) -> audit.record(
                        new AuditRecord.Listed(new AuditRecord.Context(clock.instant(),
                                agent == null ? null : agent.agentId(), agent == null ? null : agent.credentialId(),
                                agent == null ? null : agent.runId().orElse(null), method, null, null,
                                policy.fingerprint(), traceId, spanId), listed, hidden)));
        this.pipeline = new Pipeline(new Pipeline.Parts(policy, resolver, builder.jsonSchemaValidator, quotas,
                breakers, approvals, telemetry, audit, clock));
        this.adapters = new Adapters(pipeline);
        if (builder.stateSweepInterval != null) {
            sweeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "mcp-guard-sweeper");
                thread.setDaemon(true);
                return thread;
            });
            long millis = Math.max(1, builder.stateSweepInterval.toMillis());
            sweeper.scheduleWithFixedDelay(this::sweepQuietly, millis, millis, TimeUnit.MILLISECONDS);
        } else {
            sweeper = null;
        }
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
     * Returns the pipeline every guarded request passes, for the transport gate and other adapters. Unstable API.
     *
     * @return the pipeline
     */
    public Pipeline pipeline() {
        return pipeline;
    }

    /**
     * Returns a tool's circuit breaker, for metrics and operations (the guard drives it; do not record on it).
     *
     * @param tool the tool's name
     * @return its breaker, or empty if the tool is not guarded or no breaker rule selects it
     */
    public Optional<CircuitBreaker> circuitBreaker(String tool) {
        Target target = pipeline.catalog().tool(tool);
        return target == null ? Optional.empty() : Optional.ofNullable(pipeline.breakerOf(target));
    }

    /**
     * Returns how many agents' own breakers a tool keeps (only agents with recent failures). Unstable API, for tests
     * and operations.
     *
     * @param tool the tool's name
     * @return the count, 0 for a tool without breakers
     */
    public int trackedAgentBreakers(String tool) {
        Target target = pipeline.catalog().tool(tool);
        return target == null ? 0 : target.breakerState().trackedAgents();
    }

    /**
     * Returns how many quota buckets and concurrency counters are held. Unstable API, for tests and operations.
     *
     * @return the number of tracked entries
     */
    public int trackedLimitEntries() {
        return quotas.trackedEntries();
    }

    /**
     * Drops idle state now (full quota buckets, idle counters, expired approvals), as the background sweep does.
     *
     * @return how many quota and concurrency entries were dropped
     */
    public int sweep() {
        return pipeline.sweep();
    }

    private void sweepQuietly() {
        try {
            int dropped = sweep();
            if (dropped > 0) {
                log.debug("Dropped {} idle quota and concurrency entries", dropped);
            }
        } catch (RuntimeException e) {
            log.warn("Sweeping idle limit state failed", LogSafe.throwable(e));
        }
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
     * Stops the guard: its background threads stop, and the audit trail writes everything it buffered and closes its
     * sink (a JSON Lines sink signs its close checkpoint). Close the guard after the server, so no call arrives
     * during it.
     */
    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        pipeline.close();
        if (audit != null) {
            audit.close();
        }
    }

    // ---- install: one per SDK server builder shape ----

    /**
     * Guards a synchronous server under construction: installs the per-caller {@code tools/list} filter, turns the
     * SDK's own argument validation off (the guard validates after the scope check, which the SDK's check would
     * precede, revealing hidden tools to a caller sending bad arguments), and returns a builder through which every
     * primitive added is guarded.
     *
     * @param spec the server builder, e.g. {@code McpServer.sync(transport)}
     * @return the guarded builder
     */
    public GuardedSyncServer install(McpServer.SyncSpecification<?> spec) {
        spec.validateToolInputs(false);
        spec.addToolFilter(syncToolFilter());
        return new GuardedSyncServer(spec, adapters, sdkRegistration());
    }

    /**
     * Guards a synchronous server and adds the tools; see {@link #install(McpServer.SyncSpecification)}.
     *
     * @param spec the server builder
     * @param tools the tools to serve
     * @return the guarded builder
     */
    public GuardedSyncServer install(McpServer.SyncSpecification<?> spec,
            List<McpServerFeatures.SyncToolSpecification> tools) {
        return install(spec).tools(tools);
    }

    /**
     * Guards an asynchronous server; see {@link #install(McpServer.SyncSpecification)}.
     *
     * @param spec the server builder, e.g. {@code McpServer.async(transport)}
     * @return the guarded builder
     */
    public GuardedAsyncServer install(McpServer.AsyncSpecification<?> spec) {
        spec.validateToolInputs(false);
        spec.addToolFilter(asyncToolFilter());
        return new GuardedAsyncServer(spec, adapters, sdkRegistration());
    }

    /**
     * Guards an asynchronous server and adds the tools.
     *
     * @param spec the server builder
     * @param tools the tools to serve
     * @return the guarded builder
     */
    public GuardedAsyncServer install(McpServer.AsyncSpecification<?> spec,
            List<McpServerFeatures.AsyncToolSpecification> tools) {
        return install(spec).tools(tools);
    }

    /**
     * Guards a stateless synchronous server; see {@link #install(McpServer.SyncSpecification)}.
     *
     * @param spec the server builder, e.g. {@code McpServer.sync(statelessTransport)}
     * @return the guarded builder
     */
    public GuardedStatelessSyncServer install(McpServer.StatelessSyncSpecification spec) {
        spec.validateToolInputs(false);
        spec.addToolFilter(syncToolFilter());
        return new GuardedStatelessSyncServer(spec, adapters, sdkRegistration());
    }

    /**
     * Guards a stateless synchronous server and adds the tools.
     *
     * @param spec the server builder
     * @param tools the tools to serve
     * @return the guarded builder
     */
    public GuardedStatelessSyncServer install(McpServer.StatelessSyncSpecification spec,
            List<McpStatelessServerFeatures.SyncToolSpecification> tools) {
        return install(spec).tools(tools);
    }

    /**
     * Guards a stateless asynchronous server; see {@link #install(McpServer.SyncSpecification)}.
     *
     * @param spec the server builder, e.g. {@code McpServer.async(statelessTransport)}
     * @return the guarded builder
     */
    public GuardedStatelessAsyncServer install(McpServer.StatelessAsyncSpecification spec) {
        spec.validateToolInputs(false);
        spec.addToolFilter(asyncToolFilter());
        return new GuardedStatelessAsyncServer(spec, adapters, sdkRegistration());
    }

    /**
     * Guards a stateless asynchronous server and adds the tools.
     *
     * @param spec the server builder
     * @param tools the tools to serve
     * @return the guarded builder
     */
    public GuardedStatelessAsyncServer install(McpServer.StatelessAsyncSpecification spec,
            List<McpStatelessServerFeatures.AsyncToolSpecification> tools) {
        return install(spec).tools(tools);
    }

    /**
     * Which guarded definitions go to the SDK server: all of them, except that a server whose one caller is known in
     * advance ({@link AgentResolver#fixed}, stdio) gets only what that caller may see, so that a hidden primitive is
     * one the SDK itself does not know.
     */
    private Predicate<Object> sdkRegistration() {
        if (!(resolver instanceof AgentResolver.Fixed fixed)) {
            return definition -> true;
        }
        AgentIdentity agent = fixed.identity();
        return definition -> {
            Catalog catalog = pipeline.catalog();
            Target target;
            if (definition instanceof McpSchema.Tool tool) {
                target = catalog.tool(tool.name());
            } else if (definition instanceof McpSchema.Resource resource) {
                target = catalog.resource(resource.uri());
            } else if (definition instanceof McpSchema.ResourceTemplate template) {
                target = catalog.template(template.uriTemplate());
            } else if (definition instanceof McpSchema.Prompt prompt) {
                target = catalog.prompt(prompt.name());
            } else {
                target = null;
            }
            return catalog.view(agent).allows(target);
        };
    }

    // ---- wrap: one per SDK feature specification ----

    /**
     * Returns a plain SDK tool specification whose handler runs behind the guard, e.g. for
     * {@code server.addTool(guard.wrap(spec))} at run time. The server must have been built through {@link #install}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.SyncToolSpecification wrap(McpServerFeatures.SyncToolSpecification spec) {
        return adapters.tool(spec);
    }

    /**
     * Guards an asynchronous tool; see {@link #wrap(McpServerFeatures.SyncToolSpecification)}.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.AsyncToolSpecification wrap(McpServerFeatures.AsyncToolSpecification spec) {
        return adapters.tool(spec);
    }

    /**
     * Guards a stateless synchronous tool.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.SyncToolSpecification wrap(McpStatelessServerFeatures.SyncToolSpecification spec) {
        return adapters.tool(spec);
    }

    /**
     * Guards a stateless asynchronous tool.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.AsyncToolSpecification wrap(
            McpStatelessServerFeatures.AsyncToolSpecification spec) {
        return adapters.tool(spec);
    }

    /**
     * Guards a synchronous static resource, e.g. for {@code server.addResource(guard.wrap(spec))}.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpServerFeatures.SyncResourceSpecification wrap(McpServerFeatures.SyncResourceSpecification spec) {
        return adapters.resource(spec);
    }

    /**
     * Guards an asynchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpServerFeatures.AsyncResourceSpecification wrap(McpServerFeatures.AsyncResourceSpecification spec) {
        return adapters.resource(spec);
    }

    /**
     * Guards a stateless synchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpStatelessServerFeatures.SyncResourceSpecification wrap(
            McpStatelessServerFeatures.SyncResourceSpecification spec) {
        return adapters.resource(spec);
    }

    /**
     * Guards a stateless asynchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpStatelessServerFeatures.AsyncResourceSpecification wrap(
            McpStatelessServerFeatures.AsyncResourceSpecification spec) {
        return adapters.resource(spec);
    }

    /**
     * Guards a synchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpServerFeatures.SyncResourceTemplateSpecification wrap(
            McpServerFeatures.SyncResourceTemplateSpecification spec) {
        return adapters.template(spec);
    }

    /**
     * Guards an asynchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpServerFeatures.AsyncResourceTemplateSpecification wrap(
            McpServerFeatures.AsyncResourceTemplateSpecification spec) {
        return adapters.template(spec);
    }

    /**
     * Guards a stateless synchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpStatelessServerFeatures.SyncResourceTemplateSpecification wrap(
            McpStatelessServerFeatures.SyncResourceTemplateSpecification spec) {
        return adapters.template(spec);
    }

    /**
     * Guards a stateless asynchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpStatelessServerFeatures.AsyncResourceTemplateSpecification wrap(
            McpStatelessServerFeatures.AsyncResourceTemplateSpecification spec) {
        return adapters.template(spec);
    }

    /**
     * Guards a synchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpServerFeatures.SyncPromptSpecification wrap(McpServerFeatures.SyncPromptSpecification spec) {
        return adapters.prompt(spec);
    }

    /**
     * Guards an asynchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpServerFeatures.AsyncPromptSpecification wrap(McpServerFeatures.AsyncPromptSpecification spec) {
        return adapters.prompt(spec);
    }

    /**
     * Guards a stateless synchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpStatelessServerFeatures.SyncPromptSpecification wrap(
            McpStatelessServerFeatures.SyncPromptSpecification spec) {
        return adapters.prompt(spec);
    }

    /**
     * Guards a stateless asynchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpStatelessServerFeatures.AsyncPromptSpecification wrap(
            McpStatelessServerFeatures.AsyncPromptSpecification spec) {
        return adapters.prompt(spec);
    }

    /**
     * Guards a synchronous completion: it answers only callers who may see the prompt or template it refers to.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpServerFeatures.SyncCompletionSpecification wrap(McpServerFeatures.SyncCompletionSpecification spec) {
        return adapters.completion(spec);
    }

    /**
     * Guards an asynchronous completion.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpServerFeatures.AsyncCompletionSpecification wrap(McpServerFeatures.AsyncCompletionSpecification spec) {
        return adapters.completion(spec);
    }

    /**
     * Guards a stateless synchronous completion.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpStatelessServerFeatures.SyncCompletionSpecification wrap(
            McpStatelessServerFeatures.SyncCompletionSpecification spec) {
        return adapters.completion(spec);
    }

    /**
     * Guards a stateless asynchronous completion.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpStatelessServerFeatures.AsyncCompletionSpecification wrap(
            McpStatelessServerFeatures.AsyncCompletionSpecification spec) {
        return adapters.completion(spec);
    }

    /**
     * Forgets a primitive removed from the server at run time, so that it is no longer listed by the transport gate.
     *
     * @param kind its kind
     * @param name its name, URI or template text
     * @return whether the guard served it
     */
    public boolean forget(Primitive.Kind kind, String name) {
        return pipeline.unregister(kind, name);
    }

    // ---- list filters ----

    /**
     * The per-caller {@code tools/list} filter for synchronous and stateless synchronous servers. It only hides;
     * the wrapped handlers are what protect.
     *
     * @return the filter
     */
    public McpSyncListFilter<McpSchema.Tool> syncToolFilter() {
        return pipeline::listed;
    }

    /**
     * The per-caller {@code tools/list} filter for asynchronous servers. It does not block.
     *
     * @return the filter
     */
    public McpAsyncListFilter<McpSchema.Tool> asyncToolFilter() {
        return (context, tool) -> Mono.just(pipeline.listed(context, tool));
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
        private ApprovalMode approvalMode = ApprovalMode.DEFER;
        private ApprovalStore approvalStore;
        private LimitStore limitStore;
        private int maxWaitingPerAgent = DEFAULT_MAX_WAITING_PER_AGENT;
        private Duration approvalTimeout = DEFAULT_APPROVAL_TIMEOUT;
        private Duration pendingRetryHint = DEFAULT_PENDING_RETRY_HINT;
        private OpenTelemetry openTelemetry = OpenTelemetry.noop();
        private AuditSink auditSink = AuditSink.slf4j();
        private int auditBufferCapacity = DEFAULT_AUDIT_BUFFER;
        private AuditOverflow auditOverflow = AuditOverflow.REFUSE_WRITES;
        private Duration auditFlushInterval = DEFAULT_AUDIT_FLUSH_INTERVAL;
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
         * sink is failing). Default {@value McpGuard#DEFAULT_AUDIT_BUFFER} records, {@link AuditOverflow#REFUSE_WRITES}
         * (calls that can change something are refused, read-only ones served with a gap record).
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
         * Sets the longest a written audit record waits before the sink flushes it to storage (a JSON Lines sink
         * writes and forces the file): what a crash (even {@code kill -9}) can lose. The trail also flushes whenever
         * its buffer runs empty. Default {@link McpGuard#DEFAULT_AUDIT_FLUSH_INTERVAL}.
         *
         * @param interval 1 ms to 10 s
         * @return this builder
         */
        public Builder auditFlushInterval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofSeconds(10)) > 0) {
                throw new IllegalArgumentException("auditFlushInterval must be between 1 ms and 10 s, got " + interval);
            }
            this.auditFlushInterval = interval;
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
         * Sets who decides calls that need a person's approval: someone outside the calling client. Default
         * {@link ApprovalHandler#denyAll()}: such calls never run. Built in: {@link io.mcpguard.approval.ApprovalQueue}
         * (the back end of an operator console or chat-ops bot). The client user's confirmation (elicitation) is not a
         * handler: rules opt into it with {@link io.mcpguard.approval.ApprovalRule#confirmedByClientUser()}.
         *
         * @param handler the approval handler
         * @return this builder
         */
        public Builder approvals(ApprovalHandler handler) {
            this.approvalHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Sets how calls wait for a person's approval: {@link ApprovalMode#DEFER} (default; a pending answer at once,
         * the agent retries the identical call from any session and it runs once approved) or
         * {@link ApprovalMode#WAIT} (the call is held until the decision; over HTTP it waits in the transport gate,
         * holding no thread, slot or permit, and never runs if the client cancels or goes away).
         *
         * @param mode the mode
         * @return this builder
         */
        public Builder approvalMode(ApprovalMode mode) {
            this.approvalMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Sets where approvals live. Default: an {@link InMemoryApprovalStore} of this guard. Replicas that must
         * honour each other's approvals share a store.
         *
         * @param store the store
         * @return this builder
         */
        public Builder approvalStore(ApprovalStore store) {
            this.approvalStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * Sets where quota and budget counters live. Default: an {@link InMemoryLimitStore} on this guard's clock.
         * Replicas that must share limits share a store; its clock then decides.
         *
         * @param store the store
         * @return this builder
         */
        public Builder limitStore(LimitStore store) {
            this.limitStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * Sets how many calls one agent may have waiting for approval at once in WAIT mode; more are refused
         * ({@code approval_wait_limited}). Default {@value McpGuard#DEFAULT_MAX_WAITING_PER_AGENT}.
         *
         * @param max 1 to 1000
         * @return this builder
         */
        public Builder maxWaitingPerAgent(int max) {
            if (max < 1 || max > 1000) {
                throw new IllegalArgumentException("maxWaitingPerAgent must be between 1 and 1000, got " + max);
            }
            this.maxWaitingPerAgent = max;
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
