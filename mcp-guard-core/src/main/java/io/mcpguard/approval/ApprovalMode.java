package io.mcpguard.approval;

/** How a call that needs approval waits for it. */
public enum ApprovalMode {

    /**
     * Hold the call until the approver decides, up to the approval timeout (then deny). Simple for agents; needs the
     * caller's connection to stay open, so it suits stateful sessions.
     */
    WAIT,

    /**
     * Answer at once with a pending result carrying the approval id; the agent retries the identical call later, and
     * it runs once approved. Works on stateless and load-balanced HTTP, where no connection waits.
     */
    DEFER
}
