package io.mcpguard.quota;

/** What a quota or concurrency limit counts together. */
public enum LimitKey {

    /** One counter for each (agent, tool) pair. */
    AGENT_AND_TOOL("agent+tool"),

    /** One counter for each agent, across all tools the rule selects. */
    AGENT("agent"),

    /** One counter for each tool, across all agents. */
    TOOL("tool");

    private final String code;

    LimitKey(String code) {
        this.code = code;
    }

    /**
     * Returns the stable name used in the policy's canonical form.
     *
     * @return e.g. {@code agent+tool}
     */
    public String code() {
        return code;
    }
}
