package io.mcpguard.internal;

import io.mcpguard.Decision;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.util.ToolInputValidator;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * The guard chain, written once: {@code span -> identity -> scope -> arguments -> quota -> concurrency -> breaker ->
 * approval -> handler -> outcome}. Everything up to the breaker is plain synchronous code shared by both executors;
 * {@link #callSync} and {@link #callAsync} differ only in how they wait for an approval and run the handler. Unstable
 * API.
 *
 * <p>Fails closed: a resolver or matcher that throws denies; an unknown agent sees and calls nothing.
 */
public final class GuardChain {

    private static final Logger log = LoggerFactory.getLogger(GuardChain.class);

    private final Policy policy;
    private final AgentResolver resolver;
    private final JsonSchemaValidator validator;
    private final Limits limits;
    private final Approvals approvals;
    private final GuardTelemetry telemetry;
    private final AuditTrail audit;
    private final Map<String, McpSchema.Tool> guardedTools = new ConcurrentHashMap<>();
    private final Set<String> warnedUnguarded = ConcurrentHashMap.newKeySet();

    /**
     * Creates a chain.
     *
     * @param policy the immutable policy
     * @param resolver the identity resolver
     * @param validator the JSON schema validator for arguments
     * @param limits the runtime state of the policy's limits
     * @param approvals the approval gate
     * @param telemetry spans and metrics
     * @param audit the audit trail, or {@code null} for none
     */
    public GuardChain(Policy policy, AgentResolver resolver, JsonSchemaValidator validator, Limits limits,
            Approvals approvals, GuardTelemetry telemetry, AuditTrail audit) {
        this.audit = audit;
        this.policy = Objects.requireNonNull(policy, "policy");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.validator = Objects.requireNonNull(validator, "validator");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.approvals = Objects.requireNonNull(approvals, "approvals");
        this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
    }

    /**
     * A tool served through the guard, with what the chain needs to know about it.
     *
     * @param tool the tool's definition
     * @param limits its limits
     * @param approval its reversibility and approval rules
     */
    public record GuardedTool(McpSchema.Tool tool, Limits.ToolLimits limits, Approvals.ToolApproval approval) {
    }

    /**
     * Records that a tool is served through the guard (only such tools are ever listed) and resolves its limits and
     * approval rules.
     *
     * @param tool the tool's definition
     * @return the guarded tool
     */
    public GuardedTool register(McpSchema.Tool tool) {
        guardedTools.put(tool.name(), tool);
        return new GuardedTool(tool, limits.forTool(tool), approvals.forTool(tool));
    }

    // ---- tools/list ----

    /**
     * The {@code tools/list} decision: listed only if guarded, the caller is known, and the policy grants it.
     *
     * @param context the request's transport context
     * @param tool the tool
     * @return whether the caller sees the tool
     */
    public boolean isVisible(McpTransportContext context, McpSchema.Tool tool) {
        if (!guardedTools.containsKey(tool.name())) {
            if (warnedUnguarded.add(tool.name())) {
                log.warn("Tool '{}' was registered without mcp-guard: it is hidden from tools/list, but the SDK "
                        + "still dispatches calls to it unguarded. Register it through McpGuard.install or wrap.",
                        tool.name());
            }
            return false;
        }
        AgentIdentity agent = resolve(context);
        boolean visible = agent != null && permits(agent, tool);
        telemetry.listDecision(context, agent, tool.name(), visible, guardedTools.size());
        return visible;
    }

    // ---- calls the SDK answers itself ----

    /** Unknown names longer than this are cut in spans and audit records, so probes cannot bloat the trail. */
    static final int MAX_RECORDED_NAME = 200;

    /**
     * Returns whether the guard serves a tool of this name.
     *
     * @param name the tool name
     * @return true if registered through the guard
     */
    public boolean serves(String name) {
        return guardedTools.containsKey(name);
    }

    /**
     * Records a {@code tools/call} for a name no tool has, which the SDK answers itself with its unknown-tool error:
     * a span, the decision metrics and an audit record, so that probing for tools shows up.
     *
     * @param context the request's transport context
     * @param call the call as sent
     */
    public void recordUnknownTool(McpTransportContext context, CallToolRequest call) {
        CallToolRequest request = call.name().length() <= MAX_RECORDED_NAME ? call : CallToolRequest.builder()
                .name(call.name().substring(0, MAX_RECORDED_NAME) + "...").arguments(call.arguments())
                .meta(call.meta()).build();
        GuardTelemetry.Observation obs = telemetry.startCall(context, null, request.name(), request);
        AgentIdentity agent = resolve(context);
        if (agent != null) {
            obs.agent(agent, "unknown");
        }
        Decision.Deny deny = new Decision.Deny(ReasonCode.UNKNOWN_TOOL, Decision.Step.DISPATCH,
                Refusals.UNKNOWN_TOOL_MESSAGE);
        obs.refused(deny);
        if (audit != null) {
            new CallAudit(agent, request.name(), request, obs).decided(deny, null);
        }
        obs.end(Refusals.unknownTool(request.name()));
    }

    // ---- the shared steps: identity, scope, arguments, limits ----

    /** What the shared steps decided: a refusal (visible or hidden), or a permit to go on. */
    private record Admitted(AgentIdentity agent, Limits.Permit permit, Decision.Deny refusal) {
    }

    private Admitted admit(McpTransportContext context, GuardedTool guarded, CallToolRequest request,
            GuardTelemetry.Observation obs) {
        McpSchema.Tool tool = guarded.tool();
        AgentIdentity agent = resolve(context);
        if (agent == null) {
            return refused(null, new Decision.Deny(ReasonCode.UNKNOWN_AGENT, Decision.Step.IDENTITY,
                    Refusals.UNKNOWN_TOOL_MESSAGE), obs);
        }
        obs.agent(agent, guarded.approval().reversibility().code());
        if (!permits(agent, tool)) {
            return refused(agent, new Decision.Deny(ReasonCode.OUT_OF_SCOPE, Decision.Step.SCOPE,
                    Refusals.UNKNOWN_TOOL_MESSAGE), obs);
        }
        String invalid = validateArguments(tool, request);
        if (invalid != null) {
            return refused(agent, new Decision.Deny(ReasonCode.INVALID_ARGUMENTS, Decision.Step.ARGUMENTS, invalid),
                    obs);
        }
        Object admission = guarded.limits().admit(agent);
        if (admission instanceof Decision.Deny deny) {
            return refused(agent, deny, obs);
        }
        Limits.Permit permit = (Limits.Permit) admission;
        if (permit.quotaRemaining() >= 0) {
            obs.quotaRemaining(permit.quotaRemaining());
        }
        return new Admitted(agent, permit, null);
    }

    private static Admitted refused(AgentIdentity agent, Decision.Deny deny, GuardTelemetry.Observation obs) {
        obs.refused(deny);
        return new Admitted(agent, null, deny);
    }

    // ---- synchronous executor ----

    /**
     * Guards one call to a synchronous handler.
     *
     * @param context the transport context
     * @param sessionId the MCP session id, or {@code null} (stateless)
     * @param guarded the tool and its limits
     * @param request the call
     * @param handler the tool's own handler
     * @param elicitor the channel to the human at the client, or {@code null} (stateless)
     * @return the handler's result, or a refusal result
     * @throws McpError the unknown-tool error, for hidden tools and unknown agents
     */
    public CallToolResult callSync(McpTransportContext context, String sessionId, GuardedTool guarded,
            CallToolRequest request, Function<CallToolRequest, CallToolResult> handler,
            ApprovalRequest.Elicitor elicitor) {
        GuardTelemetry.Observation obs = telemetry.startCall(context, sessionId, guarded.tool().name(), request);
        try (Scope scope = obs.makeCurrent()) {
            CallToolResult result = callSync(guarded, request, handler, elicitor, context, obs);
            obs.end(result);
            return result;
        } catch (McpError hidden) {
            obs.end(hidden);
            throw hidden;
        }
    }

    private CallToolResult callSync(GuardedTool guarded, CallToolRequest request,
            Function<CallToolRequest, CallToolResult> handler, ApprovalRequest.Elicitor elicitor,
            McpTransportContext context, GuardTelemetry.Observation obs) {
        McpSchema.Tool tool = guarded.tool();
        Admitted admitted = admit(context, guarded, request, obs);
        CallAudit record = audit == null ? null : new CallAudit(admitted.agent(), tool.name(), request, obs);
        if (admitted.refusal() != null) {
            if (record != null) {
                record.decided(admitted.refusal(), null);
            }
            return refuse(admitted.refusal(), tool, request);
        }
        AgentIdentity agent = admitted.agent();
        Limits.Permit permit = admitted.permit();
        String approvalId = null;
        String ask = approvals.reasonToAsk(guarded.approval(), request.arguments());
        if (ask != null) {
            Approvals.Outcome outcome;
            try {
                outcome = approvals.gateSync(agent, tool, request.arguments(), guarded.approval(), ask, elicitor,
                        obs.traceId());
            } catch (RuntimeException e) {
                outcome = approvalFailed(tool, e);
            }
            CallToolResult refused = approvalRefusal(outcome, permit, obs, record);
            if (refused != null) {
                return refused;
            }
            approvalId = outcome.approvalId();
        }
        if (record != null && !record.beforeRun(approvalId)) {
            permit.cancel();
            return auditUnavailable(tool, obs);
        }
        CallToolResult result = runSync(tool, agent, request, handler, permit, obs);
        if (record != null) {
            record.completed(result);
        }
        return result;
    }

    private CallToolResult runSync(McpSchema.Tool tool, AgentIdentity agent, CallToolRequest request,
            Function<CallToolRequest, CallToolResult> handler, Limits.Permit permit,
            GuardTelemetry.Observation obs) {
        Duration timeout = permit.timeout();
        if (timeout != null) {
            return callWithTimeout(tool, agent, request, handler, permit, timeout, obs);
        }
        CallToolResult result;
        try {
            result = handler.apply(request);
        } catch (Throwable failure) {
            permit.failure(failure);
            permit.release();
            return toolFailure(tool, agent, failure, obs);
        }
        if (result == null) {
            permit.failure(null);
            permit.release();
            return toolFailure(tool, agent, null, obs);
        }
        permit.success();
        permit.release();
        return result;
    }

    private CallToolResult callWithTimeout(McpSchema.Tool tool, AgentIdentity agent, CallToolRequest request,
            Function<CallToolRequest, CallToolResult> handler, Limits.Permit permit, Duration timeout,
            GuardTelemetry.Observation obs) {
        Future<CallToolResult> future;
        try {
            // The slots are freed when the handler really ends, not at the timeout: a handler that ignores
            // interruption still counts against concurrency limits while it runs.
            future = limits.toolExecutor().submit(obs.context().wrap(() -> {
                try {
                    return handler.apply(request);
                } finally {
                    permit.release();
                }
            }));
        } catch (RejectedExecutionException e) {
            permit.cancel();
            return toolFailure(tool, agent, e, obs);
        }
        try {
            CallToolResult result = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (result == null) {
                permit.failure(null);
                return toolFailure(tool, agent, null, obs);
            }
            permit.success();
            return result;
        } catch (TimeoutException e) {
            permit.failure(e);
            future.cancel(true);
            permit.timedOut(agent.agentId());
            return timedOut(tool, agent, timeout, obs);
        } catch (ExecutionException e) {
            permit.failure(e.getCause());
            return toolFailure(tool, agent, e.getCause(), obs);
        } catch (InterruptedException e) {
            permit.abandon();
            future.cancel(true);
            Thread.currentThread().interrupt();
            return toolFailure(tool, agent, e, obs);
        }
    }

    // ---- asynchronous executor ----

    /**
     * Guards one call to an asynchronous handler.
     *
     * @param context the transport context
     * @param sessionId the MCP session id, or {@code null} (stateless)
     * @param guarded the tool and its limits
     * @param request the call
     * @param handler the tool's own handler
     * @param elicitor the channel to the human at the client, or {@code null} (stateless)
     * @return the handler's result, a refusal result, or the unknown-tool error
     */
    public Mono<CallToolResult> callAsync(McpTransportContext context, String sessionId, GuardedTool guarded,
            CallToolRequest request, Function<CallToolRequest, Mono<CallToolResult>> handler,
            ApprovalRequest.Elicitor elicitor) {
        GuardTelemetry.Observation obs = telemetry.startCall(context, sessionId, guarded.tool().name(), request);
        Mono<CallToolResult> call;
        try (Scope scope = obs.makeCurrent()) {
            call = callAsync(guarded, request, handler, elicitor, context, obs);
        }
        return call.doOnNext(obs::end).doOnError(McpError.class, obs::end);
    }

    private Mono<CallToolResult> callAsync(GuardedTool guarded, CallToolRequest request,
            Function<CallToolRequest, Mono<CallToolResult>> handler, ApprovalRequest.Elicitor elicitor,
            McpTransportContext context, GuardTelemetry.Observation obs) {
        McpSchema.Tool tool = guarded.tool();
        Admitted admitted = admit(context, guarded, request, obs);
        CallAudit record = audit == null ? null : new CallAudit(admitted.agent(), tool.name(), request, obs);
        if (admitted.refusal() != null) {
            Decision.Deny deny = admitted.refusal();
            if (record != null) {
                record.decided(deny, null);
            }
            if (Refusals.isHidden(deny)) {
                logHidden(deny, tool);
                return Mono.error(Refusals.unknownTool(request.name()));
            }
            return Mono.just(refuse(deny, tool, request));
        }
        AgentIdentity agent = admitted.agent();
        Limits.Permit permit = admitted.permit();
        String ask = approvals.reasonToAsk(guarded.approval(), request.arguments());
        if (ask == null) {
            return runAudited(tool, agent, request, handler, permit, obs, record, null);
        }
        Mono<Approvals.Outcome> gate;
        try {
            gate = approvals.gateAsync(agent, tool, request.arguments(), guarded.approval(), ask, elicitor,
                    obs.traceId());
        } catch (RuntimeException e) {
            gate = Mono.just(approvalFailed(tool, e));
        }
        AtomicBoolean started = new AtomicBoolean();
        return gate.flatMap(outcome -> {
            CallToolResult refused = approvalRefusal(outcome, permit, obs, record);
            if (refused != null) {
                return Mono.just(refused);
            }
            started.set(true);
            return runAudited(tool, agent, request, handler, permit, obs, record, outcome.approvalId());
        }).doOnCancel(() -> {
            if (!started.get()) {
                permit.cancel(); // the caller went away while waiting for the approver
            }
        });
    }

    private Mono<CallToolResult> runAudited(McpSchema.Tool tool, AgentIdentity agent, CallToolRequest request,
            Function<CallToolRequest, Mono<CallToolResult>> handler, Limits.Permit permit,
            GuardTelemetry.Observation obs, CallAudit record, String approvalId) {
        if (record == null) {
            return runAsync(tool, agent, request, handler, permit, obs);
        }
        if (!record.beforeRun(approvalId)) {
            permit.cancel();
            return Mono.just(auditUnavailable(tool, obs));
        }
        return runAsync(tool, agent, request, handler, permit, obs).doOnNext(record::completed);
    }

    private Mono<CallToolResult> runAsync(McpSchema.Tool tool, AgentIdentity agent, CallToolRequest request,
            Function<CallToolRequest, Mono<CallToolResult>> handler, Limits.Permit permit,
            GuardTelemetry.Observation obs) {
        Mono<CallToolResult> call = Mono.defer(() -> {
            try (Scope scope = obs.makeCurrent()) {
                return handler.apply(request);
            }
        });
        Duration timeout = permit.timeout();
        if (timeout != null) {
            call = call.timeout(timeout, Mono.fromSupplier(() -> {
                permit.failure(new TimeoutException("timed out after " + timeout));
                permit.timedOut(agent.agentId());
                return timedOut(tool, agent, timeout, obs);
            }));
        }
        return call
                .doOnNext(result -> permit.success())
                .switchIfEmpty(Mono.fromSupplier(() -> {
                    permit.failure(null);
                    return toolFailure(tool, agent, null, obs);
                }))
                .onErrorResume(failure -> {
                    permit.failure(failure);
                    return Mono.just(toolFailure(tool, agent, failure, obs));
                })
                // The handler is done (or cancelled by the timeout) once an answer exists: free the slots before the
                // answer reaches the agent, which may call again at once.
                .doOnNext(result -> permit.release())
                .doFinally(signal -> {
                    if (signal == SignalType.CANCEL) {
                        permit.abandon();
                    }
                    permit.release();
                });
    }

    // ---- audit ----

    private CallToolResult auditUnavailable(McpSchema.Tool tool, GuardTelemetry.Observation obs) {
        Decision.Deny deny = new Decision.Deny(ReasonCode.AUDIT_UNAVAILABLE, Decision.Step.AUDIT,
                "Tool '" + tool.name() + "' cannot be called right now: the audit trail cannot record the call.",
                Duration.ofSeconds(1));
        obs.refused(deny);
        return Refusals.result(deny);
    }

    /** The audit records of one call: its decision before it runs, its outcome after. */
    private final class CallAudit {

        private final AgentIdentity agent;
        private final String tool;
        private final String argumentsSha256;
        private final GuardTelemetry.Observation obs;
        private long startNanos;

        CallAudit(AgentIdentity agent, String tool, CallToolRequest request, GuardTelemetry.Observation obs) {
            this.agent = agent;
            this.tool = tool;
            this.obs = obs;
            String hash;
            try {
                hash = CanonicalJson.sha256(CanonicalJson.of(request.arguments() == null ? Map.of()
                        : request.arguments()));
            } catch (RuntimeException e) {
                hash = "unhashable";
            }
            this.argumentsSha256 = hash;
        }

        private io.mcpguard.audit.AuditRecord.Context context() {
            return new io.mcpguard.audit.AuditRecord.Context(limits.now(), agent == null ? null : agent.agentId(),
                    agent == null ? null : agent.credentialId(), agent == null ? null : agent.runId().orElse(null),
                    tool, argumentsSha256, policy.fingerprint(), obs.traceId(), obs.spanId());
        }

        void decided(Decision.Deny deny, String approvalId) {
            String decision = deny.reason() == ReasonCode.APPROVAL_PENDING ? "pending" : "deny";
            audit.record(new io.mcpguard.audit.AuditRecord.CallDecided(context(), decision, deny.reason().code(),
                    deny.step().code(), approvalId));
        }

        boolean beforeRun(String approvalId) {
            startNanos = System.nanoTime();
            var context = context();
            return audit.recordBeforeRun(
                    new io.mcpguard.audit.AuditRecord.CallDecided(context, "allow", null, null, approvalId),
                    new io.mcpguard.audit.AuditRecord.CallDecided(context, "deny",
                            ReasonCode.AUDIT_UNAVAILABLE.code(), Decision.Step.AUDIT.code(), approvalId));
        }

        void completed(CallToolResult result) {
            Map<String, Object> meta = result.meta() == null ? Map.of() : result.meta();
            Object errorId = meta.get(Refusals.META_ERROR_ID);
            String outcome;
            if (errorId != null) {
                outcome = "tool_error";
            } else if (ReasonCode.TIMEOUT.code().equals(meta.get(Refusals.META_REASON))) {
                outcome = "timeout";
            } else if (Boolean.TRUE.equals(result.isError())) {
                outcome = "tool_reported_error";
            } else {
                outcome = "success";
            }
            audit.record(new io.mcpguard.audit.AuditRecord.CallCompleted(context(), outcome,
                    errorId == null ? null : errorId.toString(), AuditTrail.millis(startNanos)));
        }
    }

    // ---- answers ----

    /** Records the gate's answer; returns the refusal result, or {@code null} when the call may run. */
    private static CallToolResult approvalRefusal(Approvals.Outcome outcome, Limits.Permit permit,
            GuardTelemetry.Observation obs, CallAudit record) {
        obs.approval(outcome.approvalId(), outcome.waitMillis());
        if (outcome.approved()) {
            return null;
        }
        permit.cancel();
        obs.refused(outcome.refusal());
        if (record != null) {
            record.decided(outcome.refusal(), outcome.approvalId());
        }
        return Refusals.result(outcome.refusal(), outcome.approvalId());
    }

    private Approvals.Outcome approvalFailed(McpSchema.Tool tool, RuntimeException e) {
        log.warn("Approval gate failed for tool '{}'; denying (fail closed)", tool.name(), e);
        return new Approvals.Outcome(new Decision.Deny(ReasonCode.APPROVAL_DENIED, Decision.Step.APPROVAL,
                "Call to '" + tool.name() + "' was not approved: its arguments cannot be submitted for approval."),
                null, 0);
    }

    private static CallToolResult refuse(Decision.Deny deny, McpSchema.Tool tool, CallToolRequest request) {
        if (Refusals.isHidden(deny)) {
            logHidden(deny, tool);
            throw Refusals.unknownTool(request.name());
        }
        log.debug("Refused call to '{}': {} at step {}", tool.name(), deny.reason().code(), deny.step().code());
        return Refusals.result(deny);
    }

    private static void logHidden(Decision.Deny deny, McpSchema.Tool tool) {
        log.debug("Refused call to '{}' as unknown tool: {}", tool.name(), deny.reason().code());
    }

    private static CallToolResult timedOut(McpSchema.Tool tool, AgentIdentity agent, Duration timeout,
            GuardTelemetry.Observation obs) {
        log.warn("Tool '{}' timed out after {} for agent '{}'; cancelled", tool.name(), timeout, agent.agentId());
        Decision.Deny deny = new Decision.Deny(ReasonCode.TIMEOUT, Decision.Step.HANDLER,
                "Tool '" + tool.name() + "' did not finish within " + Texts.duration(timeout) + " and was cancelled.");
        obs.refused(deny);
        return Refusals.result(deny);
    }

    private static CallToolResult toolFailure(McpSchema.Tool tool, AgentIdentity agent, Throwable failure,
            GuardTelemetry.Observation obs) {
        String errorId = newErrorId();
        if (failure == null) {
            log.error("Tool '{}' returned no result for agent '{}' [{}]", tool.name(), agent.agentId(), errorId);
        } else {
            log.error("Tool '{}' failed for agent '{}' [{}]", tool.name(), agent.agentId(), errorId, failure);
        }
        obs.failed(errorId);
        return Refusals.toolFailure(tool.name(), errorId);
    }

    // ---- steps ----

    private AgentIdentity resolve(McpTransportContext context) {
        try {
            Optional<AgentIdentity> agent = resolver.resolve(context == null ? McpTransportContext.EMPTY : context);
            return agent == null ? null : agent.orElse(null);
        } catch (RuntimeException e) {
            log.warn("Agent resolver failed; treating the caller as unknown (fail closed)", e);
            return null;
        }
    }

    private boolean permits(AgentIdentity agent, McpSchema.Tool tool) {
        try {
            return policy.permits(agent, tool);
        } catch (RuntimeException e) {
            log.warn("Policy matcher failed for tool '{}'; denying (fail closed)", tool.name(), e);
            return false;
        }
    }

    private String validateArguments(McpSchema.Tool tool, CallToolRequest request) {
        try {
            CallToolResult invalid = ToolInputValidator.validate(tool, request.arguments(), true, validator);
            if (invalid == null) {
                return null;
            }
            return invalid.content().isEmpty() || !(invalid.content().get(0) instanceof McpSchema.TextContent text)
                    ? "Tool (" + tool.name() + ") input validation failed"
                    : text.text();
        } catch (RuntimeException e) {
            log.warn("Argument validation failed with an exception for tool '{}'; refusing the call", tool.name(), e);
            return "Tool (" + tool.name() + ") input validation failed";
        }
    }

    private static String newErrorId() {
        return "E-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE).substring(0, 12);
    }
}
