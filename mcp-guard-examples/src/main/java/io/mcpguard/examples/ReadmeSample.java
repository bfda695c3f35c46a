package io.mcpguard.examples;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.transport.McpGuardHttp;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import java.util.List;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;

/** The README's sample, kept compiling. */
final class ReadmeSample {

    private ReadmeSample() {
    }

    static McpSyncServer guardedServer(String digest, AgentIdentity billingAgent, List<SyncToolSpecification> tools,
            Context tomcat) {
        // README sample: begin
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder().hashedKey("key-billing-1", digest, billingAgent).build();
        Policy policy = Policy.builder()
                .scope("orders:read", ToolMatcher.readOnly(), ResourceMatcher.templates("orders://{id}"))
                .scope("refunds", ToolMatcher.names("issue_refund"))
                .build();
        McpGuard guard = McpGuard.builder().policy(policy).build();
        McpGuardHttp<HttpServletStreamableServerTransportProvider> http = McpGuardHttp.streamable(guard, keys).build();
        McpSyncServer server = guard.install(McpServer.sync(http.transport()).immediateExecution(true))
                .tools(tools).build();
        Tomcat.addServlet(tomcat, "mcp", http.servlet()).setAsyncSupported(true);   // no key: 401, no body read
        // README sample: end
        return server;
    }
}
