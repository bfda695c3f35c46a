package io.mcpguard.transport;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintWriter;

/** How the gate writes what it answers itself: in the SDK's own framing, or as small fixed JSON-RPC errors. */
final class Responses {

    /** JSON-RPC code of a refused or malformed request at the transport. */
    static final int INVALID_REQUEST = -32600;
    /** JSON-RPC code of a session that does not exist (or is not the caller's). */
    static final int SESSION_NOT_FOUND = -32001;
    /** JSON-RPC code of a refusal by the gate that is not a protocol error (authentication, limits). */
    static final int REFUSED = -32000;

    private Responses() {
    }

    /**
     * Writes a JSON-RPC error with a fixed message: never an exception text, class, stack trace or server version.
     *
     * @param response the response
     * @param status the HTTP status
     * @param code the JSON-RPC code
     * @param message a fixed message
     * @throws IOException if writing fails
     */
    static void error(HttpServletResponse response, int status, int code, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        PrintWriter writer = response.getWriter();
        writer.write(errorBody(code, message));
        writer.flush();
    }

    static String errorBody(int code, String message) {
        return "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":" + code + ",\"message\":\"" + message + "\"}}";
    }

    /** The fixed error of a status the SDK or the container answers with {@code sendError}. */
    static String errorBody(int status) {
        return switch (status) {
            case 400 -> errorBody(INVALID_REQUEST, "Invalid request");
            case 401 -> errorBody(REFUSED, "Unauthorized");
            case 403 -> errorBody(REFUSED, "Forbidden");
            case 404 -> errorBody(SESSION_NOT_FOUND, "Session not found");
            case 405 -> errorBody(-32601, "Method not allowed");
            case 408 -> errorBody(REFUSED, "Request timeout");
            case 413 -> errorBody(INVALID_REQUEST, "Request too large");
            case 415 -> errorBody(INVALID_REQUEST, "Unsupported media type");
            case 421 -> errorBody(REFUSED, "Misdirected request");
            case 429 -> errorBody(REFUSED, "Too many requests");
            case 503 -> errorBody(-32603, "Service unavailable");
            default -> errorBody(-32603, "Internal error");
        };
    }

    /**
     * Writes a JSON-RPC message as the SDK's Streamable HTTP transport answers a request in a session: one SSE event
     * {@code id: <session>}, {@code event: message}, with the SDK's headers.
     *
     * @param response the response
     * @param sessionId the session
     * @param json the message
     * @throws IOException if writing fails
     */
    static void sse(HttpServletResponse response, String sessionId, String json) throws IOException {
        response.setCharacterEncoding("UTF-8");
        PrintWriter writer = response.getWriter();
        response.setContentType("text/event-stream");
        response.setHeader("Cache-Control", "no-cache, no-transform");
        response.setHeader("X-Accel-Buffering", "no");
        response.flushBuffer();
        writer.write("id: " + sessionId + "\n");
        writer.write("event: message\n");
        writer.write("data: " + json + "\n\n");
        writer.flush();
    }

    /**
     * Writes a JSON-RPC message as the SDK's stateless transport answers a request.
     *
     * @param response the response
     * @param json the message
     * @throws IOException if writing fails
     */
    static void json(HttpServletResponse response, String json) throws IOException {
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setStatus(200);
        PrintWriter writer = response.getWriter();
        writer.write(json);
        writer.flush();
    }
}
