package io.mcpguard.internal;

import io.mcpguard.Decision;
import io.mcpguard.ReasonCode;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;

/**
 * How the guard's refusals reach the agent. Unstable API.
 *
 * <p>A caller without a grant gets exactly the SDK's unknown-tool error (JSON-RPC {@code -32602}, message
 * {@value #UNKNOWN_TOOL_MESSAGE}, data {@code Tool not found: <name>}), so hidden and nonexistent tools cannot be
 * told apart. Every other refusal is a tool result with {@code isError: true}, a readable message and the stable
 * reason code under {@value #META_REASON} in {@code _meta}; the session survives.
 */
public final class Refusals {

    /** The SDK's fixed message for an unknown tool (MCP Java SDK 2.x, {@code McpAsyncServer}). */
    public static final String UNKNOWN_TOOL_MESSAGE = "Unknown tool: invalid_tool_name";

    /** The {@code _meta} key of the stable reason code. */
    public static final String META_REASON = "io.mcpguard/reason";

    /** The {@code _meta} key of the retry hint, in whole milliseconds. */
    public static final String META_RETRY_AFTER_MS = "io.mcpguard/retryAfterMs";

    /** The {@code _meta} key of the error id under which a tool failure was logged. */
    public static final String META_ERROR_ID = "io.mcpguard/errorId";

    private Refusals() {
    }

    /**
     * Returns the error the SDK gives for a tool it does not know, byte for byte.
     *
     * @param toolName the requested name
     * @return the error
     */
    public static McpError unknownTool(String toolName) {
        return McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS)
                .message(UNKNOWN_TOOL_MESSAGE)
                .data("Tool not found: " + toolName)
                .build();
    }

    /**
     * Returns whether a refusal must look like an unknown tool.
     *
     * @param deny the refusal
     * @return {@code true} for the identity and scope refusals
     */
    public static boolean isHidden(Decision.Deny deny) {
        return deny.reason() == ReasonCode.UNKNOWN_AGENT || deny.reason() == ReasonCode.OUT_OF_SCOPE;
    }

    /**
     * Returns the tool result for a visible refusal.
     *
     * @param deny the refusal
     * @return an {@code isError} result with the reason in {@code _meta}
     */
    public static McpSchema.CallToolResult result(Decision.Deny deny) {
        return result(deny, null);
    }

    /**
     * Returns the tool result for a visible refusal that concerns an approval.
     *
     * @param deny the refusal
     * @param approvalId the approval id, or {@code null}
     * @return an {@code isError} result with the reason, retry hint and approval id in {@code _meta}
     */
    public static McpSchema.CallToolResult result(Decision.Deny deny, String approvalId) {
        Map<String, Object> meta = new java.util.LinkedHashMap<>();
        meta.put(META_REASON, deny.reason().code());
        if (deny.retryAfter() != null) {
            meta.put(META_RETRY_AFTER_MS, retryMillis(deny.retryAfter()));
        }
        if (approvalId != null) {
            meta.put(Approvals.META_APPROVAL_ID, approvalId);
        }
        return McpSchema.CallToolResult.builder()
                .content(List.of(new McpSchema.TextContent(deny.message())))
                .isError(true)
                .meta(java.util.Collections.unmodifiableMap(meta))
                .build();
    }

    private static long retryMillis(java.time.Duration retryAfter) {
        // Rounded up: retrying at the hint must not arrive a fraction too early.
        long nanos = retryAfter.toNanos();
        return nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
    }

    /**
     * Returns the sanitized result of a failed handler: a generic message and the error id; never the cause.
     *
     * @param toolName the tool
     * @param errorId the id under which the cause was logged
     * @return an {@code isError} result
     */
    public static McpSchema.CallToolResult toolFailure(String toolName, String errorId) {
        return McpSchema.CallToolResult.builder()
                .content(List.of(new McpSchema.TextContent("Tool '" + toolName
                        + "' failed. The server logged the cause under reference " + errorId + ".")))
                .isError(true)
                .meta(Map.of(META_REASON, ReasonCode.TOOL_ERROR.code(), META_ERROR_ID, errorId))
                .build();
    }
}
