package io.mcpguard.audit;

/** What the guard does when the audit trail cannot keep up (its buffer is full) or its sink is failing. */
public enum AuditOverflow {

    /**
     * Refuse new calls ({@code audit_unavailable}) until the trail can record them: no call runs unrecorded. Records
     * of calls already running are kept if there is room, otherwise dropped, counted and logged. The default.
     */
    FAIL_CLOSED,

    /** Let calls run; drop the records that do not fit, counting and logging each loss. */
    DROP
}
