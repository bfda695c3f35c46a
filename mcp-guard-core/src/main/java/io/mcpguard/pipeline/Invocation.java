package io.mcpguard.pipeline;

import io.mcpguard.approval.ApprovalRequest;
import io.modelcontextprotocol.common.McpTransportContext;
import java.util.Map;
import java.util.Objects;

/**
 * One use of a primitive the SDK dispatched to a guarded handler.
 *
 * @param operation the operation
 * @param target the primitive the SDK dispatched to
 * @param name the name or URI as requested (for a template read, the concrete URI)
 * @param arguments the arguments (tools, prompts, completions), or {@code null}
 * @param meta the request's {@code _meta}, or {@code null}
 * @param context the transport context (identity, network)
 * @param sessionId the MCP session id, or {@code null} (stateless)
 * @param elicitor the channel to the client's user, or {@code null} (stateless)
 */
public record Invocation(Operation operation, Target target, String name, Map<String, Object> arguments,
        Map<String, Object> meta, McpTransportContext context, String sessionId,
        ApprovalRequest.Elicitor elicitor) {

    /**
     * Checks the parts.
     *
     * @param operation the operation
     * @param target the target
     * @param name the name
     * @param arguments the arguments
     * @param meta the meta
     * @param context the context
     * @param sessionId the session id
     * @param elicitor the elicitor
     */
    public Invocation {
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(name, "name");
        context = context == null ? McpTransportContext.EMPTY : context;
    }
}
