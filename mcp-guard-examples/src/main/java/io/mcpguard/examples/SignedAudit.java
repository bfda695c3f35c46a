package io.mcpguard.examples;

import io.mcpguard.audit.AuditKeys;
import io.mcpguard.audit.JsonLinesAuditSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;

/**
 * The examples' audit trail: a signed JSON Lines hash chain in a folder, with the operator's Ed25519 key beside it
 * (made on first use; in production the key comes from your secret store and only the public key sits near the
 * file). Verify it with {@code AuditVerifier <file> <folder>/audit-signing.pub}.
 */
public final class SignedAudit {

    private SignedAudit() {
    }

    /**
     * Opens (or continues) a signed chain.
     *
     * @param folder where the file and the keys live
     * @param name the file's name, e.g. {@code orders-audit.jsonl}
     * @return the sink
     * @throws IOException if the folder, the key or the file cannot be used
     */
    public static JsonLinesAuditSink open(Path folder, String name) throws IOException {
        Files.createDirectories(folder);
        Path privateKey = folder.resolve("audit-signing.key");
        Path publicKey = folder.resolve("audit-signing.pub");
        PrivateKey key;
        if (Files.exists(privateKey)) {
            key = AuditKeys.readPrivateKey(privateKey);
        } else {
            KeyPair pair = AuditKeys.generate();
            Files.writeString(privateKey, AuditKeys.toPem(pair.getPrivate()));
            try {
                Files.setPosixFilePermissions(privateKey, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the folder's own permissions protect it
            }
            Files.writeString(publicKey, AuditKeys.toPem(pair.getPublic()));
            key = pair.getPrivate();
        }
        return JsonLinesAuditSink.builder(folder.resolve(name)).signingKey(key, "examples-operator").build();
    }

    /**
     * Opens a signed chain in a new temporary folder (tests, throwaway servers).
     *
     * @param name the file's name
     * @return the sink
     * @throws IOException if the folder cannot be made
     */
    public static JsonLinesAuditSink temporary(String name) throws IOException {
        Path folder = Files.createTempDirectory("mcp-guard-audit");
        folder.toFile().deleteOnExit();
        return open(folder, name);
    }
}
