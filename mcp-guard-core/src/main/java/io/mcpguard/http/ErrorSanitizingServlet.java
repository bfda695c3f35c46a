package io.mcpguard.http;

import io.mcpguard.McpGuard;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

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
 *
 * <p>Given an {@link McpGuard.UnknownToolRecorder}, it also shows the guard the {@code tools/call} requests that name
 * tools which do not exist: the SDK answers those itself, before any guard code, so without this they would leave no
 * span and no audit record. Bodies are read once, up to {@value #INSPECT_LIMIT} bytes, and replayed to the transport
 * unchanged; larger bodies are not inspected and reach the transport (and its own size limit) as sent. A call is
 * recorded after the transport served it, and only if the transport accepted the request (no 4xx or 5xx status:
 * a request refused for its credentials or session never reached tool dispatch).
 */
public final class ErrorSanitizingServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** The largest request body inspected for unknown-tool calls; a {@code tools/call} probe is far smaller. */
    static final int INSPECT_LIMIT = 64 * 1024;

    private static final JsonFactory JSON = new JsonFactory();

    private final transient HttpServlet transport;
    private final transient McpGuard.UnknownToolRecorder recorder;

    private ErrorSanitizingServlet(HttpServlet transport, McpGuard.UnknownToolRecorder recorder) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.recorder = recorder;
    }

    /**
     * Wraps a transport servlet.
     *
     * @param transport e.g. an {@code HttpServletStreamableServerTransportProvider}
     * @return the servlet to register instead (async-supported)
     */
    public static HttpServlet wrap(HttpServlet transport) {
        return new ErrorSanitizingServlet(transport, null);
    }

    /**
     * Wraps a transport servlet, and records calls to unknown tools through the guard.
     *
     * <pre>{@code
     * HttpServlet servlet = ErrorSanitizingServlet.wrap(transport, guard.unknownToolRecorder(keys.contextExtractor()));
     * }</pre>
     *
     * @param transport e.g. an {@code HttpServletStreamableServerTransportProvider}
     * @param recorder from {@link McpGuard#unknownToolRecorder}, given the transport's context extractor
     * @return the servlet to register instead (async-supported)
     */
    public static HttpServlet wrap(HttpServlet transport, McpGuard.UnknownToolRecorder recorder) {
        return new ErrorSanitizingServlet(transport, Objects.requireNonNull(recorder, "recorder"));
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
        SanitizingResponse sanitizing = new SanitizingResponse(response);
        if (recorder == null || !"POST".equals(request.getMethod())) {
            transport.service(request, sanitizing);
            return;
        }
        InputStream in = request.getInputStream();
        byte[] head = in.readNBytes(INSPECT_LIMIT + 1);
        Runnable probe = head.length <= INSPECT_LIMIT ? prepare(request, head) : null;
        transport.service(new ReplayingRequest(request, head, in), sanitizing);
        // Only calls the transport accepted (authenticated, in a session) reached the SDK's tool dispatch.
        if (probe != null && sanitizing.status < 400) {
            try {
                probe.run();
            } catch (RuntimeException e) {
                // recording must never change how the request is served
            }
        }
    }

    /**
     * Finds the called tool's name and lets the recorder read what it needs from the request while it is certainly
     * live. Only a name the guard does not serve costs a full parse of the call.
     */
    private Runnable prepare(HttpServletRequest request, byte[] body) {
        Charset charset = charset(request);
        String name = calledTool(body, charset);
        if (name == null) {
            return null;
        }
        try {
            return recorder.prepare(request, name, () -> parseCall(body, charset));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Returns the tool a JSON-RPC {@code tools/call} request body names, or null if the body is anything else or
     * malformed. Streams over the tokens, skipping the arguments and every other value without building them.
     */
    static String calledTool(byte[] body, Charset charset) {
        try (JsonParser parser = StandardCharsets.UTF_8.equals(charset)
                ? JSON.createParser(ObjectReadContext.empty(), body)
                : JSON.createParser(ObjectReadContext.empty(), new String(body, charset))) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String method = null;
            String name = null;
            while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("method".equals(field) && value == JsonToken.VALUE_STRING) {
                    method = parser.getString();
                } else if ("params".equals(field) && value == JsonToken.START_OBJECT) {
                    name = nameIn(parser);
                } else {
                    parser.skipChildren();
                }
            }
            return "tools/call".equals(method) ? name : null;
        } catch (RuntimeException e) {
            return null; // the transport answers malformed bodies itself
        }
    }

    /** Reads a {@code params} object to its end, returning its string {@code name}, if any. */
    private static String nameIn(JsonParser parser) {
        String name = null;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            boolean isName = "name".equals(parser.currentName());
            if (parser.nextToken() == JsonToken.VALUE_STRING && isName) {
                name = parser.getString();
            } else {
                parser.skipChildren();
            }
        }
        return name;
    }

    /** Returns the {@code tools/call} in a JSON-RPC request body, or null if it is not one or is malformed. */
    static McpSchema.CallToolRequest parseCall(byte[] body, Charset charset) {
        try {
            Object parsed = McpJsonDefaults.getMapper().readValue(new String(body, charset), Object.class);
            if (!(parsed instanceof Map<?, ?> message) || !"tools/call".equals(message.get("method"))
                    || !(message.get("params") instanceof Map<?, ?> params)
                    || !(params.get("name") instanceof String name)) {
                return null;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> arguments = params.get("arguments") instanceof Map<?, ?> map
                    ? (Map<String, Object>) map : Map.of();
            @SuppressWarnings("unchecked")
            Map<String, Object> meta = params.get("_meta") instanceof Map<?, ?> map ? (Map<String, Object>) map : null;
            return McpSchema.CallToolRequest.builder().name(name).arguments(arguments).meta(meta).build();
        } catch (IOException | RuntimeException e) {
            return null; // the transport answers malformed bodies itself
        }
    }

    private static Charset charset(HttpServletRequest request) {
        String encoding = request.getCharacterEncoding();
        try {
            return encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
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

    /** Serves the already-read start of the body, then the rest of the original stream. */
    private static final class ReplayingRequest extends HttpServletRequestWrapper {

        private final ServletInputStream stream;
        private BufferedReader reader;

        ReplayingRequest(HttpServletRequest request, byte[] head, InputStream rest) {
            super(request);
            this.stream = new ReplayingStream(head, rest);
        }

        @Override
        public ServletInputStream getInputStream() {
            return stream;
        }

        @Override
        public BufferedReader getReader() {
            if (reader == null) {
                reader = new BufferedReader(new InputStreamReader(stream, charset((HttpServletRequest) getRequest())));
            }
            return reader;
        }
    }

    private static final class ReplayingStream extends ServletInputStream {

        private final byte[] head;
        private final InputStream rest;
        private int position;
        private boolean finished;

        ReplayingStream(byte[] head, InputStream rest) {
            this.head = head;
            this.rest = rest;
        }

        @Override
        public int read() throws IOException {
            if (position < head.length) {
                return head[position++] & 0xff;
            }
            int b = head.length <= INSPECT_LIMIT ? -1 : rest.read();
            finished = b < 0;
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            if (position < head.length) {
                int n = Math.min(length, head.length - position);
                System.arraycopy(head, position, buffer, offset, n);
                position += n;
                return n;
            }
            int n = head.length <= INSPECT_LIMIT ? -1 : rest.read(buffer, offset, length);
            finished = n < 0;
            return n;
        }

        @Override
        public boolean isFinished() {
            return finished;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new IllegalStateException("Replayed request bodies are read synchronously");
        }
    }

    private static final class SanitizingResponse extends HttpServletResponseWrapper {

        private PrintWriter writer;
        /** The status the transport set, kept here so it can be read after an async response completed. */
        volatile int status = SC_OK;

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
            status = sc;
            super.sendError(sc);
        }

        @Override
        public void sendError(int sc, String msg) throws IOException {
            status = sc;
            super.sendError(sc, msg);
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
