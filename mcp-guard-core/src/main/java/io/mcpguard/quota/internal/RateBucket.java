package io.mcpguard.quota.internal;

import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * One GCRA bucket: the theoretical arrival time (TAT) of the next call, in epoch nanoseconds. Lock-free and exact
 * under contention (one CAS per admitted call). A bucket whose TAT is not after now is indistinguishable from a new
 * one, so the sweeper may retire it; a retired bucket refuses to be used and its users look up a fresh one.
 */
final class RateBucket {

    static final long RETIRED = Long.MIN_VALUE;
    static final long STALE = -1L;

    private static final AtomicLongFieldUpdater<RateBucket> TAT =
            AtomicLongFieldUpdater.newUpdater(RateBucket.class, "tat");

    private volatile long tat;

    /**
     * Takes one call from the bucket.
     *
     * @param now epoch nanos
     * @param interval nanos per call (window / limit)
     * @param tolerance burst tolerance in nanos (interval * (limit - 1))
     * @return 0 if admitted; {@link #STALE} if the bucket was retired; otherwise the nanos until a call would pass
     */
    long tryAcquire(long now, long interval, long tolerance) {
        while (true) {
            long current = tat;
            if (current == RETIRED) {
                return STALE;
            }
            long base = Math.max(current, now);
            long allowAt = base - tolerance;
            if (now < allowAt) {
                return allowAt - now;
            }
            if (TAT.compareAndSet(this, current, base + interval)) {
                return 0;
            }
        }
    }

    /**
     * Returns how many calls the bucket would admit now, one after another.
     *
     * @param now epoch nanos
     * @param interval nanos per call
     * @param tolerance burst tolerance
     * @return the count, at least 0
     */
    long remaining(long now, long interval, long tolerance) {
        long current = tat;
        if (current == RETIRED) {
            return tolerance / interval + 1;
        }
        long slack = now + tolerance - Math.max(current, now);
        return slack < 0 ? 0 : slack / interval + 1;
    }

    /**
     * Gives back one call taken by {@link #tryAcquire}, for a call a later step refused.
     *
     * @param interval nanos per call
     */
    void refund(long interval) {
        while (true) {
            long current = tat;
            if (current == RETIRED || TAT.compareAndSet(this, current, current - interval)) {
                return;
            }
        }
    }

    /**
     * Retires the bucket if it is full again (idle), so that the sweeper can drop it.
     *
     * @param now epoch nanos
     * @return whether it was retired
     */
    boolean retireIfIdle(long now) {
        long current = tat;
        return current != RETIRED && current <= now && TAT.compareAndSet(this, current, RETIRED);
    }
}
