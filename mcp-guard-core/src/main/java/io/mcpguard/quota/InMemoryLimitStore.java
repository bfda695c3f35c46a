package io.mcpguard.quota;

import io.mcpguard.support.Clocks;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link LimitStore}: counters in this JVM's memory. Exact under contention: an acquisition locks the
 * counters it charges in one global order (by key), checks them all, and records all or none.
 *
 * <p>Rates are GCRA buckets (one theoretical arrival time per key). Sums keep the amounts of the current window in
 * {@value #SLOTS} slots of {@code window / }{@value #SLOTS} each; a slot counts until all of it has left the window,
 * so a sum may be held up to one slot longer than its window, never shorter (the restrictive direction).
 *
 * <p>Each replica has its own counters: with several replicas, use a shared store. Receipts carry no id (the
 * counters are in this process).
 */
public final class InMemoryLimitStore implements LimitStore {

    /** How many slots a sum's window is divided into. */
    public static final int SLOTS = 64;

    private static final int RING = SLOTS + 2;

    private static final Comparator<Charge> KEY_ORDER = Comparator.comparing((Charge c) -> c.key().space())
            .thenComparing(c -> c.key().id());

    private final Clock clock;
    private final Map<Key, State> states = new ConcurrentHashMap<>();

    private InMemoryLimitStore(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Creates a store on a monotonic clock.
     *
     * @return the store
     */
    public static InMemoryLimitStore create() {
        return new InMemoryLimitStore(Clocks.monotonic());
    }

    /**
     * Creates a store on the given clock (tests step it).
     *
     * @param clock the clock
     * @return the store
     */
    public static InMemoryLimitStore withClock(Clock clock) {
        return new InMemoryLimitStore(clock);
    }

    @Override
    public Clock clock() {
        return clock;
    }

    /** One counter. Guarded by its own monitor. */
    private abstract static class State {
        boolean retired;

        abstract boolean idle(long now);
    }

    private static final class RateState extends State {
        long tat;

        @Override
        boolean idle(long now) {
            return tat <= now;
        }
    }

    private static final class SumState extends State {
        final long slotNanos;
        // Up to SLOTS + 1 slots overlap a window (the oldest one only partly), plus one for the rounding of the
        // slot length: a ring of RING entries never overwrites a slot that still counts.
        final long[] starts = new long[RING];
        final BigDecimal[] amounts = new BigDecimal[RING];

        SumState(Duration window) {
            this.slotNanos = Math.max(1, window.toNanos() / SLOTS);
        }

        /** The sum of the slots that still overlap the window ending now. */
        BigDecimal sum(long now, long window) {
            BigDecimal total = BigDecimal.ZERO;
            for (int i = 0; i < RING; i++) {
                if (amounts[i] != null && live(starts[i], now, window)) {
                    total = total.add(amounts[i]);
                }
            }
            return total;
        }

        boolean live(long start, long now, long window) {
            return start + slotNanos > now - window;
        }

        long add(long now, BigDecimal amount) {
            long start = Math.floorDiv(now, slotNanos) * slotNanos;
            int i = (int) Math.floorMod(Math.floorDiv(now, slotNanos), (long) RING);
            if (amounts[i] == null || starts[i] != start) {
                starts[i] = start;
                amounts[i] = amount;
            } else {
                amounts[i] = amounts[i].add(amount);
            }
            return start;
        }

        void remove(long start, BigDecimal amount) {
            int i = (int) Math.floorMod(Math.floorDiv(start, slotNanos), (long) RING);
            if (amounts[i] != null && starts[i] == start) {
                BigDecimal left = amounts[i].subtract(amount);
                amounts[i] = left.signum() <= 0 ? null : left;
            }
        }

        @Override
        boolean idle(long now) {
            for (int i = 0; i < RING; i++) {
                // A slot is dropped once it is older than any window could be (64 slots = one window).
                if (amounts[i] != null && starts[i] + slotNanos * RING > now) {
                    return false;
                }
            }
            return true;
        }
    }

    @Override
    public Result tryAcquire(List<Charge> charges) {
        return apply(charges, false);
    }

    @Override
    public Receipt force(List<Charge> charges) {
        return apply(charges, true).receipt();
    }

    private Result apply(List<Charge> charges, boolean force) {
        int n = charges.size();
        if (n == 0) {
            return new Result(new Receipt("", charges, NO_SLOTS), -1, null, -1);
        }
        if (n == 1) {
            return applyOne(charges, force);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // Insertion sort: an acquisition charges a handful of keys.
        for (int i = 1; i < n; i++) {
            int current = order[i];
            int j = i - 1;
            while (j >= 0 && KEY_ORDER.compare(charges.get(order[j]), charges.get(current)) > 0) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = current;
        }
        while (true) {
            State[] locked = new State[n];
            for (int i = 0; i < n; i++) {
                Charge charge = charges.get(order[i]);
                State state = states.get(charge.key());
                if (state == null) {
                    state = states.computeIfAbsent(charge.key(), k -> charge.limit() instanceof Rate
                            ? new RateState() : new SumState(charge.limit().window()));
                }
                locked[i] = state;
            }
            Result result = lockThenApply(charges, order, locked, 0, force);
            if (result != null) {
                return result;
            }
            // A counter was retired by the sweeper between lookup and lock: look it up again.
        }
    }

    private static final long[] NO_SLOTS = new long[0];
    private static final int[] FIRST = {0};

    private Result applyOne(List<Charge> charges, boolean force) {
        Charge charge = charges.get(0);
        while (true) {
            State state = states.get(charge.key());
            if (state == null) {
                state = states.computeIfAbsent(charge.key(), k -> charge.limit() instanceof Rate
                        ? new RateState() : new SumState(charge.limit().window()));
            }
            Result result = lockThenApply(charges, FIRST, new State[] {state}, 0, force);
            if (result != null) {
                return result;
            }
        }
    }

    /** Locks the counters one by one in key order, then decides with all of them held. */
    private Result lockThenApply(List<Charge> charges, int[] order, State[] locked, int i, boolean force) {
        if (i < locked.length) {
            synchronized (locked[i]) {
                return lockThenApply(charges, order, locked, i + 1, force);
            }
        }
        for (State state : locked) {
            if (state.retired) {
                return null;
            }
        }
        long now = Clocks.nanos(clock);
        if (!force) {
            for (int c = 0; c < locked.length; c++) {
                int index = order[c];
                Charge charge = charges.get(index);
                if (charge.limit() instanceof Rate rate) {
                    RateState state = (RateState) kind(locked[c], RateState.class, charge);
                    long interval = interval(rate);
                    long allowAt = Math.max(state.tat, now) - interval * (rate.limit() - 1);
                    if (now < allowAt) {
                        return new Result(null, index, Duration.ofNanos(allowAt - now), -1);
                    }
                } else {
                    Sum sum = (Sum) charge.limit();
                    SumState state = (SumState) kind(locked[c], SumState.class, charge);
                    if (state.sum(now, sum.window().toNanos()).add(charge.amount()).compareTo(sum.limit()) > 0) {
                        return new Result(null, index, null, -1);
                    }
                }
            }
        }
        long[] slots = NO_SLOTS;
        for (State state : locked) {
            if (state instanceof SumState) {
                slots = new long[locked.length];
                break;
            }
        }
        long remaining = -1;
        for (int c = 0; c < locked.length; c++) {
            int index = order[c];
            Charge charge = charges.get(index);
            if (charge.limit() instanceof Rate rate) {
                RateState state = (RateState) kind(locked[c], RateState.class, charge);
                long interval = interval(rate);
                state.tat = Math.max(state.tat, now) + interval;
                long slack = now + interval * (rate.limit() - 1) - state.tat;
                long left = slack < 0 ? 0 : slack / interval + 1;
                remaining = remaining < 0 ? left : Math.min(remaining, left);
            } else {
                SumState state = (SumState) kind(locked[c], SumState.class, charge);
                slots[index] = state.add(now, charge.amount());
            }
        }
        return new Result(new Receipt("", charges, slots), -1, null, remaining);
    }

    private static State kind(State state, Class<? extends State> expected, Charge charge) {
        if (!expected.isInstance(state)) {
            throw new IllegalStateException("counter " + charge.key() + " is used with two kinds of limit");
        }
        return state;
    }

    private static long interval(Rate rate) {
        return Math.max(1, rate.window().toNanos() / rate.limit());
    }

    @Override
    public void refund(Receipt receipt) {
        List<Charge> charges = receipt.charges();
        for (int i = 0; i < charges.size(); i++) {
            Charge charge = charges.get(i);
            State state = states.get(charge.key());
            if (state == null) {
                continue;
            }
            synchronized (state) {
                if (state.retired) {
                    continue;
                }
                if (state instanceof RateState rate && charge.limit() instanceof Rate r) {
                    // Only the call that set this arrival time can be given back exactly; later calls moved it on,
                    // and moving it back by one interval is then still exact for the bucket as a whole.
                    rate.tat -= interval(r);
                } else if (state instanceof SumState sum) {
                    sum.remove(receipt.slots()[i], charge.amount());
                }
            }
        }
    }

    @Override
    public BigDecimal used(Key key, Limit limit) {
        State state = states.get(key);
        if (state == null) {
            return BigDecimal.ZERO;
        }
        long now = Clocks.nanos(clock);
        synchronized (state) {
            if (state instanceof SumState sum) {
                return sum.sum(now, limit.window().toNanos());
            }
            if (state instanceof RateState rate && limit instanceof Rate r) {
                long ahead = rate.tat - now;
                return ahead <= 0 ? BigDecimal.ZERO
                        : BigDecimal.valueOf((ahead + interval(r) - 1) / interval(r));
            }
            return BigDecimal.ZERO;
        }
    }

    @Override
    public int sweep() {
        long now = Clocks.nanos(clock);
        int dropped = 0;
        List<Map.Entry<Key, State>> entries = new ArrayList<>(states.entrySet());
        for (var entry : entries) {
            State state = entry.getValue();
            synchronized (state) {
                if (!state.retired && state.idle(now)) {
                    state.retired = true;
                    if (states.remove(entry.getKey(), state)) {
                        dropped++;
                    }
                }
            }
        }
        return dropped;
    }

    @Override
    public int size() {
        return states.size();
    }
}
