package io.mcpguard.audit;

/**
 * Where audit records go. The guard calls a sink from one background writer thread, in order; a sink need not be
 * thread-safe. A sink that throws loses that record: the guard logs it and counts it (see
 * {@code docs/audit.md}), and in fail-closed mode refuses new calls until a write succeeds again.
 */
public interface AuditSink extends AutoCloseable {

    /**
     * Writes one record.
     *
     * @param record the record
     * @throws Exception if it could not be written
     */
    void write(AuditRecord record) throws Exception;

    /**
     * Makes written records durable (called when the writer's queue runs empty, and at close).
     *
     * @throws Exception if that fails
     */
    default void flush() throws Exception {
    }

    /**
     * Flushes and releases resources. Called once, at the guard's close, after the last record.
     *
     * @throws Exception if that fails
     */
    @Override
    default void close() throws Exception {
        flush();
    }

    /**
     * The default sink: one JSON line per record on the SLF4J logger {@code io.mcpguard.audit} at INFO.
     *
     * @return the sink
     */
    static AuditSink slf4j() {
        return new Slf4jAuditSink();
    }
}
