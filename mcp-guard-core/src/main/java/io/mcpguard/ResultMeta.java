package io.mcpguard;

/**
 * The {@code _meta} keys the guard puts on the results and errors it answers with. Part of the public contract: they
 * never change meaning once released.
 */
public final class ResultMeta {

    /** The stable {@link ReasonCode} of a refusal or failure, e.g. {@code quota_exceeded}. */
    public static final String REASON = "io.mcpguard/reason";

    /** When a retry could pass, in whole milliseconds (rounded up). */
    public static final String RETRY_AFTER_MS = "io.mcpguard/retryAfterMs";

    /** The reference under which a handler's failure was logged on the server. */
    public static final String ERROR_ID = "io.mcpguard/errorId";

    /** The approval a pending or refused call concerns. */
    public static final String APPROVAL_ID = "io.mcpguard/approvalId";

    /** The name of the boundary or budget that refused a call. */
    public static final String RULE = "io.mcpguard/rule";

    private ResultMeta() {
    }
}
