package io.mcpguard.quota;

import java.time.Duration;
import java.util.Objects;

/**
 * How many uses of names it may not see (hidden or missing tools, resources and prompts: probes) one agent may make,
 * and how many of them the audit trail records one by one.
 *
 * <p>Per agent and window of length {@link #window()}: the first {@link #recordFirst()} probes each get their own
 * span and audit record; the rest of the window's probes are summed up in one {@code probes.aggregated} audit record
 * (count, refused, a bounded sample of names) written when the window is over; past {@link #limit()} probes the
 * transport gate refuses further ones with 429 until the window ends. Hidden and missing names count alike, so the
 * limit tells a prober nothing. Immutable.
 */
public final class ProbeLimit {

    /** Probes per agent per window unless set otherwise. */
    public static final int DEFAULT_LIMIT = 600;
    /** The window unless set otherwise. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(1);
    /** Probes per agent per window recorded one by one unless set otherwise. */
    public static final int DEFAULT_RECORD_FIRST = 20;
    /** The most names kept as a sample in one aggregated record. */
    public static final int SAMPLE = 10;

    private static final ProbeLimit DEFAULTS = new ProbeLimit(DEFAULT_LIMIT, DEFAULT_WINDOW, DEFAULT_RECORD_FIRST);

    private final int limit;
    private final Duration window;
    private final int recordFirst;

    private ProbeLimit(int limit, Duration window, int recordFirst) {
        if (limit < 1) {
            throw new IllegalArgumentException("a probe limit allows at least 1 probe per window, got " + limit);
        }
        Objects.requireNonNull(window, "window");
        if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("a probe window must be between 1 second and 1 day, got " + window);
        }
        if (recordFirst < 0 || recordFirst > limit) {
            throw new IllegalArgumentException("recordFirst must be between 0 and the limit (" + limit + "), got "
                    + recordFirst);
        }
        this.limit = limit;
        this.window = window;
        this.recordFirst = recordFirst;
    }

    /**
     * The default: {@value #DEFAULT_LIMIT} probes per agent per minute, the first {@value #DEFAULT_RECORD_FIRST}
     * recorded one by one.
     *
     * @return the default limit
     */
    public static ProbeLimit defaults() {
        return DEFAULTS;
    }

    /**
     * At most {@code limit} probes per agent per window, the first {@value #DEFAULT_RECORD_FIRST} (or the limit, if
     * lower) recorded one by one.
     *
     * @param limit probes per window, at least 1
     * @param window the window, 1 second to 1 day
     * @return the limit
     */
    public static ProbeLimit perAgent(int limit, Duration window) {
        return new ProbeLimit(limit, window, Math.min(DEFAULT_RECORD_FIRST, limit));
    }

    /**
     * Sets how many probes per agent and window get their own span and audit record.
     *
     * @param probes 0 to the limit
     * @return a new limit
     */
    public ProbeLimit recordFirst(int probes) {
        return new ProbeLimit(limit, window, probes);
    }

    /**
     * Returns the probes allowed per agent and window.
     *
     * @return the limit
     */
    public int limit() {
        return limit;
    }

    /**
     * Returns the window.
     *
     * @return the window
     */
    public Duration window() {
        return window;
    }

    /**
     * Returns how many probes per agent and window are recorded one by one.
     *
     * @return the count
     */
    public int recordFirst() {
        return recordFirst;
    }

    /**
     * Returns the canonical text, for the policy's fingerprint.
     *
     * @return the canonical form
     */
    public String canonical() {
        return "probes " + limit + "/" + window + " per agent, first " + recordFirst + " recorded";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProbeLimit p && p.limit == limit && p.window.equals(window) && p.recordFirst == recordFirst;
    }

    @Override
    public int hashCode() {
        return Objects.hash(limit, window, recordFirst);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
