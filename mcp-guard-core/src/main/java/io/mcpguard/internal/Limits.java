package io.mcpguard.internal;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.breaker.TimeoutRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.LimitKey;
import io.mcpguard.quota.QuotaRule;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime state of a policy's limits: GCRA buckets for quotas, in-flight counters for concurrency limits, one
 * Resilience4j circuit breaker per tool, and the executor that lets synchronous calls time out. Unstable API.
 *
 * <p>Quotas and concurrency limits key on the verified agent id (never the MCP session). State for idle keys is
 * dropped by {@link #sweep()}; an idle bucket is exactly equivalent to a new one, so dropping it changes nothing.
 */
public final class Limits implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Limits.class);
    private static final Duration HALF_OPEN_RETRY = Duration.ofSeconds(1);

    private final Policy policy;
    private final Clock clock;
    private final List<GuardEventListener> listeners;
    private final List<Map<String, RateBucket>> agentQuotaMaps = new ArrayList<>();
    private final List<Map<String, InFlight>> agentConcurrencyMaps = new ArrayList<>();
    private final List<Map<String, RateBucket>> allQuotaMaps = new CopyOnWriteArrayList<>();
    private final List<Map<String, InFlight>> allConcurrencyMaps = new CopyOnWriteArrayList<>();
    private final Map<String, ToolLimits> byTool = new ConcurrentHashMap<>();
    private final Map<String, RateBucket> approvalRequests = new ConcurrentHashMap<>();
    private final long approvalInterval;
    private final long approvalTolerance;
    private final List<Runnable> extraSweeps = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService sweeper;
    private volatile ExecutorService toolExecutor;

    /**
     * Creates the state for a policy.
     *
     * @param policy the policy
     * @param clock the clock for quotas and breakers
     * @param listeners event listeners
     * @param sweepInterval how often idle state is dropped in the background, or {@code null} for never
     */
    public Limits(Policy policy, Clock clock, List<GuardEventListener> listeners, Duration sweepInterval) {
        this.policy = policy;
        this.clock = clock;
        this.listeners = List.copyOf(listeners);
        for (QuotaRule rule : policy.quotas()) {
            Map<String, RateBucket> map = new ConcurrentHashMap<>();
            agentQuotaMaps.add(map);
            if (rule.key() != LimitKey.AGENT_AND_TOOL) {
                allQuotaMaps.add(map);
            }
        }
        for (ConcurrencyRule rule : policy.concurrency()) {
            Map<String, InFlight> map = new ConcurrentHashMap<>();
            agentConcurrencyMaps.add(map);
            if (rule.key() != LimitKey.AGENT_AND_TOOL) {
                allConcurrencyMaps.add(map);
            }
        }
        allQuotaMaps.add(approvalRequests);
        this.approvalInterval = policy.approvalRequestWindow().toNanos() / policy.approvalRequestLimit();
        this.approvalTolerance = approvalInterval * (policy.approvalRequestLimit() - 1);
        if (sweepInterval != null) {
            sweeper = Executors.newSingleThreadScheduledExecutor(daemon("mcp-guard-sweeper"));
            long millis = Math.max(1, sweepInterval.toMillis());
            sweeper.scheduleWithFixedDelay(this::sweepQuietly, millis, millis, TimeUnit.MILLISECONDS);
        } else {
            sweeper = null;
        }
    }

    /**
     * Returns the limits that apply to a tool, creating its state on first use. Re-registering a tool with the same
     * definition keeps its state.
     *
     * @param tool the tool's definition
     * @return its limits
     */
    public ToolLimits forTool(McpSchema.Tool tool) {
        ToolLimits existing = byTool.get(tool.name());
        if (existing != null && existing.definition.equals(tool)) {
            return existing;
        }
        ToolLimits created = new ToolLimits(tool);
        byTool.put(tool.name(), created);
        return created;
    }

    /**
     * Counts one approval request against the agent's limit.
     *
     * @param agentId the agent
     * @return 0 if allowed, otherwise the nanoseconds until a request would be allowed
     */
    long tryApprovalRequest(String agentId) {
        long now = Clocks.nanos(clock);
        while (true) {
            RateBucket bucket = approvalRequests.computeIfAbsent(agentId, k -> new RateBucket());
            long result = bucket.tryAcquire(now, approvalInterval, approvalTolerance);
            if (result != RateBucket.STALE) {
                return result;
            }
            approvalRequests.remove(agentId, bucket);
        }
    }

    void addSweep(Runnable sweep) {
        extraSweeps.add(sweep);
    }

    Clock clock() {
        return clock;
    }

    /**
     * Drops the state of keys that are idle: full buckets and counters with nothing in flight, and expired
     * approvals.
     *
     * @return how many quota and concurrency entries were dropped
     */
    public int sweep() {
        extraSweeps.forEach(Runnable::run);
        long now = Clocks.nanos(clock);
        int dropped = 0;
        for (Map<String, RateBucket> map : allQuotaMaps) {
            for (var entry : map.entrySet()) {
                if (entry.getValue().retireIfIdle(now) && map.remove(entry.getKey(), entry.getValue())) {
                    dropped++;
                }
            }
        }
        for (Map<String, InFlight> map : allConcurrencyMaps) {
            for (var entry : map.entrySet()) {
                if (entry.getValue().retireIfIdle() && map.remove(entry.getKey(), entry.getValue())) {
                    dropped++;
                }
            }
        }
        return dropped;
    }

    /**
     * Returns how many quota buckets and concurrency counters are held.
     *
     * @return the number of tracked entries
     */
    public int trackedEntries() {
        int n = -approvalRequests.size();
        for (Map<String, RateBucket> map : allQuotaMaps) {
            n += map.size();
        }
        for (Map<String, InFlight> map : allConcurrencyMaps) {
            n += map.size();
        }
        return n;
    }

    private void sweepQuietly() {
        try {
            int dropped = sweep();
            if (dropped > 0) {
                log.debug("Dropped {} idle quota and concurrency entries", dropped);
            }
        } catch (RuntimeException e) {
            log.warn("Sweeping idle limit state failed", e);
        }
    }

    ExecutorService toolExecutor() {
        ExecutorService executor = toolExecutor;
        if (executor == null) {
            synchronized (this) {
                executor = toolExecutor;
                if (executor == null) {
                    executor = Executors.newCachedThreadPool(daemon("mcp-guard-tool"));
                    toolExecutor = executor;
                }
            }
        }
        return executor;
    }

    void publish(GuardEvent event) {
        for (GuardEventListener listener : listeners) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                log.warn("Guard event listener {} failed on {}", listener, event.getClass().getSimpleName(), e);
            }
        }
    }

    Instant now() {
        return clock.instant();
    }

    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        ExecutorService executor = toolExecutor;
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + n.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private static String per(LimitKey key) {
        return switch (key) {
            case AGENT_AND_TOOL -> "for each agent on this tool";
            case AGENT -> "for each agent";
            case TOOL -> "for this tool across all agents";
        };
    }

    /** One quota as it applies to one tool. */
    private static final class QuotaCheck {
        final QuotaRule rule;
        final Map<String, RateBucket> buckets;
        final String fixedKey;
        final long interval;
        final long tolerance;

        QuotaCheck(QuotaRule rule, Map<String, RateBucket> buckets, String fixedKey) {
            this.rule = rule;
            this.buckets = buckets;
            this.fixedKey = fixedKey;
            this.interval = rule.window().toNanos() / rule.limit();
            this.tolerance = interval * (rule.limit() - 1);
        }

        /** Returns how many more calls this bucket would admit at {@code now}. */
        long remaining(RateBucket bucket, long now) {
            return bucket.remaining(now, interval, tolerance);
        }

        /** Returns the bucket taken (admitted), or null with the retry in {@code retry[0]}. */
        RateBucket take(String agentId, long now, long[] retry) {
            String key = fixedKey != null ? fixedKey : agentId;
            while (true) {
                RateBucket bucket = buckets.get(key);
                if (bucket == null) {
                    bucket = buckets.computeIfAbsent(key, k -> new RateBucket());
                }
                long result = bucket.tryAcquire(now, interval, tolerance);
                if (result == 0) {
                    return bucket;
                }
                if (result == RateBucket.STALE) {
                    buckets.remove(key, bucket);
                    continue;
                }
                retry[0] = result;
                return null;
            }
        }
    }

    /** One concurrency limit as it applies to one tool. */
    private static final class ConcurrencyCheck {
        final ConcurrencyRule rule;
        final Map<String, InFlight> counters;
        final String fixedKey;

        ConcurrencyCheck(ConcurrencyRule rule, Map<String, InFlight> counters, String fixedKey) {
            this.rule = rule;
            this.counters = counters;
            this.fixedKey = fixedKey;
        }

        InFlight take(String agentId) {
            String key = fixedKey != null ? fixedKey : agentId;
            while (true) {
                InFlight counter = counters.get(key);
                if (counter == null) {
                    counter = counters.computeIfAbsent(key, k -> new InFlight());
                }
                int result = counter.tryAcquire(rule.maxConcurrent());
                if (result == 1) {
                    return counter;
                }
                if (result == InFlight.RETIRED) {
                    counters.remove(key, counter);
                    continue;
                }
                return null;
            }
        }
    }

    /** The limits of one tool: its quotas, concurrency limits, breaker and timeout. */
    public final class ToolLimits {

        private final McpSchema.Tool definition;
        private final String tool;
        private final QuotaCheck[] quotas;
        private final ConcurrencyCheck[] concurrency;
        private final CircuitBreaker breaker;
        private final Duration breakerWait;
        private final Duration timeout;
        private volatile long openedAtNanos;
        private final Permit unlimitedPermit;

        ToolLimits(McpSchema.Tool definition) {
            this.definition = definition;
            this.tool = definition.name();
            List<QuotaCheck> q = new ArrayList<>();
            for (int i = 0; i < policy.quotas().size(); i++) {
                QuotaRule rule = policy.quotas().get(i);
                if (!Matching.selects(rule.tools(), definition)) {
                    continue;
                }
                switch (rule.key()) {
                    case AGENT -> q.add(new QuotaCheck(rule, agentQuotaMaps.get(i), null));
                    case TOOL -> q.add(new QuotaCheck(rule, agentQuotaMaps.get(i), tool));
                    case AGENT_AND_TOOL -> {
                        Map<String, RateBucket> perTool = new ConcurrentHashMap<>();
                        allQuotaMaps.add(perTool);
                        q.add(new QuotaCheck(rule, perTool, null));
                    }
                }
            }
            this.quotas = q.toArray(QuotaCheck[]::new);
            List<ConcurrencyCheck> c = new ArrayList<>();
            for (int i = 0; i < policy.concurrency().size(); i++) {
                ConcurrencyRule rule = policy.concurrency().get(i);
                if (!Matching.selects(rule.tools(), definition)) {
                    continue;
                }
                switch (rule.key()) {
                    case AGENT -> c.add(new ConcurrencyCheck(rule, agentConcurrencyMaps.get(i), null));
                    case TOOL -> c.add(new ConcurrencyCheck(rule, agentConcurrencyMaps.get(i), tool));
                    case AGENT_AND_TOOL -> {
                        Map<String, InFlight> perTool = new ConcurrentHashMap<>();
                        allConcurrencyMaps.add(perTool);
                        c.add(new ConcurrencyCheck(rule, perTool, null));
                    }
                }
            }
            this.concurrency = c.toArray(ConcurrencyCheck[]::new);
            BreakerRule breakerRule = policy.circuitBreakers().stream()
                    .filter(rule -> Matching.selects(rule.tools(), definition)).findFirst().orElse(null);
            this.breaker = breakerRule == null ? null : newBreaker(breakerRule);
            this.breakerWait = breakerRule == null ? null : breakerRule.waitInOpenState();
            this.timeout = policy.timeouts().stream().filter(rule -> Matching.selects(rule.tools(), definition))
                    .map(TimeoutRule::timeout).findFirst().orElse(null);
            // With no quota, slot or breaker there is nothing to settle: one shared permit, no allocation per call.
            this.unlimitedPermit = new Permit(this, null, null, -1);
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
            CircuitBreaker created = CircuitBreaker.of("mcp-guard:" + tool, config);
            created.getEventPublisher().onStateTransition(event -> {
                if (event.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                    openedAtNanos = Clocks.nanos(clock);
                }
                publish(new GuardEvent.CircuitStateChanged(now(), tool,
                        event.getStateTransition().getFromState().name(),
                        event.getStateTransition().getToState().name()));
            });
            return created;
        }

        /**
         * Returns the tool's circuit breaker, if a rule gave it one.
         *
         * @return the breaker, or {@code null}
         */
        public CircuitBreaker breaker() {
            return breaker;
        }

        /**
         * Returns the tool's call timeout, if any.
         *
         * @return the timeout, or {@code null}
         */
        public Duration timeout() {
            return timeout;
        }

        boolean unlimited() {
            return quotas.length == 0 && concurrency.length == 0 && breaker == null;
        }

        /**
         * Runs the quota, concurrency and breaker steps for a call that identity, scope and arguments allowed.
         *
         * @param agent the verified caller
         * @return a {@link Permit} to settle when the call ends, or the {@link Decision.Deny} that refused it
         */
        public Object admit(AgentIdentity agent) {
            if (unlimited()) {
                return unlimitedPermit;
            }
            String agentId = agent.agentId();
            RateBucket[] taken = quotas.length == 0 ? null : new RateBucket[quotas.length];
            if (quotas.length > 0) {
                long now = Clocks.nanos(clock);
                long[] retry = new long[1];
                for (int i = 0; i < quotas.length; i++) {
                    RateBucket bucket = quotas[i].take(agentId, now, retry);
                    if (bucket == null) {
                        refund(taken, i);
                        return quotaDenied(agentId, quotas[i].rule, Duration.ofNanos(retry[0]));
                    }
                    taken[i] = bucket;
                }
            }
            long remaining = -1;
            if (taken != null) {
                long now = Clocks.nanos(clock);
                remaining = Long.MAX_VALUE;
                for (int i = 0; i < quotas.length; i++) {
                    remaining = Math.min(remaining, quotas[i].remaining(taken[i], now));
                }
            }
            InFlight[] slots = concurrency.length == 0 ? null : new InFlight[concurrency.length];
            for (int i = 0; i < concurrency.length; i++) {
                InFlight slot = concurrency[i].take(agentId);
                if (slot == null) {
                    release(slots, i);
                    refund(taken, quotas.length);
                    return concurrencyDenied(agentId, concurrency[i].rule);
                }
                slots[i] = slot;
            }
            if (breaker != null && !breaker.tryAcquirePermission()) {
                release(slots, concurrency.length);
                refund(taken, quotas.length);
                return circuitDenied(agentId);
            }
            return new Permit(this, taken, slots, remaining);
        }

        private void refund(RateBucket[] taken, int upTo) {
            for (int i = 0; i < upTo; i++) {
                taken[i].refund(quotas[i].interval);
            }
        }

        private static void release(InFlight[] slots, int upTo) {
            for (int i = 0; i < upTo; i++) {
                slots[i].release();
            }
        }

        private Decision.Deny quotaDenied(String agentId, QuotaRule rule, Duration retryAfter) {
            publish(new GuardEvent.QuotaExceeded(now(), agentId, tool, rule, retryAfter));
            return new Decision.Deny(ReasonCode.QUOTA_EXCEEDED, Decision.Step.QUOTA,
                    "Quota exceeded for tool '" + tool + "': at most " + rule.limit() + " calls per "
                            + Texts.duration(rule.window()) + " " + per(rule.key()) + ". Retry in "
                            + Texts.duration(retryAfter) + ".",
                    retryAfter);
        }

        private Decision.Deny concurrencyDenied(String agentId, ConcurrencyRule rule) {
            publish(new GuardEvent.ConcurrencyLimited(now(), agentId, tool, rule));
            return new Decision.Deny(ReasonCode.CONCURRENCY_LIMITED, Decision.Step.CONCURRENCY,
                    "Too many calls in flight for tool '" + tool + "': at most " + rule.maxConcurrent()
                            + " at once " + per(rule.key()) + ". Retry in " + Texts.duration(rule.retryAfter()) + ".",
                    rule.retryAfter());
        }

        private Decision.Deny circuitDenied(String agentId) {
            Duration retryAfter = HALF_OPEN_RETRY;
            if (breaker.getState() == CircuitBreaker.State.OPEN) {
                // Resilience4j lets probes through strictly after the wait: the hint is the first such millisecond.
                long elapsed = Clocks.nanos(clock) - openedAtNanos;
                retryAfter = Duration.ofNanos(Math.max(0, breakerWait.toNanos() - elapsed) + 1_000_000);
            }
            publish(new GuardEvent.CircuitRejected(now(), agentId, tool, retryAfter));
            return new Decision.Deny(ReasonCode.CIRCUIT_OPEN, Decision.Step.BREAKER,
                    "Tool '" + tool + "' is temporarily unavailable after repeated failures (circuit open). Retry in "
                            + Texts.duration(retryAfter) + ".",
                    retryAfter);
        }

        void timedOut(String agentId) {
            publish(new GuardEvent.CallTimedOut(now(), agentId, tool, timeout));
        }

        long nanosNow() {
            return Clocks.nanos(clock);
        }
    }

    /**
     * What an admitted call holds: quota taken, concurrency slots, breaker permission. Settle it once with
     * {@link #success()}, {@link #failure(Throwable)}, {@link #abandon()} (cancelled mid-call) or {@link #cancel()}
     * (never ran); later settlements are ignored. Call {@link #release()} when the handler has really finished.
     */
    public static final class Permit {

        private static final AtomicIntegerFieldUpdater<Permit> SETTLED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "settled");
        private static final AtomicIntegerFieldUpdater<Permit> RELEASED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "released");

        private final ToolLimits limits;
        private final RateBucket[] taken;
        private final InFlight[] slots;
        private final long startNanos;
        private final long quotaRemaining;
        private volatile int settled;
        private volatile int released;

        Permit(ToolLimits limits, RateBucket[] taken, InFlight[] slots, long quotaRemaining) {
            this.limits = limits;
            this.taken = taken;
            this.slots = slots;
            this.quotaRemaining = quotaRemaining;
            this.startNanos = limits.breaker == null ? 0 : limits.nanosNow();
        }

        /** The handler produced a result (including the tool's own {@code isError} results). */
        public void success() {
            if (SETTLED.compareAndSet(this, 0, 1) && limits.breaker != null) {
                limits.breaker.onSuccess(limits.nanosNow() - startNanos, TimeUnit.NANOSECONDS);
            }
        }

        /**
         * The handler failed: threw, signalled an error, answered nothing, or timed out.
         *
         * @param failure the failure, or {@code null} for an empty answer
         */
        public void failure(Throwable failure) {
            if (SETTLED.compareAndSet(this, 0, 1) && limits.breaker != null) {
                limits.breaker.onError(limits.nanosNow() - startNanos, TimeUnit.NANOSECONDS,
                        failure != null ? failure : new IllegalStateException("tool returned no result"));
            }
        }

        /** The call never ran (a later step refused it): give back the quota and the breaker permission. */
        public void cancel() {
            if (SETTLED.compareAndSet(this, 0, 1)) {
                if (taken != null) {
                    limits.refund(taken, taken.length);
                }
                if (limits.breaker != null) {
                    limits.breaker.releasePermission();
                }
            }
            release();
        }

        /**
         * The call was cancelled before it had an outcome (e.g. the client went away): the breaker permission is
         * given back (a half-open probe slot must not leak); the quota stays taken, since the call did start.
         */
        public void abandon() {
            if (SETTLED.compareAndSet(this, 0, 1) && limits.breaker != null) {
                limits.breaker.releasePermission();
            }
        }

        /** The handler has finished (or was cancelled): free the concurrency slots. Idempotent. */
        public void release() {
            if (RELEASED.compareAndSet(this, 0, 1) && slots != null) {
                ToolLimits.release(slots, slots.length);
            }
        }

        /**
         * Returns the tool's timeout, if any.
         *
         * @return the timeout, or {@code null}
         */
        public Duration timeout() {
            return limits.timeout;
        }

        /**
         * Returns how many more calls the tightest quota would admit right after this one, or -1 with no quota.
         *
         * @return the count
         */
        public long quotaRemaining() {
            return quotaRemaining;
        }

        void timedOut(String agentId) {
            limits.timedOut(agentId);
        }
    }
}
