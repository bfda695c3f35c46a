package io.mcpguard.examples;

import java.io.IOException;
import java.io.Writer;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;

/**
 * Tomcat's error pages, for what the container answers itself (a malformed request line, a path nobody serves, an
 * unknown transfer coding), as the small fixed JSON-RPC errors the guard's gate writes: no HTML, no server name, no
 * version, no report. A user who copies {@link EmbeddedHttp} copies this with it.
 */
public final class PlainErrorValve extends ErrorReportValve {

    /** Creates the valve. */
    public PlainErrorValve() {
        setShowReport(false);
        setShowServerInfo(false);
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        String message = switch (status) {
            case 400 -> "Invalid request";
            case 404 -> "Not found";
            case 405 -> "Method not allowed";
            case 408 -> "Request timeout";
            case 413 -> "Request too large";
            case 501 -> "Not implemented";
            default -> status < 500 ? "Invalid request" : "Internal error";
        };
        try {
            response.setContentType("application/json");
            response.setCharacterEncoding("UTF-8");
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":" + (status < 500 ? -32600 : -32603)
                        + ",\"message\":\"" + message + "\"}}");
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // the client is gone; nothing to report to
        }
    }
}
