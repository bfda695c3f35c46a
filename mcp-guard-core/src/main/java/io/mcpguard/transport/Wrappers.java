package io.mcpguard.transport;

import io.modelcontextprotocol.json.McpJsonDefaults;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.Charset;
import java.util.Map;
import java.util.function.Consumer;

/** The request and response wrappers the gate hands the SDK transport. */
final class Wrappers {

    private Wrappers() {
    }

    /** Serves a body the gate has already read, and tells the gate about streams the transport keeps open. */
    static final class BodyRequest extends HttpServletRequestWrapper {

        private final byte[] body;
        private final Charset charset;
        private final Consumer<AsyncContext> onAsync;
        private ServletInputStream stream;
        private BufferedReader reader;

        BodyRequest(HttpServletRequest request, byte[] body, Charset charset, Consumer<AsyncContext> onAsync) {
            super(request);
            this.body = body;
            this.charset = charset;
            this.onAsync = onAsync;
        }

        @Override
        public ServletInputStream getInputStream() {
            if (body == null) {
                throw new IllegalStateException("no body");
            }
            if (stream == null) {
                stream = new Replay(body);
            }
            return stream;
        }

        @Override
        public BufferedReader getReader() {
            if (reader == null) {
                reader = new BufferedReader(new InputStreamReader(getInputStream(), charset));
            }
            return reader;
        }

        @Override
        public int getContentLength() {
            return body == null ? super.getContentLength() : body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body == null ? super.getContentLengthLong() : body.length;
        }

        @Override
        public AsyncContext startAsync() {
            AsyncContext context = super.startAsync();
            if (onAsync != null) {
                onAsync.accept(context);
            }
            return context;
        }

        @Override
        public AsyncContext startAsync(ServletRequest request, ServletResponse response) {
            AsyncContext context = super.startAsync(request, response);
            if (onAsync != null) {
                onAsync.accept(context);
            }
            return context;
        }
    }

    private static final class Replay extends ServletInputStream {

        private final ByteArrayInputStream in;

        Replay(byte[] body) {
            this.in = new ByteArrayInputStream(body);
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return in.read(b, off, len);
        }

        @Override
        public boolean isFinished() {
            return in.available() == 0;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new IllegalStateException("The gate hands on bodies already read: read them synchronously");
        }
    }

    /**
     * Keeps SDK and container internals out of error answers: a JSON error body (the SDK serializes its exception
     * object, stack trace included) is rewritten to a plain JSON-RPC error with the standard message for its code, and
     * {@code sendError} (the container's HTML page, naming the server and its version) becomes a small JSON error.
     * Streams and successful answers pass untouched. Records the status and a new session's id.
     */
    static final class SanitizingResponse extends HttpServletResponseWrapper {

        private PrintWriter writer;
        volatile int status = SC_OK;
        volatile String sessionId;

        SanitizingResponse(HttpServletResponse response) {
            super(response);
        }

        @Override
        public void setStatus(int sc) {
            status = sc;
            super.setStatus(sc);
        }

        @Override
        public void sendError(int sc) throws IOException {
            sendError(sc, null);
        }

        @Override
        public void sendError(int sc, String msg) throws IOException {
            status = sc;
            if (isCommitted()) {
                return;
            }
            resetBuffer();
            super.setStatus(sc);
            super.setContentType("application/json");
            super.setCharacterEncoding("UTF-8");
            PrintWriter out = super.getWriter();
            out.write(Responses.errorBody(sc));
            out.flush();
        }

        @Override
        public void setHeader(String name, String value) {
            if ("Mcp-Session-Id".equalsIgnoreCase(name)) {
                sessionId = value;
            }
            super.setHeader(name, value);
        }

        @Override
        public void addHeader(String name, String value) {
            if ("Mcp-Session-Id".equalsIgnoreCase(name)) {
                sessionId = value;
            }
            super.addHeader(name, value);
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

    /** Rewrites a serialized {@code McpError} (or any JSON error body) to a plain JSON-RPC error. */
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
        return Responses.errorBody(code, standardMessage(code));
    }
}
