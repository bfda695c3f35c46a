package io.mcpguard.identity;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The verified identity of one agent, as resolved for one request. Immutable.
 *
 * <p>It carries the stable agent id (what quotas, audit records and spans key on), the scopes granted to the agent,
 * the id of the credential it presented (never the secret itself), and an optional run id that correlates the calls
 * of one task. Nothing the client says about itself ({@code clientInfo}, {@code _meta}, arbitrary headers) ever
 * becomes an identity: only a resolver configured by the operator creates one.
 */
public final class AgentIdentity {

    /**
     * The key under which a trusted context extractor stores the resolved identity in the SDK's
     * {@code McpTransportContext}; read by {@link AgentResolver#fromContext()}.
     */
    public static final String CONTEXT_KEY = "io.mcpguard.agent";

    private static final Pattern ID = Pattern.compile("[\\x21-\\x7E]{1,256}");
    private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}");

    private final String agentId;
    private final Set<String> scopes;
    private final String credentialId;
    private final String runId;

    private AgentIdentity(Builder builder) {
        this.agentId = builder.agentId;
        this.scopes = Set.copyOf(builder.scopes);
        this.credentialId = builder.credentialId;
        this.runId = builder.runId;
    }

    /**
     * Starts an identity for the given agent id.
     *
     * @param agentId the stable id of the agent: 1 to 256 visible ASCII characters
     * @return a builder
     * @throws IllegalArgumentException if the id is malformed
     */
    public static Builder builder(String agentId) {
        return new Builder(agentId);
    }

    /**
     * Returns the stable agent id.
     *
     * @return the agent id
     */
    public String agentId() {
        return agentId;
    }

    /**
     * Returns the scopes granted to this agent (an unmodifiable set).
     *
     * @return the scopes, possibly empty
     */
    public Set<String> scopes() {
        return scopes;
    }

    /**
     * Returns the id of the credential the agent presented, e.g. an API key's id. Never the secret.
     *
     * @return the credential id
     */
    public String credentialId() {
        return credentialId;
    }

    /**
     * Returns the id of the task or run this request belongs to, when known. It is a correlation id for traces and
     * audit records, never an authorization input.
     *
     * @return the run id, or empty
     */
    public Optional<String> runId() {
        return Optional.ofNullable(runId);
    }

    /**
     * Returns a copy of this identity carrying the given run id.
     *
     * @param runId the run id: 1 to 256 visible ASCII characters
     * @return a new identity
     */
    public AgentIdentity forRun(String runId) {
        return toBuilder().runId(runId).build();
    }

    private Builder toBuilder() {
        Builder b = new Builder(agentId).scopes(scopes).credentialId(credentialId);
        b.runId = runId;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AgentIdentity other
                && agentId.equals(other.agentId)
                && scopes.equals(other.scopes)
                && credentialId.equals(other.credentialId)
                && Objects.equals(runId, other.runId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(agentId, scopes, credentialId, runId);
    }

    @Override
    public String toString() {
        return "AgentIdentity[agentId=" + agentId + ", scopes=" + new TreeSet<>(scopes) + ", credentialId="
                + credentialId + (runId == null ? "" : ", runId=" + runId) + "]";
    }

    /** Builds an {@link AgentIdentity}; each argument is checked when given. */
    public static final class Builder {

        private final String agentId;
        private final Set<String> scopes = new TreeSet<>();
        private String credentialId;
        private String runId;

        private Builder(String agentId) {
            this.agentId = checkId("agentId", agentId);
            this.credentialId = "none";
        }

        /**
         * Adds granted scopes.
         *
         * @param scopes scope tokens (RFC 6749 syntax: visible ASCII except space, {@code "} and {@code \})
         * @return this builder
         */
        public Builder scopes(String... scopes) {
            Objects.requireNonNull(scopes, "scopes");
            return scopes(Set.of(scopes));
        }

        /**
         * Adds granted scopes.
         *
         * @param scopes scope tokens (RFC 6749 syntax)
         * @return this builder
         */
        public Builder scopes(Iterable<String> scopes) {
            Objects.requireNonNull(scopes, "scopes");
            for (String scope : scopes) {
                this.scopes.add(checkScope(scope));
            }
            return this;
        }

        /**
         * Sets the id of the credential the agent presented (never the secret).
         *
         * @param credentialId 1 to 256 visible ASCII characters
         * @return this builder
         */
        public Builder credentialId(String credentialId) {
            this.credentialId = checkId("credentialId", credentialId);
            return this;
        }

        /**
         * Sets the run (task) id used to correlate calls. Not an authorization input.
         *
         * @param runId 1 to 256 visible ASCII characters
         * @return this builder
         */
        public Builder runId(String runId) {
            this.runId = checkId("runId", runId);
            return this;
        }

        /**
         * Builds the identity.
         *
         * @return an immutable identity
         */
        public AgentIdentity build() {
            return new AgentIdentity(this);
        }
    }

    /**
     * Checks a scope token against the RFC 6749 scope-token syntax.
     *
     * @param scope the token
     * @return the token
     * @throws IllegalArgumentException naming the bad value
     */
    public static String checkScope(String scope) {
        if (scope == null || !SCOPE.matcher(scope).matches()) {
            throw new IllegalArgumentException("invalid scope " + quote(scope)
                    + ": a scope is 1 to 256 visible ASCII characters without spaces, '\"' or '\\'");
        }
        return scope;
    }

    private static String checkId(String what, String value) {
        if (value == null || !ID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid " + what + " " + quote(value)
                    + ": expected 1 to 256 visible ASCII characters without spaces");
        }
        return value;
    }

    static String quote(String value) {
        return value == null ? "null" : "'" + value + "'";
    }
}
