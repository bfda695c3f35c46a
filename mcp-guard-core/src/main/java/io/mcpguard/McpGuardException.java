package io.mcpguard;

/**
 * Thrown for configuration mistakes and internal failures of mcp-guard itself. Expected refusals of a call are never
 * exceptions: they are {@link Decision} values.
 */
public final class McpGuardException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message that names the problem.
     *
     * @param message what went wrong, for the operator
     */
    public McpGuardException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and its cause.
     *
     * @param message what went wrong, for the operator
     * @param cause the underlying failure
     */
    public McpGuardException(String message, Throwable cause) {
        super(message, cause);
    }
}
