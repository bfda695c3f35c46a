package io.mcpguard.approval;

/**
 * Who must say yes before a call runs.
 */
public enum ApprovalKind {

    /**
     * A person outside the calling client: an {@link ApprovalHandler}, the {@link ApprovalQueue}, an operator
     * console. Nothing the agent or its client sends can satisfy it. The default for every rule and for irreversible
     * tools.
     */
    PERSON("person"),

    /**
     * Confirmation by the client's user, asked through MCP elicitation on the calling session. <b>Weaker</b>: in an
     * agent deployment the "user" at the client is often the agent itself, which can answer yes. Opt-in per rule
     * ({@link ApprovalRule#confirmedByClientUser()}), and refused for irreversible tools unless the policy accepts
     * {@link ClientConfirmationRisk#AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS}.
     */
    CLIENT_USER("client_user");

    private final String code;

    ApprovalKind(String code) {
        this.code = code;
    }

    /**
     * Returns the stable name used in the policy's canonical form and audit records.
     *
     * @return e.g. {@code person}
     */
    public String code() {
        return code;
    }
}
