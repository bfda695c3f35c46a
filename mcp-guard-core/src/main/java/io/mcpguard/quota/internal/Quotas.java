package io.mcpguard.quota.internal;

import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.internal.Rules;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.LimitKey;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.support.Clocks;
import io.mcpguard.support.Texts;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The runtime state of a policy's rate quotas and concurrency limits: GCRA buckets and in-flight counters, keyed on
 * the verified agent id (never the MCP session). Every rule that selects a primitive applies; a call takes from every
 * bucket and slot or from none. Idle state is dropped by {@link #sweep()}: an idle bucket equals a new one. Unstable
 * API.
 */
public final class Quotas {

    private final Policy policy;
    private final Clock clock;
    private final GuardEventListener events;
    private final List<Map<String, RateBucket>> sharedQuotaMaps = new ArrayList<>();
    private final List<Map<String, InFlight>> sharedConcurrencyMaps = new ArrayList<>();
    private final List<Map<String, RateBucket>> allQuotaMaps = new CopyOnWriteArrayList<>();
    private final List<Map<String, InFlight>> allConcurrencyMaps = new CopyOnWriteArrayList<>();
    private final Map<String, RateBucket> approvalRequests = new ConcurrentHashMap<>();
    private final long approvalInterval;
    private final long approvalTolerance;

    /**
     * Creates the state for a policy.
     *
     * @param policy the policy
     * @param clock the clock (one per guard)
     * @param events where refusals are published
     */
    public Quotas(Policy policy, Clock clock, GuardEventListener events) {
        this.policy = policy;
        this.clock = clock;
        this.events = events;
        for (QuotaRule rule : policy.quotas()) {
            Map<String, RateBucket> map = new ConcurrentHashMap<>();
            sharedQuotaMaps.add(map);
            if (rule.key() != LimitKey.AGENT_AND_TOOL) {
                allQuotaMaps.add(map);
            }
        }
        for (ConcurrencyRule rule : policy.concurrency()) {
            Map<String, InFlight> map = new ConcurrentHashMap<>();
            sharedConcurrencyMaps.add(map);
            if (rule.key() != LimitKey.AGENT_AND_TOOL) {
                allConcurrencyMaps.add(map);
            }
        }
        allQuotaMaps.add(approvalRequests);
        this.approvalInterval = policy.approvalRequestWindow().toNanos() / policy.approvalRequestLimit();
        this.approvalTolerance = approvalInterval * (policy.approvalRequestLimit() - 1);
    }

    /**
     * Resolves the quotas and concurrency limits that apply to one primitive. A rule whose matcher throws applies.
     *
     * @param primitive the primitive
     * @return its limits
     */
    public Target forPrimitive(Primitive primitive) {
        return new Target(primitive);
    }

    /**
     * Counts one approval request against the agent's limit.
     *
     * @param agentId the agent
     * @return {@code null} if allowed, otherwise the refusal
     */
    public Decision.Deny tryApprovalRequest(String agentId) {
        long now = Clocks.nanos(clock);
        while (true) {
            RateBucket bucket = approvalRequests.computeIfAbsent(agentId, k -> new RateBucket());
            long result = bucket.tryAcquire(now, approvalInterval, approvalTolerance);
            if (result == 0) {
                return null;
            }
            if (result != RateBucket.STALE) {
                Duration retryAfter = Duration.ofNanos(result);
                return new Decision.Deny(ReasonCode.APPROVAL_RATE_LIMITED, Decision.Step.APPROVAL,
                        "Too many approval requests: at most " + policy.approvalRequestLimit() + " per "
                                + Texts.duration(policy.approvalRequestWindow()) + " for each agent. Retry in "
                                + Texts.duration(retryAfter) + ".",
                        retryAfter);
            }
            approvalRequests.remove(agentId, bucket);
        }
    }

    /**
     * Drops the state of keys that are idle: full buckets and counters with nothing in flight.
     *
     * @return how many entries were dropped
     */
    public int sweep() {
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
     * Returns how many quota buckets and concurrency counters are held (approval-request buckets excluded).
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

    private static String per(LimitKey key, String kind) {
        return switch (key) {
            case AGENT_AND_TOOL -> "for each agent on this " + kind;
            case AGENT -> "for each agent";
            case TOOL -> "for this " + kind + " across all agents";
        };
    }

    /** One quota as it applies to one primitive. */
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

    /** One concurrency limit as it applies to one primitive. */
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

    /** The quotas and concurrency limits of one primitive. */
    public final class Target {

        private final String name;
        private final String kind;
        private final QuotaCheck[] quotas;
        private final ConcurrencyCheck[] concurrency;

        Target(Primitive primitive) {
            this.name = primitive.name();
            this.kind = primitive.kind() == Primitive.Kind.TOOL ? "tool"
                    : primitive.kind() == Primitive.Kind.PROMPT ? "prompt" : "resource";
            String fixed = primitive.kind().code() + ":" + primitive.name();
            List<QuotaCheck> q = new ArrayList<>();
            for (int i = 0; i < policy.quotas().size(); i++) {
                QuotaRule rule = policy.quotas().get(i);
                if (!Rules.applies(rule.selection(), primitive, rule.canonical())) {
                    continue;
                }
                switch (rule.key()) {
                    case AGENT -> q.add(new QuotaCheck(rule, sharedQuotaMaps.get(i), null));
                    case TOOL -> q.add(new QuotaCheck(rule, sharedQuotaMaps.get(i), fixed));
                    case AGENT_AND_TOOL -> {
                        Map<String, RateBucket> own = new ConcurrentHashMap<>();
                        allQuotaMaps.add(own);
                        q.add(new QuotaCheck(rule, own, null));
                    }
                }
            }
            this.quotas = q.toArray(QuotaCheck[]::new);
            List<ConcurrencyCheck> c = new ArrayList<>();
            for (int i = 0; i < policy.concurrency().size(); i++) {
                ConcurrencyRule rule = policy.concurrency().get(i);
                if (!Rules.applies(rule.selection(), primitive, rule.canonical())) {
                    continue;
                }
                switch (rule.key()) {
                    case AGENT -> c.add(new ConcurrencyCheck(rule, sharedConcurrencyMaps.get(i), null));
                    case TOOL -> c.add(new ConcurrencyCheck(rule, sharedConcurrencyMaps.get(i), fixed));
                    case AGENT_AND_TOOL -> {
                        Map<String, InFlight> own = new ConcurrentHashMap<>();
                        allConcurrencyMaps.add(own);
                        c.add(new ConcurrencyCheck(rule, own, null));
                    }
                }
            }
            this.concurrency = c.toArray(ConcurrencyCheck[]::new);
        }

        /**
         * Returns whether no quota or concurrency limit applies.
         *
         * @return {@code true} if unlimited
         */
        public boolean unlimited() {
            return quotas.length == 0 && concurrency.length == 0;
        }

        /**
         * Takes from every quota and a slot of every concurrency limit, or from none.
         *
         * @param agentId the verified agent
         * @return a {@link Permit}, {@link Permit#NONE} when nothing applies, or the {@link Decision.Deny}
         */
        public Object admit(String agentId) {
            if (unlimited()) {
                return Permit.NONE;
            }
            RateBucket[] taken = quotas.length == 0 ? null : new RateBucket[quotas.length];
            long remaining = -1;
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
            events.onEvent(new GuardEvent.QuotaExceeded(clock.instant(), agentId, name, rule, retryAfter));
            return new Decision.Deny(ReasonCode.QUOTA_EXCEEDED, Decision.Step.QUOTA,
                    "Quota exceeded for " + kind + " '" + name + "': at most " + rule.limit() + " calls per "
                            + Texts.duration(rule.window()) + " " + per(rule.key(), kind) + ". Retry in "
                            + Texts.duration(retryAfter) + ".",
                    retryAfter);
        }

        private Decision.Deny concurrencyDenied(String agentId, ConcurrencyRule rule) {
            events.onEvent(new GuardEvent.ConcurrencyLimited(clock.instant(), agentId, name, rule));
            return new Decision.Deny(ReasonCode.CONCURRENCY_LIMITED, Decision.Step.CONCURRENCY,
                    "Too many calls in flight for " + kind + " '" + name + "': at most " + rule.maxConcurrent()
                            + " at once " + per(rule.key(), kind) + ". Retry in "
                            + Texts.duration(rule.retryAfter()) + ".",
                    rule.retryAfter());
        }
    }

    /**
     * What an admitted call took: quota and concurrency slots. {@link #refund()} gives the quota back when a later
     * step refuses the call; {@link #release()} frees the slots when the call really ends. Both are idempotent.
     */
    public static final class Permit {

        /** The permit of a call no quota or concurrency limit applies to. */
        public static final Permit NONE = new Permit(null, null, null, -1);

        private final Target target;
        private final RateBucket[] taken;
        private final InFlight[] slots;
        private final long quotaRemaining;
        private static final AtomicIntegerFieldUpdater<Permit> REFUNDED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "refunded");
        private static final AtomicIntegerFieldUpdater<Permit> RELEASED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "released");
        private volatile int refunded;
        private volatile int released;

        Permit(Target target, RateBucket[] taken, InFlight[] slots, long quotaRemaining) {
            this.target = target;
            this.taken = taken;
            this.slots = slots;
            this.quotaRemaining = quotaRemaining;
        }

        /** The call never ran: give back what it took from each quota. */
        public void refund() {
            if (taken != null && REFUNDED.compareAndSet(this, 0, 1)) {
                target.refund(taken, taken.length);
            }
        }

        /** The call has ended (or will never run): free its concurrency slots. */
        public void release() {
            if (slots != null && RELEASED.compareAndSet(this, 0, 1)) {
                Target.release(slots, slots.length);
            }
        }

        /**
         * Returns how many more calls the tightest quota would admit right after this one, or -1 with no quota.
         *
         * @return the count
         */
        public long quotaRemaining() {
            return quotaRemaining;
        }
    }
}
