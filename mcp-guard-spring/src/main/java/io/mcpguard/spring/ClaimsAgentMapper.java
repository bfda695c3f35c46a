package io.mcpguard.spring;

import io.mcpguard.identity.AgentIdentity;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.jwt.Jwt;

/**
 * The default mapping: the agent id from a JWT claim ({@code sub} by default) or the authentication's name; scopes
 * from the {@code scope}/{@code scp} claims (space-separated strings or lists) and from authorities with the
 * {@code SCOPE_} prefix; the credential id is the token's {@code jti} (or {@code azp}/{@code client_id}), never the
 * token itself. Values that do not fit the identity's syntax are skipped, never trusted.
 */
public final class ClaimsAgentMapper implements AuthenticationAgentMapper {

    private final McpGuardProperties.Identity config;

    /**
     * Creates the mapper.
     *
     * @param config the identity properties
     */
    public ClaimsAgentMapper(McpGuardProperties.Identity config) {
        this.config = config;
    }

    @Override
    public Optional<AgentIdentity> map(Authentication authentication) {
        if (authentication == null || !authentication.isAuthenticated()) {
            return Optional.empty();
        }
        Jwt jwt = authentication.getPrincipal() instanceof Jwt j ? j
                : authentication.getCredentials() instanceof Jwt j2 ? j2 : null;
        String agentId = jwt != null ? jwt.getClaimAsString(config.agentIdClaim()) : authentication.getName();
        if (agentId == null || agentId.isBlank()) {
            return Optional.empty();
        }
        Set<String> scopes = new LinkedHashSet<>();
        if (jwt != null) {
            for (String claim : config.scopeClaims()) {
                Object value = jwt.getClaims().get(claim);
                if (value instanceof String s) {
                    for (String part : s.trim().split("\\s+")) {
                        scopes.add(part);
                    }
                } else if (value instanceof Collection<?> list) {
                    list.forEach(item -> scopes.add(String.valueOf(item)));
                }
            }
        }
        String prefix = config.authorityPrefix();
        for (GrantedAuthority authority : authentication.getAuthorities()) {
            String name = authority.getAuthority();
            if (name != null && name.startsWith(prefix)) {
                scopes.add(name.substring(prefix.length()));
            }
        }
        try {
            AgentIdentity.Builder identity = AgentIdentity.builder(agentId).credentialId(credentialId(jwt));
            for (String scope : scopes) {
                try {
                    identity.scopes(AgentIdentity.checkScope(scope));
                } catch (IllegalArgumentException skipped) {
                    // a malformed scope grants nothing
                }
            }
            return Optional.of(identity.build());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String credentialId(Jwt jwt) {
        if (jwt == null) {
            return "spring-security";
        }
        for (String claim : new String[] {"jti", "azp", "client_id"}) {
            String value = jwt.getClaimAsString(claim);
            if (value != null && value.matches("[\\x21-\\x7E]{1,250}")) {
                return "jwt:" + value;
            }
        }
        return "jwt";
    }
}
