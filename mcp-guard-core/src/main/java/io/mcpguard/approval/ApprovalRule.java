package io.mcpguard.approval;

import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import java.util.Map;
import java.util.Objects;

/**
 * Which calls of the selected tools need approval, and whose. Immutable.
 *
 * <p>When any approval rule selects a tool, the rules decide for that tool: a call needs approval if the condition of
 * any selecting rule holds (or cannot be decided). Otherwise the tool's reversibility decides: irreversible tools need
 * a person's approval by default. So
 * {@code ApprovalRule.forTools(names("issue_refund")).when(numberAbove("amount", 100))} lets small refunds through and
 * holds large ones for a person.
 *
 * <p>By default a rule needs one {@linkplain ApprovalKind#PERSON person} outside the calling client;
 * {@link #approvers(int)} asks for several distinct ones (four eyes). {@link #confirmedByClientUser()} is the weaker,
 * explicit alternative: confirmation by the client's user through elicitation.
 */
public final class ApprovalRule {

    /** The most distinct approvers a rule may require. */
    public static final int MAX_APPROVERS = 10;

    private final ToolMatcher tools;
    private final ArgumentCondition condition;
    private final ApprovalKind kind;
    private final int approvers;
    private final ClientConfirmationRisk acceptedRisk;
    private final boolean never;

    private ApprovalRule(ToolMatcher tools, ArgumentCondition condition, ApprovalKind kind, int approvers,
            ClientConfirmationRisk acceptedRisk, boolean never) {
        this.tools = Objects.requireNonNull(tools, "tools");
        this.condition = condition;
        this.kind = kind;
        this.approvers = approvers;
        this.acceptedRisk = acceptedRisk;
        this.never = never;
    }

    /**
     * Starts a rule for the tools a matcher selects; alone it means "every call needs one person's approval".
     *
     * @param tools the matcher
     * @return a rule that always requires approval
     */
    public static ApprovalRule forTools(ToolMatcher tools) {
        return new ApprovalRule(tools, null, ApprovalKind.PERSON, 1, null, false);
    }

    /**
     * Returns a rule for the selected tools that never requires approval, e.g. for an irreversible tool you accept
     * agents using alone.
     *
     * @param tools the matcher
     * @return a rule
     */
    public static ApprovalRule never(ToolMatcher tools) {
        return new ApprovalRule(tools, null, ApprovalKind.PERSON, 1, null, true);
    }

    /**
     * Returns this rule requiring approval only when the condition holds (or cannot be decided).
     *
     * @param condition the condition
     * @return a new rule
     */
    public ApprovalRule when(ArgumentCondition condition) {
        checkNotNever("when");
        return new ApprovalRule(tools, Objects.requireNonNull(condition, "condition"), kind, approvers, acceptedRisk,
                false);
    }

    /**
     * Returns this rule requiring {@code n} distinct persons to approve (none of them the agent or its principals).
     *
     * @param n 1 to {@link #MAX_APPROVERS}
     * @return a new rule
     */
    public ApprovalRule approvers(int n) {
        checkNotNever("approvers");
        if (n < 1 || n > MAX_APPROVERS) {
            throw new IllegalArgumentException("approvers must be between 1 and " + MAX_APPROVERS + ", got " + n);
        }
        if (kind != ApprovalKind.PERSON && n > 1) {
            throw new IllegalStateException("a client user's confirmation has one answer; approvers(" + n
                    + ") needs person approval");
        }
        return new ApprovalRule(tools, condition, kind, n, acceptedRisk, false);
    }

    /**
     * Returns this rule satisfied by the client's user confirming through MCP elicitation, instead of a person out of
     * band. Weaker: the calling agent's own client can answer. Refused for irreversible tools unless
     * {@link #acceptingRisk} names the risk.
     *
     * @return a new rule
     */
    public ApprovalRule confirmedByClientUser() {
        checkNotNever("confirmedByClientUser");
        if (approvers > 1) {
            throw new IllegalStateException("a client user's confirmation has one answer; remove approvers("
                    + approvers + ")");
        }
        return new ApprovalRule(tools, condition, ApprovalKind.CLIENT_USER, 1, acceptedRisk, false);
    }

    /**
     * Accepts a named risk of client confirmation, e.g. letting the client's user confirm irreversible calls.
     *
     * @param risk the risk, in words
     * @return a new rule
     */
    public ApprovalRule acceptingRisk(ClientConfirmationRisk risk) {
        if (kind != ApprovalKind.CLIENT_USER) {
            throw new IllegalStateException("acceptingRisk applies to confirmedByClientUser() rules only");
        }
        return new ApprovalRule(tools, condition, kind, approvers, Objects.requireNonNull(risk, "risk"), false);
    }

    private void checkNotNever(String what) {
        if (never) {
            throw new IllegalStateException(what + "(...) cannot refine a never(...) rule");
        }
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
     * Returns who must approve.
     *
     * @return the kind
     */
    public ApprovalKind kind() {
        return kind;
    }

    /**
     * Returns how many distinct approvers must approve.
     *
     * @return at least 1
     */
    public int requiredApprovers() {
        return approvers;
    }

    /**
     * Returns whether the rule exempts the tools it selects.
     *
     * @return {@code true} for {@link #never}
     */
    public boolean isNever() {
        return never;
    }

    /**
     * Returns whether the policy accepted a risk for this rule.
     *
     * @param risk the risk
     * @return {@code true} if accepted
     */
    public boolean accepts(ClientConfirmationRisk risk) {
        return acceptedRisk == risk;
    }

    /**
     * Returns whether a call needs approval under this rule: when the condition holds or cannot be decided.
     *
     * @param arguments the arguments
     * @param agent the verified caller
     * @return true if approval is needed
     */
    public boolean needsApproval(Map<String, Object> arguments, AgentIdentity agent) {
        if (never) {
            return false;
        }
        return condition == null || condition.evaluate(arguments, agent) != ArgumentCondition.Verdict.FAILS;
    }

    /**
     * Returns a description of the rule, shown to approvers and entered in the fingerprint.
     *
     * @return e.g. {@code approval tools=names(issue_refund) when amount > 100 by person x2}
     */
    public String canonical() {
        if (never) {
            return "approval tools=" + tools.canonical() + " never";
        }
        return "approval tools=" + tools.canonical() + (condition == null ? " always" : " when " + condition)
                + " by " + kind.code() + (approvers > 1 ? " x" + approvers : "")
                + (acceptedRisk == null ? "" : " accepting " + acceptedRisk.name());
    }

    @Override
    public String toString() {
        return canonical();
    }
}
