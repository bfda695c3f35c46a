package io.mcpguard.pipeline;

import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Map;

/**
 * The MCP Java SDK's exact errors for names it does not know. A hidden name is answered with the same error, so that
 * it cannot be told from a missing one. Checked against the SDK's own answers byte for byte in the tests (SDK 2.2,
 * {@code McpAsyncServer}).
 */
public final class NotFound {

    /** The SDK's fixed message for an unknown tool. */
    public static final String UNKNOWN_TOOL_MESSAGE = "Unknown tool: invalid_tool_name";

    private NotFound() {
    }

    /**
     * {@code tools/call} of an unknown tool: {@code -32602 Unknown tool: invalid_tool_name}, data
     * {@code Tool not found: NAME}.
     *
     * @param name the requested name
     * @return the error
     */
    public static McpError tool(String name) {
        return McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS).message(UNKNOWN_TOOL_MESSAGE)
                .data("Tool not found: " + name).build();
    }

    /**
     * {@code resources/read} of an unknown URI: {@code -32002 Resource not found}, data {@code {"uri": URI}}.
     *
     * @param uri the requested URI
     * @return the error
     */
    public static McpError resource(String uri) {
        return new McpError(new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.RESOURCE_NOT_FOUND,
                "Resource not found", Map.of("uri", uri)));
    }

    /**
     * {@code prompts/get} of an unknown prompt: {@code -32602 Invalid prompt name}, data {@code Prompt not found: NAME}.
     *
     * @param name the requested name
     * @return the error
     */
    public static McpError prompt(String name) {
        return McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS).message("Invalid prompt name")
                .data("Prompt not found: " + name).build();
    }

    /**
     * {@code completion/complete} for an unknown prompt: {@code -32602 Prompt not found: NAME}, no data.
     *
     * @param name the requested prompt
     * @return the error
     */
    public static McpError completionPrompt(String name) {
        return McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS).message("Prompt not found: " + name).build();
    }

    /**
     * The error for an operation on an unknown name.
     *
     * @param operation the operation
     * @param name the name or URI
     * @return the error
     */
    public static McpError of(Operation operation, String name) {
        return switch (operation) {
            case TOOL_CALL -> tool(name);
            case RESOURCE_READ -> resource(name);
            case PROMPT_GET -> prompt(name);
            case COMPLETE -> completionPrompt(name);
            case RESOURCE_SUBSCRIBE -> throw new IllegalArgumentException(
                    "resources/subscribe answers an empty result for any URI");
        };
    }
}
