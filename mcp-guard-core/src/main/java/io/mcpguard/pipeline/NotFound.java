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
     * Returns an {@link McpError} carrying a JSON-RPC error, without a stack trace: it is an answer, not a fault, and
     * filling a trace costs more than the rest of a refusal. Serialized, it is the same as any {@code McpError}.
     *
     * @param error the JSON-RPC error
     * @return the exception to throw or signal
     */
    public static McpError answer(McpSchema.JSONRPCResponse.JSONRPCError error) {
        return new Answer(error);
    }

    /** An {@code McpError} that skips its stack trace. */
    private static final class Answer extends McpError {

        private static final long serialVersionUID = 1L;

        Answer(McpSchema.JSONRPCResponse.JSONRPCError error) {
            super(error);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /**
     * {@code tools/call} of an unknown tool: {@code -32602 Unknown tool: invalid_tool_name}, data
     * {@code Tool not found: NAME}.
     *
     * @param name the requested name
     * @return the error
     */
    public static McpError tool(String name) {
        return answer(new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INVALID_PARAMS,
                UNKNOWN_TOOL_MESSAGE, "Tool not found: " + name));
    }

    /**
     * {@code resources/read} of an unknown URI: {@code -32002 Resource not found}, data {@code {"uri": URI}}.
     *
     * @param uri the requested URI
     * @return the error
     */
    public static McpError resource(String uri) {
        return answer(new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.RESOURCE_NOT_FOUND,
                "Resource not found", Map.of("uri", uri)));
    }

    /**
     * {@code prompts/get} of an unknown prompt: {@code -32602 Invalid prompt name}, data {@code Prompt not found: NAME}.
     *
     * @param name the requested name
     * @return the error
     */
    public static McpError prompt(String name) {
        return answer(new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INVALID_PARAMS,
                "Invalid prompt name", "Prompt not found: " + name));
    }

    /**
     * {@code completion/complete} for an unknown prompt: {@code -32602 Prompt not found: NAME}, no data.
     *
     * @param name the requested prompt
     * @return the error
     */
    public static McpError completionPrompt(String name) {
        return answer(new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INVALID_PARAMS,
                "Prompt not found: " + name, null));
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
