package io.mcpguard.examples.bench;

import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.InMemoryLimitStore;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.quota.internal.Quotas;
import io.mcpguard.support.Clocks;
import io.modelcontextprotocol.spec.McpSchema;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;

/**
 * Measures the heap held per tracked (agent, tool) pair by quota and concurrency state, and that the sweeper gives it
 * back. Run: {@code mvn -B -q -pl mcp-guard-examples -am -DskipTests package exec:exec
 * -Ddemo.mainClass=io.mcpguard.examples.bench.LimitStateFootprint}. Prints one line per configuration.
 */
public final class LimitStateFootprint {

    private LimitStateFootprint() {
    }

    /**
     * Runs the measurement.
     *
     * @param args optional number of agents (default 1,000,000)
     */
    public static void main(String[] args) {
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        measure("warm-up (discarded)", Math.min(agents, 100_000),
                Policy.builder().scope("all", ToolMatcher.all())
                        .quota(QuotaRule.perAgentAndTool(60, Duration.ofMinutes(1)))
                        .concurrency(ConcurrencyRule.perAgentAndTool(4)).build());
        measure("quota per (agent, tool)", agents,
                Policy.builder().scope("all", ToolMatcher.all())
                        .quota(QuotaRule.perAgentAndTool(60, Duration.ofMinutes(1))).build());
        measure("quota per (agent, tool) + concurrency per (agent, tool)", agents,
                Policy.builder().scope("all", ToolMatcher.all())
                        .quota(QuotaRule.perAgentAndTool(60, Duration.ofMinutes(1)))
                        .concurrency(ConcurrencyRule.perAgentAndTool(4)).build());
    }

    private static void measure(String label, int agents, Policy policy) {
        McpSchema.Tool tool = McpSchema.Tool.builder().name("get_order").inputSchema(Map.of("type", "object")).build();
        // Agent ids exist in the application anyway (they come with each request); build them up front so that
        // the measured difference is only what the guard adds per pair: map entry, bucket or counter, and the
        // reference to the id it keeps as its key.
        AgentIdentity[] identities = new AgentIdentity[agents];
        for (int i = 0; i < agents; i++) {
            identities[i] = AgentIdentity.builder("agent-" + i).scopes("all").build();
        }
        {
            // The quota and concurrency state the guard keeps, driven directly (no transport, no span, no audit).
            Quotas quotas = new Quotas(policy, InMemoryLimitStore.withClock(Clocks.monotonic()), event -> { });
            var limits = quotas.forPrimitive(Primitive.tool(tool));
            long before = usedHeap();
            for (AgentIdentity identity : identities) {
                Object permit = limits.admit(identity.agentId());
                if (permit instanceof Quotas.Permit p) {
                    limits.acquireSlots(p, identity.agentId());
                    p.release();
                }
            }
            long after = usedHeap();
            int tracked = quotas.trackedEntries();
            int dropped = quotas.sweep();
            long swept = usedHeap();
            double perPair = (after - before) / (double) agents;
            System.out.printf("%-58s %,d agents  %,d entries  %.0f bytes per (agent, tool) pair; a sweep then dropped "
                    + "%,d idle entries, leaving %.0f bytes per pair%n", label, agents,
                    tracked, perPair, dropped, (swept - before) / (double) agents);
        }
        // The ids stay alive throughout: otherwise the collector frees them mid-measurement and skews it.
        java.lang.ref.Reference.reachabilityFence(identities);
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
