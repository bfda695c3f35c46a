package io.mcpguard.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.examples.orders.OrderStore;
import io.opentelemetry.api.OpenTelemetry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whatever the guarded order server refuses, the gate or the container, the answer names no server software, version,
 * class or stack trace. Raw requests on a socket, so that malformed HTTP reaches the container as sent.
 */
class ErrorBodiesNameNothingTest {

    static OrderServer server;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        server = OrderServer.startHttp(0, OrderStore.seeded(), ApprovalHandler.denyAll(), OpenTelemetry.noop());
        port = Integer.parseInt(server.url().replaceAll(".*:(\\d+)/mcp", "$1"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static String send(String raw) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            try {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    seen.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                // a kept-alive connection: what came so far is the answer
            }
            return seen.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer wrong\r\nConnection: close\r\n\r\n",
        "PUT /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /nothing-here HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "BREW /mcp HTCPCP/1.0\r\n\r\n",
        "GET /mcp HTTP/1.1\r\nHost: localhost\r\nX-Big: HUGE\r\nConnection: close\r\n\r\n",
        "GET /mcp HTTP/1.1\r\nHost: local\u0001host\r\nConnection: close\r\n\r\n",
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: banana\r\nConnection: close\r\n\r\n"
    })
    void noRefusalNamesTheServerItsVersionOrItsInternals(String request) throws IOException {
        String answer = send(request.replace("HUGE", "x".repeat(20_000)));

        assertThat(answer).as("an answer came").startsWith("HTTP/1.1 ").doesNotStartWith("HTTP/1.1 2");
        assertThat(answer).contains("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32");
        assertThat(answer.toLowerCase(java.util.Locale.ROOT)).doesNotContain("tomcat", "apache", "catalina",
                "coyote", "exception", "java.", "jakarta.", "at org.", "11.0", "server:", "<html", "<h1");
    }
}
