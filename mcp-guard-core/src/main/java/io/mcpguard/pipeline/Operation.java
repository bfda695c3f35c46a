package io.mcpguard.pipeline;

import io.mcpguard.policy.Primitive;

/** The MCP requests that use a named primitive, and so pass the pipeline. */
public enum Operation {

    /** {@code tools/call}. */
    TOOL_CALL("tools/call"),
    /** {@code resources/read}. */
    RESOURCE_READ("resources/read"),
    /** {@code resources/subscribe}. */
    RESOURCE_SUBSCRIBE("resources/subscribe"),
    /** {@code prompts/get}. */
    PROMPT_GET("prompts/get"),
    /** {@code completion/complete} for a prompt's or a resource template's argument. */
    COMPLETE("completion/complete");

    private final String method;

    Operation(String method) {
        this.method = method;
    }

    /**
     * Returns the JSON-RPC method.
     *
     * @return e.g. {@code tools/call}
     */
    public String method() {
        return method;
    }

    /**
     * Returns the operation a primitive of this kind is used by (completions aside).
     *
     * @param kind the kind
     * @return the operation
     */
    public static Operation using(Primitive.Kind kind) {
        return switch (kind) {
            case TOOL -> TOOL_CALL;
            case RESOURCE, RESOURCE_TEMPLATE -> RESOURCE_READ;
            case PROMPT -> PROMPT_GET;
        };
    }
}
