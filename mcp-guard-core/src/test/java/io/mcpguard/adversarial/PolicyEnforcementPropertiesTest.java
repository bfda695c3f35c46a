package io.mcpguard.adversarial;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property: over random policies, random agents and random call sequences, a tool's handler runs if and only if the
 * policy grants the tool to the caller; everything else is refused as an unknown tool, and listing shows exactly the
 * granted tools.
 */
class PolicyEnforcementPropertiesTest {

    static final List<String> TOOLS = List.of("get_order", "list_orders", "issue_refund", "delete_customer",
            "orders_export", "orders_import");
    static final List<String> SCOPES = List.of("a", "b", "c", "d");

    record Grant(String scope, List<String> names, String glob) {
    }

    record Case(List<Grant> grants, Map<String, Set<String>> agents, List<String[]> calls) {
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Grant> grant = Combinators.combine(Arbitraries.of(SCOPES),
                Arbitraries.of(TOOLS).list().ofMinSize(0).ofMaxSize(3),
                Arbitraries.of("orders_*", "*_order", "get_?rder", "*", "none")).as(Grant::new);
        Arbitrary<Map<String, Set<String>>> agents = Arbitraries.of(SCOPES).set().ofMaxSize(3)
                .map(scopes -> scopes).list().ofMinSize(1).ofMaxSize(4).map(list -> {
                    Map<String, Set<String>> out = new HashMap<>();
                    for (int i = 0; i < list.size(); i++) {
                        out.put("agent-" + i, list.get(i));
                    }
                    return out;
                });
        Arbitrary<String[]> call = Combinators.combine(Arbitraries.integers().between(0, 3),
                Arbitraries.of(TOOLS)).as((agent, tool) -> new String[] {"agent-" + agent, tool});
        return Combinators.combine(grant.list().ofMinSize(1).ofMaxSize(5), agents, call.list().ofMaxSize(30))
                .as(Case::new);
    }

    @Property(tries = 200)
    void aHandlerRunsIfAndOnlyIfThePolicyGrantsTheTool(@ForAll("cases") Case c) {
        Policy.Builder builder = Policy.builder();
        Map<String, List<ToolMatcher>> byScope = new HashMap<>();
        for (Grant g : c.grants()) {
            List<ToolMatcher> matchers = byScope.computeIfAbsent(g.scope(), s -> new ArrayList<>());
            if (!g.names().isEmpty()) {
                matchers.add(ToolMatcher.names(g.names().toArray(String[]::new)));
            }
            if (!g.glob().equals("none")) {
                matchers.add(ToolMatcher.glob(g.glob()));
            }
        }
        byScope.forEach((scope, matchers) -> {
            if (!matchers.isEmpty()) {
                builder.scope(scope, matchers.toArray(ToolMatcher[]::new));
            }
        });
        Policy policy = byScope.values().stream().allMatch(List::isEmpty) ? Policy.denyAll() : builder.build();
        McpGuard guard = McpGuard.builder().policy(policy).audit(null).build();
        Map<String, McpStatelessServerFeatures.SyncToolSpecification> wrapped = new HashMap<>();
        Map<String, int[]> runs = new HashMap<>();
        for (String tool : TOOLS) {
            int[] counter = new int[1];
            runs.put(tool, counter);
            wrapped.put(tool, guard.wrap(new McpStatelessServerFeatures.SyncToolSpecification(
                    McpSchema.Tool.builder().name(tool).inputSchema(Map.of("type", "object"))
                            .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build(),
                    (ctx, request) -> {
                        counter[0]++;
                        return McpSchema.CallToolResult.builder().addTextContent("ok").isError(false).build();
                    })));
        }
        Map<String, Integer> expected = new HashMap<>();
        for (String[] call : c.calls()) {
            Set<String> scopes = c.agents().getOrDefault(call[0], Set.of());
            AgentIdentity agent = AgentIdentity.builder(call[0]).scopes(scopes).build();
            var tool = wrapped.get(call[1]);
            boolean granted = policy.permits(agent, tool.tool());
            var context = McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY, agent));
            boolean listed = guard.syncToolFilter().isVisible(context, tool.tool());
            assertThat(listed).isEqualTo(granted);
            try {
                tool.callHandler().apply(context, new McpSchema.CallToolRequest(call[1], Map.of()));
                assertThat(granted).as("ran without a grant: %s %s", call[0], call[1]).isTrue();
                expected.merge(call[1], 1, Integer::sum);
            } catch (McpError e) {
                assertThat(granted).as("refused despite a grant").isFalse();
                assertThat(e.getJsonRpcError().message()).isEqualTo("Unknown tool: invalid_tool_name");
            }
        }
        for (String tool : TOOLS) {
            assertThat(runs.get(tool)[0]).isEqualTo(expected.getOrDefault(tool, 0));
        }
        guard.close();
    }
}
