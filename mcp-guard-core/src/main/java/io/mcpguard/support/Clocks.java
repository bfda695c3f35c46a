package io.mcpguard.support;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Time for the guard's limits. Unstable API. */
public final class Clocks {

    private Clocks() {
    }

    /**
     * Returns a clock that never goes backwards: wall time at creation plus {@link System#nanoTime()} since. The
     * default for quotas and breakers, so that a wall-clock step cannot refill or drain a bucket.
     *
     * @return a monotonic clock
     */
    public static Clock monotonic() {
        return new Monotonic(Instant.now(), System.nanoTime());
    }

    /**
     * Returns the clock's time in nanoseconds since the epoch, without allocating for the monotonic clock.
     *
     * @param clock the clock
     * @return epoch nanoseconds
     */
    public static long nanos(Clock clock) {
        if (clock instanceof Monotonic monotonic) {
            return monotonic.epochNanos();
        }
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private static final class Monotonic extends Clock {

        private final long baseEpochNanos;
        private final long baseNanoTime;
        private final Instant base;

        Monotonic(Instant base, long baseNanoTime) {
            this.base = base;
            this.baseEpochNanos = base.getEpochSecond() * 1_000_000_000L + base.getNano();
            this.baseNanoTime = baseNanoTime;
        }

        long epochNanos() {
            return baseEpochNanos + (System.nanoTime() - baseNanoTime);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return zone.equals(ZoneOffset.UTC) ? this : Clock.fixed(instant(), zone);
        }

        @Override
        public Instant instant() {
            return base.plusNanos(System.nanoTime() - baseNanoTime);
        }
    }
}
