package io.mcpguard.examples;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import java.util.List;

/** The README's sample, kept compiling. */
final class ReadmeSample {

    private ReadmeSample() {
    }

    static McpSyncServer guardedServer(String digest, AgentIdentity billingAgent, List<SyncToolSpecification> tools) {
        // README sample: begin
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder().hashedKey("key-billing-1", digest, billingAgent).build();
        var transport = HttpServletStreamableServerTransportProvider.builder()
                .httpHeaderValidator(keys.headerValidator())   // no or unknown key: 401 before MCP runs
                .contextExtractor(keys.contextExtractor())     // the verified identity, never the key
                .build();
        Policy policy = Policy.builder()
                .scope("orders:read", ToolMatcher.readOnly())
                .scope("refunds", ToolMatcher.names("issue_refund"))
                .build();
        McpGuard guard = McpGuard.builder().policy(policy).agentResolver(keys.resolver()).build();
        McpSyncServer server = guard.install(McpServer.sync(transport).immediateExecution(true), tools).build();
        // README sample: end
        return server;
    }
}
