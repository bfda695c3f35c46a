package io.mcpguard.breaker;

import io.mcpguard.policy.ToolMatcher;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Circuit breakers for each selected tool: one per agent that opens first, and one for the tool as a whole (a
 * Resilience4j {@code CircuitBreaker}), both count-based with the same window and threshold.
 *
 * <p>What counts as a failure is stated per rule ({@link #counting}): by default exceptions thrown or signalled by the
 * handler (and an empty answer) and calls past the tool's timeout; results the tool itself marks {@code isError} count
 * only if asked. The guard's own refusals (unknown agent, scope, invalid arguments, quotas, concurrency) never count.
 *
 * <p><b>No agent can open the breaker for another.</b> An agent's failures first open <em>its own</em> breaker for the
 * tool ({@code agent_circuit_open} for that agent only). The tool-wide breaker records an ordinary failure
 * only while at least {@link #minFailingAgents()} distinct agents have failed within {@link #failingAgentsWindow()};
 * time-outs and {@link #infrastructureFaults infrastructure faults} (by default {@link java.io.IOException}s anywhere
 * in the cause chain) always count there, because they say the tool, not the caller, is broken. State is kept only
 * for agents with recent failures. Immutable; builder-style copies.
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
    /** Default number of distinct failing agents before ordinary failures count against the whole tool. */
    public static final int DEFAULT_MIN_FAILING_AGENTS = 3;
    /** Default window in which failing agents are counted. */
    public static final Duration DEFAULT_FAILING_AGENTS_WINDOW = Duration.ofMinutes(1);

    /** What a breaker may count as a failure of the tool. */
    public enum Failure {
        /** The handler threw or signalled an exception, or answered nothing. */
        EXCEPTION,
        /** The call ran past the tool's timeout. */
        TIMEOUT,
        /** The tool answered with a result it marks {@code isError}. */
        ERROR_RESULT
    }

    /** The failures counted unless set otherwise: exceptions and time-outs. */
    public static final Set<Failure> DEFAULT_COUNTED = Collections.unmodifiableSet(EnumSet.of(Failure.EXCEPTION,
            Failure.TIMEOUT));
    /** The infrastructure faults unless set otherwise: I/O failures. */
    public static final List<Class<? extends Throwable>> DEFAULT_INFRASTRUCTURE_FAULTS = List.of(
            java.io.IOException.class, java.io.UncheckedIOException.class);

    private final ToolMatcher tools;
    private final float failureRateThreshold;
    private final int slidingWindowSize;
    private final int minimumNumberOfCalls;
    private final Duration waitInOpenState;
    private final int permittedCallsInHalfOpenState;
    private final boolean perAgent;
    private final int minFailingAgents;
    private final Duration failingAgentsWindow;
    private final Set<Failure> counted;
    private final List<Class<? extends Throwable>> infrastructureFaults;

    private BreakerRule(ToolMatcher tools, float failureRateThreshold, int slidingWindowSize, int minimumNumberOfCalls,
            Duration waitInOpenState, int permittedCallsInHalfOpenState) {
        this(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState, true, DEFAULT_MIN_FAILING_AGENTS, DEFAULT_FAILING_AGENTS_WINDOW,
                DEFAULT_COUNTED, DEFAULT_INFRASTRUCTURE_FAULTS);
    }

    private BreakerRule(BreakerRule base, float failureRateThreshold, int slidingWindowSize, int minimumNumberOfCalls,
            Duration waitInOpenState, int permittedCallsInHalfOpenState) {
        this(base.tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState, base.perAgent, base.minFailingAgents, base.failingAgentsWindow,
                base.counted, base.infrastructureFaults);
    }

    private BreakerRule(ToolMatcher tools, float failureRateThreshold, int slidingWindowSize, int minimumNumberOfCalls,
            Duration waitInOpenState, int permittedCallsInHalfOpenState, boolean perAgent, int minFailingAgents,
            Duration failingAgentsWindow, Set<Failure> counted, List<Class<? extends Throwable>> infrastructureFaults) {
        if (minFailingAgents < 1) {
            throw new IllegalArgumentException("minFailingAgents must be at least 1, got " + minFailingAgents);
        }
        Objects.requireNonNull(failingAgentsWindow, "failingAgentsWindow");
        if (failingAgentsWindow.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("failingAgentsWindow must be at least 1 second, got "
                    + failingAgentsWindow);
        }
        if (counted.isEmpty()) {
            throw new IllegalArgumentException("a breaker must count at least one kind of failure");
        }
        this.perAgent = perAgent;
        this.minFailingAgents = minFailingAgents;
        this.failingAgentsWindow = failingAgentsWindow;
        this.counted = counted;
        this.infrastructureFaults = infrastructureFaults;
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
        return new BreakerRule(this, percent, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets the size of the count-based window of recorded calls.
     *
     * @param calls at least 1
     * @return a new rule
     */
    public BreakerRule slidingWindowSize(int calls) {
        return new BreakerRule(this, failureRateThreshold, calls, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets how many calls are recorded before the failure rate counts.
     *
     * @param calls at least 1
     * @return a new rule
     */
    public BreakerRule minimumNumberOfCalls(int calls) {
        return new BreakerRule(this, failureRateThreshold, slidingWindowSize, calls, waitInOpenState,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets how long the breaker stays open before letting probes through.
     *
     * @param wait at least 1 ms
     * @return a new rule
     */
    public BreakerRule waitInOpenState(Duration wait) {
        return new BreakerRule(this, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, wait,
                permittedCallsInHalfOpenState);
    }

    /**
     * Sets how many probe calls the half-open state lets through.
     *
     * @param calls at least 1
     * @return a new rule
     */
    public BreakerRule permittedCallsInHalfOpenState(int calls) {
        return new BreakerRule(this, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                calls);
    }

    /**
     * Sets which failures the breakers count. Default {@link #DEFAULT_COUNTED} (exceptions and time-outs); add
     * {@link Failure#ERROR_RESULT} for tools whose {@code isError} results mean they are broken.
     *
     * @param failures at least one
     * @return a new rule
     */
    public BreakerRule counting(Failure... failures) {
        if (failures.length == 0) {
            throw new IllegalArgumentException("a breaker must count at least one kind of failure");
        }
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState, perAgent, minFailingAgents, failingAgentsWindow,
                Collections.unmodifiableSet(EnumSet.copyOf(Arrays.asList(failures))), infrastructureFaults);
    }

    /**
     * Sets how many distinct agents must have failed within {@link #failingAgentsWindow()} before ordinary failures
     * count against the whole tool. Default {@value #DEFAULT_MIN_FAILING_AGENTS}; 1 lets any one agent's failures
     * open the tool for everyone (the behaviour without isolation).
     *
     * @param agents at least 1
     * @param window at least 1 second
     * @return a new rule
     */
    public BreakerRule minFailingAgents(int agents, Duration window) {
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState, perAgent, agents, window, counted, infrastructureFaults);
    }

    /**
     * Sets which exceptions (anywhere in the cause chain) are infrastructure faults: they count against the whole
     * tool whoever caused them. Default {@link #DEFAULT_INFRASTRUCTURE_FAULTS}; none turns it off.
     *
     * @param types the exception types
     * @return a new rule
     */
    @SafeVarargs
    public final BreakerRule infrastructureFaults(Class<? extends Throwable>... types) {
        for (Class<? extends Throwable> type : types) {
            Objects.requireNonNull(type, "infrastructure fault type");
        }
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState, perAgent, minFailingAgents, failingAgentsWindow, counted,
                List.of(types));
    }

    /**
     * Turns the per-agent breakers off: every counted failure goes to the tool-wide breaker, so one agent's failing
     * calls can refuse every agent. Only for tools that have a single caller.
     *
     * @return a new rule
     */
    public BreakerRule withoutPerAgentIsolation() {
        return new BreakerRule(tools, failureRateThreshold, slidingWindowSize, minimumNumberOfCalls, waitInOpenState,
                permittedCallsInHalfOpenState, false, 1, failingAgentsWindow, counted, infrastructureFaults);
    }

    /**
     * Returns whether each agent has its own breaker that opens first.
     *
     * @return {@code true} unless turned off
     */
    public boolean perAgent() {
        return perAgent;
    }

    /**
     * Returns how many distinct failing agents make ordinary failures count against the whole tool.
     *
     * @return the count
     */
    public int minFailingAgents() {
        return minFailingAgents;
    }

    /**
     * Returns the window failing agents are counted in.
     *
     * @return the window
     */
    public Duration failingAgentsWindow() {
        return failingAgentsWindow;
    }

    /**
     * Returns which failures count.
     *
     * @return the kinds
     */
    public Set<Failure> counted() {
        return counted;
    }

    /**
     * Returns whether the breakers count this kind of failure.
     *
     * @param failure the kind
     * @return {@code true} if counted
     */
    public boolean counts(Failure failure) {
        return counted.contains(failure);
    }

    /**
     * Returns whether a failure is an infrastructure fault: one of {@link #infrastructureFaults} in its cause chain.
     *
     * @param failure the failure, or {@code null}
     * @return {@code true} if so
     */
    public boolean isInfrastructureFault(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            for (Class<? extends Throwable> type : infrastructureFaults) {
                if (type.isInstance(t)) {
                    return true;
                }
            }
        }
        return false;
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
                + " open=" + waitInOpenState + " halfOpen=" + permittedCallsInHalfOpenState + isolation()
                + " tools=" + tools.canonical();
    }

    /** The isolation settings, in the canonical form only when they differ from the defaults (stable fingerprints). */
    private String isolation() {
        StringBuilder out = new StringBuilder();
        if (!perAgent) {
            out.append(" perAgent=off");
        } else if (minFailingAgents != DEFAULT_MIN_FAILING_AGENTS
                || !failingAgentsWindow.equals(DEFAULT_FAILING_AGENTS_WINDOW)) {
            out.append(" failingAgents=").append(minFailingAgents).append('/').append(failingAgentsWindow);
        }
        if (!counted.equals(DEFAULT_COUNTED)) {
            out.append(" counting=").append(counted);
        }
        if (!infrastructureFaults.equals(DEFAULT_INFRASTRUCTURE_FAULTS)) {
            out.append(" infrastructure=").append(infrastructureFaults.stream().map(Class::getName).toList());
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return canonical();
    }
}
