package io.mcpguard.pipeline;

import io.mcpguard.Decision;
import io.mcpguard.ReasonCode;
import io.mcpguard.breaker.internal.Breakers;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.quota.internal.Quotas;
import io.mcpguard.support.LogSafe;
import io.mcpguard.support.Texts;
import io.mcpguard.telemetry.internal.GuardTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an admitted call holds until it ends: its quota and concurrency permit, breaker permission, span and audit
 * record. The executor reports the outcome once ({@link #succeeded}, {@link #failed}, {@link #timedOut} or
 * {@link #cancelled}; later reports are ignored) and calls {@link #release()} when the handler has really finished,
 * which frees the concurrency slots. Unstable API.
 */
public final class Ticket {

    private static final Logger log = LoggerFactory.getLogger(Ticket.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicIntegerFieldUpdater<Ticket> ENDED =
            AtomicIntegerFieldUpdater.newUpdater(Ticket.class, "ended");

    private final Pipeline pipeline;
    private final Invocation call;
    private final Target target;
    private final AgentIdentity agent;
    private final GuardTelemetry.Observation obs;
    private final Pipeline.CallRecord record;
    private final Quotas.Permit quota;
    private final Breakers.Permit breaker;
    private volatile int ended;

    Ticket(Pipeline pipeline, Invocation call, Target target, AgentIdentity agent, GuardTelemetry.Observation obs,
            Pipeline.CallRecord record, Quotas.Permit quota, Breakers.Permit breaker) {
        this.pipeline = pipeline;
        this.call = call;
        this.target = target;
        this.agent = agent;
        this.obs = obs;
        this.record = record;
        this.quota = quota;
        this.breaker = breaker;
    }

    GuardTelemetry.Observation observation() {
        return obs;
    }

    Pipeline.CallRecord record() {
        return record;
    }

    Target target() {
        return target;
    }

    void started(String approvalId) {
        // the decision record was written by the audit step; nothing else to do before the handler runs
    }

    /** A later step refused the call before it ran: everything it took goes back. */
    void neverRan() {
        if (ENDED.compareAndSet(this, 0, 1)) {
            quota.refund();
            breaker.giveBack();
            quota.release();
        }
    }

    /** The caller stopped waiting for an approver; the call will not run. */
    void abandonWait() {
        neverRan();
    }

    /**
     * Returns the verified caller.
     *
     * @return the agent
     */
    public AgentIdentity agent() {
        return agent;
    }

    /**
     * Returns the call.
     *
     * @return the invocation
     */
    public Invocation call() {
        return call;
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
     * Returns the call's context, to carry onto other threads.
     *
     * @return the context
     */
    public Context context() {
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
            breaker.success();
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
        String errorId = newErrorId();
        if (ENDED.compareAndSet(this, 0, 1)) {
            breaker.failure(failure);
            if (failure == null) {
                log.error("{} '{}' returned no result for agent '{}' [{}]", call.operation().method(),
                        LogSafe.text(target.name()), LogSafe.text(agent.agentId()), errorId);
            } else {
                log.error("{} '{}' failed for agent '{}' [{}]", call.operation().method(),
                        LogSafe.text(target.name()), LogSafe.text(agent.agentId()), errorId, failure);
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
            breaker.failure(new TimeoutException("timed out after " + timeout));
            target.breaker().timedOut(agent.agentId());
            log.warn("'{}' timed out after {} for agent '{}'; cancelled", LogSafe.text(target.name()), timeout,
                    LogSafe.text(agent.agentId()));
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
        quota.release();
    }

    private static String newErrorId() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return "E-" + HexFormat.of().formatHex(bytes);
    }
}
