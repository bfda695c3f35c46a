package io.mcpguard.audit;

import io.mcpguard.support.CanonicalJson;
import io.modelcontextprotocol.json.McpJsonDefaults;
import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Writes records as JSON Lines in a hash chain: each line carries its sequence number, the hash of the line before
 * it and its own hash (SHA-256 of the canonical JSON of its fields). Every {@code checkpointEvery} records, and at
 * close, a checkpoint line signs the chain head with the operator's Ed25519 key. {@link AuditVerifier} then finds the
 * first altered, removed, reordered, inserted or appended line, and a truncated file.
 *
 * <p>Appending to an existing file continues its chain; if the previous writer did not close it (a crash, even in the
 * middle of a record), the sink first writes a signed {@code recovery} checkpoint naming what was cut, so that
 * {@link AuditVerifier} reports the crash instead of tampering. Writes are buffered; {@link #flush()} (called at least
 * every flush interval of the guard's trail, when its buffer runs empty, and at close) writes them out and forces them
 * to disk: a crash loses at most what was written since.
 */
public final class JsonLinesAuditSink implements AuditSink {

    /** Records between periodic checkpoints unless set otherwise. */
    public static final int DEFAULT_CHECKPOINT_EVERY = 1000;

    private final Path file;
    private final PrivateKey signingKey;
    private final String keyId;
    private final int checkpointEvery;
    private final Clock clock;
    private final FileOutputStream out;
    private final BufferedWriter writer;
    private long seq;
    private String head;
    private int sinceCheckpoint;
    private boolean closed;

    private JsonLinesAuditSink(Builder b) throws IOException {
        this.file = b.file;
        this.signingKey = b.signingKey;
        this.keyId = b.keyId;
        this.checkpointEvery = b.checkpointEvery;
        this.clock = b.clock;
        long lastSeq = 0;
        String lastHash = AuditChain.GENESIS;
        boolean closedCleanly = true;
        byte[] partial = null;
        if (Files.exists(file) && Files.size(file) > 0) {
            byte[] bytes = Files.readAllBytes(file);
            int end = bytes.length;
            if (bytes[end - 1] != '\n') {
                // The previous writer was stopped mid-record (a crash): keep the bytes, name them in the recovery.
                int lastNewline = lastIndexOf(bytes, end - 1);
                partial = java.util.Arrays.copyOfRange(bytes, lastNewline + 1, end);
                end = lastNewline + 1;
            }
            if (end > 0) {
                int lineEnd = end - 1;
                int lineStart = lastIndexOf(bytes, lineEnd - 1) + 1;
                String last = new String(bytes, lineStart, lineEnd - lineStart, StandardCharsets.UTF_8);
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> fields = McpJsonDefaults.getMapper().readValue(last, Map.class);
                    lastSeq = ((Number) fields.get("seq")).longValue();
                    lastHash = (String) fields.get("hash");
                    closedCleanly = "checkpoint".equals(fields.get("type")) && "close".equals(fields.get("reason"));
                } catch (IOException | RuntimeException e) {
                    throw new IOException("cannot continue the audit chain in " + file + ": its last complete line is "
                            + "not a chain record (verify the file with AuditVerifier)", e);
                }
            }
        }
        this.seq = lastSeq;
        this.head = lastHash;
        this.out = new FileOutputStream(file.toFile(), true);
        this.writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
        if (partial != null || !closedCleanly) {
            recover(partial);
        }
    }

    private static int lastIndexOf(byte[] bytes, int from) {
        for (int i = from; i >= 0; i--) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /**
     * The previous writer did not close the file (a crash): end a cut record's line, and write a signed recovery
     * checkpoint that names the cut bytes, so that the verifier can tell this crash from tampering.
     */
    private void recover(byte[] partial) throws IOException {
        if (partial != null) {
            writer.write('\n');
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        if (partial != null) {
            fields.put("partialSha256", AuditVerifier.sha256(partial));
            fields.put("partialBytes", partial.length);
        }
        checkpoint("recovery", fields);
        flush();
    }

    /**
     * Starts a sink writing to a file.
     *
     * @param file the JSON Lines file; created if missing, continued if present
     * @return a builder
     */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    @Override
    public synchronized void write(AuditRecord record) throws IOException {
        if (closed) {
            throw new IOException("audit sink is closed");
        }
        append(record.fields());
        if (++sinceCheckpoint >= checkpointEvery) {
            checkpoint("periodic");
        }
    }

    private void append(Map<String, Object> fields) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("seq", seq + 1);
        line.put("prev", head);
        line.putAll(fields);
        String hash = AuditChain.hash(line);
        line.put("hash", hash);
        writer.write(CanonicalJson.ofOrdered(line));
        writer.write('\n');
        seq++;
        head = hash;
    }

    private void checkpoint(String reason) throws IOException {
        checkpoint(reason, Map.of());
    }

    private void checkpoint(String reason, Map<String, Object> facts) throws IOException {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", clock.instant().toString());
        fields.put("type", "checkpoint");
        fields.put("reason", reason);
        fields.put("head", head);
        fields.put("format", AuditChain.FORMAT);
        fields.putAll(facts);
        if (signingKey != null) {
            fields.put("keyId", keyId);
            fields.put("signature", AuditChain.sign(signingKey, seq + 1, head));
        }
        append(fields);
        sinceCheckpoint = 0;
    }

    @Override
    public synchronized void flush() throws IOException {
        if (!closed) {
            writer.flush();
            out.getFD().sync();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        checkpoint("close");
        flush();
        closed = true;
        writer.close();
    }

    /**
     * Returns the file.
     *
     * @return the path
     */
    public Path file() {
        return file;
    }

    /** Builds a {@link JsonLinesAuditSink}. */
    public static final class Builder {

        private final Path file;
        private PrivateKey signingKey;
        private String keyId = "default";
        private int checkpointEvery = DEFAULT_CHECKPOINT_EVERY;
        private Clock clock = Clock.systemUTC();

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file");
        }

        /**
         * Signs checkpoints with this Ed25519 key. Without a key, checkpoints are unsigned and the chain proves
         * order and integrity only against partial edits: whoever can rewrite the whole file can forge it.
         *
         * @param key the private key
         * @param keyId a name for the key, recorded with each signature
         * @return this builder
         */
        public Builder signingKey(PrivateKey key, String keyId) {
            if (!"Ed25519".equals(Objects.requireNonNull(key, "key").getAlgorithm())
                    && !"EdDSA".equals(key.getAlgorithm())) {
                throw new IllegalArgumentException("audit checkpoints are signed with Ed25519, got " + key.getAlgorithm());
            }
            if (keyId == null || keyId.isBlank()) {
                throw new IllegalArgumentException("keyId must not be blank");
            }
            this.signingKey = key;
            this.keyId = keyId;
            return this;
        }

        /**
         * Sets how many records go between periodic checkpoints.
         *
         * @param records at least 1
         * @return this builder
         */
        public Builder checkpointEvery(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("checkpointEvery must be at least 1, got " + records);
            }
            this.checkpointEvery = records;
            return this;
        }

        /**
         * Sets the clock for checkpoint times.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Opens the file.
         *
         * @return the sink
         * @throws IOException if the file cannot be opened or its chain cannot be continued
         */
        public JsonLinesAuditSink build() throws IOException {
            return new JsonLinesAuditSink(this);
        }
    }
}
