package io.mcpguard.pipeline;

import io.mcpguard.Decision;
import io.mcpguard.ReasonCode;
import io.mcpguard.approval.internal.Elicitor;
import io.mcpguard.breaker.internal.Breakers;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.quota.LimitStore;
import io.mcpguard.quota.internal.Quotas;
import io.mcpguard.support.LogSafe;
import io.mcpguard.support.Texts;
import io.mcpguard.telemetry.internal.GuardTelemetry;
import io.modelcontextprotocol.common.McpTransportContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One use of a primitive the SDK dispatched to a guarded handler, and, once the pipeline admitted it, what it holds
 * until it ends: its quota and concurrency permit, breaker permission, span and audit record. One object per call.
 *
 * <p>The executor reports the outcome once ({@link #succeeded}, {@link #failed}, {@link #timedOut} or
 * {@link #cancelled}; later reports are ignored) and calls {@link #release()} when the handler has really finished,
 * which frees the concurrency slots. Unstable API.
 */
public final class Call implements Start {

    private static final Logger log = LoggerFactory.getLogger(Call.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicIntegerFieldUpdater<Call> ENDED = AtomicIntegerFieldUpdater.newUpdater(Call.class,
            "ended");

    private final Operation operation;
    private final Target target;
    private final String name;
    private final Map<String, Object> arguments;
    private final Map<String, Object> meta;
    private final McpTransportContext context;
    private final String sessionId;
    private final Elicitor elicitor;

    // Set by the pipeline while it admits the call; the call is confined to one request.
    private AgentIdentity agent;
    private GuardTelemetry.Observation obs = GuardTelemetry.Observation.NOOP;
    private Pipeline.CallRecord record;
    private Quotas.Permit quota;
    private Breakers.Permit breaker = Breakers.Permit.NONE;
    private List<LimitStore.Charge> onApproval = List.of();
    private volatile int ended;
    private boolean inGate;

    /**
     * Describes one call.
     *
     * @param operation the operation
     * @param target the primitive the SDK dispatched to
     * @param name the name or URI as requested (for a template read, the concrete URI)
     * @param arguments the arguments (tools, prompts, completions), or {@code null}
     * @param meta the request's {@code _meta}, or {@code null}
     * @param context the transport context (identity, network), or {@code null} for none
     * @param sessionId the MCP session id, or {@code null} (stateless)
     * @param elicitor the channel to the client's user, or {@code null}
     */
    public Call(Operation operation, Target target, String name, Map<String, Object> arguments,
            Map<String, Object> meta, McpTransportContext context, String sessionId,
            Elicitor elicitor) {
        this.operation = Objects.requireNonNull(operation, "operation");
        this.target = Objects.requireNonNull(target, "target");
        this.name = Objects.requireNonNull(name, "name");
        this.arguments = arguments;
        this.meta = meta;
        this.context = context == null ? McpTransportContext.EMPTY : context;
        this.sessionId = sessionId;
        this.elicitor = elicitor;
    }

    /** The transport gate admits this call ahead of the SDK and can hold it while a person decides. */
    void heldByGate() {
        inGate = true;
    }

    /**
     * Returns whether the transport gate holds this call while it waits (see {@link Pipeline#startInGate}).
     *
     * @return {@code true} for a call the gate admitted ahead of the SDK
     */
    public boolean heldInGate() {
        return inGate;
    }

    /**
     * Returns the operation.
     *
     * @return the operation
     */
    public Operation operation() {
        return operation;
    }

    /**
     * Returns the primitive the SDK dispatched to.
     *
     * @return the target
     */
    public Target target() {
        return target;
    }

    /**
     * Returns the name or URI as requested.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the arguments.
     *
     * @return the arguments, or {@code null}
     */
    public Map<String, Object> arguments() {
        return arguments;
    }

    /**
     * Returns the request's {@code _meta}.
     *
     * @return the meta, or {@code null}
     */
    public Map<String, Object> meta() {
        return meta;
    }

    /**
     * Returns the transport context.
     *
     * @return the context
     */
    public McpTransportContext context() {
        return context;
    }

    /**
     * Returns the MCP session id.
     *
     * @return the id, or {@code null}
     */
    public String sessionId() {
        return sessionId;
    }

    /**
     * Returns the channel to the client's user.
     *
     * @return the elicitor, or {@code null}
     */
    public Elicitor elicitor() {
        return elicitor;
    }

    /**
     * Returns the verified caller, once identified.
     *
     * @return the agent, or {@code null} before identification or for an unknown caller
     */
    public AgentIdentity agent() {
        return agent;
    }

    void observed(GuardTelemetry.Observation observation, Pipeline.CallRecord callRecord) {
        this.obs = observation;
        this.record = callRecord;
    }

    void identified(AgentIdentity verified) {
        this.agent = verified;
    }

    void permitted(Quotas.Permit quotaPermit) {
        this.quota = quotaPermit;
    }

    Quotas.Permit permit() {
        return quota;
    }

    void onApproval(List<LimitStore.Charge> charges) {
        this.onApproval = charges;
    }

    List<LimitStore.Charge> onApproval() {
        return onApproval;
    }

    void admitted(Breakers.Permit breakerPermit) {
        this.breaker = breakerPermit;
    }

    GuardTelemetry.Observation observation() {
        return obs;
    }

    Pipeline.CallRecord record() {
        return record;
    }

    /** A later step refused the call before it ran, or it was abandoned: everything it took goes back. Idempotent. */
    public void neverRan() {
        if (ENDED.compareAndSet(this, 0, 1)) {
            if (quota != null) {
                quota.refund();
                quota.release();
            }
            breaker.giveBack();
        }
    }

    /**
     * Returns the primitive's call timeout, if a rule set one.
     *
     * @return the timeout, or {@code null}
     */
    public Duration timeout() {
        return target.breaker().timeout();
    }

    /**
     * Makes the call's span current, so that the handler's own spans become its children.
     *
     * @return the scope to close
     */
    public Scope makeCurrent() {
        return obs.makeCurrent();
    }

    /**
     * Returns the call's OpenTelemetry context, to carry onto other threads.
     *
     * @return the context
     */
    public Context otelContext() {
        return obs.context();
    }

    /**
     * The handler answered.
     *
     * @param isError whether the answer reports an error of the tool's own ({@code isError})
     * @param result the answer, recorded in the span only when opted in
     */
    public void succeeded(boolean isError, Object result) {
        if (ENDED.compareAndSet(this, 0, 1)) {
            if (isError) {
                breaker.errorResult();
            } else {
                breaker.success();
            }
            if (record != null) {
                record.completed(isError ? "tool_reported_error" : "success", null);
            }
            obs.end(isError, result);
        }
    }

    /**
     * The handler threw or answered nothing. The cause is logged here under a new error id, never sent.
     *
     * @param failure the failure, or {@code null} for an empty answer
     * @return the error id to give the caller
     */
    public String failed(Throwable failure) {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        String errorId = "E-" + HexFormat.of().formatHex(bytes);
        if (ENDED.compareAndSet(this, 0, 1)) {
            breaker.failure(failure);
            String who = agent == null ? "?" : LogSafe.text(agent.agentId());
            if (failure == null) {
                log.error("{} '{}' returned no result for agent '{}' [{}]", operation.method(),
                        LogSafe.text(target.name()), who, errorId);
            } else {
                log.error("{} '{}' failed for agent '{}' [{}]", operation.method(), LogSafe.text(target.name()), who,
                        errorId, LogSafe.throwable(failure));
            }
            obs.failed(errorId);
            if (record != null) {
                record.completed("tool_error", errorId);
            }
            obs.end(true, null);
        }
        return errorId;
    }

    /**
     * The handler ran past the timeout and was cancelled.
     *
     * @return the refusal to answer with
     */
    public Decision.Deny timedOut() {
        Duration timeout = timeout();
        Decision.Deny deny = new Decision.Deny(ReasonCode.TIMEOUT, Decision.Step.HANDLER,
                target.label() + " did not finish within " + Texts.duration(timeout) + " and was cancelled.");
        if (ENDED.compareAndSet(this, 0, 1)) {
            breaker.timedOut();
            String who = agent == null ? "?" : agent.agentId();
            target.breaker().timedOut(who);
            log.warn("'{}' timed out after {} for agent '{}'; cancelled", LogSafe.text(target.name()), timeout,
                    LogSafe.text(who));
            obs.refused(deny);
            if (record != null) {
                record.completed("timeout", null);
            }
            obs.end(true, null);
        }
        return deny;
    }

    /** The caller went away before the handler answered: the breaker permission goes back; the quota stays used. */
    public void cancelled() {
        if (ENDED.compareAndSet(this, 0, 1)) {
            breaker.giveBack();
            if (record != null) {
                record.completed("cancelled", null);
            }
            obs.end(true, null);
        }
    }

    /** The handler has finished (or was cancelled): free the concurrency slots. Idempotent. */
    public void release() {
        Quotas.Permit permit = quota;
        if (permit != null) {
            permit.release();
        }
    }
}
