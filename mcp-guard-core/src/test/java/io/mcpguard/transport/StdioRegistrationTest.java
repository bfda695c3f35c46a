package io.mcpguard.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.InMemoryTransport;
import io.mcpguard.testing.Served;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A server whose one caller is known in advance (stdio: {@link AgentResolver#fixed}) registers with the SDK only what
 * that caller may see, so a hidden tool, resource or prompt is one the SDK itself does not know: lists, errors and
 * completions are the SDK's own for a missing name.
 */
class StdioRegistrationTest {

    @Test
    void theSdkNeverLearnsOfWhatTheOneCallerMayNotSee() throws Exception {
        AgentIdentity billing = AgentIdentity.builder("billing-agent").scopes("orders").build();
        McpGuard guard = McpGuard.builder().agentResolver(AgentResolver.fixed(billing))
                .policy(Policy.builder().scope("orders", ToolMatcher.names("get_order"),
                        ResourceMatcher.templates("orders://{id}"), PromptMatcher.names("summarize")).build())
                .build();
        InMemoryTransport transport = new InMemoryTransport();
        McpSyncServer server = Served.of().echo("get_order", "delete_customer").resource("payroll://summary", "s")
                .template("orders://{id}").prompt("summarize", "orderId").prompt("runbook", "service")
                .promptCompletion("runbook", "restart").sync(guard, transport);
        McpSyncClient client = McpClient.sync(transport.connect(McpTransportContext.EMPTY)).build();
        try {
            client.initialize();

            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("get_order");
            assertThat(client.listResources().resources()).isEmpty();
            assertThat(client.listResourceTemplates().resourceTemplates()).hasSize(1);
            assertThat(client.listPrompts().prompts()).extracting(McpSchema.Prompt::name)
                    .containsExactly("summarize");
            McpError hidden = catchThrowableOfType(McpError.class, () -> client.callTool(
                    new McpSchema.CallToolRequest("delete_customer", Map.of("id", "c-1"))));
            assertThat(McpJsonDefaults.getMapper().writeValueAsString(hidden.getJsonRpcError()))
                    .isEqualTo(McpJsonDefaults.getMapper().writeValueAsString(
                            NotFound.tool("delete_customer").getJsonRpcError()));
            McpError completion = catchThrowableOfType(McpError.class, () -> client.completeCompletion(
                    new McpSchema.CompleteRequest(new McpSchema.PromptReference("runbook"),
                            new McpSchema.CompleteRequest.CompleteArgument("no-such-argument", "x"))));
            assertThat(completion.getJsonRpcError().message()).as("a hidden prompt's completion, any argument")
                    .isEqualTo("Prompt not found: runbook");
        } finally {
            client.close();
            server.close();
            guard.close();
        }
    }
}
