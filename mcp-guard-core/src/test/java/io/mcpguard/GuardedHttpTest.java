package io.mcpguard;

import static io.mcpguard.testing.Tools.firstText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.internal.Refusals;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Tomcats;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.transport.HttpServletStatelessServerTransport;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard over real Streamable HTTP on an embedded Tomcat, with real Authorization headers. */
class GuardedHttpTest {

    static final String SUPPORT_KEY = "sk-support-0123456789abcdef";
    static final String BILLING_KEY = "sk-billing-fedcba9876543210";

    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("key-support-1", SUPPORT_KEY, AgentIdentity.builder("support-bot").scopes("orders:read").build())
            .key("key-billing-1", BILLING_KEY,
                    AgentIdentity.builder("billing-agent").scopes("orders:read", "refunds").build())
            .build();

    static final Policy POLICY = Policy.builder()
            .scope("orders:read", ToolMatcher.names("get_order", "list_orders"))
            .scope("refunds", ToolMatcher.names("issue_refund"))
            .build();

    static final List<String> ALL = List.of("get_order", "list_orders", "issue_refund", "delete_customer");

    final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    Tomcats.Running guardedServer() throws Exception {
        var transport = HttpServletStreamableServerTransportProvider.builder()
                .mcpEndpoint("/mcp")
                .httpHeaderValidator(KEYS.headerValidator())
                .contextExtractor(KEYS.contextExtractor())
                .build();
        McpGuard guard = McpGuard.builder().policy(POLICY).agentResolver(KEYS.resolver()).build();
        // Sync tools on a servlet transport run on the request thread (see docs/design-decisions.md, D4).
        var server = guard.install(McpServer.sync(transport).serverInfo("orders", "1.0.0").immediateExecution(true),
                ALL.stream().map(Tools::echo).toList()).build();
        var running = Tomcats.start(transport, "/mcp");
        closeables.add(running);
        closeables.add(server::close);
        return running;
    }

    Tomcats.Running plainServerWithout(String missingTool) throws Exception {
        var transport = HttpServletStreamableServerTransportProvider.builder().mcpEndpoint("/mcp").build();
        var server = McpServer.sync(transport).serverInfo("orders", "1.0.0").immediateExecution(true)
                .tools(ALL.stream().filter(n -> !n.equals(missingTool)).map(Tools::echo).toList()).build();
        var running = Tomcats.start(transport, "/mcp");
        closeables.add(running);
        closeables.add(server::close);
        return running;
    }

    McpSyncClient client(Tomcats.Running server, String key) {
        var transport = HttpClientStreamableHttpTransport.builder("http://localhost:" + server.port())
                .endpoint("/mcp")
                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + key))
                .build();
        McpSyncClient client = McpClient.sync(transport).build();
        closeables.add(client::close);
        client.initialize();
        return client;
    }

    static List<String> names(McpSyncClient client) {
        return client.listTools().tools().stream().map(McpSchema.Tool::name).sorted().toList();
    }

    @Test
    void twoAgentsSideBySideSeeDifferentTools() throws Exception {
        var server = guardedServer();

        McpSyncClient support = client(server, SUPPORT_KEY);
        McpSyncClient billing = client(server, BILLING_KEY);

        assertThat(names(support)).containsExactly("get_order", "list_orders");
        assertThat(names(billing)).containsExactly("get_order", "issue_refund", "list_orders");
        assertThat(firstText(billing.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-7")))))
                .isEqualTo("issue_refund:o-7");
        assertThat(catchThrowableOfType(McpError.class,
                () -> support.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-7"))))).isNotNull();
    }

    @Test
    void hiddenToolAnswersByteForByteLikeAToolThatDoesNotExist() throws Exception {
        var guarded = new RawMcpHttp(guardedServer().url("/mcp"), "Bearer " + SUPPORT_KEY);
        var plain = new RawMcpHttp(plainServerWithout("issue_refund").url("/mcp"), null);
        assertThat(guarded.initialize().statusCode()).isEqualTo(200);
        assertThat(plain.initialize().statusCode()).isEqualTo(200);

        for (String arguments : List.of("{\"id\":\"o-1\"}", "{}", "{\"id\":42,\"extra\":[1,2]}")) {
            String call = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
                    + "\"issue_refund\",\"arguments\":" + arguments + "}}";
            var hidden = guarded.post(call);
            var unknown = plain.post(call);

            assertThat(hidden.statusCode()).isEqualTo(unknown.statusCode());
            assertThat(RawMcpHttp.message(hidden)).as("arguments %s", arguments)
                    .isEqualTo(RawMcpHttp.message(unknown))
                    .contains("\"code\":-32602", Refusals.UNKNOWN_TOOL_MESSAGE, "Tool not found: issue_refund");
        }
    }

    @Test
    void missingOrInvalidKeyIsRefusedWith401BeforeMcpRuns() throws Exception {
        var server = guardedServer();

        assertThat(new RawMcpHttp(server.url("/mcp"), null).initialize().statusCode()).isEqualTo(401);
        assertThat(new RawMcpHttp(server.url("/mcp"), "Bearer sk-wrong-000000000000000").initialize().statusCode())
                .isEqualTo(401);
        assertThat(new RawMcpHttp(server.url("/mcp"), "Basic " + SUPPORT_KEY).initialize().statusCode())
                .isEqualTo(401);
        var stolenSession = new RawMcpHttp(server.url("/mcp"), "Bearer " + SUPPORT_KEY);
        assertThat(stolenSession.initialize().statusCode()).isEqualTo(200);
        assertThat(new RawMcpHttp(server.url("/mcp"), "Bearer " + SUPPORT_KEY).initialize().statusCode())
                .isEqualTo(200);
    }

    @Test
    void aNewSessionChangesNothingAboutWhatAnAgentMayDo() throws Exception {
        var server = guardedServer();

        for (int i = 0; i < 3; i++) {
            McpSyncClient support = client(server, SUPPORT_KEY);
            assertThat(names(support)).containsExactly("get_order", "list_orders");
            assertThat(catchThrowableOfType(McpError.class,
                    () -> support.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-1"))))).isNotNull();
        }
    }

    @Test
    void aSessionOpenedByOneAgentCannotBeUsedWithAnotherAgentsKeyToGainItsTools() throws Exception {
        var server = guardedServer();
        var support = new RawMcpHttp(server.url("/mcp"), "Bearer " + SUPPORT_KEY);
        support.initialize();

        // Identity is resolved per HTTP request from the credential, never remembered from the session.
        var response = support.post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}");

        assertThat(RawMcpHttp.message(response)).contains("get_order").doesNotContain("issue_refund");
    }

    @Test
    void statelessServerIsGuardedToo() throws Exception {
        var transport = HttpServletStatelessServerTransport.builder()
                .messageEndpoint("/mcp")
                .httpHeaderValidator(KEYS.headerValidator())
                .contextExtractor(KEYS.contextExtractor())
                .build();
        McpGuard guard = McpGuard.builder().policy(POLICY).agentResolver(KEYS.resolver()).build();
        var tools = ALL.stream().map(name -> new McpStatelessServerFeatures.SyncToolSpecification(Tools.tool(name),
                (context, request) -> Tools.text(name + ":" + request.arguments().get("id")))).toList();
        var server = guard.install(McpServer.sync(transport).serverInfo("stateless", "1")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build()), tools).build();
        var running = Tomcats.start(transport, "/mcp");
        closeables.add(running);
        closeables.add(server::close);

        var support = new RawMcpHttp(running.url("/mcp"), "Bearer " + SUPPORT_KEY);
        assertThat(support.initialize().statusCode()).isEqualTo(200);
        String list = RawMcpHttp.message(support.post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}"));
        assertThat(list).contains("\"get_order\"", "\"list_orders\"").doesNotContain("issue_refund", "delete_customer");
        String hidden = RawMcpHttp.message(support.post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"delete_customer\",\"arguments\":{\"id\":\"c-1\"}}}"));
        assertThat(hidden).contains("-32602", Refusals.UNKNOWN_TOOL_MESSAGE);
        String allowed = RawMcpHttp.message(support.post("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"get_order\",\"arguments\":{\"id\":\"o-5\"}}}"));
        assertThat(allowed).contains("get_order:o-5");
        assertThat(new RawMcpHttp(running.url("/mcp"), null).initialize().statusCode()).isEqualTo(401);
    }
}
