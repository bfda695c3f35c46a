package io.mcpguard.identity;

import io.modelcontextprotocol.common.McpTransportContext;
import java.util.Objects;
import java.util.Optional;

/**
 * Resolves the verified identity of the caller of one request from the SDK's {@link McpTransportContext}.
 *
 * <p>The guard calls it on every {@code tools/list} and {@code tools/call}; keep it cheap. An empty result means
 * "unknown agent", and the guard fails closed: the caller sees no tool and can call none. A resolver that throws is
 * treated the same way. Implementations must take identity only from what the operator configured (verified
 * credentials placed in the context by a trusted extractor), never from anything the client asserts about itself.
 */
@FunctionalInterface
public interface AgentResolver {

    /**
     * Resolves the caller.
     *
     * @param context the request's transport context (empty on stdio)
     * @return the verified identity, or empty when the caller is unknown
     */
    Optional<AgentIdentity> resolve(McpTransportContext context);

    /**
     * A resolver that always answers with one identity, for stdio servers: one process serves exactly one client,
     * and its identity comes from the process's own configuration. Never use it on an HTTP transport, where it would
     * grant that identity to every caller.
     *
     * @param identity the identity of the single client
     * @return a resolver
     */
    static AgentResolver fixed(AgentIdentity identity) {
        return new Fixed(identity);
    }

    /**
     * The resolver of a server whose one caller is known in advance (stdio). The guard then registers with the SDK
     * only what that caller may see, so that a hidden primitive is, to the SDK itself, one that does not exist.
     *
     * @param identity the identity of the single client
     */
    record Fixed(AgentIdentity identity) implements AgentResolver {

        /**
         * Checks the identity.
         *
         * @param identity the identity
         */
        public Fixed {
            Objects.requireNonNull(identity, "identity");
        }

        @Override
        public Optional<AgentIdentity> resolve(McpTransportContext context) {
            return Optional.of(identity);
        }
    }

    /**
     * A resolver that reads the identity a trusted context extractor stored under {@link AgentIdentity#CONTEXT_KEY}
     * (as the transport gate's extractor does). Anything else under that key is ignored.
     *
     * @return a resolver
     */
    static AgentResolver fromContext() {
        return context -> context != null && context.get(AgentIdentity.CONTEXT_KEY) instanceof AgentIdentity agent
                ? Optional.of(agent)
                : Optional.empty();
    }
}
