package io.mcpguard;

/**
 * Stable reason codes for the guard's refusals. The {@link #code()} strings are part of the public contract: they
 * appear in tool results ({@code _meta["io.mcpguard/reason"]}), logs, spans and audit records, and never change
 * meaning once released.
 */
public enum ReasonCode {

    /** No verified identity could be resolved for the caller (or the resolver failed). */
    UNKNOWN_AGENT("unknown_agent"),

    /**
     * The tool (resource, prompt) does not exist on this server. Recorded so that probing shows up in traces and
     * audit.
     */
    UNKNOWN_TOOL("unknown_tool"),

    /** The caller's identity does not grant the tool. Answered exactly like an unknown tool. */
    OUT_OF_SCOPE("out_of_scope"),

    /** The arguments do not satisfy the tool's input schema. */
    INVALID_ARGUMENTS("invalid_arguments"),

    /**
     * An argument is outside a hard boundary of the policy (a cap, allowed values, a pattern, a path prefix, the
     * caller's own tenant), or missing or mistyped. {@code _meta["io.mcpguard/rule"]} names the boundary.
     */
    ARGUMENT_BOUNDARY("argument_boundary"),

    /** A rate quota is used up; {@code _meta["io.mcpguard/retryAfterMs"]} says when a call would pass again. */
    QUOTA_EXCEEDED("quota_exceeded"),

    /**
     * A cumulative budget (a sum of an argument over a window) would be exceeded and the budget refuses rather than
     * asks; {@code _meta["io.mcpguard/rule"]} names the budget.
     */
    BUDGET_EXCEEDED("budget_exceeded"),

    /** Too many calls are in flight for this agent or tool. */
    CONCURRENCY_LIMITED("concurrency_limited"),

    /** The tool's circuit breaker is open after repeated failures of calls by several agents, or of the tool itself. */
    CIRCUIT_OPEN("circuit_open"),

    /** This agent's own breaker for the tool is open after repeated failures of its calls; other agents are served. */
    AGENT_CIRCUIT_OPEN("agent_circuit_open"),

    /** The call needs a human's approval, which was requested; retry the identical call once approved. */
    APPROVAL_PENDING("approval_pending"),

    /** The approver denied the call (or the approval handler failed, which denies). */
    APPROVAL_DENIED("approval_denied"),

    /** No approval arrived within the approval timeout. */
    APPROVAL_TIMEOUT("approval_timeout"),

    /** The agent already has as many calls waiting for approval as the guard lets one agent hold. */
    APPROVAL_WAIT_LIMITED("approval_wait_limited"),

    /**
     * The action changed between approval and execution (the tool's definition, the policy, the agent's client):
     * the approval is void and a new one is needed.
     */
    APPROVAL_ACTION_CHANGED("approval_action_changed"),

    /** The agent has caused too many approval requests recently. */
    APPROVAL_RATE_LIMITED("approval_rate_limited"),

    /** The audit trail cannot record the call (buffer full or sink failing) and the guard fails closed. */
    AUDIT_UNAVAILABLE("audit_unavailable"),

    /** The call ran past the tool's timeout and was cancelled. */
    TIMEOUT("timeout"),

    /** The tool's handler threw or returned nothing; the cause is logged server-side under an error id. */
    TOOL_ERROR("tool_error");

    private final String code;

    ReasonCode(String code) {
        this.code = code;
    }

    /**
     * Returns the stable wire form, e.g. {@code out_of_scope}.
     *
     * @return the code, lower snake case
     */
    public String code() {
        return code;
    }
}
