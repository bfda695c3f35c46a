package io.mcpguard.breaker;

import io.mcpguard.policy.ToolMatcher;
import java.time.Duration;
import java.util.Objects;

/**
 * A circuit breaker for each selected tool (a Resilience4j {@code CircuitBreaker} per tool, count-based window).
 *
 * <p>It counts the tool's real failures: exceptions thrown or signalled by the handler, an empty answer, and calls
 * that exceed the tool's timeout. It never counts the guard's own refusals (unknown agent, scope, invalid arguments,
 * quotas, concurrency), nor results the tool itself marks {@code isError}: an agent cannot trip a breaker for everyone
 * by sending garbage. Immutable; builder-style copies.
 */
public final class BreakerRule {

    /** Default failure rate (percent of the window) that opens the breaker. */
    public static final float DEFAULT_FAILURE_RATE_THRESHOLD = 50f;
    /** Default size of the count-based sliding window. */
    public static final int DEFAULT_SLIDING_WINDOW_SIZE = 20;
    /** Default number of calls recorded before the failure rate is computed. */
    public static final int DEFAULT_MINIMUM_NUMBER_OF_CALLS = 10;
    /** Default time the breaker stays open before letting probes through. */
    public static final Duration DEFAULT_WAIT_IN_OPEN_STATE = Duration.ofSeconds(30);
    /** Default number of probe calls in the half-open state. */
    public static final int DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN_STATE = 3;

    private final ToolMatcher tools;
    private final float failureRateThreshold;
    private final int slidingWindowSize;
    private final int minimumNumberOfCalls;
    private final Duration waitInOpenState;
    private final int permittedCallsInHalfOpenState;

    private BreakerRule(ToolMatcher tools, float failureRateThreshold, int slidingWindowSize, int minimumNumberOfCalls,
            Duration waitInOpenState, int permittedCallsInHalfOpenState) {
        this.tools = Objects.requireNonNull(tools, "tools");
        if (!(failureRateThreshold > 0 && failureRateThreshold <= 100)) {
            throw new IllegalArgumentException("failureRateThreshold must be in (0, 100], got " + failureRateThreshold);
        }
        if (slidingWindowSize < 1) {
            throw new IllegalArgumentException("slidingWindowSize must be at least 1, got " + slidingWindowSize);
        }
        if (minimumNumberOfCalls < 1) {
            throw new IllegalArgumentException("minimumNumberOfCalls must be at least 1, got " + minimumNumberOfCalls);
        }
        Objects.requireNonNull(waitInOpenState, "waitInOpenState");
        if (waitInOpenState.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("waitInOpenState must be at least 1 ms, got " + waitInOpenState);
        }
        if (permittedCallsInHalfOpenState < 1) {
            throw new IllegalArgumentException(
                    "permittedCallsInHalfOpenState must be at least 1, got " + permittedCallsInHalfOpenState);
        }
        this.failureRateThreshold = failureRateThreshold;
        this.slidingWindowSize = slidingWindowSize;
        this.minimumNumberOfCalls = minimumNumberOfCalls;
        this.waitInOpenState = waitInOpenState;
        this.permittedCallsInHalfOpenState = permittedCallsInHalfOpenState;
    }

    /**
     * A breaker with the defaults for each tool the matcher selects.
     *
     * @param tools the matcher
     * @return a rule
     */
    public static BreakerRule forTools(ToolMatcher tools) {
        return new BreakerRule(tools, DEFAULT_FAILURE_RATE_THRESHOLD, DEFAULT_SLIDING_WINDOW_SIZE,
                DEFAULT_MINIMUM_NUMBER_OF_CALLS, DEFAULT_WAIT_IN_OPEN_STATE, DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN_STATE);
    }

    /**
     * Sets the failure rate that opens the breaker.
     *
     * @param percent in (0, 100]
     * @return a new rule
     */
    public BreakerRule failureRateThreshold(float percent) {
        return new BreakerRule(tools, percent, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets the size of the count-based window of recorded calls.
     *
     * @param calls at least 1
     * @return a new rule
     */
    public BreakerRule slidingWindowSize(int calls) {
        return new BreakerRule(tools, failureRateThreshold, calls, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets how many calls are recorded before the failure rate counts.
     *
     * @param calls at least 1
     * @return a new rule
     */
    public BreakerRule minimumNumberOfCalls(int calls) {
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, calls, waitInOpenState,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets how long the breaker stays open before letting probes through.
     *
     * @param wait at least 1 ms
     * @return a new rule
     */
    public BreakerRule waitInOpenState(Duration wait) {
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, wait,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets how many probe calls the half-open state lets through.
     *
     * @param calls at least 1
     * @return a new rule
     */
    public BreakerRule permittedCallsInHalfOpenState(int calls) {
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                calls);
    }

    /**
     * Returns the tools the rule applies to.
     *
     * @return the matcher
     */
    public ToolMatcher tools() {
        return tools;
    }

    /**
     * Returns the failure rate that opens the breaker.
     *
     * @return percent
     */
    public float failureRateThreshold() {
        return failureRateThreshold;
    }

    /**
     * Returns the window size.
     *
     * @return calls
     */
    public int slidingWindowSize() {
        return slidingWindowSize;
    }

    /**
     * Returns the minimum number of recorded calls.
     *
     * @return calls
     */
    public int minimumNumberOfCalls() {
        return minimumNumberOfCalls;
    }

    /**
     * Returns the wait in the open state.
     *
     * @return the wait
     */
    public Duration waitInOpenState() {
        return waitInOpenState;
    }

    /**
     * Returns the number of probes in the half-open state.
     *
     * @return calls
     */
    public int permittedCallsInHalfOpenState() {
        return permittedCallsInHalfOpenState;
    }

    /**
     * Returns the canonical text of the rule, for the policy's fingerprint.
     *
     * @return the canonical form
     */
    public String canonical() {
        return "breaker rate=" + failureRateThreshold + "% window=" + slidingWindowSize + " min=" + minimumNumberOfCalls
                + " open=" + waitInOpenState + " halfOpen=" + permittedCallsInHalfOpenState + " tools="
                + tools.canonical();
    }

    @Override
    public String toString() {
        return canonical();
    }
}
