package io.mcpguard.adversarial;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.ApiKeyAuthenticator;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.testing.GatedHttp;
import io.mcpguard.testing.RawMcpHttp;
import io.mcpguard.testing.Served;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that send their bodies slowly, over real HTTP on loopback with bounded counts: without a key they cost no
 * body read and no thread, with a key they are read without a thread, within a deadline and a per-agent cap, and in
 * either case the other agents stay served. The one timing assertion is a generous fixed deadline per answer.
 */
class SlowBodyHttpTest {

    static final String KEY = "sk-agent-0123456789abcdef";
    static final String ATTACKER_KEY = "sk-attacker-0123456789abcdef";
    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("k1", KEY, AgentIdentity.builder("agent").scopes("all").build())
            .key("k2", ATTACKER_KEY, AgentIdentity.builder("attacker").scopes("all").build()).build();
    static final Duration DEADLINE = Duration.ofSeconds(1);

    final List<Socket> sockets = new ArrayList<>();
    GatedHttp http;

    @AfterEach
    void stop() throws Exception {
        for (Socket socket : sockets) {
            socket.close();
        }
        if (http != null) {
            http.close();
        }
    }

    void start(int maxThreads, Duration bodyReadTimeout) throws Exception {
        McpGuard guard = McpGuard.builder().policy(Policy.builder().scope("all", ToolMatcher.all()).build()).build();
        http = GatedHttp.streamable(guard, KEYS, Served.of().echo("get_order"),
                b -> b.gate(g -> g.bodyReadTimeout(bodyReadTimeout).slowBodiesPerAgent(4)), maxThreads);
    }

    /** Opens a connection that sends its headers and the first byte of a much larger body, then stalls. */
    Socket slowBody(String key) throws IOException {
        Socket socket = new Socket("127.0.0.1", http.port());
        sockets.add(socket);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /mcp HTTP/1.1\r\nHost: localhost\r\n" + (key == null ? "" : "Authorization: Bearer " + key
                + "\r\n") + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                + "Content-Length: 100000\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    static String status(Socket socket) throws IOException {
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            line.append((char) c);
        }
        return line.toString().trim();
    }

    /** Pings as the agent; returns how long the answer took. */
    static Duration ping(RawMcpHttp agent, int id) throws Exception {
        long start = System.nanoTime();
        var answer = agent.post("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"ping\"}");
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(RawMcpHttp.message(answer)).contains("\"id\":" + id, "\"result\":{}");
        return Duration.ofNanos(System.nanoTime() - start);
    }

    @Test
    void keylessSlowBodiesGet401AtOnceAndTheAgentStaysServed() throws Exception {
        start(8, Duration.ofSeconds(30));
        RawMcpHttp agent = http.raw(KEY);
        agent.initialize();

        // Far more stalled keyless bodies than the server has threads, each trickling a byte now and then.
        List<Socket> attack = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            attack.add(slowBody(null));
        }
        Duration slowest = Duration.ZERO;
        for (int round = 0; round < 20; round++) {
            for (Socket socket : attack) {
                try {
                    socket.getOutputStream().write(' ');
                } catch (IOException closedByTheServer) {
                    // expected: the gate answered 401 and closed the connection
                }
            }
            Duration took = ping(agent, 100 + round);
            slowest = took.compareTo(slowest) > 0 ? took : slowest;
        }
        System.out.println("slowest ping during the keyless attack: " + slowest.toMillis() + " ms");
        assertThat(slowest).as("every ping answered within the deadline during the attack").isLessThan(DEADLINE);
        for (Socket socket : attack) {
            assertThat(status(socket)).isEqualTo("HTTP/1.1 401");
        }
    }

    @Test
    void anAgentsSlowBodiesHoldNoThreadAreCappedAndTimeOut() throws Exception {
        start(2, Duration.ofMillis(1500));
        RawMcpHttp agent = http.raw(KEY);
        agent.initialize();

        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            stalled.add(slowBody(ATTACKER_KEY));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (http.gate().slowBodies("attacker") < 4 && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(5); // waiting for the server to take the four, not timing it
        }
        assertThat(http.gate().slowBodies("attacker")).isEqualTo(4);
        Socket overCap = slowBody(ATTACKER_KEY);
        assertThat(status(overCap)).as("a fifth body arriving at once for the same agent").isEqualTo("HTTP/1.1 429");

        // Four bodies are stalled on a server with two request threads, and the other agent is served.
        for (int i = 0; i < 5; i++) {
            assertThat(ping(agent, 200 + i)).isLessThan(DEADLINE);
        }
        for (Socket socket : stalled) {
            assertThat(status(socket)).as("refused when its body did not arrive in time").isEqualTo("HTTP/1.1 408");
        }
        assertThat(http.gate().slowBodies("attacker")).as("the cap is free again").isZero();
    }

    @Test
    void aBodyThatArrivesSlowlyButCompletelyIsServed() throws Exception {
        start(2, Duration.ofSeconds(10));
        RawMcpHttp agent = http.raw(KEY);
        agent.initialize();
        String call = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"get_order\","
                + "\"arguments\":{\"id\":\"o-" + "9".repeat(20_000) + "\"}}}";
        byte[] body = call.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", http.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY + "\r\n"
                    + "Mcp-Session-Id: " + agent.sessionId() + "\r\nContent-Type: application/json\r\n"
                    + "Accept: application/json, text/event-stream\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int offset = 0; offset < body.length; offset += 4096) {
                out.write(body, offset, Math.min(4096, body.length - offset));
                out.flush();
                TimeUnit.MILLISECONDS.sleep(20); // pacing the client, not timing the server
            }
            socket.setSoTimeout(10_000);
            String seen = readUntil(socket.getInputStream(), "get_order:o-");
            assertThat(seen).startsWith("HTTP/1.1 200").contains("\"id\":7", "get_order:o-999");
        }
    }

    @Test
    void aBodyThatGrowsPastTheLimitWhileArrivingIsRefusedWith413() throws Exception {
        start(2, Duration.ofSeconds(10));
        try (Socket socket = new Socket("127.0.0.1", http.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY + "\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("1000\r\n" + " ".repeat(0x1000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            try {
                for (int i = 0; i < 1100; i++) { // 4.4 MiB, past the 4 MiB default
                    out.write(chunk);
                }
            } catch (IOException closedByTheServer) {
                // expected once the gate refused
            }
            assertThat(status(socket)).isEqualTo("HTTP/1.1 413");
        }
    }

    static String readUntil(InputStream in, String text) throws IOException {
        StringBuilder seen = new StringBuilder();
        byte[] buffer = new byte[4096];
        try {
            while (seen.indexOf(text) < 0) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer: " + seen, e);
        }
        return seen.toString();
    }
}
