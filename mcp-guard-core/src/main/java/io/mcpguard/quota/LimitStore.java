package io.mcpguard.quota;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Where the state of rate quotas and budgets lives: the counters every admitted call is charged against. The guard
 * keeps it in memory by default ({@link InMemoryLimitStore}); replicas that must share limits plug in a shared store
 * (a later module adds Redis) behind this interface.
 *
 * <p>An implementation must be:
 * <ul>
 * <li><b>atomic across keys</b>: {@link #tryAcquire} checks every charge and records all of them or none, so that no
 * interleaving of concurrent calls ever takes a counter past its limit;
 * <li><b>refundable</b>: {@link #refund} undoes exactly what one acquisition recorded, when a later step refuses the
 * call (idempotent);
 * <li><b>self-cleaning</b>: keys that hold nothing any more (a full rate bucket, a window with nothing left in it)
 * expire, so memory follows the active agents, not every agent ever seen;
 * <li><b>on one clock</b>: every decision uses {@link #clock()}, so that replicas agree and tests can step time.
 * </ul>
 * A store that fails throws; the guard then refuses the call (fail closed).
 */
public interface LimitStore extends AutoCloseable {

    /**
     * A counter's name: the rule's space (which rule, which kind of key) and the key within it (an agent id, a tool,
     * an argument value).
     *
     * @param space the rule's space, e.g. {@code quota:0}
     * @param id the key within it, e.g. {@code support-bot}
     */
    record Key(String space, String id) {
        /**
         * Checks the parts.
         *
         * @param space the space
         * @param id the id
         */
        public Key {
            Objects.requireNonNull(space, "space");
            Objects.requireNonNull(id, "id");
        }

        @Override
        public String toString() {
            return space + "/" + id;
        }
    }

    /** What a counter may hold. */
    sealed interface Limit permits Rate, Sum {
        /**
         * Returns the window the limit is measured over.
         *
         * @return the window
         */
        Duration window();
    }

    /**
     * At most {@code limit} calls per {@code window}, replenished evenly (GCRA): a burst of {@code limit} calls, then one
     * every {@code window / limit}. Each charge takes one call.
     *
     * @param limit calls per window, at least 1
     * @param window the window, positive
     */
    record Rate(int limit, Duration window) implements Limit {
        /**
         * Checks the parts.
         *
         * @param limit the limit
         * @param window the window
         */
        public Rate {
            if (limit < 1) {
                throw new IllegalArgumentException("a rate limit allows at least 1 call, got " + limit);
            }
            if (window == null || window.isZero() || window.isNegative()) {
                throw new IllegalArgumentException("a rate limit needs a positive window, got " + window);
            }
        }
    }

    /**
     * The sum of the amounts charged within any sliding {@code window} may not exceed {@code limit}.
     *
     * @param limit the largest sum, not negative
     * @param window the window, positive
     */
    record Sum(BigDecimal limit, Duration window) implements Limit {
        /**
         * Checks the parts.
         *
         * @param limit the limit
         * @param window the window
         */
        public Sum {
            if (limit == null || limit.signum() < 0) {
                throw new IllegalArgumentException("a sum limit must not be negative, got " + limit);
            }
            if (window == null || window.isZero() || window.isNegative()) {
                throw new IllegalArgumentException("a sum limit needs a positive window, got " + window);
            }
        }
    }

    /**
     * One charge: an amount against a key under a limit (for a {@link Rate}, the amount is one call).
     *
     * @param key the counter
     * @param limit its limit
     * @param amount what this call adds, not negative ({@link BigDecimal#ONE} for rates)
     */
    record Charge(Key key, Limit limit, BigDecimal amount) {
        /**
         * Checks the parts.
         *
         * @param key the key
         * @param limit the limit
         * @param amount the amount
         */
        public Charge {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(limit, "limit");
            if (amount == null || amount.signum() < 0) {
                throw new IllegalArgumentException("a charge's amount must not be negative, got " + amount);
            }
        }

        /**
         * A one-call charge against a rate.
         *
         * @param key the counter
         * @param rate the rate
         * @return the charge
         */
        public static Charge call(Key key, Rate rate) {
            return new Charge(key, rate, BigDecimal.ONE);
        }
    }

    /**
     * What one acquisition recorded, to refund it.
     *
     * @param id unique per acquisition for a shared store, or empty for a store in this process
     * @param charges what was recorded (as given to the store, not copied: do not change the list)
     * @param slots where each charge was recorded (store-specific, e.g. the window slot of a sum; may be empty when no
     *        charge needs one)
     */
    record Receipt(String id, List<Charge> charges, long[] slots) {
        /**
         * Checks the parts.
         *
         * @param id the id
         * @param charges the charges
         * @param slots the slots
         */
        public Receipt {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(charges, "charges");
            Objects.requireNonNull(slots, "slots");
        }
    }

    /**
     * The answer to {@link #tryAcquire}.
     *
     * @param receipt what was recorded, or {@code null} when refused
     * @param refused the index of the first charge that did not fit, or -1
     * @param retryAfter when the refused charge could fit again (rates), or {@code null} when unknown (sums)
     * @param remaining for granted acquisitions, how many more calls the tightest rate would admit right now, or -1
     *        when no rate was charged
     */
    record Result(Receipt receipt, int refused, Duration retryAfter, long remaining) {
        /**
         * Returns whether every charge was recorded.
         *
         * @return {@code true} if granted
         */
        public boolean granted() {
            return receipt != null;
        }
    }

    /**
     * Checks every charge and records them all, atomically, if each fits under its limit; otherwise records nothing.
     *
     * @param charges the charges (keys distinct)
     * @return the result
     */
    Result tryAcquire(List<Charge> charges);

    /**
     * Records charges without checking their limits: an overrun a person approved. Later calls see it.
     *
     * @param charges the charges
     * @return what was recorded
     */
    Receipt force(List<Charge> charges);

    /**
     * Undoes what an acquisition recorded. Idempotent; a receipt whose window has passed changes nothing.
     *
     * @param receipt the receipt
     */
    void refund(Receipt receipt);

    /**
     * Returns the sum charged against a key within the limit's window (for a rate: calls in its window), for
     * operators and messages.
     *
     * @param key the key
     * @param limit the limit whose window applies
     * @return the current use
     */
    BigDecimal used(Key key, Limit limit);

    /**
     * Drops keys that hold nothing any more.
     *
     * @return how many were dropped
     */
    int sweep();

    /**
     * Returns how many keys the store holds.
     *
     * @return the count
     */
    int size();

    /**
     * Returns the one clock every decision of this store uses.
     *
     * @return the clock
     */
    Clock clock();

    @Override
    default void close() {
    }
}
