package io.mcpguard;

import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.QuotaRule;
import java.time.Duration;
import java.time.Instant;

/**
 * Something the guard's limits did, for telemetry and audit: a quota or concurrency refusal, a breaker refusal or
 * state change, a timeout. Delivered synchronously to each {@link GuardEventListener}; a listener that throws is
 * logged and never changes a call's outcome.
 */
public sealed interface GuardEvent {

    /**
     * Returns when the event happened, by the guard's clock.
     *
     * @return the time
     */
    Instant at();

    /**
     * Returns the tool concerned.
     *
     * @return the tool's name
     */
    String tool();

    /**
     * A call was refused because a quota is used up.
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param rule the quota that refused
     * @param retryAfter when a call would pass again
     */
    record QuotaExceeded(Instant at, String agentId, String tool, QuotaRule rule, Duration retryAfter)
            implements GuardEvent {
    }

    /**
     * A call was refused because too many calls were in flight.
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param rule the limit that refused
     */
    record ConcurrencyLimited(Instant at, String agentId, String tool, ConcurrencyRule rule) implements GuardEvent {
    }

    /**
     * A call was refused because the tool's circuit breaker is open (or its half-open probes are taken).
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param retryAfter the hint given to the agent
     */
    record CircuitRejected(Instant at, String agentId, String tool, Duration retryAfter) implements GuardEvent {
    }

    /**
     * A tool's circuit breaker changed state.
     *
     * @param at when
     * @param tool the tool
     * @param from the state before ({@code CLOSED}, {@code OPEN}, {@code HALF_OPEN}, ...)
     * @param to the state after
     */
    record CircuitStateChanged(Instant at, String tool, String from, String to) implements GuardEvent {
    }

    /**
     * A call needed approval and a request went to the approval handler.
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param approvalId the approval id
     * @param argumentsSha256 the hash of the canonical arguments the approval is bound to
     * @param rule why approval was needed
     */
    record ApprovalRequested(Instant at, String agentId, String tool, String approvalId, String argumentsSha256,
            String rule) implements GuardEvent {
    }

    /**
     * An approval request was decided (or timed out, or its handler failed: both deny).
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param approvalId the approval id
     * @param approved whether the call may run
     * @param approver who decided ({@code mcp-guard} for timeouts and failures)
     * @param reason why
     * @param waited how long the decision took
     */
    record ApprovalResolved(Instant at, String agentId, String tool, String approvalId, boolean approved,
            String approver, String reason, Duration waited) implements GuardEvent {
    }

    /**
     * A call ran past its timeout and was cancelled.
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param timeout the timeout that applied
     */
    record CallTimedOut(Instant at, String agentId, String tool, Duration timeout) implements GuardEvent {
    }
}
