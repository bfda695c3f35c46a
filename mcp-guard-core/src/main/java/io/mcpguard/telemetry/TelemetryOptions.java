package io.mcpguard.telemetry;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the guard records beyond names and decisions. Arguments and results are never recorded unless opted in; when
 * they are, fields with configured names are replaced by {@code "[REDACTED]"} at any depth and the text is capped.
 * Immutable.
 */
public final class TelemetryOptions {

    /** The default cap on a recorded arguments or result attribute, in characters. */
    public static final int DEFAULT_MAX_ATTRIBUTE_LENGTH = 2048;

    private static final TelemetryOptions DEFAULTS = builder().build();

    private final boolean recordArguments;
    private final boolean recordResults;
    private final Set<String> redactedFields;
    private final int maxAttributeLength;
    private final String networkTransport;

    private TelemetryOptions(Builder b) {
        this.recordArguments = b.recordArguments;
        this.recordResults = b.recordResults;
        this.redactedFields = Set.copyOf(b.redactedFields);
        this.maxAttributeLength = b.maxAttributeLength;
        this.networkTransport = b.networkTransport;
    }

    /**
     * The defaults: no arguments, no results.
     *
     * @return the default options
     */
    public static TelemetryOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Starts options.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns whether arguments are recorded ({@code gen_ai.tool.call.arguments}).
     *
     * @return the flag
     */
    public boolean recordArguments() {
        return recordArguments;
    }

    /**
     * Returns whether results are recorded ({@code gen_ai.tool.call.result}).
     *
     * @return the flag
     */
    public boolean recordResults() {
        return recordResults;
    }

    /**
     * Returns the field names redacted, lower case.
     *
     * @return the names
     */
    public Set<String> redactedFields() {
        return redactedFields;
    }

    /**
     * Returns the cap on recorded text.
     *
     * @return characters
     */
    public int maxAttributeLength() {
        return maxAttributeLength;
    }

    /**
     * Returns the configured {@code network.transport}, or {@code null} to take it from the transport context.
     *
     * @return e.g. {@code pipe}
     */
    public String networkTransport() {
        return networkTransport;
    }

    /** Builds {@link TelemetryOptions}. */
    public static final class Builder {

        private boolean recordArguments;
        private boolean recordResults;
        private final Set<String> redactedFields = new TreeSet<>();
        private int maxAttributeLength = DEFAULT_MAX_ATTRIBUTE_LENGTH;
        private String networkTransport;

        private Builder() {
        }

        /**
         * Records tool arguments on call spans (opt-in).
         *
         * @param record whether to record
         * @return this builder
         */
        public Builder recordArguments(boolean record) {
            this.recordArguments = record;
            return this;
        }

        /**
         * Records tool results on call spans (opt-in).
         *
         * @param record whether to record
         * @return this builder
         */
        public Builder recordResults(boolean record) {
            this.recordResults = record;
            return this;
        }

        /**
         * Redacts fields with these names (case-insensitive, at any depth) from recorded arguments and results.
         *
         * @param fields field names, e.g. {@code password}, {@code cardNumber}
         * @return this builder
         */
        public Builder redact(String... fields) {
            for (String field : fields) {
                if (field == null || field.isBlank()) {
                    throw new IllegalArgumentException("a redacted field name must not be blank");
                }
                redactedFields.add(field.toLowerCase(Locale.ROOT));
            }
            return this;
        }

        /**
         * Caps recorded arguments and results.
         *
         * @param characters 16 to 1,048,576
         * @return this builder
         */
        public Builder maxAttributeLength(int characters) {
            if (characters < 16 || characters > 1 << 20) {
                throw new IllegalArgumentException("maxAttributeLength must be 16 to 1048576, got " + characters);
            }
            this.maxAttributeLength = characters;
            return this;
        }

        /**
         * Sets {@code network.transport} for servers whose transport context does not say it, e.g. {@code pipe} for
         * stdio.
         *
         * @param transport {@code pipe}, {@code tcp}, ...
         * @return this builder
         */
        public Builder networkTransport(String transport) {
            this.networkTransport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /**
         * Builds the options.
         *
         * @return immutable options
         */
        public TelemetryOptions build() {
            return new TelemetryOptions(this);
        }
    }
}
