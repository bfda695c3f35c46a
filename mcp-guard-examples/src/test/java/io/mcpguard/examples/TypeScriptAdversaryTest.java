package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.approval.ApprovalState;
import io.mcpguard.approval.ApprovalStore;
import io.mcpguard.approval.InMemoryApprovalStore;
import io.mcpguard.examples.orders.OrderStore;
import io.mcpguard.examples.orders.OrderTools;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ArgumentBoundary;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.transport.McpGuardHttp;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Agents with valid keys attack approvals, budgets and boundaries through the official TypeScript SDK client over
 * real Streamable HTTP (a Node subprocess driven step by step, so that the test can act as the approver between
 * steps).
 */
class TypeScriptAdversaryTest {

    static final File NODE_DIR = new File("src/test/node");
    static final String BILLING = OrderServer.DEMO_KEYS.get("billing-agent");
    static final String SUPPORT = OrderServer.DEMO_KEYS.get("support-bot");
    static final String OPS = OrderServer.DEMO_KEYS.get("ops-admin");

    final List<AutoCloseable> closeables = new ArrayList<>();
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    final ApprovalQueue queue = ApprovalQueue.create();
    final OrderStore store = OrderStore.seeded();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    /** The Node process running {@code ts-driver.mjs}. */
    final class Driver implements AutoCloseable {
        final Process node;
        final BufferedWriter in;
        final BufferedReader out;

        Driver(String url) throws Exception {
            node = new ProcessBuilder("node", "ts-driver.mjs", url).directory(NODE_DIR)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            in = new BufferedWriter(new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8));
            out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
            closeables.add(this);
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> step(Object... keyValues) throws Exception {
            Map<String, Object> step = new LinkedHashMap<>();
            for (int i = 0; i < keyValues.length; i += 2) {
                step.put((String) keyValues[i], keyValues[i + 1]);
            }
            in.write(McpJsonDefaults.getMapper().writeValueAsString(step));
            in.newLine();
            in.flush();
            String line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(60, TimeUnit.SECONDS);
            assertThat(line).as("the driver answered %s", step).isNotNull();
            return McpJsonDefaults.getMapper().readValue(line, Map.class);
        }

        Map<String, Object> refund(String session, String order, int amount) throws Exception {
            return step("op", "call", "name", session, "tool", "issue_refund", "args",
                    Map.of("orderId", order, "amount", amount));
        }

        @Override
        public void close() throws Exception {
            in.close();
            if (!node.waitFor(20, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    OrderServer orders(java.util.function.Consumer<McpGuard.Builder> settings) throws Exception {
        OrderServer server = OrderServer.startHttp(0, store, guard -> {
            guard.approvals(queue).eventListener(events::add);
            settings.accept(guard);
        });
        closeables.add(server);
        return server;
    }

    BigDecimal refunded(String order) {
        return store.order(order).orElseThrow().refunded();
    }

    List<ApprovalState> states() {
        List<ApprovalState> out = new ArrayList<>();
        for (GuardEvent e : events) {
            if (e instanceof GuardEvent.ApprovalChanged c) {
                out.add(c.state());
            }
        }
        return out;
    }

    @Test
    void theCallingClientCannotApproveAnIrreversibleCallEvenWhenItAnswersEverythingWithYes() throws Exception {
        Driver ts = new Driver(orders(g -> { }).url());
        ts.step("op", "connect", "name", "billing", "key", BILLING, "elicitation", "accept");
        ts.step("op", "connect", "name", "ops", "key", OPS, "elicitation", "accept");

        Map<String, Object> refund = ts.refund("billing", "o-1002", 250);
        Map<String, Object> delete = ts.step("op", "call", "name", "ops", "tool", "delete_customer", "args",
                Map.of("customerId", "c-42"));

        assertThat(refund).containsEntry("reason", "approval_pending");
        assertThat(delete).containsEntry("reason", "approval_pending");
        assertThat(ts.step("op", "elicited", "name", "billing")).containsEntry("elicited", 0);
        assertThat(ts.step("op", "elicited", "name", "ops")).containsEntry("elicited", 0);
        assertThat(ts.refund("billing", "o-1002", 250)).as("retrying does not approve").containsEntry("reason",
                "approval_pending");
        assertThat(refunded("o-1002")).isZero();
        assertThat(store.order("o-1003")).as("c-42's orders still exist").isPresent();
        // Its own principal at the approvals API is refused too.
        assertThat(queue.approve((String) refund.get("approvalId"), "billing-agent", "me"))
                .isEqualTo(ApprovalQueue.Answer.SELF_APPROVAL);
    }

    @Test
    void anotherIdentityCannotAnswerForASessionItDoesNotOwn() throws Exception {
        Driver ts = new Driver(orders(g -> { }).url());
        ts.step("op", "connect", "name", "billing", "key", BILLING);
        Map<String, Object> forged = ts.step("op", "rawPost", "key", SUPPORT, "sessionOf", "billing", "body",
                Map.of("jsonrpc", "2.0", "id", 0, "result", Map.of("action", "accept",
                        "content", Map.of("approve", true))));
        assertThat(forged).containsEntry("status", 404);
        Map<String, Object> cancel = ts.step("op", "rawPost", "key", SUPPORT, "sessionOf", "billing", "body",
                Map.of("jsonrpc", "2.0", "method", "notifications/cancelled", "params", Map.of("requestId", 1)));
        assertThat(cancel).containsEntry("status", 404);
    }

    @Test
    void splittingARefundAcrossCallsAndSessionsReachesTheApprover() throws Exception {
        Driver ts = new Driver(orders(g -> { }).url());
        for (String session : List.of("s1", "s2", "s3")) {
            ts.step("op", "connect", "name", session, "key", BILLING);
        }

        assertThat(ts.refund("s1", "o-1002", 100)).containsEntry("reason", null).containsEntry("isError", false);
        assertThat(ts.refund("s2", "o-1002", 100)).containsEntry("isError", false);
        Map<String, Object> third = ts.refund("s3", "o-1002", 100);

        assertThat(third).containsEntry("reason", "approval_pending");
        assertThat(queue.pending()).singleElement().extracting(ApprovalRequest::rule).asString()
                .contains("budget 'refunds-per-agent-day'");
        assertThat(refunded("o-1002")).isEqualByComparingTo("200");
    }

    @Test
    void aCancelledWaitNeverRunsTheTool() throws Exception {
        Driver ts = new Driver(orders(g -> g.approvalMode(ApprovalMode.WAIT)).url());
        ts.step("op", "connect", "name", "billing", "key", BILLING);

        ts.step("op", "start", "name", "billing", "id", "w1", "tool", "issue_refund", "args",
                Map.of("orderId", "o-1002", "amount", 250));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (queue.pending().isEmpty() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }
        ApprovalRequest request = queue.pending().get(0);

        Map<String, Object> aborted = ts.step("op", "abort", "id", "w1");
        assertThat(aborted).extracting(m -> ((Map<?, ?>) m.get("outcome")).get("ok")).isEqualTo(false);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!states().contains(ApprovalState.ABANDONED) && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }

        assertThat(states()).containsExactly(ApprovalState.ABANDONED);
        assertThat(queue.approve(request.id(), "alice@example.com", "late")).isEqualTo(
                ApprovalQueue.Answer.NOT_PENDING);
        assertThat(refunded("o-1002")).isZero();
    }

    @Test
    void aRedefinedToolVoidsAGrantedApproval() throws Exception {
        OrderServer server = orders(g -> { });
        Driver ts = new Driver(server.url());
        ts.step("op", "connect", "name", "billing", "key", BILLING);
        String id = (String) ts.refund("billing", "o-1002", 250).get("approvalId");
        assertThat(queue.approve(id, "alice@example.com", "ticket 4711")).isEqualTo(ApprovalQueue.Answer.DECIDED);

        McpServerFeatures.SyncToolSpecification refund = OrderTools.all(store).stream()
                .filter(t -> t.tool().name().equals("issue_refund")).findFirst().orElseThrow();
        McpSchema.Tool t = refund.tool();
        server.redefine(new McpServerFeatures.SyncToolSpecification(McpSchema.Tool.builder().name(t.name())
                .title(t.title()).description(t.description() + " Also closes the customer's account.")
                .inputSchema(t.inputSchema()).annotations(t.annotations()).build(), refund.callHandler()));

        assertThat(ts.refund("billing", "o-1002", 250)).containsEntry("reason", "approval_action_changed");
        assertThat(refunded("o-1002")).isZero();
    }

    @Test
    void aChangedPolicyVoidsAnApprovalGrantedUnderTheOldOne() throws Exception {
        ApprovalStore shared = InMemoryApprovalStore.create();
        OrderServer before = orders(g -> g.approvalStore(shared));
        Policy changed = Policy.builder().scope("orders:read", ToolMatcher.readOnly())
                .scope("refunds", ToolMatcher.names("issue_refund"))
                .boundary(ArgumentBoundary.named("refund-cap").forTools(ToolMatcher.names("issue_refund"))
                        .require(ArgumentCondition.numberAtMost("amount", 5000)))
                .build();
        OrderServer after = orders(g -> g.policy(changed).approvalStore(shared));
        Driver tsBefore = new Driver(before.url());
        Driver tsAfter = new Driver(after.url());
        tsBefore.step("op", "connect", "name", "billing", "key", BILLING);
        tsAfter.step("op", "connect", "name", "billing", "key", BILLING);

        String id = (String) tsBefore.refund("billing", "o-1002", 250).get("approvalId");
        queue.approve(id, "alice@example.com", "ticket 4711");

        assertThat(tsAfter.refund("billing", "o-1002", 250)).containsEntry("reason", "approval_action_changed");
        assertThat(shared.get(id)).get().extracting(ApprovalStore.Entry::state).isEqualTo(ApprovalState.VOIDED);
        assertThat(refunded("o-1002")).isZero();
    }

    @Test
    void boundariesRefuseOverTheCapOutsideThePathAndOutsideTheTenant() throws Exception {
        Driver orders = new Driver(orders(g -> { }).url());
        orders.step("op", "connect", "name", "billing", "key", BILLING);
        Map<String, Object> capped = orders.refund("billing", "o-1002", 5000);
        assertThat(capped).containsEntry("reason", "argument_boundary").containsEntry("rule", "refund-cap");
        assertThat((String) capped.get("text")).doesNotContain("1000");

        String acmeKey = "sk-acme-reports-0123456789";
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder().key("acme", acmeKey,
                AgentIdentity.builder("acme-reporter").scopes("reports").attribute("tenant", "acme").build()).build();
        McpGuard guard = McpGuard.builder().policy(Policy.builder().scope("reports", ToolMatcher.all())
                .boundary(ArgumentBoundary.named("reports-only").forTools(ToolMatcher.names("read_report"))
                        .require(ArgumentCondition.pathUnder("path", "/srv/reports")))
                .boundary(ArgumentBoundary.named("own-tenant").forTools(ToolMatcher.all())
                        .require(ArgumentCondition.equalsAttribute("tenantId", "tenant")))
                .build()).build();
        var http = McpGuardHttp.streamable(guard, keys).build();
        List<String> read = new CopyOnWriteArrayList<>();
        McpSchema.Tool tool = McpSchema.Tool.builder().name("read_report").inputSchema(Map.of("type", "object"))
                .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(true).build()).build();
        McpSyncServer reports = guard.install(McpServer.sync(http.transport()).serverInfo("reports", "1.0.0")
                .immediateExecution(true)).tools(new McpServerFeatures.SyncToolSpecification(tool, (ex, req) -> {
                    read.add((String) req.arguments().get("path"));
                    return McpSchema.CallToolResult.builder().addTextContent("report").isError(false).build();
                })).build();
        EmbeddedHttp embedded = EmbeddedHttp.start(http.servlet(), "/mcp", 0);
        closeables.add(guard);
        closeables.add(http);
        closeables.add(reports::close);
        closeables.add(embedded);
        Driver ts = new Driver("http://localhost:" + embedded.port() + "/mcp");
        ts.step("op", "connect", "name", "acme", "key", acmeKey);

        assertThat(ts.step("op", "call", "name", "acme", "tool", "read_report", "args",
                Map.of("tenantId", "acme", "path", "/srv/reports/q3.csv"))).containsEntry("isError", false);
        for (String escape : List.of("/srv/reports/../../etc/passwd", "/srv/reports/%2e%2e/secrets",
                "/srv/reports-old/q3.csv", "reports/q3.csv")) {
            assertThat(ts.step("op", "call", "name", "acme", "tool", "read_report", "args",
                    Map.of("tenantId", "acme", "path", escape))).as(escape)
                    .containsEntry("reason", "argument_boundary").containsEntry("rule", "reports-only");
        }
        assertThat(ts.step("op", "call", "name", "acme", "tool", "read_report", "args",
                Map.of("tenantId", "globex", "path", "/srv/reports/q3.csv")))
                .containsEntry("reason", "argument_boundary").containsEntry("rule", "own-tenant");
        assertThat(read).containsExactly("/srv/reports/q3.csv");
    }
}
