package io.mcpguard.approval;

import java.util.Objects;

/**
 * An approver's answer. Anything else (an exception, a timeout, {@code null}) is a denial.
 *
 * @param approved whether the call may run
 * @param approver who decided (a person's or system's id)
 * @param reason why, for the record
 */
public record ApprovalDecision(boolean approved, String approver, String reason) {

    /**
     * Checks the parts.
     *
     * @param approved the answer
     * @param approver who, not blank
     * @param reason why, not null
     */
    public ApprovalDecision {
        if (approver == null || approver.isBlank()) {
            throw new IllegalArgumentException("an approval decision names its approver");
        }
        Objects.requireNonNull(reason, "reason");
    }

    /**
     * An approval.
     *
     * @param approver who approved
     * @param reason why
     * @return the decision
     */
    public static ApprovalDecision approve(String approver, String reason) {
        return new ApprovalDecision(true, approver, reason);
    }

    /**
     * A denial.
     *
     * @param approver who denied
     * @param reason why
     * @return the decision
     */
    public static ApprovalDecision deny(String approver, String reason) {
        return new ApprovalDecision(false, approver, reason);
    }
}
