package io.mcpguard.http;

import io.modelcontextprotocol.json.McpJsonDefaults;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.Map;
import java.util.Objects;

/**
 * Wraps one of the SDK's servlet transports so that transport-level error responses carry no internals.
 *
 * <p>The MCP Java SDK 2.1 servlet transports answer malformed requests (bad JSON, invalid UTF-8, a missing session id,
 * some failures while streaming) by serializing the {@code McpError} object itself, with its Java stack trace,
 * exception messages and class names, before any guard code runs. This wrapper rewrites such JSON error bodies into a
 * plain JSON-RPC error with the standard message for the code ({@code Invalid request}, {@code Internal error}, ...).
 * Streams ({@code text/event-stream}) and successful responses pass through untouched.
 *
 * <pre>{@code
 * tomcat.addServlet(context, "mcp", ErrorSanitizingServlet.wrap(transport)).setAsyncSupported(true);
 * }</pre>
 */
public final class ErrorSanitizingServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final HttpServlet transport;

    private ErrorSanitizingServlet(HttpServlet transport) {
        this.transport = Objects.requireNonNull(transport, "transport");
    }

    /**
     * Wraps a transport servlet.
     *
     * @param transport e.g. an {@code HttpServletStreamableServerTransportProvider}
     * @return the servlet to register instead (async-supported)
     */
    public static HttpServlet wrap(HttpServlet transport) {
        return new ErrorSanitizingServlet(transport);
    }

    @Override
    public void init(ServletConfig config) throws ServletException {
        super.init(config);
        transport.init(config);
    }

    @Override
    public void destroy() {
        transport.destroy();
        super.destroy();
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        transport.service(request, new SanitizingResponse(response));
    }

    /** Returns the standard JSON-RPC message of a code. */
    static String standardMessage(int code) {
        return switch (code) {
            case -32700 -> "Parse error";
            case -32600 -> "Invalid request";
            case -32601 -> "Method not found";
            case -32602 -> "Invalid params";
            default -> "Internal error";
        };
    }

    /** Rewrites a serialized {@code McpError} (or any non-JSON-RPC JSON error body) to a plain JSON-RPC error. */
    static String sanitize(String body) {
        int code = -32603;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = McpJsonDefaults.getMapper().readValue(body, Map.class);
            if (parsed.containsKey("jsonrpc") && !parsed.containsKey("stackTrace")) {
                return body; // already a proper JSON-RPC message
            }
            Object error = parsed.get("jsonRpcError");
            if (error instanceof Map<?, ?> map && map.get("code") instanceof Number n) {
                code = n.intValue();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: replace it all the same
        }
        return "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":" + code + ",\"message\":\""
                + standardMessage(code) + "\"}}";
    }

    private static final class SanitizingResponse extends HttpServletResponseWrapper {

        private PrintWriter writer;

        SanitizingResponse(HttpServletResponse response) {
            super(response);
        }

        boolean errorJson() {
            String type = getContentType();
            return getStatus() >= 400 && type != null && type.startsWith("application/json");
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            if (writer == null) {
                writer = new PrintWriter(new SanitizingWriter(this, super.getWriter()));
            }
            return writer;
        }
    }

    /** Buffers what is written while the response is a JSON error, and writes it sanitized on flush or close. */
    private static final class SanitizingWriter extends Writer {

        private final SanitizingResponse response;
        private final PrintWriter target;
        private final StringBuilder buffer = new StringBuilder();

        SanitizingWriter(SanitizingResponse response, PrintWriter target) {
            this.response = response;
            this.target = target;
        }

        @Override
        public void write(char[] chars, int offset, int length) throws IOException {
            if (response.errorJson()) {
                buffer.append(chars, offset, length);
            } else {
                drain();
                target.write(chars, offset, length);
                failIfDisconnected();
            }
        }

        private void drain() {
            if (buffer.length() > 0) {
                target.write(sanitize(buffer.toString()));
                buffer.setLength(0);
            }
        }

        /** The SDK detects a gone client through {@code checkError()}: pass the underlying writer's error on. */
        private void failIfDisconnected() throws IOException {
            if (target.checkError()) {
                throw new IOException("Client disconnected");
            }
        }

        @Override
        public void flush() throws IOException {
            drain();
            target.flush();
            failIfDisconnected();
        }

        @Override
        public void close() {
            drain();
            target.close();
        }
    }
}
