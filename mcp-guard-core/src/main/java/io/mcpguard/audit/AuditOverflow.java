package io.mcpguard.audit;

/**
 * What the guard does with a call when the audit trail cannot record it: its buffer is full (the sink is slower than
 * the calls) or its sink is failing. Every record that cannot be kept is counted and logged, and once the trail
 * writes again it first writes an {@code audit.gap} record saying how many records were lost and when.
 */
public enum AuditOverflow {

    /**
     * Refuse every call ({@code audit_unavailable}) until the trail can record it: no call runs unrecorded.
     */
    FAIL_CLOSED,

    /**
     * The default: refuse calls that can change something (tools that are not read-only: irreversible and reversible
     * ones) until the trail can record them; serve read-only calls (read-only tools, resource reads, prompts) and
     * count their lost records in the next gap record.
     */
    REFUSE_WRITES,

    /** Serve every call; drop the records that do not fit, counted in the next gap record. */
    DROP
}
