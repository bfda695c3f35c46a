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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One Resilience4j circuit breaker per tool a breaker rule selects, and each tool's call timeout. The breaker counts
 * the tool's own failures (exceptions, empty answers, timeouts), never the guard's refusals. Unstable API.
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

    /** The breaker and timeout of one primitive. */
    public final class Target {

        private final String name;
        private final CircuitBreaker breaker;
        private final Duration wait;
        private final Duration timeout;
        private volatile long openedAtNanos;

        Target(String name, BreakerRule rule, Duration timeout) {
            this.name = name;
            this.timeout = timeout;
            this.wait = rule == null ? null : rule.waitInOpenState();
            this.breaker = rule == null ? null : newBreaker(rule);
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
                events.onEvent(new GuardEvent.CircuitStateChanged(clock.instant(), name,
                        event.getStateTransition().getFromState().name(),
                        event.getStateTransition().getToState().name()));
            });
            return created;
        }

        /**
         * Returns the circuit breaker, if a rule gave one.
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
         * Asks the breaker for permission.
         *
         * @param agentId the caller, for the refusal event
         * @return a {@link Permit} ({@link Permit#NONE} without a breaker), or the {@link Decision.Deny}
         */
        public Object acquire(String agentId) {
            if (breaker == null) {
                return Permit.NONE;
            }
            if (!breaker.tryAcquirePermission()) {
                return denied(agentId);
            }
            return new Permit(this, Clocks.nanos(clock));
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
     * A breaker permission held by an admitted call. Settle it once: {@link #success()}, {@link #failure(Throwable)},
     * or {@link #giveBack()} when the call never ran or was cancelled before an outcome; later settlements are
     * ignored.
     */
    public static final class Permit {

        /** The permit of a tool without a breaker. */
        public static final Permit NONE = new Permit(null, 0);

        private static final AtomicIntegerFieldUpdater<Permit> SETTLED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "settled");

        private final Target target;
        private final long startNanos;
        private volatile int settled;

        Permit(Target target, long startNanos) {
            this.target = target;
            this.startNanos = startNanos;
        }

        /** The tool answered (its own {@code isError} results included). */
        public void success() {
            if (target != null && SETTLED.compareAndSet(this, 0, 1)) {
                target.breaker.onSuccess(Clocks.nanos(target.breakerClock()) - startNanos, TimeUnit.NANOSECONDS);
            }
        }

        /**
         * The tool failed: threw, answered nothing, or timed out.
         *
         * @param failure the failure, or {@code null} for an empty answer
         */
        public void failure(Throwable failure) {
            if (target != null && SETTLED.compareAndSet(this, 0, 1)) {
                target.breaker.onError(Clocks.nanos(target.breakerClock()) - startNanos, TimeUnit.NANOSECONDS,
                        failure != null ? failure : new IllegalStateException("tool returned no result"));
            }
        }

        /** The call never ran or was cancelled before an outcome: the permission goes back unused. */
        public void giveBack() {
            if (target != null && SETTLED.compareAndSet(this, 0, 1)) {
                target.breaker.releasePermission();
            }
        }
    }
}
