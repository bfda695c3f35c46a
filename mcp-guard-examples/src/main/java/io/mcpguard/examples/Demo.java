package io.mcpguard.examples;

import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.audit.AuditKeys;
import io.mcpguard.audit.AuditQuery;
import io.mcpguard.audit.AuditVerifier;
import io.mcpguard.audit.JsonLinesAuditSink;
import io.mcpguard.examples.orders.OrderStore;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The demo: starts the guarded order server, lets three agents with different scopes loose on it, and prints what
 * each one sees and what is refused. Run it with {@code mvn -B -q -pl mcp-guard-examples -am -DskipTests package exec:exec}.
 */
public final class Demo {

    /** Where the demo's audit trail goes. */
    static final Path AUDIT_FILE = Path.of("target", "mcp-guard-demo-audit.jsonl").toAbsolutePath();

    /** The public key that verifies the demo's audit trail. */
    static final Path AUDIT_PUBLIC_KEY = Path.of("target", "mcp-guard-demo-audit.pub").toAbsolutePath();

    /** Where the demo server's log goes. */
    static final Path SERVER_LOG = Path.of("target", "mcp-guard-demo-server.log").toAbsolutePath();

    private static final java.util.logging.Logger TOMCAT_LOG = java.util.logging.Logger.getLogger("org.apache");

    private final PrintStream out;
    private final List<String> errorIds = new ArrayList<>();
    private final ApprovalQueue pendingApprovals = ApprovalQueue.create().onRequest(this::announce);
    private final Map<String, io.opentelemetry.api.trace.Span> runs = new java.util.LinkedHashMap<>();
    private io.opentelemetry.api.trace.Tracer tracer;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    Demo(PrintStream out) {
        this.out = out;
    }

    /**
     * Runs the demo and prints its transcript.
     *
     * @param args ignored
     * @throws Exception if the demo cannot run
     */
    public static void main(String[] args) throws Exception {
        // The server's own log goes to a file, so the transcript stays readable; the demo quotes from it.
        System.setProperty("org.slf4j.simpleLogger.logFile", SERVER_LOG.toString());
        // Tomcat logs through java.util.logging; its start-up chatter is not part of the story.
        TOMCAT_LOG.setLevel(java.util.logging.Level.SEVERE);
        int status = 0;
        SpanRecorder recorded = new SpanRecorder();
        boolean exporting = System.getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != null
                || System.getProperty("otel.exporter.otlp.endpoint") != null;
        // The standard OTEL_* variables configure the SDK; without an endpoint nothing is exported, and the demo
        // still records its spans to print the per-run trace summary.
        var sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .disableShutdownHook()
                .addPropertiesSupplier(() -> exporting
                        ? Map.of("otel.service.name", "mcp-guard-demo")
                        : Map.of("otel.service.name", "mcp-guard-demo", "otel.traces.exporter", "none",
                                "otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
                .addTracerProviderCustomizer((tracing, config) ->
                        tracing.addSpanProcessor(SimpleSpanProcessor.create(recorded)))
                .build().getOpenTelemetrySdk();
        try {
            new Demo(System.out).run(sdk, recorded);
            if (exporting) {
                System.out.println("  Spans exported over OTLP; in Jaeger (http://localhost:16686) search service "
                        + "'mcp-guard-demo'.");
            }
        } catch (Exception e) {
            System.err.println("The demo failed: " + e);
            status = 1;
        }
        sdk.close();
        System.exit(status);
    }

    void run() throws Exception {
        run(io.opentelemetry.api.OpenTelemetry.noop(), null);
    }

    /**
     * Runs the demo with telemetry.
     *
     * @param otel where the server's spans go
     * @param recorded the demo's own copy of the spans, for the trace summary, or {@code null}
     * @throws Exception if the demo cannot run
     */
    void run(io.opentelemetry.api.OpenTelemetry otel, SpanRecorder recorded) throws Exception {
        this.tracer = otel.getTracer("io.mcpguard.examples.demo");
        Files.createDirectories(AUDIT_FILE.getParent());
        Files.deleteIfExists(AUDIT_FILE);
        KeyPair auditKeys = AuditKeys.generate();  // in production: the operator's key, e.g. AuditKeys.readPrivateKey
        Files.writeString(AUDIT_PUBLIC_KEY, AuditKeys.toPem(auditKeys.getPublic()));
        var audit = JsonLinesAuditSink.builder(AUDIT_FILE).signingKey(auditKeys.getPrivate(), "demo-operator")
                .checkpointEvery(10).build();
        try (OrderServer server = OrderServer.startHttp(0, OrderStore.seeded(), pendingApprovals, otel, audit)) {
            out.println("mcp-guard demo: a guarded order server on " + server.url());
            out.println("policy sha256 " + OrderServer.POLICY.fingerprint());
            out.println(indent(OrderServer.POLICY.canonicalForm()));

            section("1. Discovery: each agent sees only what its scopes grant (tools/list)");
            Map<String, McpSyncClient> clients = new java.util.LinkedHashMap<>();
            for (String agent : OrderServer.AGENTS.keySet().stream().sorted().toList()) {
                McpSyncClient client = connect(server.url(), OrderServer.DEMO_KEYS.get(agent));
                clients.put(agent, client);
                out.printf("  %-14s scopes %-28s sees %s%n", agent,
                        String.join(" ", OrderServer.AGENTS.get(agent).scopes().stream().sorted().toList()),
                        toolNames(client));
            }

            section("2. Calls: granted tools run; hidden tools look exactly like tools that do not exist");
            McpSyncClient support = clients.get("support-bot");
            McpSyncClient billing = clients.get("billing-agent");
            McpSyncClient ops = clients.get("ops-admin");
            call("support-bot", support, "get_order", Map.of("orderId", "o-1001"));
            call("support-bot", support, "update_order_note", Map.of("orderId", "o-1001", "note", "customer called"));
            call("billing-agent", billing, "issue_refund", Map.of("orderId", "o-1002", "amount", 25));
            call("support-bot", support, "issue_refund", Map.of("orderId", "o-1002", "amount", 25));
            call("support-bot", support, "transfer_funds", Map.of("orderId", "o-1002", "amount", 25));
            call("billing-agent", billing, "delete_customer", Map.of("customerId", "c-42"));

            section("3. A person approves, out of band: the agent gets a pending answer and retries the identical "
                    + "call");
            String refundId = call("billing-agent", billing, "issue_refund",
                    Map.of("orderId", "o-1002", "amount", 250));
            decide(refundId, true, "refund matches the customer's ticket");
            call("billing-agent", billing, "issue_refund", Map.of("orderId", "o-1002", "amount", 250));
            call("billing-agent", billing, "issue_refund", Map.of("orderId", "o-1002", "amount", 250));
            String deleteId = call("ops-admin", ops, "delete_customer", Map.of("customerId", "c-17"));
            decide(deleteId, false, "customers are deleted by the DPO only");
            call("ops-admin", ops, "delete_customer", Map.of("customerId", "c-17"));

            section("3b. Approvals an agent cannot answer, split or exceed");
            String ownId = call("billing-agent", billing, "issue_refund", Map.of("orderId", "o-1003", "amount", 300));
            out.printf("  %-22s approves %s itself through the approvals API -> %s%n", "billing-agent", ownId,
                    pendingApprovals.approve(ownId, "billing-agent", "I checked it myself"));
            out.println("  (billing-agent has 275 EUR of refunds today; each 100 EUR refund is under the 100 EUR "
                    + "threshold, the daily budget of 250 EUR is not)");
            call("billing-agent", billing, "issue_refund", Map.of("orderId", "o-1003", "amount", 100));
            call("billing-agent", billing, "issue_refund", Map.of("orderId", "o-1004", "amount", 5000));

            section("4. Bad input and failing tools: clear errors, no internals, the session survives");
            call("support-bot", support, "update_order_note", Map.of("orderId", 42, "note", "x"));
            call("support-bot", support, "list_orders", Map.of("status", "archived"));
            call("support-bot", support, "list_orders", Map.of());

            section("5. Limits: a runaway agent hits its quota; its failing calls trip its own breaker, not the tool's");
            runaway("support-bot", support, "get_order", Map.of("orderId", "o-1001"), 40);
            for (int i = 0; i < 4; i++) {
                call("support-bot", support, "list_orders", Map.of("status", "archived"));
            }
            out.println("  (support-bot's own breaker for list_orders is open; the other agents are still served)");
            call("billing-agent", billing, "list_orders", Map.of("status", "open"));

            section("6. Identity comes from credentials only");
            out.println("  no Authorization header   -> HTTP " + rawInitialize(server.url(), null));
            out.println("  unknown key               -> HTTP " + rawInitialize(server.url(), "Bearer not-a-real-key-0000000"));
            McpSyncClient liar = McpClient.sync(transport(server.url(), OrderServer.DEMO_KEYS.get("support-bot")))
                    .clientInfo(new McpSchema.Implementation("ops-admin", "1.0")).build();
            closeables.add(liar::close);
            liar.initialize();
            out.println("  support-bot's key, clientInfo claiming \"ops-admin\" -> sees " + toolNames(liar));
            McpSyncClient fresh = connect(server.url(), OrderServer.DEMO_KEYS.get("support-bot"));
            out.println("  support-bot in a brand-new session                -> sees " + toolNames(fresh));

            section("7. stdio: one client per process, identity from the process's configuration");
            stdio("billing-agent");
            closeClients();
        } finally {
            closeClients();
        }
        section("8. What the operator sees: the server log (" + SERVER_LOG + ")");
        List<String> log = java.nio.file.Files.exists(SERVER_LOG) ? java.nio.file.Files.readAllLines(SERVER_LOG)
                : List.of();
        for (String line : log) {
            if (line.contains("Approval A-")) {
                out.println("  " + line);
            }
        }
        for (String errorId : errorIds) {
            for (int i = 0; i < log.size(); i++) {
                if (log.get(i).contains(errorId)) {
                    out.println("  " + log.get(i));
                    if (i + 1 < log.size()) {
                        out.println("  " + log.get(i + 1));
                    }
                }
            }
        }
        traceSummary(recorded);
        auditSummary();
        out.println();
        out.println("Done.");
    }

    private void closeClients() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                // closing demo clients is best effort
            }
        }
        closeables.clear();
    }

    /**
     * What the approver sees at her console when a request arrives. A real deployment lists
     * {@code approvals.pending()} in an operator console or chat tool, with authenticated approvers.
     */
    private void announce(ApprovalRequest request) {
        out.printf("  %-22s sees %s: %s wants %s %s (%s)%n", "[console: alice]", request.id(),
                request.agent().agentId(), request.tool(), request.canonicalArguments(), request.rule());
    }

    /** Alice decides at her console, outside every agent's client. */
    private void decide(String approvalId, boolean approve, String reason) {
        ApprovalQueue.Answer answer = approve ? pendingApprovals.approve(approvalId, "alice@example.com", reason)
                : pendingApprovals.deny(approvalId, "alice@example.com", reason);
        out.printf("  %-22s %s %s (%s) -> %s%n", "[console: alice]", approve ? "approves" : "denies", approvalId,
                reason, answer);
    }

    private void stdio(String agent) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var params = ServerParameters.builder(java)
                .args("-cp", System.getProperty("java.class.path"),
                        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        OrderServer.class.getName(), "--stdio", "--agent", agent)
                .build();
        McpSyncClient client = McpClient.sync(new StdioClientTransport(params, McpJsonDefaults.getMapper()))
                .requestTimeout(Duration.ofSeconds(30)).initializationTimeout(Duration.ofSeconds(30)).build();
        closeables.add(client::close);
        client.initialize();
        out.println("  subprocess OrderServer --stdio --agent " + agent + " -> sees " + toolNames(client));
        call(agent + " (stdio)", client, "issue_refund", Map.of("orderId", "o-1003", "amount", 5));
        call(agent + " (stdio)", client, "delete_customer", Map.of("customerId", "c-42"));
    }

    private McpSyncClient connect(String url, String key) {
        McpSyncClient client = McpClient.sync(transport(url, key)).requestTimeout(Duration.ofSeconds(30)).build();
        closeables.add(client::close);
        client.initialize();
        return client;
    }

    private static HttpClientStreamableHttpTransport transport(String url, String key) {
        URI uri = URI.create(url);
        return HttpClientStreamableHttpTransport.builder(uri.getScheme() + "://" + uri.getAuthority())
                .endpoint(uri.getPath())
                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + key))
                .build();
    }

    /** Calls a tool in a loop until the guard refuses, printing how many calls ran and the refusal. */
    private void runaway(String agent, McpSyncClient client, String tool, Map<String, Object> args, int max) {
        int ran = 0;
        while (ran < max) {
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest(tool, args));
            if (Boolean.TRUE.equals(result.isError())) {
                break;
            }
            ran++;
        }
        out.printf("  %-22s %-18s %-44s -> %d calls ran, then:%n", agent, tool, json(args), ran);
        call(agent, client, tool, args);
    }

    private String call(String agent, McpSyncClient client, String tool, Map<String, Object> args) {
        String outcome;
        String approvalId = null;
        try {
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest(tool, args,
                    traceparent(agent)));
            String text = result.content().stream()
                    .map(c -> c instanceof McpSchema.TextContent t ? t.text() : c.type())
                    .collect(Collectors.joining(" "));
            if (Boolean.TRUE.equals(result.isError())) {
                Object reason = result.meta() == null ? null : result.meta().get("io.mcpguard/reason");
                Object errorId = result.meta() == null ? null : result.meta().get("io.mcpguard/errorId");
                Object approval = result.meta() == null ? null : result.meta().get("io.mcpguard/approvalId");
                approvalId = approval == null ? null : approval.toString();
                if (errorId != null) {
                    errorIds.add(errorId.toString());
                }
                outcome = "isError" + (reason == null ? "" : " [" + reason + "]") + ": " + text;
            } else {
                outcome = "ok: " + text;
            }
        } catch (McpError e) {
            var error = e.getJsonRpcError();
            outcome = "JSON-RPC error " + error.code() + " \"" + error.message() + "\" (" + error.data() + ")";
        }
        out.printf("  %-22s %-18s %-44s -> %s%n", agent, tool, json(args), outcome);
        return approvalId;
    }

    /**
     * Each agent's work is one run, one trace: the agent side starts a span for its run and sends its W3C context in
     * every call's {@code _meta.traceparent}, as SEP-414 describes; the guard's spans become its children.
     */
    private Map<String, Object> traceparent(String agent) {
        var run = runs.computeIfAbsent(agent.replace(" (stdio)", ""),
                name -> tracer.spanBuilder("agent run " + name).setSpanKind(io.opentelemetry.api.trace.SpanKind.CLIENT)
                        .startSpan());
        var context = run.getSpanContext();
        if (!context.isValid()) {
            return Map.of();
        }
        return Map.of("traceparent", "00-" + context.getTraceId() + "-" + context.getSpanId() + "-"
                + context.getTraceFlags().asHex());
    }

    private void auditSummary() throws java.io.IOException {
        section("10. The audit trail: a signed hash chain that answers \"what did it touch?\"");
        var verdict = AuditVerifier.verify(AUDIT_FILE, AuditKeys.readPublicKey(AUDIT_PUBLIC_KEY));
        out.println("  " + AUDIT_FILE);
        out.println("  verify: " + verdict);
        var query = AuditQuery.load(AUDIT_FILE);
        out.println("  what billing-agent touched (method, target, SHA-256 of the exact arguments, outcome):");
        query.touched("billing-agent").forEach(line -> out.println("    " + line));
        out.println("  support-bot's refusals (the agent saw one answer; the trail keeps the real reason):");
        query.forAgent("support-bot").stream().filter(r -> "deny".equals(r.get("decision")))
                .forEach(r -> out.println("    " + r.get("target") + " " + r.get("reason") + " at " + r.get("step")));
        out.println("  decisions about ops-admin:");
        query.forAgent("ops-admin").stream().filter(r -> r.get("type").toString().startsWith("approval")
                        || "call.decision".equals(r.get("type")))
                .forEach(r -> out.println("    " + r.get("type") + " " + r.getOrDefault("approvalId", "") + " "
                        + r.getOrDefault("decision", "") + r.getOrDefault("approver", "") + " "
                        + r.getOrDefault("reason", r.getOrDefault("rule", ""))));
        // Tamper with a copy: turn one refusal into an allow and see the verifier point at it.
        Path copy = AUDIT_FILE.resolveSibling("mcp-guard-demo-audit-tampered.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(AUDIT_FILE));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("\"decision\":\"deny\"")) {
                lines.set(i, lines.get(i).replace("\"decision\":\"deny\"", "\"decision\":\"allow\""));
                break;
            }
        }
        Files.write(copy, lines);
        out.println("  a copy with one refusal edited into an allow: "
                + AuditVerifier.verify(copy, AuditKeys.readPublicKey(AUDIT_PUBLIC_KEY)));
        out.println("  verify it yourself (docs/audit.md): AuditVerifier " + AUDIT_FILE.getFileName() + " "
                + AUDIT_PUBLIC_KEY.getFileName());
    }

    private void traceSummary(SpanRecorder recorded) {
        section("9. One trace per agent run (OpenTelemetry; the same spans reach Jaeger when "
                + "OTEL_EXPORTER_OTLP_ENDPOINT is set)");
        runs.values().forEach(io.opentelemetry.api.trace.Span::end);
        if (recorded == null) {
            out.println("  (telemetry off)");
            return;
        }
        var spans = recorded.spans();
        for (var run : runs.entrySet()) {
            String traceId = run.getValue().getSpanContext().getTraceId();
            var inTrace = spans.stream().filter(s -> s.getTraceId().equals(traceId))
                    .filter(s -> s.getName().startsWith("tools/"))
                    .sorted(java.util.Comparator.comparingLong(io.opentelemetry.sdk.trace.data.SpanData::getStartEpochNanos))
                    .toList();
            out.printf("  %s  trace %s  %d guarded calls%n", run.getKey(), traceId, inTrace.size());
            for (var span : inTrace) {
                var a = span.getAttributes();
                String decision = a.get(io.opentelemetry.api.common.AttributeKey.stringKey("mcp_guard.decision"));
                String reason = a.get(io.opentelemetry.api.common.AttributeKey.stringKey("mcp_guard.reason"));
                out.printf("    %-30s %-7s %-22s %6.1f ms%n", span.getName(), decision,
                        reason == null ? "" : reason, (span.getEndEpochNanos() - span.getStartEpochNanos()) / 1e6);
            }
        }
    }

    private static String json(Map<String, Object> args) {
        try {
            return McpJsonDefaults.getMapper().writeValueAsString(new java.util.TreeMap<>(args));
        } catch (java.io.IOException e) {
            return args.toString();
        }
    }

    private static int rawInitialize(String url, String authorization) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                        + "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                        + "\"clientInfo\":{\"name\":\"curl\",\"version\":\"1\"}}}"));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static String toolNames(McpSyncClient client) {
        return client.listTools().tools().stream().map(McpSchema.Tool::name).sorted().toList().toString();
    }

    private void section(String title) {
        out.println();
        out.println(title);
    }

    private static String indent(String text) {
        return text.lines().map(line -> "  " + line).collect(Collectors.joining("\n"));
    }
}
