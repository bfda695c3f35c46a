package io.mcpguard;

import static io.mcpguard.testing.Tools.echo;
import static io.mcpguard.testing.Tools.firstText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.ResultMeta;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.InMemoryTransport;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** A real SDK server guarded by mcp-guard, driven by real SDK clients over an in-memory transport. */
class GuardedServerTest {

    static final AgentIdentity SUPPORT = AgentIdentity.builder("support-bot").scopes("orders:read").build();
    static final AgentIdentity BILLING =
            AgentIdentity.builder("billing-agent").scopes("orders:read", "refunds").build();

    static final Policy POLICY = Policy.builder()
            .scope("orders:read", ToolMatcher.names("get_order", "list_orders"))
            .scope("refunds", ToolMatcher.glob("issue_*"))
            .build();

    final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    static McpTransportContext as(AgentIdentity agent) {
        return McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY, agent));
    }

    McpSyncServer guardedServer(InMemoryTransport transport, McpGuard guard, List<String> toolNames) {
        var tools = toolNames.stream().map(Tools::echo).toList();
        McpSyncServer server = guard.install(McpServer.sync(transport).serverInfo("test", "1.0.0"), tools).build();
        closeables.add(server::close);
        return server;
    }

    McpSyncClient client(InMemoryTransport transport, McpTransportContext context) {
        McpSyncClient client = McpClient.sync(transport.connect(context)).build();
        closeables.add(client::close);
        client.initialize();
        return client;
    }

    static List<String> names(McpSyncClient client) {
        return client.listTools().tools().stream().map(McpSchema.Tool::name).sorted().toList();
    }

    static CallToolRequest call(String tool, Map<String, Object> args) {
        return new CallToolRequest(tool, args);
    }

    static String wire(McpError error) throws Exception {
        return McpJsonDefaults.getMapper().writeValueAsString(error.getJsonRpcError());
    }

    McpGuard guard() {
        return McpGuard.builder().policy(POLICY).build();
    }

    static final List<String> ALL = List.of("get_order", "list_orders", "issue_refund", "delete_customer");

    @Test
    void eachAgentListsOnlyTheToolsItsScopesGrant() {
        var transport = new InMemoryTransport();
        guardedServer(transport, guard(), ALL);

        assertThat(names(client(transport, as(SUPPORT)))).containsExactly("get_order", "list_orders");
        assertThat(names(client(transport, as(BILLING)))).containsExactly("get_order", "issue_refund", "list_orders");
    }

    @Test
    void grantedToolRunsTheRealHandler() {
        var transport = new InMemoryTransport();
        guardedServer(transport, guard(), ALL);

        var result = client(transport, as(BILLING)).callTool(call("issue_refund", Map.of("id", "o-1")));

        assertThat(result.isError()).isNotEqualTo(Boolean.TRUE);
        assertThat(firstText(result)).isEqualTo("issue_refund:o-1");
    }

    @Test
    void hiddenToolIsIndistinguishableFromUnknownToolWhateverTheArguments() throws Exception {
        var guardedTransport = new InMemoryTransport();
        guardedServer(guardedTransport, guard(), ALL);
        McpSyncClient support = client(guardedTransport, as(SUPPORT));

        // The same server without the tool at all, unguarded: the SDK's own unknown-tool answer.
        var plainTransport = new InMemoryTransport();
        McpSyncServer plain = McpServer.sync(plainTransport).serverInfo("test", "1.0.0")
                .tools(echo("get_order")).build();
        closeables.add(plain::close);
        McpSyncClient anyone = client(plainTransport, McpTransportContext.EMPTY);

        List<Map<String, Object>> argumentVariants = new ArrayList<>();
        argumentVariants.add(Map.of("id", "o-1"));
        argumentVariants.add(Map.of());
        argumentVariants.add(Map.of("id", 42, "unexpected", true));
        for (Map<String, Object> args : argumentVariants) {
            McpError hidden = catchThrowableOfType(McpError.class,
                    () -> support.callTool(call("issue_refund", args)));
            McpError unknown = catchThrowableOfType(McpError.class,
                    () -> anyone.callTool(call("issue_refund", args)));
            assertThat(hidden).as("hidden tool with %s", args).isNotNull();
            assertThat(unknown).isNotNull();
            assertThat(wire(hidden)).isEqualTo(wire(unknown));
            assertThat(hidden.getJsonRpcError().code()).isEqualTo(McpSchema.ErrorCodes.INVALID_PARAMS);
            assertThat(hidden.getJsonRpcError().message()).isEqualTo(NotFound.UNKNOWN_TOOL_MESSAGE);
        }
    }

    @Test
    void unknownAgentSeesNoToolAndCanCallNone() {
        var transport = new InMemoryTransport();
        guardedServer(transport, guard(), ALL);
        McpSyncClient stranger = client(transport, McpTransportContext.EMPTY);

        assertThat(names(stranger)).isEmpty();
        McpError error = catchThrowableOfType(McpError.class,
                () -> stranger.callTool(call("get_order", Map.of("id", "o-1"))));
        assertThat(error.getJsonRpcError().message()).isEqualTo(NotFound.UNKNOWN_TOOL_MESSAGE);
    }

    @Test
    void whatTheClientSaysAboutItselfNeverBecomesIdentity() {
        var transport = new InMemoryTransport();
        guardedServer(transport, guard(), ALL);
        // clientInfo claims to be billing, _meta and arguments carry agent ids: none of it is a credential.
        McpSyncClient liar = McpClient.sync(transport.connect(McpTransportContext.EMPTY))
                .clientInfo(new McpSchema.Implementation("billing-agent", "1.0"))
                .build();
        closeables.add(liar::close);
        liar.initialize();

        assertThat(names(liar)).isEmpty();
        var request = new CallToolRequest("get_order", Map.of("id", "o-1", "agentId", "billing-agent"),
                Map.of("agentId", "billing-agent", AgentIdentity.CONTEXT_KEY, "billing-agent"));
        assertThat(catchThrowableOfType(McpError.class, () -> liar.callTool(request))).isNotNull();
    }

    @Test
    void schemaInvalidArgumentsToAGrantedToolAreRefusedWithAReason() {
        var transport = new InMemoryTransport();
        guardedServer(transport, guard(), ALL);

        var result = client(transport, as(SUPPORT)).callTool(call("get_order", Map.of("id", 42)));

        assertThat(result.isError()).isTrue();
        assertThat(firstText(result)).startsWith("Tool (get_order) input validation failed");
        assertThat(result.meta()).containsEntry(ResultMeta.REASON, "invalid_arguments");
    }

    @Test
    void handlerExceptionBecomesAGenericErrorWithoutInternals() {
        var transport = new InMemoryTransport();
        var failing = new McpServerFeatures.SyncToolSpecification(Tools.tool("get_order"), (exchange, request) -> {
            throw new IllegalStateException("connection to db-prod-7.internal:5432 refused for user admin");
        });
        McpSyncServer server = guard().install(McpServer.sync(transport).serverInfo("t", "1"), List.of(failing))
                .build();
        closeables.add(server::close);

        var result = client(transport, as(SUPPORT)).callTool(call("get_order", Map.of("id", "o-1")));

        assertThat(result.isError()).isTrue();
        assertThat(result.meta()).containsEntry(ResultMeta.REASON, "tool_error");
        String errorId = (String) result.meta().get(ResultMeta.ERROR_ID);
        assertThat(errorId).matches("E-[0-9a-f]{12}");
        assertThat(firstText(result)).contains(errorId).doesNotContain("db-prod", "admin", "IllegalState", "at io.");
    }

    @Test
    void handlerReturningNothingIsAnErrorNotACrash() {
        var transport = new InMemoryTransport();
        var empty = new McpServerFeatures.SyncToolSpecification(Tools.tool("get_order"), (exchange, request) -> null);
        McpSyncServer server = guard().install(McpServer.sync(transport).serverInfo("t", "1"), List.of(empty)).build();
        closeables.add(server::close);
        McpSyncClient client = client(transport, as(SUPPORT));

        var result = client.callTool(call("get_order", Map.of("id", "o-1")));

        assertThat(result.isError()).isTrue();
        assertThat(result.meta()).containsEntry(ResultMeta.REASON, "tool_error");
        assertThat(names(client)).containsExactly("get_order"); // the session survives
    }

    @Test
    void toolAddedAtRuntimeThroughTheGuardIsGuarded() {
        var transport = new InMemoryTransport();
        McpGuard guard = guard();
        McpSyncServer server = guardedServer(transport, guard, List.of("get_order"));
        McpSyncClient support = client(transport, as(SUPPORT));
        McpSyncClient billing = client(transport, as(BILLING));

        server.addTool(guard.wrap(echo("issue_credit")));

        assertThat(names(billing)).containsExactly("get_order", "issue_credit");
        assertThat(names(support)).containsExactly("get_order");
        assertThat(catchThrowableOfType(McpError.class,
                () -> support.callTool(call("issue_credit", Map.of("id", "o-1"))))).isNotNull();
        assertThat(firstText(billing.callTool(call("issue_credit", Map.of("id", "o-1"))))).isEqualTo("issue_credit:o-1");
    }

    @Test
    void toolAddedWithoutTheGuardIsNeverListed() {
        var transport = new InMemoryTransport();
        McpSyncServer server = guardedServer(transport, guard(), List.of("get_order"));

        server.addTool(echo("list_orders")); // granted by scope, but not registered through the guard

        assertThat(names(client(transport, as(SUPPORT)))).containsExactly("get_order");
    }

    @Test
    void aResolverThatThrowsDeniesEverything() {
        var transport = new InMemoryTransport();
        AgentResolver broken = context -> {
            throw new IllegalStateException("identity provider down");
        };
        guardedServer(transport, McpGuard.builder().policy(POLICY).agentResolver(broken).build(), ALL);
        McpSyncClient client = client(transport, as(BILLING));

        assertThat(names(client)).isEmpty();
        assertThat(catchThrowableOfType(McpError.class,
                () -> client.callTool(call("get_order", Map.of("id", "o-1"))))).isNotNull();
    }

    @Test
    void aMatcherThatThrowsDeniesThatGrant() {
        var transport = new InMemoryTransport();
        Policy policy = Policy.builder()
                .scope("orders:read", ToolMatcher.names("get_order"),
                        ToolMatcher.where("explodes", tool -> {
                            throw new IllegalStateException("boom");
                        }))
                .build();
        guardedServer(transport, McpGuard.builder().policy(policy).build(), List.of("get_order", "list_orders"));

        assertThat(names(client(transport, as(SUPPORT)))).containsExactly("get_order");
    }

    @Test
    void aNewSessionDoesNotChangeWhatAnAgentMayDo() {
        var transport = new InMemoryTransport();
        guardedServer(transport, guard(), ALL);

        for (int session = 0; session < 3; session++) {
            McpSyncClient support = client(transport, as(SUPPORT));
            assertThat(names(support)).containsExactly("get_order", "list_orders");
            assertThat(catchThrowableOfType(McpError.class,
                    () -> support.callTool(call("issue_refund", Map.of("id", "o-1"))))).isNotNull();
        }
    }

    @Test
    void asyncServerIsGuardedTheSameWay() throws Exception {
        var transport = new InMemoryTransport();
        var tools = ALL.stream().map(name -> new McpServerFeatures.AsyncToolSpecification(Tools.tool(name),
                (exchange, request) -> name.equals("list_orders")
                        ? Mono.error(new IllegalStateException("secret internal detail"))
                        : Mono.just(Tools.text(name + ":" + request.arguments().get("id"))))).toList();
        var server = guard().install(McpServer.async(transport).serverInfo("async", "1"), tools).build();
        closeables.add(server::close);
        McpSyncClient support = client(transport, as(SUPPORT));

        assertThat(names(support)).containsExactly("get_order", "list_orders");
        assertThat(firstText(support.callTool(call("get_order", Map.of("id", "o-9"))))).isEqualTo("get_order:o-9");
        var failed = support.callTool(call("list_orders", Map.of("id", "x")));
        assertThat(failed.isError()).isTrue();
        assertThat(firstText(failed)).doesNotContain("secret");
        McpError hidden = catchThrowableOfType(McpError.class,
                () -> support.callTool(call("issue_refund", Map.of("id", "o-1"))));
        assertThat(hidden.getJsonRpcError().message()).isEqualTo(NotFound.UNKNOWN_TOOL_MESSAGE);
        assertThat(hidden.getJsonRpcError().data()).isEqualTo("Tool not found: issue_refund");
    }
}
