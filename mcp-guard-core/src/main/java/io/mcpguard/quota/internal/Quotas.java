package io.mcpguard.quota.internal;

import io.mcpguard.support.LogSafe;
import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.internal.Rules;
import io.mcpguard.quota.BudgetRule;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.LimitKey;
import io.mcpguard.quota.LimitStore;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.support.Texts;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime side of a policy's rate quotas, budgets and concurrency limits. Rates and budgets are counters in a
 * {@link LimitStore} (shared by replicas when the store is), keyed on the verified agent id (never the MCP session);
 * concurrency limits are in-flight counters of this process. Every rule that selects a primitive applies; a call takes
 * from every counter or from none. Unstable API.
 */
public final class Quotas {

    private static final Logger log = LoggerFactory.getLogger(Quotas.class);

    private final Policy policy;
    private final LimitStore store;
    private final GuardEventListener events;
    private final List<String> quotaSpaces = new ArrayList<>();
    private final List<Map<String, InFlight>> sharedConcurrencyMaps = new ArrayList<>();
    private final List<Map<String, InFlight>> allConcurrencyMaps = new CopyOnWriteArrayList<>();
    private final LimitStore.Rate approvalRate;
    private final Permit unlimited = new Permit();

    /**
     * Creates the state for a policy.
     *
     * @param policy the policy
     * @param store where rate and budget counters live
     * @param events where refusals are published
     */
    public Quotas(Policy policy, LimitStore store, GuardEventListener events) {
        this.policy = policy;
        this.store = store;
        this.events = events;
        Map<String, Integer> seen = new HashMap<>();
        for (QuotaRule rule : policy.quotas()) {
            String hash = CanonicalJson.sha256(rule.canonical()).substring(0, 16);
            int n = seen.merge(hash, 1, Integer::sum);
            quotaSpaces.add("quota:" + hash + (n > 1 ? "#" + n : ""));
        }
        for (int i = 0; i < policy.concurrency().size(); i++) {
            Map<String, InFlight> map = new ConcurrentHashMap<>();
            sharedConcurrencyMaps.add(map);
            if (policy.concurrency().get(i).key() != LimitKey.AGENT_AND_TOOL) {
                allConcurrencyMaps.add(map);
            }
        }
        this.approvalRate = new LimitStore.Rate(policy.approvalRequestLimit(), policy.approvalRequestWindow());
    }

    /**
     * Returns the store.
     *
     * @return the limit store
     */
    public LimitStore store() {
        return store;
    }

    /**
     * Resolves the quotas, budgets and concurrency limits that apply to one primitive. A rule whose matcher throws
     * applies.
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
        LimitStore.Result result;
        try {
            result = store.tryAcquire(List.of(LimitStore.Charge.call(new LimitStore.Key("approval-requests",
                    agentId), approvalRate)));
        } catch (RuntimeException e) {
            log.warn("Limit store failed; refusing the approval request (fail closed)", LogSafe.throwable(e));
            return storeFailed(Decision.Step.APPROVAL);
        }
        if (result.granted()) {
            return null;
        }
        Duration retryAfter = result.retryAfter();
        return new Decision.Deny(ReasonCode.APPROVAL_RATE_LIMITED, Decision.Step.APPROVAL,
                "Too many approval requests: at most " + policy.approvalRequestLimit() + " per "
                        + Texts.duration(policy.approvalRequestWindow()) + " for each agent. Retry in "
                        + Texts.duration(retryAfter) + ".",
                retryAfter);
    }

    /**
     * Drops the state of keys that are idle: full buckets, spent windows, counters with nothing in flight.
     *
     * @return how many entries were dropped
     */
    public int sweep() {
        int dropped = store.sweep();
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
     * Returns how many counters are held (in the store and in flight).
     *
     * @return the number of tracked entries
     */
    public int trackedEntries() {
        int n = store.size();
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

    private static Decision.Deny storeFailed(Decision.Step step) {
        return new Decision.Deny(step == Decision.Step.BUDGET ? ReasonCode.BUDGET_EXCEEDED
                : step == Decision.Step.APPROVAL ? ReasonCode.APPROVAL_RATE_LIMITED : ReasonCode.QUOTA_EXCEEDED,
                step, "Limits cannot be checked right now; the call is refused. Retry later.", Duration.ofSeconds(1));
    }

    /** One quota as it applies to one primitive. */
    private record QuotaCheck(QuotaRule rule, String space, String fixedId, String suffix, LimitStore.Rate rate) {

        LimitStore.Charge charge(String agentId) {
            String id = fixedId != null ? fixedId : suffix == null ? agentId : agentId + '\u0000' + suffix;
            return LimitStore.Charge.call(new LimitStore.Key(space, id), rate);
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

    /**
     * What the budgets say about one call.
     *
     * @param refused the refusal, or {@code null}
     * @param askReason why a person must approve (a budget would be exceeded or cannot be measured), or {@code null}
     * @param onApproval the charges to record once a person approves
     */
    public record BudgetCheck(Decision.Deny refused, String askReason, List<LimitStore.Charge> onApproval) {
        static final BudgetCheck FITS = new BudgetCheck(null, null, List.of());
    }

    /** The quotas, budgets and concurrency limits of one primitive. */
    public final class Target {

        private final String name;
        private final String kind;
        private final QuotaCheck[] quotas;
        private final BudgetRule[] budgets;
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
                LimitStore.Rate rate = new LimitStore.Rate(rule.limit(), rule.window());
                String space = quotaSpaces.get(i);
                q.add(switch (rule.key()) {
                    case AGENT -> new QuotaCheck(rule, space, null, null, rate);
                    case TOOL -> new QuotaCheck(rule, space, fixed, null, rate);
                    case AGENT_AND_TOOL -> new QuotaCheck(rule, space, null, fixed, rate);
                });
            }
            this.quotas = q.toArray(QuotaCheck[]::new);
            List<BudgetRule> b = new ArrayList<>();
            if (primitive.kind() == Primitive.Kind.TOOL) {
                for (BudgetRule rule : policy.budgets()) {
                    Boolean selects = Rules.selects(rule.tools(), primitive.tool(), rule.canonical());
                    if (selects == null || selects) {
                        b.add(rule);
                    }
                }
            }
            this.budgets = b.toArray(BudgetRule[]::new);
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
         * Returns whether budgets apply to this primitive.
         *
         * @return {@code true} if at least one budget selects it
         */
        public boolean hasBudgets() {
            return budgets.length > 0;
        }

        /**
         * Takes one call from every rate quota, or from none.
         *
         * @param agentId the verified agent
         * @return a {@link Permit} (its {@link Permit#quotaRemaining()} -1 when no quota applies), or the
         *         {@link Decision.Deny}
         */
        public Object admit(String agentId) {
            if (quotas.length == 0 && budgets.length == 0 && concurrency.length == 0) {
                return unlimited; // nothing will be added to it: one shared permit, no allocation
            }
            Permit permit = new Permit();
            if (quotas.length == 0) {
                return permit;
            }
            List<LimitStore.Charge> charges = switch (quotas.length) {
                case 1 -> List.of(quotas[0].charge(agentId));
                case 2 -> List.of(quotas[0].charge(agentId), quotas[1].charge(agentId));
                default -> {
                    LimitStore.Charge[] all = new LimitStore.Charge[quotas.length];
                    for (int i = 0; i < all.length; i++) {
                        all[i] = quotas[i].charge(agentId);
                    }
                    yield java.util.Arrays.asList(all);
                }
            };
            LimitStore.Result result;
            try {
                result = store.tryAcquire(charges);
            } catch (RuntimeException e) {
                log.warn("Limit store failed; refusing the call (fail closed)", LogSafe.throwable(e));
                return storeFailed(Decision.Step.QUOTA);
            }
            if (!result.granted()) {
                return quotaDenied(agentId, quotas[result.refused()].rule(), result.retryAfter());
            }
            permit.add(result.receipt());
            permit.quotaRemaining = result.remaining();
            return permit;
        }

        /**
         * Charges the call against every budget, or says why it cannot be charged without a person.
         *
         * @param permit where receipts go
         * @param agent the verified agent
         * @param arguments the call's arguments
         * @return the check
         */
        public BudgetCheck budgets(Permit permit, AgentIdentity agent, Map<String, Object> arguments) {
            if (budgets.length == 0) {
                return BudgetCheck.FITS;
            }
            try {
                return checkBudgets(permit, agent, arguments == null ? Map.of() : arguments);
            } catch (RuntimeException e) {
                log.warn("Budget check failed for {} '{}'; refusing the call (fail closed)", kind,
                        io.mcpguard.support.LogSafe.text(name), LogSafe.throwable(e));
                return new BudgetCheck(storeFailed(Decision.Step.BUDGET), null, List.of());
            }
        }

        private BudgetCheck checkBudgets(Permit permit, AgentIdentity agent, Map<String, Object> arguments) {
            List<LimitStore.Charge> all = new ArrayList<>(budgets.length);
            List<BudgetRule> rules = new ArrayList<>(budgets.length);
            List<LimitStore.Charge> refusing = new ArrayList<>();
            List<BudgetRule> refusingRules = new ArrayList<>();
            List<LimitStore.Charge> asking = new ArrayList<>();
            String askReason = null;
            for (BudgetRule rule : budgets) {
                LimitStore.Charge charge = charge(rule, agent, arguments);
                if (charge == null) {
                    if (rule.overrun() == BudgetRule.Overrun.REFUSE) {
                        return new BudgetCheck(budgetDenied(rule, true), null, List.of());
                    }
                    if (askReason == null) {
                        askReason = rule.describe() + " cannot measure this call";
                    }
                    continue;
                }
                all.add(charge);
                rules.add(rule);
                if (rule.overrun() == BudgetRule.Overrun.REFUSE) {
                    refusing.add(charge);
                    refusingRules.add(rule);
                } else {
                    asking.add(charge);
                }
            }
            if (askReason == null) {
                LimitStore.Result result = store.tryAcquire(all);
                if (result.granted()) {
                    permit.add(result.receipt());
                    return BudgetCheck.FITS;
                }
                BudgetRule over = rules.get(result.refused());
                if (over.overrun() == BudgetRule.Overrun.REFUSE) {
                    return new BudgetCheck(budgetDenied(over, false), null, List.of());
                }
                askReason = over.describe() + " would be exceeded";
            }
            if (!refusing.isEmpty()) {
                LimitStore.Result result = store.tryAcquire(refusing);
                if (!result.granted()) {
                    return new BudgetCheck(budgetDenied(refusingRules.get(result.refused()), false), null,
                            List.of());
                }
                permit.add(result.receipt());
            }
            return new BudgetCheck(null, askReason, List.copyOf(asking));
        }

        private LimitStore.Charge charge(BudgetRule rule, AgentIdentity agent, Map<String, Object> arguments) {
            Object amount = arguments.get(rule.amountArgument());
            if (!(amount instanceof Number n)) {
                return null;
            }
            BigDecimal value = CanonicalJson.decimal(n);
            if (value == null || value.signum() < 0) {
                return null;
            }
            String id;
            if (rule.keyArgument() != null) {
                Object key = arguments.get(rule.keyArgument());
                String text = key instanceof String s ? s : key instanceof Number k ? numberText(k) : null;
                if (text == null) {
                    return null;
                }
                id = rule.perAgent() ? agent.agentId() + '\u0000' + text : text;
            } else {
                id = agent.agentId();
            }
            return new LimitStore.Charge(new LimitStore.Key("budget:" + rule.name(), id),
                    new LimitStore.Sum(rule.limit(), rule.window()), value);
        }

        private static String numberText(Number n) {
            try {
                return CanonicalJson.number(n);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }

        private Decision.Deny budgetDenied(BudgetRule rule, boolean unmeasurable) {
            return new Decision.Deny(ReasonCode.BUDGET_EXCEEDED, Decision.Step.BUDGET,
                    "Call to '" + name + "' refused: " + rule.describe()
                            + (unmeasurable ? " cannot measure this call (argument missing or mistyped)."
                                    : " would be exceeded."),
                    null, rule.name());
        }

        /**
         * Takes a slot of every concurrency limit, or none.
         *
         * @param permit where the slots go
         * @param agentId the verified agent
         * @return {@code null} if taken, otherwise the refusal
         */
        public Decision.Deny acquireSlots(Permit permit, String agentId) {
            if (concurrency.length == 0) {
                return null;
            }
            InFlight[] slots = new InFlight[concurrency.length];
            for (int i = 0; i < concurrency.length; i++) {
                InFlight slot = concurrency[i].take(agentId);
                if (slot == null) {
                    release(slots, i);
                    return concurrencyDenied(agentId, concurrency[i].rule);
                }
                slots[i] = slot;
            }
            permit.slots = slots;
            return null;
        }

        private static void release(InFlight[] slots, int upTo) {
            for (int i = 0; i < upTo; i++) {
                slots[i].release();
            }
        }

        private Decision.Deny quotaDenied(String agentId, QuotaRule rule, Duration retryAfter) {
            events.onEvent(new GuardEvent.QuotaExceeded(store.clock().instant(), agentId, name, rule, retryAfter));
            return new Decision.Deny(ReasonCode.QUOTA_EXCEEDED, Decision.Step.QUOTA,
                    "Quota exceeded for " + kind + " '" + name + "': at most " + rule.limit() + " calls per "
                            + Texts.duration(rule.window()) + " " + per(rule.key(), kind) + ". Retry in "
                            + Texts.duration(retryAfter) + ".",
                    retryAfter);
        }

        private Decision.Deny concurrencyDenied(String agentId, ConcurrencyRule rule) {
            events.onEvent(new GuardEvent.ConcurrencyLimited(store.clock().instant(), agentId, name, rule));
            return new Decision.Deny(ReasonCode.CONCURRENCY_LIMITED, Decision.Step.CONCURRENCY,
                    "Too many calls in flight for " + kind + " '" + name + "': at most " + rule.maxConcurrent()
                            + " at once " + per(rule.key(), kind) + ". Retry in "
                            + Texts.duration(rule.retryAfter()) + ".",
                    rule.retryAfter());
        }
    }

    /**
     * What an admitted call took: quota and budget charges in the store, concurrency slots in this process.
     * {@link #refund()} gives the charges back when a later step refuses the call; {@link #release()} frees the slots
     * when the call really ends. Both are idempotent. The call that owns a permit adds to it from one thread at a
     * time; refund and release may come from another.
     */
    public final class Permit {

        private static final AtomicIntegerFieldUpdater<Permit> REFUNDED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "refunded");
        private static final AtomicIntegerFieldUpdater<Permit> RELEASED =
                AtomicIntegerFieldUpdater.newUpdater(Permit.class, "released");

        private LimitStore.Receipt first;
        private List<LimitStore.Receipt> more;
        private volatile InFlight[] slots;
        private long quotaRemaining = -1;
        private volatile int refunded;
        private volatile int released;

        Permit() {
        }

        synchronized void add(LimitStore.Receipt receipt) {
            if (first == null) {
                first = receipt;
                return;
            }
            if (more == null) {
                more = new ArrayList<>(2);
            }
            more.add(receipt);
        }

        /**
         * Records charges a person approved past their limit.
         *
         * @param charges the charges
         */
        public void force(List<LimitStore.Charge> charges) {
            if (!charges.isEmpty()) {
                add(store.force(charges));
            }
        }

        /** The call never ran: give back what it charged. */
        public void refund() {
            if (REFUNDED.compareAndSet(this, 0, 1)) {
                List<LimitStore.Receipt> taken = new ArrayList<>(2);
                synchronized (this) {
                    if (first != null) {
                        taken.add(first);
                    }
                    if (more != null) {
                        taken.addAll(more);
                    }
                }
                for (LimitStore.Receipt receipt : taken) {
                    try {
                        store.refund(receipt);
                    } catch (RuntimeException e) {
                        log.warn("Limit store failed to refund a call; its charges stay (restrictive)", LogSafe.throwable(e));
                    }
                }
            }
        }

        /** The call has ended (or will never run): free its concurrency slots. */
        public void release() {
            InFlight[] taken = slots;
            if (taken != null && RELEASED.compareAndSet(this, 0, 1)) {
                Target.release(taken, taken.length);
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
