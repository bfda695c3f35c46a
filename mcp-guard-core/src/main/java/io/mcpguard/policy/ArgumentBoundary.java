package io.mcpguard.policy;

import io.mcpguard.identity.AgentIdentity;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A hard limit on the arguments of the selected tools: a call whose arguments do not satisfy the condition is refused
 * outright ({@code argument_boundary}), before any quota, budget or approval. No approver can let such a call through.
 * Immutable.
 *
 * <pre>{@code
 * ArgumentBoundary.named("refund-cap").forTools(names("issue_refund")).require(numberAtMost("amount", 1000))
 * ArgumentBoundary.named("reports-only").forTools(names("read_file")).require(pathUnder("path", "/srv/reports"))
 * ArgumentBoundary.named("own-tenant").forTools(all()).require(equalsAttribute("tenantId", "tenant"))
 * }</pre>
 *
 * <p>A missing or mistyped argument, or a condition that cannot be decided, refuses. The refusal names the boundary
 * and the argument, never the condition's values: the agent learns which rule stopped it, not the policy's secrets.
 */
public final class ArgumentBoundary {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final String name;
    private final ToolMatcher tools;
    private final ArgumentCondition condition;

    private ArgumentBoundary(String name, ToolMatcher tools, ArgumentCondition condition) {
        this.name = name;
        this.tools = tools;
        this.condition = condition;
    }

    /**
     * Starts a boundary. Its name is shown to agents that cross it and enters the policy's fingerprint.
     *
     * @param name 1 to 64 letters, digits, {@code _ . -}, starting with a letter or digit
     * @return a builder
     */
    public static Builder named(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid boundary name " + (name == null ? "null" : "'" + name + "'")
                    + ": expected 1 to 64 letters, digits, '_', '.' or '-'");
        }
        return new Builder(name);
    }

    /** The tools step of a boundary. */
    public static final class Builder {
        private final String name;
        private ToolMatcher tools;

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Selects the tools the boundary applies to.
         *
         * @param tools the matcher
         * @return this builder
         */
        public Builder forTools(ToolMatcher tools) {
            this.tools = Objects.requireNonNull(tools, "tools");
            return this;
        }

        /**
         * Completes the boundary: calls of the selected tools must satisfy the condition.
         *
         * @param condition the condition
         * @return the boundary
         */
        public ArgumentBoundary require(ArgumentCondition condition) {
            if (tools == null) {
                throw new IllegalStateException("boundary '" + name + "' needs forTools(...) before require(...)");
            }
            return new ArgumentBoundary(name, tools, Objects.requireNonNull(condition, "condition"));
        }
    }

    /**
     * Returns the boundary's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the tools it applies to.
     *
     * @return the matcher
     */
    public ToolMatcher tools() {
        return tools;
    }

    /**
     * Returns the condition calls must satisfy.
     *
     * @return the condition
     */
    public ArgumentCondition condition() {
        return condition;
    }

    /**
     * Returns whether a call's arguments are inside the boundary: only when the condition holds.
     *
     * @param arguments the arguments
     * @param agent the verified caller
     * @return {@code true} if the call may go on
     */
    public boolean permits(Map<String, Object> arguments, AgentIdentity agent) {
        return condition.evaluate(arguments, agent) == ArgumentCondition.Verdict.HOLDS;
    }

    /**
     * Returns the message an agent gets when it crosses the boundary: the boundary's and argument's names only.
     *
     * @param tool the tool's name
     * @return the message
     */
    public String refusal(String tool) {
        String which = condition.arguments().isEmpty() ? "its arguments are"
                : condition.arguments().size() == 1 ? "argument '" + condition.arguments().get(0) + "' is"
                : "arguments " + condition.arguments() + " are";
        return "Call to '" + tool + "' refused: " + which + " outside boundary '" + name
                + "' (or missing or mistyped).";
    }

    /**
     * Returns the boundary's canonical form, entered in the policy's fingerprint.
     *
     * @return e.g. {@code boundary refund-cap tools=names(issue_refund) require amount <= 1000}
     */
    public String canonical() {
        return "boundary " + name + " tools=" + tools.canonical() + " require " + condition.description();
    }

    @Override
    public String toString() {
        return canonical();
    }
}
