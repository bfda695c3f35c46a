package io.mcpguard.examples;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.examples.orders.OrderStore;
import io.mcpguard.examples.orders.OrderTools;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ArgumentBoundary;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.BudgetRule;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.transport.McpGuardHttp;
import io.mcpguard.transport.StdioLifecycle;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The guarded order server, over Streamable HTTP or stdio.
 *
 * <pre>
 * OrderServer --http 8080              # agents authenticate with API keys (Authorization: Bearer ...)
 * OrderServer --stdio --agent support-bot   # one client per process; its identity is this process's configuration
 * </pre>
 */
public final class OrderServer implements AutoCloseable {

    /** Irreversible tools, by their annotations (this server's own, so they can be trusted). */
    static final ToolMatcher IRREVERSIBLE = ToolMatcher.where("annotations.destructiveHint == true",
            tool -> tool.annotations() != null && Boolean.TRUE.equals(tool.annotations().destructiveHint()));

    /** The policy: what each scope and agent may use, and how much. Immutable; built once. */
    public static final Policy POLICY = Policy.builder()
            .scope("orders:read", ToolMatcher.readOnly())
            .scope("orders:write", ToolMatcher.names("update_order_note"))
            .scope("refunds", ToolMatcher.names("issue_refund"))
            .agent("ops-admin", ToolMatcher.all())
            // Irreversible tools wait for a person by default; refunds only above 100 EUR...
            .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund"))
                    .when(ArgumentCondition.numberAbove("amount", 100)))
            // ...or once an agent's refunds of the day pass 250 EUR, however they are split...
            .budget(BudgetRule.named("refunds-per-agent-day").sumOf("amount")
                    .forTools(ToolMatcher.names("issue_refund")).perAgent().atMost(250).per(Duration.ofDays(1))
                    .thenRequireApproval())
            // ...and no refund above 1,000 EUR is possible at all, whoever approves.
            .boundary(ArgumentBoundary.named("refund-cap").forTools(ToolMatcher.names("issue_refund"))
                    .require(ArgumentCondition.numberAtMost("amount", 1000)))
            .quota(QuotaRule.perAgentAndTool(30, Duration.ofMinutes(1)))
            .quota(QuotaRule.perAgentAndTool(3, Duration.ofMinutes(1)).forTools(IRREVERSIBLE))
            .quota(QuotaRule.perAgent(100, Duration.ofMinutes(1)))
            .concurrency(ConcurrencyRule.perAgent(4))
            .timeout(Duration.ofSeconds(10), ToolMatcher.all())
            .circuitBreaker(BreakerRule.forTools(ToolMatcher.all())
                    .slidingWindowSize(10).minimumNumberOfCalls(5).failureRateThreshold(50)
                    .waitInOpenState(Duration.ofSeconds(30)))
            .build();

    /** The demo's agents, by id. */
    public static final Map<String, AgentIdentity> AGENTS = agents();

    /** Demo API keys, by agent id. Demo only: a real deployment keeps only their hashes (hashedKey). */
    public static final Map<String, String> DEMO_KEYS = Map.of(
            "support-bot", "demo-support-7Qm2xL9vR4tK8wZ1",
            "billing-agent", "demo-billing-3Hn6yP0sD5jF2cV7",
            "ops-admin", "demo-opsadmin-8Bt4uE1kN6gS9aX3");

    private final EmbeddedHttp http;
    private final McpSyncServer server;
    private final McpGuard guard;

    private OrderServer(EmbeddedHttp http, McpSyncServer server, McpGuard guard) {
        this.http = http;
        this.server = server;
        this.guard = guard;
    }

    private static Map<String, AgentIdentity> agents() {
        Map<String, AgentIdentity> agents = new LinkedHashMap<>();
        agents.put("support-bot", AgentIdentity.builder("support-bot").scopes("orders:read", "orders:write").build());
        agents.put("billing-agent", AgentIdentity.builder("billing-agent").scopes("orders:read", "refunds").build());
        agents.put("ops-admin", AgentIdentity.builder("ops-admin").scopes("orders:read").build());
        return Map.copyOf(agents);
    }

    /**
     * Returns the API key table of the demo agents.
     *
     * @return the authenticator
     */
    public static ApiKeyAuthenticator demoKeys() {
        var keys = ApiKeyAuthenticator.builder();
        DEMO_KEYS.forEach((agent, key) -> keys.key("key-" + agent, key, AGENTS.get(agent)));
        return keys.build();
    }

    /**
     * Starts the guarded server over Streamable HTTP at {@code /mcp} on loopback, auditing to a signed chain in a
     * temporary folder.
     *
     * @param port the port, or 0 for a free one
     * @param store the data the tools act on
     * @param approvals who decides calls that need a human's approval
     * @param openTelemetry where spans and metrics go ({@code OpenTelemetry.noop()} for nowhere)
     * @return the running server
     * @throws Exception if it cannot start
     */
    public static OrderServer startHttp(int port, OrderStore store, ApprovalHandler approvals,
            OpenTelemetry openTelemetry) throws Exception {
        return startHttp(port, store, approvals, openTelemetry, SignedAudit.temporary("orders-audit.jsonl"));
    }

    /**
     * Starts the guarded server over Streamable HTTP at {@code /mcp} on loopback, auditing to the given sink.
     *
     * @param port the port, or 0 for a free one
     * @param store the data the tools act on
     * @param approvals who decides calls that need a human's approval
     * @param openTelemetry where spans and metrics go
     * @param audit where audit records go
     * @return the running server
     * @throws Exception if it cannot start
     */
    public static OrderServer startHttp(int port, OrderStore store, ApprovalHandler approvals,
            OpenTelemetry openTelemetry, AuditSink audit) throws Exception {
        return startHttp(port, store, guard -> guard.approvals(approvals).openTelemetry(openTelemetry).audit(audit));
    }

    /**
     * Starts the guarded server over Streamable HTTP with guard settings of the caller's choosing (approval mode and
     * store, another policy...) on top of this server's policy.
     *
     * @param port the port, or 0 for a free one
     * @param store the data the tools act on
     * @param settings changes to the guard's builder
     * @return the running server
     * @throws Exception if it cannot start
     */
    public static OrderServer startHttp(int port, OrderStore store, Consumer<McpGuard.Builder> settings)
            throws Exception {
        McpGuard.Builder builder = McpGuard.builder().policy(POLICY);
        settings.accept(builder);
        McpGuard guard = builder.build();
        // The gate in front of the SDK transport: keys checked before any body byte is read, sessions bound to the
        // agent that opened them, lists and hidden names answered by the guard, no SDK internals in error bodies.
        McpGuardHttp<HttpServletStreamableServerTransportProvider> http = McpGuardHttp.streamable(guard, demoKeys())
                .build();
        McpSyncServer server = guard.install(McpServer.sync(http.transport())
                .serverInfo("orders", "1.0.0")
                .immediateExecution(true)).tools(OrderTools.all(store)).build();
        return new OrderServer(EmbeddedHttp.start(http.servlet(), "/mcp", port), server, guard);
    }

    /**
     * Replaces a tool with a new definition (its calls guarded as before), as a redeployment would.
     *
     * @param tool the new tool
     */
    public void redefine(McpServerFeatures.SyncToolSpecification tool) {
        server.removeTool(tool.tool().name());
        server.addTool(guard.wrap(tool));
    }

    /**
     * Returns the URL of the MCP endpoint.
     *
     * @return e.g. {@code http://localhost:8080/mcp}
     */
    public String url() {
        return "http://localhost:" + http.port() + "/mcp";
    }

    @Override
    public void close() throws Exception {
        server.close();
        http.close();
        guard.close(); // flushes the audit trail and signs its close checkpoint
    }

    /**
     * Runs the server.
     *
     * @param args {@code --http <port> [--approver <id>]} or {@code --stdio --agent <id>}
     * @throws Exception if it cannot start
     */
    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("--stdio")) {
            String agentId = args.length == 3 && args[1].equals("--agent") ? args[2] : null;
            AgentIdentity agent = agentId == null ? null : AGENTS.get(agentId);
            if (agent == null) {
                System.err.println("usage: OrderServer --stdio --agent <" + String.join("|", AGENTS.keySet()) + ">");
                System.exit(2);
            }
            runStdio(agent);
            return;
        }
        int port = args.length >= 2 && args[0].equals("--http") ? Integer.parseInt(args[1]) : 8080;
        String approver = args.length == 4 && args[2].equals("--approver") ? args[3] : "operator@localhost";
        // Standing alone, the person at this terminal approves, out of band: never the agent's own client.
        ApprovalQueue approvals = ApprovalQueue.create();
        ConsoleApprover.start(approvals, approver, System.in, System.out);
        var otel = AutoConfiguredOpenTelemetrySdk.initialize().getOpenTelemetrySdk();
        Path auditFolder = Path.of(System.getProperty("orders.audit.dir", "audit")).toAbsolutePath();
        try (OrderServer server = startHttp(port, OrderStore.seeded(), approvals, otel,
                SignedAudit.open(auditFolder, "orders-audit.jsonl"))) {
            System.out.println("Guarded order server on " + server.url() + " (policy sha256 " + POLICY.fingerprint()
                    + "). Demo keys: " + DEMO_KEYS + ". Approvals are answered here as " + approver
                    + " (type 'list'). Signed audit trail: " + auditFolder.resolve("orders-audit.jsonl")
                    + " (public key " + auditFolder.resolve("audit-signing.pub") + "). Ctrl-C stops it.");
            new CountDownLatch(1).await();
        }
    }

    private static void runStdio(AgentIdentity agent) throws InterruptedException {
        // stdio carries no credentials: one process serves one client, whose identity is this process's config.
        // No person sits at this process (its stdin is the MCP channel): calls that need approval are denied.
        McpGuard guard;
        try {
            guard = McpGuard.builder().policy(POLICY).agentResolver(AgentResolver.fixed(agent))
                    .approvals(ApprovalHandler.denyAll())
                    // one file per process: a chain has one writer
                    .audit(SignedAudit.open(Path.of(System.getProperty("orders.audit.dir",
                            Path.of(System.getProperty("java.io.tmpdir"), "mcp-guard-orders-audit").toString())),
                            "orders-stdio-" + ProcessHandle.current().pid() + ".jsonl"))
                    .build();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // The server ends when its client closes our stdin (how the MCP stdio transport ends a server) or on SIGTERM.
        StdioLifecycle stdio = StdioLifecycle.of(System.in);
        var transport = new StdioServerTransportProvider(McpJsonDefaults.getMapper(), stdio.input(), System.out);
        McpSyncServer server = guard.install(McpServer.sync(transport).serverInfo("orders", "1.0.0"),
                OrderTools.all(OrderStore.seeded())).build();
        stdio.runUntilClosed(() -> {
            server.close();
            guard.close();
        });
    }
}
