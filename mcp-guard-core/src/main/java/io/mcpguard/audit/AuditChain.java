package io.mcpguard.audit;

import io.mcpguard.support.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;

/** The hash chain's rules, shared by the writer and the verifier. */
final class AuditChain {

    static final String GENESIS = "0".repeat(64);
    static final String FORMAT = "mcp-guard-audit/1";

    private AuditChain() {
    }

    /** The hash of a line: SHA-256 of the canonical JSON of all its fields but {@code hash}. */
    static String hash(Map<String, Object> fieldsWithoutHash) {
        return CanonicalJson.sha256(CanonicalJson.ofExact(fieldsWithoutHash));
    }

    /** The bytes a checkpoint signs: the format, the sequence number and the chain head. */
    static byte[] signedBytes(long seq, String head) {
        return (FORMAT + "\n" + seq + "\n" + head).getBytes(StandardCharsets.UTF_8);
    }

    static String sign(PrivateKey key, long seq, String head) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(key);
            signature.update(signedBytes(seq, head));
            return Base64.getEncoder().encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing the audit checkpoint failed", e);
        }
    }

    static boolean verify(PublicKey key, long seq, String head, String signatureBase64) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initVerify(key);
            signature.update(signedBytes(seq, head));
            return signature.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
