package io.mcpguard.audit.internal;

import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.audit.AuditOverflow;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.support.LogSafe;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded buffer between the guard and its {@link AuditSink}, drained by one background writer thread, so that
 * writing never blocks a tool call. Unstable API.
 */
public final class AuditTrail implements AutoCloseable, GuardEventListener {

    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
    private static final AuditRecord STOP = new AuditRecord.Listed(
            new AuditRecord.Context(java.time.Instant.EPOCH, null, null, null, null, null, null, null, null, null), 0, 0);

    private final AuditSink sink;
    private final AuditOverflow overflow;
    private final BlockingQueue<AuditRecord> queue;
    private final Thread writer;
    private final String policyFingerprint;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private volatile boolean sinkFailing;
    private volatile boolean closed;

    /**
     * Starts the trail.
     *
     * @param sink where records go
     * @param capacity how many records may wait
     * @param overflow what to do when they cannot
     * @param policyFingerprint stamped on records that have no call context
     */
    public AuditTrail(AuditSink sink, int capacity, AuditOverflow overflow, String policyFingerprint) {
        this.sink = sink;
        this.overflow = overflow;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.policyFingerprint = policyFingerprint;
        this.writer = new Thread(this::drain, "mcp-guard-audit");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /**
     * Records an allowed call before it runs and says whether it may run. In fail-closed mode it may not if the sink
     * is failing or the buffer is full; then the refusal is recorded instead (when it fits), and the first successful
     * write of such a record clears the failing state.
     *
     * @param allowed the call's "allow" decision record
     * @param refused the record to write instead if the call is refused
     * @return true if the call may run
     */
    public boolean recordBeforeRun(AuditRecord allowed, AuditRecord refused) {
        if (overflow == AuditOverflow.FAIL_CLOSED && sinkFailing) {
            log.warn("Audit sink is failing; refusing the call (fail closed)");
            offer(refused);
            return false;
        }
        if (offer(allowed)) {
            return true;
        }
        if (overflow == AuditOverflow.FAIL_CLOSED) {
            log.warn("Audit buffer is full; refusing the call (fail closed)");
            return false;
        }
        return true;
    }

    /**
     * Records a fact; if it does not fit, it is dropped, counted and logged.
     *
     * @param record the record
     */
    public void record(AuditRecord record) {
        offer(record);
    }

    private boolean offer(AuditRecord record) {
        if (closed || !queue.offer(record)) {
            long n = lost.incrementAndGet();
            log.error("Audit record lost ({} lost so far): {} {}", n, record.type(),
                    LogSafe.text(record.fields(), 1000));
            return false;
        }
        return true;
    }

    private void drain() {
        while (true) {
            AuditRecord record;
            try {
                record = queue.poll();
                if (record == null) {
                    flushQuietly();
                    record = queue.take();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (record == STOP) {
                return;
            }
            try {
                sink.write(record);
                written.incrementAndGet();
                sinkFailing = false;
            } catch (Exception e) {
                sinkFailing = true;
                long n = lost.incrementAndGet();
                log.error("Audit sink failed; record lost ({} lost so far): {} {}", n, record.type(),
                        LogSafe.text(record.fields(), 1000), e);
            }
        }
    }

    private void flushQuietly() {
        try {
            sink.flush();
        } catch (Exception e) {
            sinkFailing = true;
            log.error("Audit sink flush failed", e);
        }
    }

    /**
     * Returns how many records were written.
     *
     * @return the count
     */
    public long written() {
        return written.get();
    }

    /**
     * Returns how many records were lost (buffer full, sink failure, after close).
     *
     * @return the count
     */
    public long lost() {
        return lost.get();
    }

    @Override
    public void onEvent(GuardEvent event) {
        AuditRecord.Context context;
        if (event instanceof GuardEvent.ApprovalRequested e) {
            context = new AuditRecord.Context(e.at(), e.agentId(), null, null, "tools/call", e.tool(),
                    e.argumentsSha256(),
                    policyFingerprint, null, null);
            record(new AuditRecord.ApprovalRequested(context, e.approvalId(), e.rule()));
        } else if (event instanceof GuardEvent.ApprovalResolved e) {
            context = new AuditRecord.Context(e.at(), e.agentId(), null, null, "tools/call", e.tool(), null,
                    policyFingerprint,
                    null, null);
            record(new AuditRecord.ApprovalResolved(context, e.approvalId(), e.approved(), e.approver(), e.reason(),
                    e.waited().toMillis()));
        } else if (event instanceof GuardEvent.CircuitStateChanged e) {
            context = new AuditRecord.Context(e.at(), null, null, null, "tools/call", e.tool(), null, policyFingerprint,
                    null, null);
            record(new AuditRecord.BreakerStateChanged(context, e.from(), e.to()));
        }
    }

    /**
     * Stops accepting records, writes everything buffered, and closes the sink (a JSON Lines sink signs its close
     * checkpoint). Waits up to the given time for the writer.
     *
     * @param wait how long to wait
     */
    public void close(Duration wait) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.put(STOP);
            writer.join(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            log.error("Audit writer did not finish within {}; {} records still buffered are lost", wait, queue.size());
            writer.interrupt();
        }
        try {
            sink.close();
        } catch (Exception e) {
            log.error("Closing the audit sink failed", e);
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }

    /**
     * Returns the whole milliseconds since a {@link System#nanoTime()} reading.
     *
     * @param startNanos the reading
     * @return the milliseconds
     */
    public static long millis(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
