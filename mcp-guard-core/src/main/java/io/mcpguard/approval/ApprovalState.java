package io.mcpguard.approval;

/**
 * What happened to an approval request after it was made. Each change is an audit record ({@code approval.<code>})
 * and a {@link io.mcpguard.GuardEvent.ApprovalChanged} event.
 */
public enum ApprovalState {

    /** Waiting for the approvers. */
    PENDING("pending"),

    /** Approved by enough distinct approvers, none of them the agent; not yet used. */
    GRANTED("granted"),

    /** Denied by an approver, or by the guard when the handler failed. */
    DENIED("denied"),

    /** No decision within the approval timeout, or an approval not used in time. */
    EXPIRED("expired"),

    /**
     * The call stopped waiting (cancelled, disconnected, wait limit) before a decision, or its client was found gone
     * when the approved call was about to run; it will never run.
     */
    ABANDONED("abandoned"),

    /** The approved call was released to run: the approval is used up. */
    CONSUMED("consumed"),

    /** The action changed between approval and execution (tool definition, policy, client): void. */
    VOIDED("voided"),

    /** An answer was ignored: it came from the agent itself or one of its principals, or counted twice. */
    ANSWER_IGNORED("answer_ignored");

    private final String code;

    ApprovalState(String code) {
        this.code = code;
    }

    /**
     * Returns the stable name used in audit records and spans.
     *
     * @return e.g. {@code granted}
     */
    public String code() {
        return code;
    }

    /**
     * Returns whether no further change can follow.
     *
     * @return {@code true} for denied, expired, abandoned, consumed and voided (a consumed approval of a held call
     *         still becomes abandoned if its client is found gone before the call runs)
     */
    public boolean isFinal() {
        return this == DENIED || this == EXPIRED || this == ABANDONED || this == CONSUMED || this == VOIDED;
    }
}
