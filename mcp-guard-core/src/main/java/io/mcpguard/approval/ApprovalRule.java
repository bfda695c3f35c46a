package io.mcpguard.approval;

import io.mcpguard.policy.ToolMatcher;
import java.util.Objects;

/**
 * Which calls of the selected tools need a human's approval. Immutable.
 *
 * <p>When any approval rule selects a tool, the rules decide for that tool: a call needs approval if the condition of
 * any selecting rule holds. Otherwise the tool's reversibility decides: irreversible tools need approval by default.
 * So {@code ApprovalRule.forTools(names("issue_refund")).when(numberAbove("amount", 100))} lets small refunds through
 * and holds large ones.
 */
public final class ApprovalRule {

    private final ToolMatcher tools;
    private final ArgumentCondition condition;

    private ApprovalRule(ToolMatcher tools, ArgumentCondition condition) {
        this.tools = Objects.requireNonNull(tools, "tools");
        this.condition = condition;
    }

    /**
     * Starts a rule for the tools a matcher selects; alone it means "always needs approval".
     *
     * @param tools the matcher
     * @return a rule that always requires approval
     */
    public static ApprovalRule forTools(ToolMatcher tools) {
        return new ApprovalRule(tools, null);
    }

    /**
     * Returns this rule requiring approval only when the condition holds.
     *
     * @param condition the condition
     * @return a new rule
     */
    public ApprovalRule when(ArgumentCondition condition) {
        return new ApprovalRule(tools, Objects.requireNonNull(condition, "condition"));
    }

    /**
     * Returns a rule for the selected tools that never requires approval, e.g. for an irreversible tool you accept
     * agents using alone.
     *
     * @param tools the matcher
     * @return a rule
     */
    public static ApprovalRule never(ToolMatcher tools) {
        return new ApprovalRule(tools, ArgumentCondition.of("never", args -> false));
    }

    /**
     * Returns the tools the rule selects.
     *
     * @return the matcher
     */
    public ToolMatcher tools() {
        return tools;
    }

    /**
     * Returns whether a call with these arguments needs approval under this rule.
     *
     * @param arguments the arguments
     * @return true if approval is needed
     */
    public boolean needsApproval(java.util.Map<String, Object> arguments) {
        return condition == null || condition.needsApproval(arguments);
    }

    /**
     * Returns a description of the rule, shown to approvers and entered in the fingerprint.
     *
     * @return e.g. {@code approval tools=names(issue_refund) when amount > 100}
     */
    public String canonical() {
        return "approval tools=" + tools.canonical() + (condition == null ? " always" : " when " + condition);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
