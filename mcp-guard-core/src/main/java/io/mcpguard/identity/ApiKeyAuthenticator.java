package io.mcpguard.identity;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Authenticates agents by API keys sent as {@code Authorization: Bearer <key>}, for the transport gate in front of the
 * SDK's servlet HTTP transports (Streamable HTTP and stateless).
 *
 * <p>The key table stores only SHA-256 digests of the keys, never the keys. A presented key is hashed, the digest
 * selects the candidate entry and the digests are compared with {@link MessageDigest#isEqual} (constant time). The
 * table lookup itself runs over the digest, which reveals nothing usable about any key.
 *
 * <p>Give it to the gate, which refuses unknown keys with 401 before reading any body byte and hands the verified
 * identity (never the key) to the guard:
 * <pre>{@code
 * McpGuardHttp http = McpGuardHttp.streamable(guard, keys).build();
 * }</pre>
 */
public final class ApiKeyAuthenticator implements HttpAuthenticator {

    /** The challenge of a 401: a bearer key is expected. */
    public static final String CHALLENGE = "Bearer realm=\"mcp\"";

    /** The shortest key accepted: shorter keys are guessable. */
    public static final int MIN_KEY_LENGTH = 16;

    /** The prefix of a pre-hashed key as accepted by {@link Builder#hashedKey}. */
    public static final String HASH_PREFIX = "sha256:";

    private static final String AUTHORIZATION = "Authorization";
    private static final Pattern BEARER = Pattern.compile("(?i)Bearer +([A-Za-z0-9\\-._~+/]+=*) *");
    private static final HexFormat HEX = HexFormat.of();

    private final Map<String, Entry> byDigest;
    private final String runIdHeader;

    private ApiKeyAuthenticator(Builder builder) {
        this.byDigest = Collections.unmodifiableMap(new HashMap<>(builder.byDigest));
        this.runIdHeader = builder.runIdHeader;
    }

    /**
     * Starts a key table.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the digest form of a key, {@code sha256:<hex>}, to store in configuration instead of the key.
     *
     * @param key the secret key
     * @return its digest form
     */
    public static String hash(String key) {
        Objects.requireNonNull(key, "key");
        return HASH_PREFIX + HEX.formatHex(sha256(key));
    }

    /**
     * Looks up the identity of a raw {@code Authorization} header value.
     *
     * @param authorization the header value, e.g. {@code Bearer abc...}; may be {@code null}
     * @return the identity of a known key, or empty
     */
    public Optional<AgentIdentity> authenticate(String authorization) {
        if (authorization == null || authorization.length() > 4096) {
            return Optional.empty();
        }
        var matcher = BEARER.matcher(authorization);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        byte[] digest = sha256(matcher.group(1));
        Entry entry = byDigest.get(HEX.formatHex(digest));
        if (entry == null || !MessageDigest.isEqual(entry.digest, digest)) {
            return Optional.empty();
        }
        return Optional.of(entry.identity);
    }

    /**
     * Authenticates a request by its {@code Authorization: Bearer} header, for the transport gate: a missing,
     * repeated, malformed or unknown key is refused with 401 and {@value #CHALLENGE}.
     *
     * @param request the request (headers only)
     * @return the identity, or the refusal
     */
    @Override
    public Result authenticate(HttpServletRequest request) {
        List<String> values = Collections.list(request.getHeaders(AUTHORIZATION));
        Optional<AgentIdentity> identity = identityFrom(values);
        if (identity.isEmpty()) {
            return new Refused(401, CHALLENGE);
        }
        AgentIdentity agent = identity.get();
        if (runIdHeader != null) {
            String run = request.getHeader(runIdHeader);
            if (run != null && RUN_ID.matcher(run).matches()) {
                agent = agent.forRun(run);
            }
        }
        return new Authenticated(agent);
    }

    private static final Pattern RUN_ID = Pattern.compile("[\\x21-\\x7E]{1,256}");

    /**
     * Returns how many keys the table holds.
     *
     * @return the number of keys
     */
    public int size() {
        return byDigest.size();
    }

    private Optional<AgentIdentity> identityFrom(List<String> values) {
        if (values == null || values.size() != 1) {
            return Optional.empty();
        }
        return authenticate(values.get(0));
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    private record Entry(byte[] digest, AgentIdentity identity) {
    }

    /** Builds an {@link ApiKeyAuthenticator}; each key is checked when given. */
    public static final class Builder {

        private final Map<String, Entry> byDigest = new HashMap<>();
        private final Set<String> keyIds = new HashSet<>();
        private String runIdHeader;

        private Builder() {
        }

        /**
         * Adds a key. Only its SHA-256 digest is kept.
         *
         * @param keyId the key's id, recorded as the identity's credential id (never the key)
         * @param key the secret key, at least {@value #MIN_KEY_LENGTH} characters of the bearer-token alphabet
         * @param identity the agent the key belongs to
         * @return this builder
         */
        public Builder key(String keyId, String key, AgentIdentity identity) {
            if (key == null || key.length() < MIN_KEY_LENGTH) {
                throw new IllegalArgumentException("API key '" + keyId + "' is shorter than " + MIN_KEY_LENGTH
                        + " characters: use a long random key");
            }
            if (!BEARER.matcher("Bearer " + key).matches()) {
                throw new IllegalArgumentException("API key '" + keyId
                        + "' has characters a bearer token cannot carry (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)");
            }
            return add(keyId, sha256(key), identity);
        }

        /**
         * Adds a key by its digest, as produced by {@link ApiKeyAuthenticator#hash(String)}, so that configuration
         * never holds the secret.
         *
         * @param keyId the key's id, recorded as the identity's credential id
         * @param digest {@code sha256:} followed by 64 hex digits
         * @param identity the agent the key belongs to
         * @return this builder
         */
        public Builder hashedKey(String keyId, String digest, AgentIdentity identity) {
            if (digest == null || !digest.toLowerCase(Locale.ROOT).matches("sha256:[0-9a-f]{64}")) {
                throw new IllegalArgumentException("hashed key '" + keyId
                        + "' must be 'sha256:' followed by 64 hex digits, got " + AgentIdentity.quote(digest));
            }
            return add(keyId, HEX.parseHex(digest.substring(HASH_PREFIX.length()).toLowerCase(Locale.ROOT)), identity);
        }

        /**
         * Names a request header whose value becomes the identity's run id (correlation only, never authorization).
         * Off by default.
         *
         * @param header the header name, e.g. {@code X-Agent-Run}
         * @return this builder
         */
        public Builder runIdHeader(String header) {
            if (header == null || !header.matches("[A-Za-z0-9-]{1,64}") || header.equalsIgnoreCase(AUTHORIZATION)) {
                throw new IllegalArgumentException("invalid run id header " + AgentIdentity.quote(header));
            }
            this.runIdHeader = header;
            return this;
        }

        private Builder add(String keyId, byte[] digest, AgentIdentity identity) {
            Objects.requireNonNull(identity, "identity");
            // Everything the operator configured (scopes, client id, principals, attributes) stays; the key id binds.
            AgentIdentity bound = identity.toBuilder().credentialId(keyId).build();
            if (!keyIds.add(keyId)) {
                throw new IllegalArgumentException("duplicate API key id '" + keyId + "'");
            }
            if (byDigest.putIfAbsent(HEX.formatHex(digest), new Entry(digest, bound)) != null) {
                throw new IllegalArgumentException("API key '" + keyId + "' is the same key as another entry");
            }
            return this;
        }

        /**
         * Builds the authenticator.
         *
         * @return an immutable authenticator
         * @throws IllegalStateException if no key was added
         */
        public ApiKeyAuthenticator build() {
            if (byDigest.isEmpty()) {
                throw new IllegalStateException("an API key table needs at least one key");
            }
            return new ApiKeyAuthenticator(this);
        }
    }
}
