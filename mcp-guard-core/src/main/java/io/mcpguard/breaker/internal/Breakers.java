package io.mcpguard.breaker.internal;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.breaker.TimeoutRule;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.internal.Rules;
import io.mcpguard.support.Clocks;
import io.mcpguard.support.Texts;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The circuit breakers of each tool a breaker rule selects (one per agent with recent failures, opening first, and
 * one Resilience4j breaker for the tool as a whole) and each tool's call timeout. They count the failures the rule
 * names, never the guard's refusals; one agent's failures reach the tool-wide breaker only when several agents fail,
 * or when they are time-outs or infrastructure faults. Unstable API.
 */
public final class Breakers {

    private static final Duration HALF_OPEN_RETRY = Duration.ofSeconds(1);

    private final Policy policy;
    private final Clock clock;
    private final GuardEventListener events;

    /**
     * Creates the breakers of a policy.
     *
     * @param policy the policy
     * @param clock the clock (one per guard)
     * @param events where refusals and state changes are published
     */
    public Breakers(Policy policy, Clock clock, GuardEventListener events) {
        this.policy = policy;
        this.clock = clock;
        this.events = events;
    }

    /**
     * Resolves the breaker and timeout of one primitive: the first rule that selects it (a matcher that throws
     * selects). Only tools have breakers and timeouts.
     *
     * @param primitive the primitive
     * @return its breaker state
     */
    public Target forPrimitive(Primitive primitive) {
        if (primitive.kind() != Primitive.Kind.TOOL) {
            return new Target(primitive.name(), null, null);
        }
        BreakerRule breakerRule = null;
        for (BreakerRule rule : policy.circuitBreakers()) {
            Boolean selects = Rules.selects(rule.tools(), primitive.tool(), rule.canonical());
            if (selects == null || selects) {
                breakerRule = rule;
                break;
            }
        }
        Duration timeout = null;
        for (TimeoutRule rule : policy.timeouts()) {
            Boolean selects = Rules.selects(rule.tools(), primitive.tool(), rule.canonical());
            if (selects == null || selects) {
                timeout = rule.timeout();
                break;
            }
        }
        return new Target(primitive.name(), breakerRule, timeout);
    }

    /** The breakers (per agent and tool-wide) and the timeout of one primitive. */
    public final class Target {

        private final String name;
        private final BreakerRule rule;
        private final CircuitBreaker breaker;
        private final Duration wait;
        private final Duration timeout;
        private final Map<String, AgentBreaker> agents;
        private volatile long openedAtNanos;

        Target(String name, BreakerRule rule, Duration timeout) {
            this.name = name;
            this.rule = rule;
            this.timeout = timeout;
            this.wait = rule == null ? null : rule.waitInOpenState();
            this.breaker = rule == null ? null : newBreaker(rule);
            this.agents = rule == null || !rule.perAgent() ? null : new ConcurrentHashMap<>();
        }

        private CircuitBreaker newBreaker(BreakerRule rule) {
            CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                    .clock(clock)
                    .slidingWindow(rule.slidingWindowSize(), rule.minimumNumberOfCalls(),
                            CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                    .failureRateThreshold(rule.failureRateThreshold())
                    .waitDurationInOpenState(rule.waitInOpenState())
                    .permittedNumberOfCallsInHalfOpenState(rule.permittedCallsInHalfOpenState())
                    .automaticTransitionFromOpenToHalfOpenEnabled(false)
                    .recordException(failure -> true)
                    .writableStackTraceEnabled(false)
                    .build();
            CircuitBreaker created = CircuitBreaker.of("mcp-guard:" + name, config);
            created.getEventPublisher().onStateTransition(event -> {
                if (event.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                    openedAtNanos = Clocks.nanos(clock);
                }
                events.onEvent(new GuardEvent.CircuitStateChanged(clock.instant(), name, null,
                        event.getStateTransition().getFromState().name(),
                        event.getStateTransition().getToState().name()));
            });
            return created;
        }

        /**
         * Returns the tool-wide circuit breaker, if a rule gave one.
         *
         * @return the breaker, or {@code null}
         */
        public CircuitBreaker breaker() {
            return breaker;
        }

        /**
         * Returns the call timeout, if a rule set one.
         *
         * @return the timeout, or {@code null}
         */
        public Duration timeout() {
            return timeout;
        }

        /**
         * Returns how many agents' breakers this tool keeps (agents with recent failures only).
         *
         * @return the count
         */
        public int trackedAgents() {
            return agents == null ? 0 : agents.size();
        }

        /**
         * Asks the agent's breaker, then the tool's, for permission.
         *
         * @param agentId the caller
         * @return a {@link Permit} ({@link Permit#NONE} without a breaker), or the {@link Decision.Deny}
         */
        public Object acquire(String agentId) {
            if (breaker == null) {
                return Permit.NONE;
            }
            long now = Clocks.nanos(clock);
            AgentBreaker own = agents == null ? null : agents.get(agentId);
            if (own != null) {
                long left = own.openFor(now);
                if (left > 0) {
                    Duration retryAfter = Duration.ofNanos(left + 1_000_000);
                    events.onEvent(new GuardEvent.CircuitRejected(clock.instant(), agentId, name, retryAfter));
                    return new Decision.Deny(ReasonCode.AGENT_CIRCUIT_OPEN, Decision.Step.BREAKER,
                            "Tool '" + name + "' is temporarily closed to you after repeated failures of your calls "
                                    + "(your circuit is open; other agents are served). Retry in "
                                    + Texts.duration(retryAfter) + ".", retryAfter);
                }
            }
            if (!breaker.tryAcquirePermission()) {
                return denied(agentId);
            }
            return new Permit(this, agentId, now);
        }

        private Decision.Deny denied(String agentId) {
            Duration retryAfter = HALF_OPEN_RETRY;
            if (breaker.getState() == CircuitBreaker.State.OPEN) {
                // Resilience4j lets probes through strictly after the wait: the hint is the first such millisecond.
                long elapsed = Clocks.nanos(clock) - openedAtNanos;
                retryAfter = Duration.ofNanos(Math.max(0, wait.toNanos() - elapsed) + 1_000_000);
            }
            events.onEvent(new GuardEvent.CircuitRejected(clock.instant(), agentId, name, retryAfter));
            return new Decision.Deny(ReasonCode.CIRCUIT_OPEN, Decision.Step.BREAKER,
                    "Tool '" + name + "' is temporarily unavailable after repeated failures (circuit open). Retry in "
                            + Texts.duration(retryAfter) + ".",
                    retryAfter);
        }

        Clock breakerClock() {
            return clock;
        }

        /** One outcome of an admitted call. */
        void settle(String agentId, long startNanos, BreakerRule.Failure kind, Throwable failure) {
            long now = Clocks.nanos(clock);
            long took = now - startNanos;
            boolean counted = kind != null && rule.counts(kind);
            if (!counted) {
                if (kind == null || kind == BreakerRule.Failure.ERROR_RESULT) {
                    breaker.onSuccess(took, TimeUnit.NANOSECONDS);
                    AgentBreaker own = agents == null ? null : agents.get(agentId);
                    if (own != null) {
                        own.record(false, now);
                    }
                } else {
                    breaker.releasePermission(); // a failure this rule does not count: neither way
                }
                return;
            }
            Throwable cause = failure != null ? failure : new IllegalStateException("tool returned no result");
            if (agents == null || kind == BreakerRule.Failure.TIMEOUT || rule.isInfrastructureFault(failure)) {
                // The tool itself is broken (or isolation is off): the tool-wide breaker protects every agent from
                // it, and the failure is not held against this agent.
                breaker.onError(took, TimeUnit.NANOSECONDS, cause);
                return;
            }
            recordOwn(agentId, now);
            if (failingAgents(now) >= rule.minFailingAgents()) {
                breaker.onError(took, TimeUnit.NANOSECONDS, cause);
            } else {
                breaker.releasePermission(); // one agent's failures are its own until several agents fail
            }
        }

        private void recordOwn(String agentId, long now) {
            if (agents == null) {
                return;
            }
            AgentBreaker own = agents.computeIfAbsent(agentId, k -> new AgentBreaker(rule));
            if (own.record(true, now)) {
                events.onEvent(new GuardEvent.CircuitStateChanged(clock.instant(), name, agentId, "CLOSED", "OPEN"));
            }
        }

        /** Distinct agents with a failure within the window, counted up to the threshold. */
        private int failingAgents(long now) {
            long window = rule.failingAgentsWindow().toNanos();
            int n = 0;
            for (AgentBreaker own : agents.values()) {
                if (own.failedSince(now - window) && ++n >= rule.minFailingAgents()) {
                    break;
                }
            }
            return n;
        }

        /**
         * Drops the breakers of agents without a failure for a window and not open.
         *
         * @return how many were dropped
         */
        public int sweepAgents() {
            if (agents == null) {
                return 0;
            }
            long now = Clocks.nanos(clock);
            long keep = Math.max(rule.failingAgentsWindow().toNanos(), rule.waitInOpenState().toNanos());
            int dropped = 0;
            for (var entry : agents.entrySet()) {
                if (entry.getValue().idle(now, keep) && agents.remove(entry.getKey(), entry.getValue())) {
                    dropped++;
                }
            }
            return dropped;
        }

        /**
         * Publishes that a call ran past its timeout.
         *
         * @param agentId the caller
         */
        public void timedOut(String agentId) {
            events.onEvent(new GuardEvent.CallTimedOut(clock.instant(), agentId, name, timeout));
        }
    }

    /**
     * One agent's breaker for one tool: a count-based window over the agent's calls since its first recent failure,
     * with the rule's size, minimum and threshold; open for the rule's wait once the threshold is reached, then a fresh
     * window. Exists only while the agent has recent failures.
     */
    private static final class AgentBreaker {
        private final boolean[] window;
        private final int minimum;
        private final float threshold;
        private final long openNanos;
        private int next;
        private int calls;
        private int failures;
        private long openUntil = Long.MIN_VALUE;
        private long lastFailure;

        AgentBreaker(BreakerRule rule) {
            this.window = new boolean[rule.slidingWindowSize()];
            this.minimum = rule.minimumNumberOfCalls();
            this.threshold = rule.failureRateThreshold();
            this.openNanos = rule.waitInOpenState().toNanos();
        }

        synchronized long openFor(long now) {
            return openUntil == Long.MIN_VALUE ? 0 : openUntil - now;
        }

        /** Records an outcome; returns whether the breaker opened now. */
        synchronized boolean record(boolean failed, long now) {
            if (openUntil != Long.MIN_VALUE && now >= openUntil) {
                openUntil = Long.MIN_VALUE; // the wait is over: a fresh window
                next = 0;
                calls = 0;
                failures = 0;
                java.util.Arrays.fill(window, false);
            }
            if (failed) {
                lastFailure = now;
            }
            if (calls == window.length && window[next]) {
                failures--;
            }
            window[next] = failed;
            next = (next + 1) % window.length;
            calls = Math.min(calls + 1, window.length);
            if (failed) {
                failures++;
            }
            if (openUntil == Long.MIN_VALUE && calls >= minimum && failures * 100f / calls >= threshold) {
                openUntil = now + openNanos;
                return true;
            }
            return false;
        }

        synchronized boolean failedSince(long since) {
            return failures > 0 && lastFailure - since >= 0;
        }

        synchronized boolean idle(long now, long keep) {
            return (openUntil == Long.MIN_VALUE || now >= openUntil) && now - lastFailure >= keep;
        }
    }

    /**
     * A breaker permission held by an admitted call. Settle it once: {@link #success()}, {@link #errorResult()},
     * {@link #failure(Throwable)}, {@link #timedOut()}, or {@link #giveBack()} when the call never ran or was
     * cancelled before an outcome; later settlements are ignored.
     */
    public static final class Permit {

        /** The permit of a tool without a breaker. */
        public static final Permit NONE = new Permit(null, null, 0);

        private static final AtomicIntegerFieldUpdater<Permit> SETTLED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "settled");

        private final Target target;
        private final String agentId;
        private final long startNanos;
        private volatile int settled;

        Permit(Target target, String agentId, long startNanos) {
            this.target = target;
            this.agentId = agentId;
            this.startNanos = startNanos;
        }

        private boolean settle() {
            return target != null && SETTLED.compareAndSet(this, 0, 1);
        }

        /** The tool answered. */
        public void success() {
            if (settle()) {
                target.settle(agentId, startNanos, null, null);
            }
        }

        /** The tool answered with a result it marks {@code isError} (a failure only where the rule counts it). */
        public void errorResult() {
            if (settle()) {
                target.settle(agentId, startNanos, BreakerRule.Failure.ERROR_RESULT, null);
            }
        }

        /**
         * The tool failed: threw or answered nothing.
         *
         * @param failure the failure, or {@code null} for an empty answer
         */
        public void failure(Throwable failure) {
            if (settle()) {
                target.settle(agentId, startNanos, BreakerRule.Failure.EXCEPTION, failure);
            }
        }

        /** The call ran past the tool's timeout. */
        public void timedOut() {
            if (settle()) {
                target.settle(agentId, startNanos, BreakerRule.Failure.TIMEOUT, null);
            }
        }

        /** The call never ran or was cancelled before an outcome: the permission goes back unused. */
        public void giveBack() {
            if (settle()) {
                target.breaker.releasePermission();
            }
        }
    }
}
