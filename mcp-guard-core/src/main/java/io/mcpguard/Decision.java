package io.mcpguard;

import io.mcpguard.identity.AgentIdentity;
import java.time.Duration;
import java.util.Objects;

/**
 * The outcome of one step of the guard chain. An expected refusal is a value, not an exception.
 */
public sealed interface Decision permits Decision.Allow, Decision.Deny {

    /**
     * The steps of the guard chain, in the fixed order they run.
     */
    enum Step {
        /** The SDK's own dispatch, before the guard (unknown tool names). */
        DISPATCH("dispatch"),
        /** Resolving the caller's verified identity. */
        IDENTITY("identity"),
        /** Checking the policy's scopes for the tool. */
        SCOPE("scope"),
        /** Validating the arguments against the tool's input schema. */
        ARGUMENTS("arguments"),
        /** The policy's hard argument boundaries. */
        BOUNDARY("boundary"),
        /** Rate quotas. */
        QUOTA("quota"),
        /** Cumulative budgets over arguments. */
        BUDGET("budget"),
        /** The human approval gate (before any concurrency slot or breaker permit is held). */
        APPROVAL("approval"),
        /** Concurrency limits. */
        CONCURRENCY("concurrency"),
        /** The tool's circuit breaker. */
        BREAKER("breaker"),
        /** Recording the call in the audit trail before it runs. */
        AUDIT("audit"),
        /** Running the tool's own handler. */
        HANDLER("handler");

        private final String code;

        Step(String code) {
            this.code = code;
        }

        /**
         * Returns the stable name of the step, as used in logs, spans and audit records.
         *
         * @return the step's name
         */
        public String code() {
            return code;
        }
    }

    /**
     * Returns whether the call may proceed.
     *
     * @return {@code true} for {@link Allow}
     */
    boolean allowed();

    /**
     * The call may proceed on behalf of this verified identity.
     *
     * @param agent the verified identity of the caller
     */
    record Allow(AgentIdentity agent) implements Decision {

        /**
         * Creates an allow decision.
         *
         * @param agent the verified identity, never {@code null}
         */
        public Allow {
            Objects.requireNonNull(agent, "agent");
        }

        @Override
        public boolean allowed() {
            return true;
        }
    }

    /**
     * The call is refused.
     *
     * @param reason the stable reason code
     * @param step the step that refused
     * @param message a message safe to show the agent: it never contains internals
     * @param retryAfter when a retry could pass, or {@code null} when there is no such hint
     * @param rule the name of the boundary or budget that refused, or {@code null}
     */
    record Deny(ReasonCode reason, Step step, String message, Duration retryAfter, String rule) implements Decision {

        /**
         * Creates a deny decision.
         *
         * @param reason the stable reason code, never {@code null}
         * @param step the step that refused, never {@code null}
         * @param message a message safe to show the agent, never {@code null}
         * @param retryAfter the retry hint, or {@code null}
         * @param rule the refusing rule's name, or {@code null}
         */
        public Deny {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(step, "step");
            Objects.requireNonNull(message, "message");
        }

        /**
         * Creates a deny decision that names no rule.
         *
         * @param reason the stable reason code
         * @param step the step that refused
         * @param message a message safe to show the agent
         * @param retryAfter the retry hint, or {@code null}
         */
        public Deny(ReasonCode reason, Step step, String message, Duration retryAfter) {
            this(reason, step, message, retryAfter, null);
        }

        /**
         * Creates a deny decision without a retry hint.
         *
         * @param reason the stable reason code
         * @param step the step that refused
         * @param message a message safe to show the agent
         */
        public Deny(ReasonCode reason, Step step, String message) {
            this(reason, step, message, null);
        }

        @Override
        public boolean allowed() {
            return false;
        }
    }
}
