package io.mcpguard.transport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** How many of something each agent holds at once, under a cap; an agent holding none takes no memory. */
final class PerAgentCount {

    private final int max;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    PerAgentCount(int max) {
        this.max = max;
    }

    /** Takes one; {@code false} at the cap. */
    boolean begin(String agentId) {
        while (true) {
            AtomicInteger count = counts.computeIfAbsent(agentId, k -> new AtomicInteger());
            int n = count.get();
            if (n < 0) {
                continue; // being removed: take a fresh counter
            }
            if (n >= max) {
                return false;
            }
            if (count.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives one back. */
    void end(String agentId) {
        AtomicInteger count = counts.get(agentId);
        if (count == null) {
            return;
        }
        if (count.decrementAndGet() == 0 && count.compareAndSet(0, -1)) {
            counts.remove(agentId, count);
        }
    }

    int held(String agentId) {
        AtomicInteger count = counts.get(agentId);
        return count == null ? 0 : Math.max(0, count.get());
    }
}
