package io.mcpguard.testing;

/** The MCP Java SDK's four server shapes; behaviour tests run through each. */
public enum Shape {
    /** {@code McpServer.sync(provider)}: a stateful server with blocking handlers. */
    SYNC,
    /** {@code McpServer.async(provider)}: a stateful server with reactive handlers. */
    ASYNC,
    /** {@code McpServer.sync(statelessTransport)}. */
    STATELESS_SYNC,
    /** {@code McpServer.async(statelessTransport)}. */
    STATELESS_ASYNC;

    /**
     * Returns whether the shape keeps sessions (and so can elicit).
     *
     * @return {@code true} for the stateful shapes
     */
    public boolean stateful() {
        return this == SYNC || this == ASYNC;
    }
}
