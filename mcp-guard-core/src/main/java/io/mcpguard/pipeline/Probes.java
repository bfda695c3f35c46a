package io.mcpguard.pipeline;

import io.mcpguard.quota.ProbeLimit;
import io.mcpguard.support.Clocks;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Counts each agent's probes (uses of names it may not see, hidden or missing alike) per fixed window of the
 * policy's {@link ProbeLimit}: the first ones are recorded one by one, the rest summed up into one aggregate per
 * window, and past the limit refused. State exists only for agents that probed in the current window. Thread-safe;
 * the decision is a few arithmetic operations under the agent's own lock, the same for a hidden and a missing name.
 * Unstable API.
 */
public final class Probes {

    /** What to do with one probe. */
    public enum Verdict {
        /** Answer as a missing name; record it one by one. */
        RECORD,
        /** Answer as a missing name; count it in the window's aggregate. */
        AGGREGATE,
        /** Refuse it (too many probes); count it in the aggregate. */
        REFUSE
    }

    /** One agent's window, closed into an aggregate. */
    record Window(String agentId, Instant start, Instant end, long probes, long refused, List<String> sample) {
    }

    private static final int MAX_SAMPLED_NAME = 100;

    private final ProbeLimit limit;
    private final Clock clock;
    private final long windowNanos;
    private final Consumer<Window> aggregated;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    Probes(ProbeLimit limit, Clock clock, Consumer<Window> aggregated) {
        this.limit = limit;
        this.clock = clock;
        this.windowNanos = limit.window().toNanos();
        this.aggregated = aggregated;
    }

    private static final class State {
        long startNanos;
        Instant start;
        long count;
        long refused;
        final List<String> sample = new ArrayList<>(ProbeLimit.SAMPLE);
        boolean retired;
    }

    Verdict probe(String agentId, String name) {
        long now = Clocks.nanos(clock);
        Window closed = null;
        Verdict verdict;
        while (true) {
            State state = states.computeIfAbsent(agentId, k -> fresh(now));
            synchronized (state) {
                if (state.retired) {
                    continue;
                }
                if (now - state.startNanos >= windowNanos) {
                    closed = close(agentId, state, now);
                    reset(state, now);
                }
                state.count++;
                if (state.count <= limit.recordFirst()) {
                    verdict = Verdict.RECORD;
                } else {
                    if (state.sample.size() < ProbeLimit.SAMPLE) {
                        state.sample.add(name.length() <= MAX_SAMPLED_NAME ? name
                                : name.substring(0, MAX_SAMPLED_NAME) + "...");
                    }
                    if (state.count > limit.limit()) {
                        state.refused++;
                        verdict = Verdict.REFUSE;
                    } else {
                        verdict = Verdict.AGGREGATE;
                    }
                }
            }
            break;
        }
        if (closed != null) {
            aggregated.accept(closed);
        }
        return verdict;
    }

    private State fresh(long now) {
        State state = new State();
        reset(state, now);
        return state;
    }

    private void reset(State state, long now) {
        state.startNanos = now - Math.floorMod(now, windowNanos);
        state.start = clock.instant().minusNanos(now - state.startNanos);
        state.count = 0;
        state.refused = 0;
        state.sample.clear();
    }

    /** The aggregate of a window that had probes past those recorded one by one, or {@code null}. */
    private Window close(String agentId, State state, long now) {
        long beyond = state.count - limit.recordFirst();
        if (beyond <= 0) {
            return null;
        }
        Instant end = now - state.startNanos < windowNanos ? clock.instant() : state.start.plusNanos(windowNanos);
        return new Window(agentId, state.start, end, beyond, state.refused, List.copyOf(state.sample));
    }

    /**
     * Closes every window that is over (writing its aggregate) and drops the state of agents that stopped probing.
     *
     * @param all close open windows too (at shutdown)
     * @return how many agents' state was dropped
     */
    int sweep(boolean all) {
        long now = Clocks.nanos(clock);
        int dropped = 0;
        for (var entry : states.entrySet()) {
            State state = entry.getValue();
            Window closed = null;
            synchronized (state) {
                if (state.retired || (!all && now - state.startNanos < windowNanos)) {
                    continue;
                }
                closed = close(entry.getKey(), state, now);
                state.retired = true;
                states.remove(entry.getKey(), state);
                dropped++;
            }
            if (closed != null) {
                aggregated.accept(closed);
            }
        }
        return dropped;
    }

    int size() {
        return states.size();
    }
}
