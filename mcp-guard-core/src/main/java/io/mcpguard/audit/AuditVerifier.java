package io.mcpguard.audit;

import io.modelcontextprotocol.json.McpJsonDefaults;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Verifies a JSON Lines audit file written by {@link JsonLinesAuditSink}: the sequence, the hash chain, every
 * checkpoint's head and Ed25519 signature, and that the file ends with a signed close checkpoint. It tells apart:
 * <ul>
 * <li>{@link Status#VERIFIED}: intact, every checkpoint signed by the given key, closed cleanly (a crash the writer
 * recovered from, recorded in a signed recovery checkpoint, is reported as a note);
 * <li>{@link Status#TAMPERED}: a line was altered, removed, reordered, inserted, or a signature does not verify;
 * <li>{@link Status#INCOMPLETE}: everything there verifies, but the file ends without a close checkpoint, with or
 * without a last line cut short: the writer was stopped (a crash, {@code kill -9}) and not restarted since, or the
 * end was cut off. Records after the last signed checkpoint cannot be authenticated;
 * <li>{@link Status#SIGNATURES_NOT_CHECKED}: only when asked to check the chain without a key; never a success.
 * </ul>
 */
public final class AuditVerifier {

    private AuditVerifier() {
    }

    /** What a verification found. */
    public enum Status {
        /** Intact, signed with the given key, closed cleanly. The only success. */
        VERIFIED,
        /** Altered, removed, reordered, inserted or forged lines, or a signature that does not verify. */
        TAMPERED,
        /** Intact as far as it goes, but the writer did not close it: a crash, or its end was cut off. */
        INCOMPLETE,
        /** The chain is intact but no signature was checked (no key given). Not a success. */
        SIGNATURES_NOT_CHECKED
    }

    /**
     * The verdict.
     *
     * @param status what was found
     * @param records how many lines verified (records and checkpoints)
     * @param signedCheckpoints how many checkpoint signatures held
     * @param problemLine the 1-based line of the first problem, or 0
     * @param problem what is wrong, or {@code null}
     * @param notes what the reader should know although it is not wrong (a crash the writer recovered from)
     */
    public record Result(Status status, long records, int signedCheckpoints, long problemLine, String problem,
            List<String> notes) {

        /**
         * Checks the parts.
         *
         * @param status the status
         * @param records lines verified
         * @param signedCheckpoints signatures that held
         * @param problemLine the problem's line, or 0
         * @param problem the problem, or {@code null}
         * @param notes the notes
         */
        public Result {
            Objects.requireNonNull(status, "status");
            notes = List.copyOf(notes);
        }

        /**
         * Returns whether the file verified: intact, signed with the given key and closed.
         *
         * @return {@code true} only for {@link Status#VERIFIED}
         */
        public boolean ok() {
            return status == Status.VERIFIED;
        }

        @Override
        public String toString() {
            String noted = notes.isEmpty() ? "" : " (" + String.join("; ", notes) + ")";
            return switch (status) {
                case VERIFIED -> "OK: " + records + " lines, " + signedCheckpoints + " signed checkpoints, chain intact"
                        + noted;
                case SIGNATURES_NOT_CHECKED -> "CHAIN INTACT, SIGNATURES NOT CHECKED: " + records + " lines; without "
                        + "the public key a forger who rewrote the whole file would pass this check" + noted;
                case INCOMPLETE -> "INCOMPLETE at line " + problemLine + ": " + problem + noted;
                case TAMPERED -> "TAMPERED at line " + problemLine + ": " + problem + noted;
            };
        }
    }

    /**
     * Verifies a file against the operator's public key.
     *
     * @param file the file
     * @param publicKey the Ed25519 key checkpoints must be signed with
     * @return the verdict
     * @throws IOException if the file cannot be read
     * @throws NullPointerException without a key (use {@link #verifyChainOnly} to check the chain alone)
     */
    public static Result verify(Path file, PublicKey publicKey) throws IOException {
        return check(file, Objects.requireNonNull(publicKey, "publicKey: signatures are always checked; "
                + "verifyChainOnly(..) checks the chain alone"));
    }

    /**
     * Checks the sequence and hash chain only, without signatures: at best {@link Status#SIGNATURES_NOT_CHECKED},
     * never {@link Status#VERIFIED}, because whoever can rewrite the whole file can forge an intact chain.
     *
     * @param file the file
     * @return the verdict
     * @throws IOException if the file cannot be read
     */
    public static Result verifyChainOnly(Path file) throws IOException {
        return check(file, null);
    }

    private static Result check(Path file, PublicKey publicKey) throws IOException {
        long expectedSeq = 1;
        String prev = AuditChain.GENESIS;
        long lineNo = 0;
        int signed = 0;
        long lastSignedLine = 0;
        boolean endsWithClose = false;
        List<String> notes = new ArrayList<>();
        byte[] cut = null;
        long cutLine = 0;
        try (Lines lines = new Lines(Files.newInputStream(file))) {
            byte[] raw;
            while ((raw = lines.next()) != null) {
                lineNo++;
                String line = new String(raw, StandardCharsets.UTF_8);
                if (cut != null) {
                    // A line that was not JSON, followed by more lines: only a signed recovery checkpoint that names
                    // exactly those bytes makes it a crash the writer recovered from rather than tampering.
                    Map<String, Object> fields = parse(line);
                    if (fields == null || !"checkpoint".equals(fields.get("type"))
                            || !"recovery".equals(fields.get("reason"))
                            || !sha256(cut).equals(fields.get("partialSha256"))) {
                        return fail(Status.TAMPERED, cutLine, signed, notes,
                                "not valid JSON (the line was altered or cut)");
                    }
                    notes.add("the writer crashed mid-record at line " + cutLine + " (" + cut.length
                            + " bytes of an unfinished record) and recovered at line " + lineNo);
                    cut = null;
                }
                if (line.isBlank()) {
                    return fail(Status.TAMPERED, lineNo, signed, notes, "blank line inside the chain");
                }
                Map<String, Object> fields = parse(line);
                if (fields == null) {
                    cut = raw;
                    cutLine = lineNo;
                    continue;
                }
                Object seqValue = fields.get("seq");
                if (!(seqValue instanceof Number seqNumber)) {
                    return fail(Status.TAMPERED, lineNo, signed, notes, "no sequence number (a line was inserted)");
                }
                long seq = seqNumber.longValue();
                if (seq != expectedSeq) {
                    return fail(Status.TAMPERED, lineNo, signed, notes, "sequence " + seq + " where " + expectedSeq
                            + " was expected (a line " + (seq > expectedSeq ? "before it was removed"
                                    : "was inserted or lines were reordered") + ")");
                }
                if (!prev.equals(fields.get("prev"))) {
                    return fail(Status.TAMPERED, lineNo, signed, notes, "its previous-hash does not match the line "
                            + "before it (a line was removed, replaced or reordered)");
                }
                Object stated = fields.remove("hash");
                String actual = AuditChain.hash(fields);
                if (!actual.equals(stated)) {
                    return fail(Status.TAMPERED, lineNo, signed, notes,
                            "its content does not match its hash (the record was altered)");
                }
                endsWithClose = false;
                if ("checkpoint".equals(fields.get("type"))) {
                    if (!prev.equals(fields.get("head"))) {
                        return fail(Status.TAMPERED, lineNo, signed, notes, "checkpoint head does not match the chain");
                    }
                    if (publicKey != null) {
                        Object signature = fields.get("signature");
                        if (!(signature instanceof String sig) || !AuditChain.verify(publicKey, seq, prev, sig)) {
                            return fail(Status.TAMPERED, lineNo, signed, notes,
                                    "checkpoint signature does not verify with the given key");
                        }
                        signed++;
                        lastSignedLine = lineNo;
                    }
                    if ("recovery".equals(fields.get("reason")) && fields.get("partialSha256") == null) {
                        notes.add("the writer stopped without closing the file after line " + (lineNo - 1)
                                + " and recovered at line " + lineNo);
                    }
                    endsWithClose = "close".equals(fields.get("reason"));
                }
                prev = actual;
                expectedSeq++;
            }
        }
        if (cut != null) {
            return fail(Status.INCOMPLETE, cutLine, signed, notes, "the last line is an unfinished record ("
                    + cut.length + " bytes): the writer was stopped mid-write (a crash) and has not run since; "
                    + (cutLine - 1) + " lines before it verify, lines after line " + lastSignedLine
                    + " (the last signed checkpoint) cannot be authenticated");
        }
        if (lineNo == 0) {
            return fail(Status.INCOMPLETE, 1, signed, notes, "the file is empty");
        }
        if (!endsWithClose) {
            return fail(Status.INCOMPLETE, lineNo + 1, signed, notes, "the file does not end with a close checkpoint: "
                    + "the writer was stopped (a crash) and has not run since, or lines were cut from its end; all "
                    + lineNo + " lines verify, lines after line " + lastSignedLine
                    + " (the last signed checkpoint) cannot be authenticated");
        }
        if (publicKey == null) {
            return new Result(Status.SIGNATURES_NOT_CHECKED, lineNo, 0, 0, null, notes);
        }
        return new Result(Status.VERIFIED, lineNo, signed, 0, null, notes);
    }

    private static Map<String, Object> parse(String line) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = McpJsonDefaults.getMapper().readValue(line, Map.class);
            return parsed == null ? null : new LinkedHashMap<>(parsed);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    private static Result fail(Status status, long line, int signed, List<String> notes, String problem) {
        return new Result(status, line - 1, signed, line, problem, notes);
    }

    /** The lines of a file as raw bytes (without their line feed), so that a cut record can be hashed exactly. */
    private static final class Lines implements AutoCloseable {
        private final InputStream in;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(512);

        Lines(InputStream in) {
            this.in = new BufferedInputStream(in, 65536);
        }

        byte[] next() throws IOException {
            line.reset();
            int b;
            boolean any = false;
            while ((b = in.read()) != -1) {
                any = true;
                if (b == '\n') {
                    return line.toByteArray();
                }
                line.write(b);
            }
            return any ? line.toByteArray() : null;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /**
     * The command line: {@code AuditVerifier FILE PUBLIC_KEY_PEM}, or {@code AuditVerifier --no-signatures FILE} to
     * check the chain alone. Prints the verdict; exits 0 only when the file verified, 1 when it was tampered with, 2 on
     * usage errors, 3 when the chain is intact but signatures were not checked, 4 when it is incomplete (a crash or a
     * cut end).
     *
     * @param args the file and the public key, or {@code --no-signatures} and the file
     */
    public static void main(String[] args) {
        boolean chainOnly = args.length == 2 && "--no-signatures".equals(args[0]);
        if (args.length != 2) {
            System.err.println("usage: AuditVerifier <audit.jsonl> <ed25519-public-key.pem>\n"
                    + "       AuditVerifier --no-signatures <audit.jsonl>   (checks the chain only; never a success)");
            System.exit(2);
        }
        try {
            Result result = chainOnly ? verifyChainOnly(Path.of(args[1]))
                    : verify(Path.of(args[0]), AuditKeys.readPublicKey(Path.of(args[1])));
            System.out.println(result);
            System.exit(switch (result.status()) {
                case VERIFIED -> 0;
                case TAMPERED -> 1;
                case SIGNATURES_NOT_CHECKED -> 3;
                case INCOMPLETE -> 4;
            });
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("cannot verify: " + e.getMessage());
            System.exit(2);
        }
    }
}
