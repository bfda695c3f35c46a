package io.mcpguard.quota.internal;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * A count of calls in flight, for a concurrency limit. Lock-free and exact; never waits. A counter at zero may be
 * retired by the sweeper; its users then look up a fresh one.
 */
final class InFlight {

    static final int RETIRED = -1;

    private static final AtomicIntegerFieldUpdater<InFlight> COUNT =
            AtomicIntegerFieldUpdater.newUpdater(InFlight.class, "count");

    private volatile int count;

    /**
     * Takes a slot.
     *
     * @param max the limit
     * @return 1 if taken, 0 if the limit is reached, {@link #RETIRED} if retired
     */
    int tryAcquire(int max) {
        while (true) {
            int current = count;
            if (current == RETIRED) {
                return RETIRED;
            }
            if (current >= max) {
                return 0;
            }
            if (COUNT.compareAndSet(this, current, current + 1)) {
                return 1;
            }
        }
    }

    /** Gives back a slot. */
    void release() {
        COUNT.decrementAndGet(this);
    }

    /**
     * Retires the counter if nothing is in flight.
     *
     * @return whether it was retired
     */
    boolean retireIfIdle() {
        return count == 0 && COUNT.compareAndSet(this, 0, RETIRED);
    }

    int current() {
        return count;
    }
}
