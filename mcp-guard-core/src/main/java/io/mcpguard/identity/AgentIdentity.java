package io.mcpguard.identity;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The verified identity of one agent, as resolved for one request. Immutable.
 *
 * <p>It carries the stable agent id (what quotas, audit records and spans key on), the scopes granted to the agent,
 * the id of the credential it presented (never the secret itself), and an optional run id that correlates the calls
 * of one task. It also carries what approvals and boundaries need: the stable id of the client software acting for
 * the agent (an OAuth {@code client_id}; unlike a credential id it survives token refresh and key rotation), the
 * principals the agent acts as or for (a person or service account, which may not approve the agent's own calls),
 * and verified attributes such as a tenant, which argument boundaries compare with arguments. Nothing the client says about itself ({@code clientInfo}, {@code _meta}, arbitrary headers) ever
 * becomes an identity: only a resolver configured by the operator creates one.
 */
public final class AgentIdentity {

    /**
     * The key under which a trusted context extractor stores the resolved identity in the SDK's
     * {@code McpTransportContext}; read by {@link AgentResolver#fromContext()}.
     */
    public static final String CONTEXT_KEY = "io.mcpguard.agent";

    private static final Pattern ID = Pattern.compile("[\\x21-\\x7E]{1,256}");
    private static final Pattern ATTRIBUTE = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,256}");

    private final String agentId;
    private final Set<String> scopes;
    private final String credentialId;
    private final String runId;
    private final String clientId;
    private final Set<String> principals;
    private final Map<String, String> attributes;

    private AgentIdentity(Builder builder) {
        this.agentId = builder.agentId;
        this.scopes = Set.copyOf(builder.scopes);
        this.credentialId = builder.credentialId;
        this.runId = builder.runId;
        this.clientId = builder.clientId == null ? builder.agentId : builder.clientId;
        this.principals = Set.copyOf(builder.principals);
        this.attributes = Collections.unmodifiableMap(new TreeMap<>(builder.attributes));
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
     * Returns the stable id of the client acting for the agent: an OAuth {@code client_id}, or what the operator
     * configured for an API key. It does not change when a token is refreshed or a key rotated, so approvals bind to
     * it. Defaults to the agent id.
     *
     * @return the client id
     */
    public String clientId() {
        return clientId;
    }

    /**
     * Returns the principals this agent acts as or for (the person who runs it, its service account, an OAuth
     * subject). None of them may approve the agent's own calls.
     *
     * @return the principals (an unmodifiable set, possibly empty)
     */
    public Set<String> principals() {
        return principals;
    }

    /**
     * Returns the verified attributes of this identity, such as {@code tenant}, set by the resolver from the
     * credential (never from anything the client sends). Argument boundaries compare arguments with them.
     *
     * @return the attributes (unmodifiable, sorted by name)
     */
    public Map<String, String> attributes() {
        return attributes;
    }

    /**
     * Returns one verified attribute.
     *
     * @param name the attribute's name
     * @return its value, or empty
     */
    public Optional<String> attribute(String name) {
        return Optional.ofNullable(attributes.get(name));
    }

    /**
     * Returns whether an approver id names this agent or one of its principals: such an approver may not approve
     * this agent's calls. Compared exactly and, for ids that differ only in letter case, case-insensitively.
     *
     * @param approver the approver's id
     * @return {@code true} if the approver is the agent itself
     */
    public boolean isSelf(String approver) {
        if (approver == null) {
            return false;
        }
        if (approver.equalsIgnoreCase(agentId) || approver.equalsIgnoreCase(clientId)) {
            return true;
        }
        for (String principal : principals) {
            if (approver.equalsIgnoreCase(principal)) {
                return true;
            }
        }
        return false;
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

    /**
     * Returns a builder holding everything this identity carries, to derive another (a resolver binding a
     * credential id, adding a run id).
     *
     * @return a builder
     */
    public Builder toBuilder() {
        Builder b = new Builder(agentId).scopes(scopes).credentialId(credentialId);
        b.runId = runId;
        b.clientId = clientId;
        b.principals.addAll(principals);
        b.attributes.putAll(attributes);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AgentIdentity other
                && agentId.equals(other.agentId)
                && scopes.equals(other.scopes)
                && credentialId.equals(other.credentialId)
                && Objects.equals(runId, other.runId)
                && clientId.equals(other.clientId)
                && principals.equals(other.principals)
                && attributes.equals(other.attributes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(agentId, scopes, credentialId, runId, clientId, principals, attributes);
    }

    @Override
    public String toString() {
        // Attribute values can be sensitive (tenant ids); only their names are shown.
        return "AgentIdentity[agentId=" + agentId + ", scopes=" + new TreeSet<>(scopes) + ", credentialId="
                + credentialId + (clientId.equals(agentId) ? "" : ", clientId=" + clientId)
                + (runId == null ? "" : ", runId=" + runId)
                + (attributes.isEmpty() ? "" : ", attributes=" + attributes.keySet()) + "]";
    }

    /** Builds an {@link AgentIdentity}; each argument is checked when given. */
    public static final class Builder {

        private final String agentId;
        private final Set<String> scopes = new TreeSet<>();
        private String credentialId;
        private String runId;
        private String clientId;
        private final Set<String> principals = new TreeSet<>();
        private final Map<String, String> attributes = new TreeMap<>();

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
         * Sets the stable id of the client acting for the agent (an OAuth {@code client_id}). Default: the agent id.
         *
         * @param clientId 1 to 256 visible ASCII characters
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = checkId("clientId", clientId);
            return this;
        }

        /**
         * Adds principals the agent acts as or for; none of them may approve the agent's calls.
         *
         * @param principals e.g. {@code alice@example.com}, each 1 to 256 visible ASCII characters
         * @return this builder
         */
        public Builder principals(String... principals) {
            for (String principal : Objects.requireNonNull(principals, "principals")) {
                this.principals.add(checkId("principal", principal));
            }
            return this;
        }

        /**
         * Sets a verified attribute, e.g. {@code attribute("tenant", "acme")}. Only a resolver may set attributes,
         * from the credential: never copy them from what the client sends.
         *
         * @param name 1 to 64 characters of letters, digits, {@code _ . -}
         * @param value 1 to 1024 characters, no control characters
         * @return this builder
         */
        public Builder attribute(String name, String value) {
            if (name == null || !ATTRIBUTE.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid attribute name " + quote(name)
                        + ": expected 1 to 64 letters, digits, '_', '.' or '-'");
            }
            if (value == null || value.isEmpty() || value.length() > 1024
                    || value.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("invalid value for attribute '" + name
                        + "': expected 1 to 1024 characters without control characters");
            }
            attributes.put(name, value);
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
