package io.mcpguard.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.stream.Collectors;

/**
 * A minimal raw Streamable HTTP client, for assertions on the exact bytes a server sends. It speaks JSON-RPC by hand:
 * initialize, the initialized notification, then requests.
 */
public final class RawMcpHttp {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private boolean freshConnections;
    private final String url;
    private final String authorization;
    private final java.util.Map<String, String> extraHeaders = new java.util.LinkedHashMap<>();
    private String sessionId;

    /**
     * Creates a client.
     *
     * @param url the MCP endpoint
     * @param authorization the {@code Authorization} header value, or {@code null} for none
     */
    public RawMcpHttp(String url, String authorization) {
        this.url = url;
        this.authorization = authorization;
    }

    /**
     * Posts one JSON-RPC message.
     *
     * @param json the message
     * @return the response
     * @throws Exception on I/O failure
     */
    public HttpResponse<String> post(String json) throws Exception {
        return send(HttpRequest.BodyPublishers.ofString(json));
    }

    /**
     * Adds a header to every later request (e.g. a spoofed identity header).
     *
     * @param name the header
     * @param value its value
     * @return this client
     */
    public RawMcpHttp header(String name, String value) {
        extraHeaders.put(name, value);
        return this;
    }

    /**
     * Uses another session's id (to test session replay).
     *
     * @param sessionId the id
     * @return this client
     */
    public RawMcpHttp session(String sessionId) {
        this.sessionId = sessionId;
        return this;
    }

    /**
     * Returns the session id the server gave.
     *
     * @return the id, or {@code null}
     */
    public String sessionId() {
        return sessionId;
    }

    /**
     * Opens the session's listening stream (GET) and returns what is there at once (status and, for refusals, the
     * body; an accepted stream is cut after its headers).
     *
     * @return the response
     * @throws Exception on I/O failure
     */
    public HttpResponse<String> get() throws Exception {
        var request = withExtras(base().GET());
        var response = client().sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
        try {
            return response.get(3, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException streaming) {
            response.cancel(true);
            return null;
        }
    }

    /**
     * Deletes the session.
     *
     * @return the response
     * @throws Exception on I/O failure
     */
    public HttpResponse<String> delete() throws Exception {
        return client().send(withExtras(base().DELETE()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder base() {
        var request = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10))
                .header("Accept", "application/json, text/event-stream");
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (sessionId != null) {
            request.header("Mcp-Session-Id", sessionId);
        }
        return request;
    }

    private HttpRequest.Builder withExtras(HttpRequest.Builder request) {
        extraHeaders.forEach(request::setHeader);
        return request;
    }

    /**
     * Posts raw bytes (for invalid UTF-8).
     *
     * @param body the bytes
     * @return the response
     * @throws Exception on I/O failure
     */
    public HttpResponse<String> postBytes(byte[] body) throws Exception {
        return send(HttpRequest.BodyPublishers.ofByteArray(body));
    }

    private HttpResponse<String> send(HttpRequest.BodyPublisher body) throws Exception {
        var request = withExtras(base().header("Content-Type", "application/json").POST(body));
        return client().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpClient client() {
        return freshConnections ? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build() : http;
    }

    /**
     * Opens a new connection for every request, so that one request's connection handling (a server closing the
     * connection after an error) cannot affect the next.
     *
     * @return this client
     */
    public RawMcpHttp freshConnections() {
        this.freshConnections = true;
        return this;
    }

    /**
     * Runs the initialize handshake.
     *
     * @return the initialize response
     * @throws Exception on I/O failure
     */
    public HttpResponse<String> initialize() throws Exception {
        var response = post("""
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",\
                "capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        sessionId = response.headers().firstValue("Mcp-Session-Id").orElse(null);
        if (response.statusCode() == 200) {
            post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        }
        return response;
    }

    /**
     * Returns the JSON-RPC message of a response: the body itself for JSON, the {@code data:} lines for SSE.
     *
     * @param response the response
     * @return the message bytes as text
     */
    public static String message(HttpResponse<String> response) {
        String body = response.body();
        if (response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
            return body.lines().filter(line -> line.startsWith("data:"))
                    .map(line -> line.substring(5).strip()).collect(Collectors.joining("\n"));
        }
        return body;
    }
}
