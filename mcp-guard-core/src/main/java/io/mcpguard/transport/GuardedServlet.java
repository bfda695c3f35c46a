package io.mcpguard.transport;

import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Objects;

/**
 * Serves one of the SDK's servlet transports behind the {@link McpGate}: register this servlet (async-supported)
 * instead of the transport.
 *
 * <pre>{@code
 * Tomcat.addServlet(context, "mcp", http.servlet()).setAsyncSupported(true);
 * }</pre>
 */
public final class GuardedServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient McpGate gate;
    private final transient HttpServlet transport;

    /**
     * Puts a gate in front of a transport servlet.
     *
     * @param gate the gate
     * @param transport the SDK transport, e.g. an {@code HttpServletStreamableServerTransportProvider}
     */
    public GuardedServlet(McpGate gate, HttpServlet transport) {
        this.gate = Objects.requireNonNull(gate, "gate");
        this.transport = Objects.requireNonNull(transport, "transport");
    }

    @Override
    public void init(ServletConfig config) throws ServletException {
        super.init(config);
        transport.init(config);
    }

    @Override
    public void destroy() {
        transport.destroy();
        gate.close();
        super.destroy();
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        gate.handle(request, response, transport::service);
    }
}
