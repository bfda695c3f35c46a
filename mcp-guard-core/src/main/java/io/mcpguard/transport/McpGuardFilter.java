package io.mcpguard.transport;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Objects;

/**
 * The {@link McpGate} as a servlet {@link Filter}, for transports that are not a servlet of their own (Spring's WebMVC
 * transport behind the {@code DispatcherServlet}). Map it to the MCP endpoint only, after any authentication filter
 * the gate's authenticator reads from (Spring Security).
 */
public final class McpGuardFilter implements Filter {

    private final McpGate gate;

    /**
     * Wraps a gate.
     *
     * @param gate the gate
     */
    public McpGuardFilter(McpGate gate) {
        this.gate = Objects.requireNonNull(gate, "gate");
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest http) || !(response instanceof HttpServletResponse httpResponse)) {
            chain.doFilter(request, response);
            return;
        }
        gate.handle(http, httpResponse, chain::doFilter);
    }

    @Override
    public void destroy() {
        gate.close();
    }
}
