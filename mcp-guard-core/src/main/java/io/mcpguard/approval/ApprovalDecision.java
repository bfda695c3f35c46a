package io.mcpguard.approval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Approvers' answer. Anything else (an exception, a timeout, {@code null}) is a denial. The guard checks an approval
 * before honouring it: none of the approvers may be the agent or one of its principals, and there must be as many
 * distinct approvers as the rule requires; otherwise the call is denied and the answer recorded as ignored.
 *
 * @param approved whether the call may run
 * @param approvers who decided: persons' or systems' ids, in the order they answered
 * @param reason why, for the record
 */
public record ApprovalDecision(boolean approved, List<String> approvers, String reason) {

    /**
     * Checks the parts.
     *
     * @param approved the answer
     * @param approvers who, at least one, none blank
     * @param reason why, not null
     */
    public ApprovalDecision {
        Objects.requireNonNull(approvers, "approvers");
        if (approvers.isEmpty()) {
            throw new IllegalArgumentException("an approval decision names its approver");
        }
        for (String approver : approvers) {
            if (approver == null || approver.isBlank()) {
                throw new IllegalArgumentException("an approval decision names its approver");
            }
        }
        approvers = List.copyOf(approvers);
        Objects.requireNonNull(reason, "reason");
    }

    /**
     * An approval by one approver.
     *
     * @param approver who approved
     * @param reason why
     * @return the decision
     */
    public static ApprovalDecision approve(String approver, String reason) {
        return new ApprovalDecision(true, List.of(approver), reason);
    }

    /**
     * An approval by several approvers (four eyes).
     *
     * @param approvers who approved
     * @param reason why
     * @return the decision
     */
    public static ApprovalDecision approve(List<String> approvers, String reason) {
        return new ApprovalDecision(true, approvers, reason);
    }

    /**
     * A denial.
     *
     * @param approver who denied
     * @param reason why
     * @return the decision
     */
    public static ApprovalDecision deny(String approver, String reason) {
        return new ApprovalDecision(false, List.of(approver), reason);
    }

    /**
     * Returns the first approver.
     *
     * @return who decided first
     */
    public String approver() {
        return approvers.get(0);
    }

    /**
     * Returns the approvers, each once (ids compared without regard to letter case).
     *
     * @return the distinct approvers
     */
    public List<String> distinctApprovers() {
        List<String> out = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (String approver : approvers) {
            String folded = approver.strip().toLowerCase(Locale.ROOT);
            if (!seen.contains(folded)) {
                seen.add(folded);
                out.add(approver.strip());
            }
        }
        return out;
    }
}
