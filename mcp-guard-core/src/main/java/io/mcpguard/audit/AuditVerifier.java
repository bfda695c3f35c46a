package io.mcpguard.audit;

import io.modelcontextprotocol.json.McpJsonDefaults;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Verifies a JSON Lines audit file written by {@link JsonLinesAuditSink}: the sequence, the hash chain, every
 * checkpoint's head and signature, and that the file ends with a signed close checkpoint. Reports the first line that
 * was altered, removed, reordered, inserted or appended, or that the file was truncated.
 */
public final class AuditVerifier {

    private AuditVerifier() {
    }

    /**
     * The verdict.
     *
     * @param ok whether the file verified
     * @param records how many lines were read (records and checkpoints)
     * @param signedCheckpoints how many checkpoint signatures held
     * @param problemLine the 1-based line of the first problem, or 0
     * @param problem what is wrong, or {@code null}
     */
    public record Result(boolean ok, long records, int signedCheckpoints, long problemLine, String problem) {

        @Override
        public String toString() {
            return ok ? "OK: " + records + " lines, " + signedCheckpoints + " signed checkpoints, chain intact"
                    : "TAMPERED or INCOMPLETE at line " + problemLine + ": " + problem;
        }
    }

    /**
     * Verifies a file.
     *
     * @param file the file
     * @param publicKey the Ed25519 key checkpoints must be signed with, or {@code null} to check the chain only
     * @return the verdict
     * @throws IOException if the file cannot be read
     */
    public static Result verify(Path file, PublicKey publicKey) throws IOException {
        long expectedSeq = 1;
        String prev = AuditChain.GENESIS;
        long lineNo = 0;
        int signed = 0;
        long lastSignedLine = 0;
        boolean endsWithClose = false;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    return fail(lineNo, signed, "blank line inside the chain");
                }
                Map<String, Object> fields;
                try {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> parsed = McpJsonDefaults.getMapper().readValue(line, Map.class);
                    fields = new LinkedHashMap<>(parsed);
                } catch (IOException | RuntimeException e) {
                    return fail(lineNo, signed, "not valid JSON (the line was altered or cut)");
                }
                Object seqValue = fields.get("seq");
                if (!(seqValue instanceof Number seqNumber)) {
                    return fail(lineNo, signed, "no sequence number (a line was inserted)");
                }
                long seq = seqNumber.longValue();
                if (seq != expectedSeq) {
                    return fail(lineNo, signed, "sequence " + seq + " where " + expectedSeq + " was expected (a line "
                            + (seq > expectedSeq ? "before it was removed" : "was inserted or lines were reordered")
                            + ")");
                }
                if (!prev.equals(fields.get("prev"))) {
                    return fail(lineNo, signed, "its previous-hash does not match the line before it (a line was "
                            + "removed, replaced or reordered)");
                }
                Object stated = fields.remove("hash");
                String actual = AuditChain.hash(fields);
                if (!actual.equals(stated)) {
                    return fail(lineNo, signed, "its content does not match its hash (the record was altered)");
                }
                endsWithClose = false;
                if ("checkpoint".equals(fields.get("type"))) {
                    if (!prev.equals(fields.get("head"))) {
                        return fail(lineNo, signed, "checkpoint head does not match the chain");
                    }
                    if (publicKey != null) {
                        Object signature = fields.get("signature");
                        if (!(signature instanceof String sig) || !AuditChain.verify(publicKey, seq, prev, sig)) {
                            return fail(lineNo, signed, "checkpoint signature does not verify with the given key");
                        }
                        signed++;
                        lastSignedLine = lineNo;
                    }
                    endsWithClose = "close".equals(fields.get("reason"));
                }
                prev = actual;
                expectedSeq++;
            }
        }
        if (lineNo == 0) {
            return fail(1, signed, "the file is empty");
        }
        if (!endsWithClose) {
            return fail(lineNo + 1, signed, "the file does not end with a close checkpoint: it was truncated, lines "
                    + "were appended, or the writer did not shut down cleanly (lines after line " + lastSignedLine
                    + ", the last signed checkpoint, cannot be authenticated)");
        }
        return new Result(true, lineNo, signed, 0, null);
    }

    private static Result fail(long line, int signed, String problem) {
        return new Result(false, line - 1, signed, line, problem);
    }

    /**
     * The command line: {@code java -cp mcp-guard-core.jar:... io.mcpguard.audit.AuditVerifier FILE [PUBLIC_KEY_PEM]}.
     * Prints the verdict; exits 0 when the file verifies, 1 when it does not, 2 on usage errors.
     *
     * @param args the file, and optionally the public key
     */
    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: AuditVerifier <audit.jsonl> [<ed25519-public-key.pem>]");
            System.exit(2);
        }
        try {
            PublicKey key = args.length == 2 ? AuditKeys.readPublicKey(Path.of(args[1])) : null;
            Result result = verify(Path.of(args[0]), key);
            System.out.println(result + (key == null ? " (signatures not checked: no public key given)" : ""));
            System.exit(result.ok() ? 0 : 1);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("cannot verify: " + e.getMessage());
            System.exit(2);
        }
    }
}
