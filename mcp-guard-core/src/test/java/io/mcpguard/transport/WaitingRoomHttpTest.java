package io.mcpguard.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.GuardEvent;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.ApprovalState;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import io.mcpguard.testing.Tools;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The waiting mode over real Streamable HTTP: a call that waits for a person waits in the transport gate, holding no
 * request thread, and never runs if its client cancels or goes away, whatever the approver says later.
 */
class WaitingRoomHttpTest {

    static final String KEY = "sk-billing-0123456789abcdef";
    static final String OTHER_KEY = "sk-other-0123456789abcdef0";
    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("k1", KEY, AgentIdentity.builder("billing-agent").scopes("billing").build())
            .key("k2", OTHER_KEY, AgentIdentity.builder("other-agent").scopes("billing").build()).build();

    final AtomicInteger refunds = new AtomicInteger();
    final List<GuardEvent> events = new CopyOnWriteArrayList<>();
    final BlockingQueue<ApprovalRequest> asked = new LinkedBlockingQueue<>();
    final ApprovalQueue queue = ApprovalQueue.create().onRequest(asked::add);
    final List<AutoCloseable> closeables = new ArrayList<>();
    GatedHttp http;
    String session;

    @BeforeEach
    void start() throws Exception {
        start(0);
    }

    void start(int maxThreads) throws Exception {
        start(maxThreads, Duration.ofMillis(50), Policy.builder().scope("billing", ToolMatcher.all()), b -> { });
    }

    void start(int maxThreads, Duration ping, Policy.Builder policy,
            java.util.function.Consumer<McpGuard.Builder> settings) throws Exception {
        if (http != null) {
            http.close();
        }
        McpGuard.Builder guard = McpGuard.builder()
                .policy(policy.approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund"))
                        .when(ArgumentCondition.numberAbove("amount", 100))).build())
                .approvals(queue).approvalMode(ApprovalMode.WAIT).maxWaitingPerAgent(8)
                .eventListener(events::add);
        settings.accept(guard);
        var refund = Reversibility.IRREVERSIBLE.annotate(McpSchema.Tool.builder().name("issue_refund")
                .inputSchema(Map.of("type", "object")).build());
        Served served = Served.of().tool(refund, request -> {
            refunds.incrementAndGet();
            return Tools.text("refunded " + request.arguments().get("amount"));
        }).echo("get_order");
        http = GatedHttp.streamable(guard.build(), KEYS, served,
                b -> b.gate(g -> g.waitingPing(ping).waitingProbe(Duration.ofMillis(100))), maxThreads);
        RawMcpHttp raw = http.raw(KEY);
        raw.initialize();
        session = raw.sessionId();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        http.close();
    }

    static String refund(int id, int amount) {
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"issue_refund\","
                + "\"arguments\":{\"orderId\":\"o-1\",\"amount\":" + amount + "}}}";
    }

    /** A request on a raw socket, so that the test can watch the stream and drop the connection. */
    final class Held implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();

        Held(String key, String sessionId, String body) throws IOException {
            socket = new Socket("127.0.0.1", http.port());
            closeables.add(this);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + key
                    + "\r\nMcp-Session-Id: " + sessionId + "\r\nContent-Type: application/json\r\n"
                    + "Accept: application/json, text/event-stream\r\nContent-Length: " + bytes.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            in = socket.getInputStream();
        }

        /** Reads until the text appears; fails after ten seconds. */
        String until(String text) throws IOException {
            socket.setSoTimeout(10_000);
            byte[] buffer = new byte[4096];
            while (!seen.toString(StandardCharsets.UTF_8).contains(text)) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                seen.write(buffer, 0, n);
            }
            return seen.toString(StandardCharsets.UTF_8);
        }

        /** Reads until the server ends the response (the last chunk) or closes; returns what was seen. */
        String toEnd() throws IOException {
            socket.setSoTimeout(10_000);
            byte[] buffer = new byte[4096];
            try {
                while (!seen.toString(StandardCharsets.UTF_8).endsWith("0\r\n\r\n")) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    seen.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the response did not end: " + seen, e);
            }
            return seen.toString(StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
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

    void awaitState(ApprovalState state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!states().contains(state) && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        assertThat(states()).contains(state);
    }

    void awaitHeld(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (http.gate().heldCalls() != n && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        assertThat(http.gate().heldCalls()).isEqualTo(n);
    }

    @Test
    void aHeldCallRunsWhenApprovedAndItsAnswerFollowsThePings() throws Exception {
        Held held = new Held(KEY, session, refund(7, 250));
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        assertThat(request).isNotNull();
        assertThat(held.until(": waiting for approval")).contains("200", "text/event-stream");
        awaitHeld(1);

        assertThat(queue.approve(request.id(), "alice", "ok")).isEqualTo(ApprovalQueue.Answer.DECIDED);

        String stream = held.until("refunded 250");
        assertThat(stream).contains("event: message", "\"id\":7", "refunded 250");
        assertThat(refunds).hasValue(1);
        assertThat(http.gate().heldCalls()).isZero();
        assertThat(states()).containsExactly(ApprovalState.GRANTED, ApprovalState.CONSUMED);
    }

    @Test
    void aDeniedHeldCallIsAnsweredWithTheRefusal() throws Exception {
        Held held = new Held(KEY, session, refund(8, 250));
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        queue.deny(request.id(), "alice", "no ticket");
        assertThat(held.until("approval_denied")).contains("no ticket", "\"isError\":true");
        assertThat(refunds).hasValue(0);
    }

    @Test
    void aCancelledCallNeverRunsWhateverTheApproverSaysLater() throws Exception {
        Held held = new Held(KEY, session, refund(9, 250));
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        held.until(": waiting for approval");

        // Another agent naming the same request id cancels nothing (its own session holds no such call).
        RawMcpHttp other = http.raw(OTHER_KEY);
        other.initialize();
        other.post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":9}}");
        assertThat(http.gate().heldCalls()).isEqualTo(1);

        http.raw(KEY).session(session).post(
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":9,"
                        + "\"reason\":\"user pressed stop\"}}");

        String ended = held.toEnd();
        assertThat(ended).doesNotContain("event: message");
        awaitState(ApprovalState.ABANDONED);
        assertThat(queue.approve(request.id(), "alice", "late")).isEqualTo(ApprovalQueue.Answer.NOT_PENDING);
        assertThat(refunds).hasValue(0);
        assertThat(http.gate().heldCalls()).isZero();
        assertThat(states()).containsExactly(ApprovalState.ABANDONED);
    }

    @Test
    void aDisconnectedCallNeverRunsWhateverTheApproverSaysLater() throws Exception {
        Held held = new Held(KEY, session, refund(10, 250));
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        held.until(": waiting for approval");

        held.close(); // the client goes away without a word

        awaitState(ApprovalState.ABANDONED);
        assertThat(queue.approve(request.id(), "alice", "late")).isEqualTo(ApprovalQueue.Answer.NOT_PENDING);
        assertThat(refunds).hasValue(0);
        assertThat(http.gate().heldCalls()).isZero();
    }

    @Test
    void heldCallsHoldNoRequestThread() throws Exception {
        start(2);
        List<Held> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            held.add(new Held(KEY, session, refund(20 + i, 300 + i)));
        }
        for (int i = 0; i < 4; i++) {
            assertThat(asked.poll(10, TimeUnit.SECONDS)).isNotNull();
        }
        awaitHeld(4);

        // Four calls wait on a server with two request threads, and it still answers.
        var answer = http.raw(KEY).session(session).post("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"get_order\",\"arguments\":{\"id\":\"o-1\"}}}");
        assertThat(RawMcpHttp.message(answer)).contains("\"id\":99").doesNotContain("isError\":true");

        for (ApprovalRequest request : queue.pending()) {
            queue.approve(request.id(), "alice", "ok");
        }
        for (int i = 0; i < 4; i++) {
            assertThat(held.get(i).until("refunded " + (300 + i))).contains("\"id\":" + (20 + i));
        }
        assertThat(refunds).hasValue(4);
    }

    @Test
    void aClientThatLeftBetweenPingsIsFoundGoneBeforeTheApprovedCallRuns() throws Exception {
        start(0, Duration.ofMinutes(1), Policy.builder().scope("billing", ToolMatcher.all()), b -> { });
        Held held = new Held(KEY, session, refund(11, 250));
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        held.until(": waiting for approval");
        held.close(); // no ping will be written for a minute

        assertThat(queue.approve(request.id(), "alice", "ok")).isEqualTo(ApprovalQueue.Answer.DECIDED);

        awaitState(ApprovalState.ABANDONED);
        assertThat(refunds).as("the approved call found its client gone and never ran").hasValue(0);
        assertThat(http.gate().heldCalls()).isZero();
        assertThat(states()).containsExactly(ApprovalState.GRANTED, ApprovalState.CONSUMED, ApprovalState.ABANDONED);
    }

    @Test
    void theApprovalTimeoutDeniesAHeldCall() throws Exception {
        start(0, Duration.ofMillis(50), Policy.builder().scope("billing", ToolMatcher.all()),
                b -> b.approvalTimeout(Duration.ofMillis(200)));
        Held held = new Held(KEY, session, refund(12, 500));

        assertThat(held.until("approval_timeout")).contains("not approved in time", "\"isError\":true");
        assertThat(queue.pending()).as("the withdrawn request leaves the queue").isEmpty();
        assertThat(refunds).hasValue(0);
        assertThat(states()).containsExactly(ApprovalState.EXPIRED);
    }

    @Test
    void aHeldCallHoldsNoConcurrencySlotAndHeldCallsPerAgentAreCapped() throws Exception {
        start(0, Duration.ofMillis(50), Policy.builder().scope("billing", ToolMatcher.all())
                .concurrency(io.mcpguard.quota.ConcurrencyRule.perAgent(1)), b -> b.maxWaitingPerAgent(1));
        Held waiting = new Held(KEY, session, refund(13, 250));
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        waiting.until(": waiting for approval");

        var order = http.raw(KEY).session(session).post("{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\","
                + "\"params\":{\"name\":\"get_order\",\"arguments\":{\"id\":\"o-1\"}}}");
        assertThat(RawMcpHttp.message(order)).as("the only slot is free while the refund waits")
                .doesNotContain("isError\":true");
        var second = http.raw(KEY).session(session).post(refund(15, 300));
        assertThat(RawMcpHttp.message(second)).contains("approval_wait_limited");

        queue.approve(request.id(), "alice", "ok");
        assertThat(waiting.until("refunded 250")).contains("\"id\":13");
        var small = http.raw(KEY).session(session).post(refund(16, 25));
        assertThat(RawMcpHttp.message(small)).contains("refunded 25");
    }

    @Test
    void aToolWhoseRulesAlsoAcceptTheClientsConfirmationIsDeferredNotHeldOnARequestThread() throws Exception {
        start(0, Duration.ofMillis(50), Policy.builder().scope("billing", ToolMatcher.all())
                .approval(ApprovalRule.forTools(ToolMatcher.names("issue_refund"))
                        .when(ArgumentCondition.numberAbove("amount", 10)).confirmedByClientUser()
                        .acceptingRisk(io.mcpguard.approval.ClientConfirmationRisk
                                .AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS)), b -> { });

        var pending = http.raw(KEY).session(session).post(refund(17, 250));
        assertThat(RawMcpHttp.message(pending)).as("answered at once, not held where no one can see a cancel")
                .contains("approval_pending");
        assertThat(http.gate().heldCalls()).isZero();
        ApprovalRequest request = asked.poll(10, TimeUnit.SECONDS);
        assertThat(refunds).hasValue(0);

        queue.approve(request.id(), "alice", "ok");
        var retried = http.raw(KEY).session(session).post(refund(18, 250));
        assertThat(RawMcpHttp.message(retried)).contains("refunded 250");
        assertThat(refunds).hasValue(1);
    }
}
