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
     * A circuit breaker changed state: the tool's own, or one agent's breaker for the tool.
     *
     * @param at when
     * @param tool the tool
     * @param agentId the agent whose breaker changed, or {@code null} for the tool-wide breaker
     * @param from the state before ({@code CLOSED}, {@code OPEN}, {@code HALF_OPEN}, ...)
     * @param to the state after
     */
    record CircuitStateChanged(Instant at, String tool, String agentId, String from, String to) implements GuardEvent {
    }

    /**
     * A call needed approval and a request was made.
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param approvalId the approval id
     * @param argumentsSha256 the hash of the canonical arguments
     * @param actionDigest the digest the approval is bound to (agent, client, tool and definition, arguments, policy)
     * @param rule why approval was needed
     * @param kind who must approve ({@code person}, {@code client_user})
     * @param requiredApprovers how many distinct approvers
     */
    record ApprovalRequested(Instant at, String agentId, String tool, String approvalId, String argumentsSha256,
            String actionDigest, String rule, String kind, int requiredApprovers) implements GuardEvent {
    }

    /**
     * An approval changed state: granted, denied, expired, abandoned, consumed, voided, or an answer was ignored.
     *
     * @param at when
     * @param agentId the caller
     * @param tool the tool
     * @param approvalId the approval id
     * @param state the new state
     * @param approvers who decided or answered ({@code mcp-guard} for timeouts and failures), possibly empty
     * @param reason why
     * @param waited how long since the request
     */
    record ApprovalChanged(Instant at, String agentId, String tool, String approvalId,
            io.mcpguard.approval.ApprovalState state, java.util.List<String> approvers, String reason,
            Duration waited) implements GuardEvent {

        /**
         * Returns whether the call may run after this change.
         *
         * @return {@code true} when granted
         */
        public boolean approved() {
            return state == io.mcpguard.approval.ApprovalState.GRANTED;
        }
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
