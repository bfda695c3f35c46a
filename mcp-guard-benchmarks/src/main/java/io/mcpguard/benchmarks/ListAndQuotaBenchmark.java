package io.mcpguard.benchmarks;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.QuotaRule;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpSyncListFilter;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** The list filter over 10, 100 and 1,000 tools, and quota checks over 10, 10,000 and 1,000,000 agents. */
public class ListAndQuotaBenchmark {

    /** A guard and a server's worth of tools; one caller whose scopes grant half of them. */
    @State(Scope.Benchmark)
    public static class Listing {

        @Param({"10", "100", "1000"})
        public int tools;

        List<McpSchema.Tool> definitions;
        McpSyncListFilter<McpSchema.Tool> filter;
        McpTransportContext context;
        McpGuard guard;

        @Setup(Level.Trial)
        public void setUp() {
            guard = McpGuard.builder().policy(Policy.builder()
                            .scope("orders", ToolMatcher.glob("orders_*"), ToolMatcher.names("get_order"))
                            .build())
                    .audit(null).build();
            definitions = new ArrayList<>();
            for (int i = 0; i < tools; i++) {
                String name = (i % 2 == 0 ? "orders_" : "admin_") + i;
                var spec = guard.wrap(new McpStatelessServerFeatures.SyncToolSpecification(
                        McpSchema.Tool.builder().name(name).inputSchema(Map.of("type", "object")).build(),
                        (ctx, req) -> null));
                definitions.add(spec.tool());
            }
            filter = guard.syncToolFilter();
            context = McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY,
                    AgentIdentity.builder("support-bot").scopes("orders").build()));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            guard.close();
        }
    }

    /** One {@code tools/list}: the filter asked once per tool, as the SDK does. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    @Fork(1)
    public int listTools(Listing state) {
        int visible = 0;
        for (McpSchema.Tool tool : state.definitions) {
            if (state.filter.isVisible(state.context, tool)) {
                visible++;
            }
        }
        return visible;
    }

    /** Quota state for many agents: a per-(agent, tool) quota and a per-agent quota. */
    @State(Scope.Benchmark)
    public static class Quotas {

        @Param({"10", "10000", "1000000"})
        public int agents;

        AgentIdentity[] identities;
        io.mcpguard.quota.internal.Quotas.Target limits;

        @Setup(Level.Trial)
        public void setUp() {
            var quotas = new io.mcpguard.quota.internal.Quotas(Policy.builder().scope("orders", ToolMatcher.all())
                            .quota(QuotaRule.perAgentAndTool(1_000_000, Duration.ofSeconds(1)))
                            .quota(QuotaRule.perAgent(1_000_000, Duration.ofSeconds(1)))
                            .build(), io.mcpguard.quota.InMemoryLimitStore.create(), event -> { });
            limits = quotas.forPrimitive(io.mcpguard.policy.Primitive.tool(McpSchema.Tool.builder().name("get_order")
                    .inputSchema(Map.of("type", "object")).build()));
            identities = new AgentIdentity[agents];
            for (int i = 0; i < agents; i++) {
                identities[i] = AgentIdentity.builder("agent-" + i).scopes("orders").build();
                settle(limits.admit(identities[i].agentId()));
            }
        }
    }

    static Object settle(Object admission) {
        if (admission instanceof io.mcpguard.quota.internal.Quotas.Permit permit) {
            permit.release();
        }
        return admission;
    }

    /** One quota admission (two rules) for a random agent among many. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    @Fork(1)
    public Object quotaCheck(Quotas state) {
        AgentIdentity agent = state.identities[ThreadLocalRandom.current().nextInt(state.identities.length)];
        return settle(state.limits.admit(agent.agentId()));
    }
}
