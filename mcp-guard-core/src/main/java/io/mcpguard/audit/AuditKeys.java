package io.mcpguard.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Ed25519 keys for signing audit checkpoints, in PEM (PKCS#8 private, X.509 public), with the JDK's own crypto. Make
 * a key pair with {@code openssl genpkey -algorithm ed25519 -out audit.key} and
 * {@code openssl pkey -in audit.key -pubout -out audit.pub}, or with {@link #generate()}.
 */
public final class AuditKeys {

    private AuditKeys() {
    }

    /**
     * Generates a fresh Ed25519 key pair.
     *
     * @return the pair
     */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ platform", e);
        }
    }

    /**
     * Reads a PKCS#8 PEM private key ({@code -----BEGIN PRIVATE KEY-----}).
     *
     * @param file the PEM file
     * @return the key
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if it is not an Ed25519 private key
     */
    public static PrivateKey readPrivateKey(Path file) throws IOException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pem(file, "PRIVATE KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " does not hold an Ed25519 PKCS#8 private key", e);
        }
    }

    /**
     * Reads an X.509 PEM public key ({@code -----BEGIN PUBLIC KEY-----}).
     *
     * @param file the PEM file
     * @return the key
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if it is not an Ed25519 public key
     */
    public static PublicKey readPublicKey(Path file) throws IOException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(pem(file, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " does not hold an Ed25519 X.509 public key", e);
        }
    }

    /**
     * Returns the PEM text of a public key.
     *
     * @param key the key
     * @return PEM text
     */
    public static String toPem(PublicKey key) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(key.getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    }

    /**
     * Returns the PEM text of a private key.
     *
     * @param key the key
     * @return PEM text
     */
    public static String toPem(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    }

    private static byte[] pem(Path file, String label) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException(file + " has no " + begin + " block");
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }
}
