package io.mcpguard.audit.internal;

import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.audit.AuditOverflow;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.support.LogSafe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded buffer between the guard and its {@link AuditSink}, drained by one background writer thread, so that
 * writing never blocks a tool call. Unstable API.
 *
 * <p>A caller only enqueues: it never wakes the writer while the writer is draining or pausing between batches
 * (waking a parked thread costs microseconds, more than the rest of the guard). The writer drains everything waiting,
 * flushes, then pauses {@link #PAUSE} and looks again; after {@link #IDLE_PAUSES} empty looks in a row it parks until a
 * caller wakes it. So a steady stream of calls is written in batches at most a millisecond apart, and an idle guard
 * costs nothing.
 */
public final class AuditTrail implements AutoCloseable, GuardEventListener {

    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
    /** How long the writer pauses between looks at an empty buffer. */
    static final long PAUSE = TimeUnit.MILLISECONDS.toNanos(1);
    /** Empty looks in a row after which the writer parks until woken (about 50 ms idle). */
    static final int IDLE_PAUSES = 50;
    private static final int BATCH = 256;
    private static final AuditRecord STOP = new AuditRecord.Listed(
            new AuditRecord.Context(java.time.Instant.EPOCH, null, null, null, null, null, null, null, null, null), 0, 0);

    private final AuditSink sink;
    private final AuditOverflow overflow;
    private final long flushNanos;
    private final java.time.Clock clock;
    /** Records lost since the last gap record, and when the first of them was lost (writer-visible). */
    private final AtomicLong lostSinceGap = new AtomicLong();
    private volatile java.time.Instant firstLost;
    private long unflushedSince = -1;
    private final BlockingQueue<AuditRecord> queue;
    private final Thread writer;
    private final String policyFingerprint;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    /** Set by the writer before it parks without a deadline; the caller that clears it wakes the writer. */
    private final AtomicBoolean parked = new AtomicBoolean();
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
        this(sink, capacity, overflow, policyFingerprint, DEFAULT_FLUSH_INTERVAL, java.time.Clock.systemUTC());
    }

    /** How long a written record may wait to be flushed to the sink's storage unless set otherwise. */
    public static final java.time.Duration DEFAULT_FLUSH_INTERVAL = java.time.Duration.ofMillis(50);

    /**
     * Starts the trail.
     *
     * @param sink where records go
     * @param capacity how many records may wait
     * @param overflow what to do when they cannot
     * @param policyFingerprint stamped on records that have no call context
     * @param flushInterval the longest a written record waits for the sink's flush (what a crash can lose)
     * @param clock the clock of gap records
     */
    public AuditTrail(AuditSink sink, int capacity, AuditOverflow overflow, String policyFingerprint,
            java.time.Duration flushInterval, java.time.Clock clock) {
        this.sink = sink;
        this.overflow = overflow;
        this.flushNanos = flushInterval.toNanos();
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.policyFingerprint = policyFingerprint;
        this.writer = new Thread(this::drain, "mcp-guard-audit");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /**
     * Records an allowed call before it runs and says whether it may run. When the sink is failing or the buffer is
     * full, the overflow policy decides: {@link AuditOverflow#FAIL_CLOSED} refuses every call,
     * {@link AuditOverflow#REFUSE_WRITES} refuses calls that can change something, {@link AuditOverflow#DROP} none.
     * A refused call's refusal is recorded instead (when it fits); a served call's lost record is counted in the
     * next gap record.
     *
     * @param allowed the call's "allow" decision record
     * @param refused makes the record to write instead if the call is refused
     * @param readOnly whether the call only reads (a read-only tool, a resource read, a prompt)
     * @return true if the call may run
     */
    public boolean recordBeforeRun(AuditRecord allowed, Supplier<AuditRecord> refused, boolean readOnly) {
        boolean mustRecord = overflow == AuditOverflow.FAIL_CLOSED
                || overflow == AuditOverflow.REFUSE_WRITES && !readOnly;
        if (mustRecord && sinkFailing) {
            log.warn("Audit sink is failing; refusing the call (fail closed)");
            offer(refused.get());
            return false;
        }
        if (offer(allowed)) {
            return true;
        }
        if (mustRecord) {
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
            lostOne();
            long n = lost.get();
            log.error("Audit record lost ({} lost so far): {} {}", n, record.type(),
                    LogSafe.text(record.fields(), 1000));
            return false;
        }
        wake();
        return true;
    }

    private void lostOne() {
        lost.incrementAndGet();
        if (lostSinceGap.getAndIncrement() == 0) {
            firstLost = clock.instant();
        }
    }

    private void wake() {
        if (parked.get() && parked.compareAndSet(true, false)) {
            LockSupport.unpark(writer);
        }
    }

    private void drain() {
        List<AuditRecord> batch = new ArrayList<>(BATCH);
        int empty = 0;
        while (true) {
            if (queue.drainTo(batch, BATCH) == 0) {
                if (empty == 0) {
                    flushQuietly();
                }
                if (++empty < IDLE_PAUSES) {
                    LockSupport.parkNanos(this, PAUSE);
                } else {
                    parked.set(true);
                    if (queue.isEmpty()) {
                        LockSupport.park(this);
                    }
                    parked.set(false);
                    empty = 0;
                }
                if (Thread.interrupted()) {
                    return;
                }
                continue;
            }
            empty = 0;
            for (AuditRecord record : batch) {
                if (record == STOP) {
                    flushQuietly();
                    return;
                }
                write(record);
            }
            batch.clear();
            // Under a steady load the buffer may never run empty: flush at least every interval, so that a crash
            // loses no more than what was written within the last interval.
            if (unflushedSince >= 0 && System.nanoTime() - unflushedSince >= flushNanos) {
                flushQuietly();
            }
        }
    }

    private void write(AuditRecord record) {
        long gap = lostSinceGap.get();
        if (gap > 0 && !writeGap(gap)) {
            lostOne();
            return;
        }
        try {
            sink.write(record);
            written.incrementAndGet();
            sinkFailing = false;
            if (unflushedSince < 0) {
                unflushedSince = System.nanoTime();
            }
        } catch (Exception e) {
            sinkFailing = true;
            lostOne();
            log.error("Audit sink failed; record lost ({} lost so far): {} {}", lost.get(), record.type(),
                    LogSafe.text(record.fields(), 1000), LogSafe.throwable(e));
        }
    }

    /** Writes the gap record of the records lost so far; returns whether it was written. */
    private boolean writeGap(long gap) {
        java.time.Instant from = firstLost;
        java.time.Instant to = clock.instant();
        AuditRecord.Gap record = new AuditRecord.Gap(new AuditRecord.Context(to, null, null, null, null, null, null,
                policyFingerprint, null, null), gap, from == null ? to : from, to);
        try {
            sink.write(record);
            written.incrementAndGet();
            lostSinceGap.addAndGet(-gap);
            sinkFailing = false;
            log.warn("Audit trail writes again: {} records were lost between {} and {} (gap record written)", gap,
                    from, to);
            return true;
        } catch (Exception e) {
            sinkFailing = true;
            return false;
        }
    }

    private void flushQuietly() {
        if (unflushedSince < 0) {
            return;
        }
        try {
            sink.flush();
            unflushedSince = -1;
        } catch (Exception e) {
            sinkFailing = true;
            log.error("Audit sink flush failed", LogSafe.throwable(e));
        }
    }

    /**
     * Returns how many records were lost since the last gap record was written.
     *
     * @return the count
     */
    public long pendingGap() {
        return lostSinceGap.get();
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
                    e.argumentsSha256(), policyFingerprint, null, null);
            record(new AuditRecord.ApprovalRequested(context, e.approvalId(), e.rule(), e.actionDigest(), e.kind(),
                    e.requiredApprovers()));
        } else if (event instanceof GuardEvent.ApprovalChanged e) {
            context = new AuditRecord.Context(e.at(), e.agentId(), null, null, "tools/call", e.tool(), null,
                    policyFingerprint, null, null);
            record(new AuditRecord.ApprovalChanged(context, e.approvalId(), e.state().code(),
                    String.join(",", e.approvers()), e.reason(), e.waited().toMillis()));
        } else if (event instanceof GuardEvent.CircuitStateChanged e) {
            context = new AuditRecord.Context(e.at(), e.agentId(), null, null, "tools/call", e.tool(), null,
                    policyFingerprint, null, null);
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
            parked.set(false);
            LockSupport.unpark(writer);
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
            log.error("Closing the audit sink failed", LogSafe.throwable(e));
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
