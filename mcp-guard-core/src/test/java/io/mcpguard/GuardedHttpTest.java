package io.mcpguard;

import static io.mcpguard.testing.Tools.firstText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Tomcats;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard behind its transport gate over real Streamable HTTP on an embedded Tomcat, with real API keys. */
class GuardedHttpTest {

    static final String SUPPORT_KEY = "sk-support-0123456789abcdef";
    static final String BILLING_KEY = "sk-billing-fedcba9876543210";

    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("key-support-1", SUPPORT_KEY, AgentIdentity.builder("support-bot").scopes("orders:read").build())
            .key("key-billing-1", BILLING_KEY,
                    AgentIdentity.builder("billing-agent").scopes("orders:read", "refunds", "payroll").build())
            .build();

    static final Policy POLICY = Policy.builder()
            .scope("orders:read", ToolMatcher.names("get_order", "list_orders"),
                    ResourceMatcher.templates("orders://{id}"), PromptMatcher.names("summarize_order"))
            .scope("refunds", ToolMatcher.names("issue_refund"))
            .scope("payroll", ResourceMatcher.uris("payroll://summary"), PromptMatcher.names("admin_runbook"))
            .build();

    static final String[] ALL = {"get_order", "list_orders", "issue_refund", "delete_customer"};

    final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    static Served served() {
        return Served.of().echo(ALL).resource("payroll://summary", "salaries").template("orders://{id}")
                .prompt("summarize_order", "orderId").prompt("admin_runbook")
                .promptCompletion("admin_runbook", "restart").promptCompletion("summarize_order", "o-1");
    }

    GatedHttp guarded() throws Exception {
        GatedHttp server = GatedHttp.streamable(McpGuard.builder().policy(POLICY).build(), KEYS, served());
        closeables.add(server);
        return server;
    }

    /** The same tools, resources and prompts on an unguarded SDK server, minus the named ones. */
    Tomcats.Running plainServerWithout(String... missing) throws Exception {
        var transport = HttpServletStreamableServerTransportProvider.builder().mcpEndpoint("/mcp").build();
        List<String> gone = List.of(missing);
        var all = io.modelcontextprotocol.server.McpServer.sync(transport).serverInfo("test", "1.0.0")
                .capabilities(Served.CAPABILITIES).immediateExecution(true);
        for (String name : ALL) {
            if (!gone.contains(name)) {
                all.tools(io.mcpguard.testing.Tools.echo(name));
            }
        }
        var server = all.build();
        var running = Tomcats.start(transport, "/mcp");
        closeables.add(running);
        closeables.add(server::close);
        return running;
    }

    static List<String> names(McpSyncClient client) {
        return client.listTools().tools().stream().map(McpSchema.Tool::name).sorted().toList();
    }

    static String request(int id, String method, String params) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}";
    }

    /** The whole answer: status, content type, cache headers and body, with the session id taken out. */
    static String wire(HttpResponse<String> response, String sessionId) {
        return response.statusCode() + " " + response.headers().firstValue("Content-Type").orElse("") + " "
                + response.headers().firstValue("Cache-Control").orElse("") + "\n"
                + response.body().replace(sessionId, "<session>");
    }

    @Test
    void twoAgentsSideBySideSeeDifferentToolsResourcesAndPrompts() throws Exception {
        var server = guarded();

        McpSyncClient support = server.client(SUPPORT_KEY);
        McpSyncClient billing = server.client(BILLING_KEY);

        assertThat(names(support)).containsExactly("get_order", "list_orders");
        assertThat(names(billing)).containsExactly("get_order", "issue_refund", "list_orders");
        assertThat(support.listResources().resources()).isEmpty();
        assertThat(billing.listResources().resources()).extracting(McpSchema.Resource::uri)
                .containsExactly("payroll://summary");
        assertThat(support.listResourceTemplates().resourceTemplates()).extracting(
                McpSchema.ResourceTemplate::uriTemplate).containsExactly("orders://{id}");
        assertThat(support.listPrompts().prompts()).extracting(McpSchema.Prompt::name)
                .containsExactly("summarize_order");
        assertThat(billing.listPrompts().prompts()).extracting(McpSchema.Prompt::name)
                .containsExactlyInAnyOrder("summarize_order", "admin_runbook");
        assertThat(firstText(billing.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-7")))))
                .isEqualTo("issue_refund:o-7");
        assertThat(billing.readResource(new McpSchema.ReadResourceRequest("payroll://summary")).contents())
                .singleElement().extracting(c -> ((McpSchema.TextResourceContents) c).text()).isEqualTo("salaries");
        assertThat(support.readResource(new McpSchema.ReadResourceRequest("orders://o-9")).contents())
                .singleElement().extracting(c -> ((McpSchema.TextResourceContents) c).text())
                .isEqualTo("orders://{id}:orders://o-9");
        assertThat(catchThrowableOfType(McpError.class,
                () -> support.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-7"))))).isNotNull();
        assertThat(catchThrowableOfType(McpError.class,
                () -> support.readResource(new McpSchema.ReadResourceRequest("payroll://summary")))).isNotNull();
        assertThat(catchThrowableOfType(McpError.class,
                () -> support.getPrompt(new McpSchema.GetPromptRequest("admin_runbook", Map.of())))).isNotNull();
    }

    @Test
    void hiddenToolAnswersByteForByteLikeAToolThatDoesNotExistOnAnUnguardedServer() throws Exception {
        RawMcpHttp guarded = guarded().raw(SUPPORT_KEY);
        RawMcpHttp plain = new RawMcpHttp(plainServerWithout("issue_refund").url("/mcp"), null);
        assertThat(guarded.initialize().statusCode()).isEqualTo(200);
        assertThat(plain.initialize().statusCode()).isEqualTo(200);

        for (String arguments : List.of("{\"id\":\"o-1\"}", "{}", "{\"id\":42,\"extra\":[1,2]}")) {
            String call = request(7, "tools/call", "{\"name\":\"issue_refund\",\"arguments\":" + arguments + "}");
            var hidden = guarded.post(call);
            var unknown = plain.post(call);

            assertThat(wire(hidden, guarded.sessionId())).as("arguments %s", arguments)
                    .isEqualTo(wire(unknown, plain.sessionId()))
                    .contains("\"code\":-32602", NotFound.UNKNOWN_TOOL_MESSAGE, "Tool not found: issue_refund");
        }
    }

    @Test
    void hiddenAndMissingNamesGetTheSameBytesForEveryPrimitive() throws Exception {
        RawMcpHttp support = guarded().raw(SUPPORT_KEY);
        support.initialize();
        String session = support.sessionId();
        List<String[]> pairs = List.of(
                new String[] {"tools/call", "{\"name\":\"issue_refund\",\"arguments\":{}}",
                        "{\"name\":\"no_such_tool\",\"arguments\":{}}"},
                new String[] {"resources/read", "{\"uri\":\"payroll://summary\"}", "{\"uri\":\"payroll://nothing\"}"},
                new String[] {"resources/subscribe", "{\"uri\":\"payroll://summary\"}",
                        "{\"uri\":\"payroll://nothing\"}"},
                new String[] {"prompts/get", "{\"name\":\"admin_runbook\",\"arguments\":{}}",
                        "{\"name\":\"no_such_prompt\",\"arguments\":{}}"},
                new String[] {"completion/complete", "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"admin_runbook\"},"
                        + "\"argument\":{\"name\":\"nonexistent\",\"value\":\"r\"}}",
                        "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"no_such_prompt\"},"
                                + "\"argument\":{\"name\":\"nonexistent\",\"value\":\"r\"}}"});
        for (String[] pair : pairs) {
            String hidden = wire(support.post(request(5, pair[0], pair[1])), session);
            String missing = wire(support.post(request(5, pair[0], pair[2])), session);
            String hiddenName = pair[1].replaceAll(".*?\"(?:name|uri)\":\"([^\"]+)\".*", "$1");
            String missingName = pair[2].replaceAll(".*?\"(?:name|uri)\":\"([^\"]+)\".*", "$1");

            assertThat(hidden.replace(hiddenName, "<name>")).as(pair[0])
                    .isEqualTo(missing.replace(missingName, "<name>"));
        }
    }

    @Test
    void missingOrInvalidKeyIsRefusedWith401ThatNamesNothing() throws Exception {
        var server = guarded();

        for (String auth : new String[] {null, "Bearer sk-wrong-000000000000000", "Basic " + SUPPORT_KEY}) {
            HttpResponse<String> refused = new RawMcpHttp(server.url(), auth).initialize();
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"mcp\"");
            assertThat(refused.body()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,"
                    + "\"message\":\"Unauthorized\"}}");
            assertThat(refused.headers().firstValue("Server")).isEmpty();
        }
        assertThat(server.raw(SUPPORT_KEY).initialize().statusCode()).isEqualTo(200);
    }

    @Test
    void aNewSessionChangesNothingAboutWhatAnAgentMayDo() throws Exception {
        var server = guarded();

        for (int i = 0; i < 3; i++) {
            McpSyncClient support = server.client(SUPPORT_KEY);
            assertThat(names(support)).containsExactly("get_order", "list_orders");
            assertThat(catchThrowableOfType(McpError.class,
                    () -> support.callTool(new CallToolRequest("issue_refund", Map.of("id", "o-1"))))).isNotNull();
        }
    }

    @Test
    void aSessionBelongsToTheAgentThatOpenedItOnPostGetAndDelete() throws Exception {
        java.util.concurrent.BlockingQueue<io.mcpguard.audit.AuditRecord> records =
                new java.util.concurrent.LinkedBlockingQueue<>();
        var server = GatedHttp.streamable(McpGuard.builder().policy(POLICY).audit(records::add).build(), KEYS,
                served());
        closeables.add(server);
        RawMcpHttp billing = server.raw(BILLING_KEY);
        billing.initialize();
        RawMcpHttp support = server.raw(SUPPORT_KEY).session(billing.sessionId());
        RawMcpHttp nobody = server.raw(SUPPORT_KEY).session("00000000-0000-0000-0000-000000000000");

        String list = request(3, "tools/list", "{}");
        assertThat(support.post(list).statusCode()).isEqualTo(404);
        assertThat(support.post(list).body()).isEqualTo(nobody.post(list).body())
                .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,\"message\":"
                        + "\"Session not found\"}}");
        assertThat(support.get().statusCode()).isEqualTo(404);
        assertThat(support.get().body()).isEqualTo(nobody.get().body());
        assertThat(support.delete().statusCode()).isEqualTo(404);
        assertThat(support.delete().body()).isEqualTo(nobody.delete().body());
        assertThat(support.post("{\"jsonrpc\":\"2.0\",\"id\":\"billing-request\",\"result\":{}}").statusCode())
                .as("an answer to the server's request, sent into another agent's session").isEqualTo(404);

        assertThat(RawMcpHttp.message(billing.post(list))).as("the owner's session survived").contains("issue_refund");
        List<String> foreign = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (foreign.size() < 7 && System.nanoTime() < deadline) {
            var record = records.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (record instanceof io.mcpguard.audit.AuditRecord.TransportRefused refused) {
                foreign.add(refused.context().agentId() + " " + refused.what() + " " + refused.context().method()
                        + " of " + refused.sessionOwner());
            }
        }
        assertThat(foreign).as("every use of another agent's session is audited; a missing one is not")
                .containsExactly("support-bot request tools/list of billing-agent",
                        "support-bot request tools/list of billing-agent",
                        "support-bot stream GET of billing-agent", "support-bot stream GET of billing-agent",
                        "support-bot delete DELETE of billing-agent", "support-bot delete DELETE of billing-agent",
                        "support-bot response response of billing-agent");
        assertThat(billing.delete().statusCode()).isEqualTo(200);
        assertThat(billing.post(list).statusCode()).isEqualTo(404);
    }

    @Test
    void resourceUpdatesReachOnlyAgentsThatMaySeeTheResource() throws Exception {
        var server = guarded();
        java.util.concurrent.BlockingQueue<String> billingSaw = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.BlockingQueue<String> supportSaw = new java.util.concurrent.LinkedBlockingQueue<>();
        McpSyncClient billing = server.client(BILLING_KEY, spec -> spec.resourcesUpdateConsumer(
                updated -> billingSaw.add(updated.get(0).uri())));
        McpSyncClient support = server.client(SUPPORT_KEY, spec -> spec.resourcesUpdateConsumer(
                updated -> supportSaw.add(updated.get(0).uri())));
        for (McpSyncClient client : List.of(billing, support)) {
            client.subscribeResource(new McpSchema.SubscribeRequest("payroll://summary"));
            client.subscribeResource(new McpSchema.SubscribeRequest("orders://o-1"));
        }

        server.sdkServer().notifyResourcesUpdated(new McpSchema.ResourcesUpdatedNotification("payroll://summary"));
        server.sdkServer().notifyResourcesUpdated(new McpSchema.ResourcesUpdatedNotification("orders://o-1"));

        // Notifications to one session need not arrive in the order they were sent.
        assertThat(List.of(billingSaw.poll(10, java.util.concurrent.TimeUnit.SECONDS),
                billingSaw.poll(10, java.util.concurrent.TimeUnit.SECONDS)))
                .containsExactlyInAnyOrder("payroll://summary", "orders://o-1");
        assertThat(supportSaw.poll(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("orders://o-1");
        assertThat(supportSaw.poll(500, java.util.concurrent.TimeUnit.MILLISECONDS))
                .as("the hidden resource's update never reaches the agent that may not see it").isNull();
        assertThat(supportSaw).isEmpty();
    }

    @Test
    void statelessServerIsGuardedToo() throws Exception {
        var running = GatedHttp.stateless(McpGuard.builder().policy(POLICY).build(), KEYS, served());
        closeables.add(running);

        var support = running.raw(SUPPORT_KEY);
        assertThat(support.initialize().statusCode()).isEqualTo(200);
        String list = RawMcpHttp.message(support.post(request(2, "tools/list", "{}")));
        assertThat(list).contains("\"get_order\"", "\"list_orders\"").doesNotContain("issue_refund", "delete_customer");
        String hidden = support.post(request(3, "tools/call",
                "{\"name\":\"delete_customer\",\"arguments\":{\"id\":\"c-1\"}}")).body();
        String missing = support.post(request(3, "tools/call",
                "{\"name\":\"drop_tables\",\"arguments\":{\"id\":\"c-1\"}}")).body();
        assertThat(hidden).contains("-32602", NotFound.UNKNOWN_TOOL_MESSAGE)
                .isEqualTo(missing.replace("drop_tables", "delete_customer"));
        String allowed = RawMcpHttp.message(support.post(request(4, "tools/call",
                "{\"name\":\"get_order\",\"arguments\":{\"id\":\"o-5\"}}")));
        assertThat(allowed).contains("get_order:o-5");
        assertThat(running.raw(null).initialize().statusCode()).isEqualTo(401);
    }
}
