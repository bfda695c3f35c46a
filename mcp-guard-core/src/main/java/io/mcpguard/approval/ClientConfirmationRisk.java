package io.mcpguard.approval;

/**
 * Risks a policy must name, in words, before the guard accepts a weaker form of consent.
 */
public enum ClientConfirmationRisk {

    /**
     * The calling agent's own client may answer the confirmation of an irreversible call: an agent (or whoever
     * controls its client) can then delete, pay or send by itself. Accept it only where the person at the client is
     * the one who must consent and the agent cannot answer for them.
     */
    AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS
}
