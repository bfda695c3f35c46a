package io.mcpguard.spring;

import io.mcpguard.identity.AgentIdentity;
import java.util.Optional;
import org.springframework.security.core.Authentication;

/**
 * Turns a verified Spring Security {@link Authentication} into the caller's {@link AgentIdentity}. Define a bean to
 * map custom or nested claims; the default ({@link ClaimsAgentMapper}) reads the agent id and scopes from JWT claims
 * or authorities. An empty answer means "unknown agent": it sees and calls nothing.
 */
@FunctionalInterface
public interface AuthenticationAgentMapper {

    /**
     * Maps an authentication.
     *
     * @param authentication an authenticated principal, never anonymous
     * @return the identity, or empty
     */
    Optional<AgentIdentity> map(Authentication authentication);
}
