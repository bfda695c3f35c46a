package io.mcpguard.examples.spring;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import io.mcpguard.examples.orders.OrderStore;
import io.mcpguard.examples.orders.OrderTools;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.spring.McpGuardPolicyCustomizer;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The order domain as a Spring AI MCP server (Streamable HTTP on {@code /mcp}), guarded by adding
 * {@code mcp-guard-spring} and a few {@code mcp-guard.*} properties ({@code application.yml}). Spring Security
 * validates JWTs; their {@code sub} is the agent and their {@code scope} its scopes.
 *
 * <p>For the example the JWT issuer is this process itself: it generates a key at start and prints a token for each
 * demo agent. A real deployment points {@code spring.security.oauth2.resourceserver.jwt.issuer-uri} at its issuer.
 */
@SpringBootApplication
public class SpringOrderServer {

    private final KeyPair signingKey = rsa();

    /**
     * Runs the server.
     *
     * @param args Spring Boot arguments, e.g. {@code --server.port=8080}
     */
    public static void main(String[] args) {
        SpringApplication.run(SpringOrderServer.class, args);
    }

    /**
     * The tools: plain SDK specifications, as a list bean (Spring AI collects tool lists; the guard wraps them).
     *
     * @return the tools
     */
    @Bean
    List<SyncToolSpecification> orderTools() {
        return OrderTools.all(OrderStore.seeded());
    }

    /**
     * Code-side policy additions on top of the properties: irreversible tools get a lower quota.
     *
     * @return the customizer
     */
    @Bean
    McpGuardPolicyCustomizer irreversibleToolLimits() {
        return policy -> policy.quota(QuotaRule.perAgentAndTool(3, Duration.ofMinutes(1)).forTools(
                ToolMatcher.where("annotations.destructiveHint == true", tool -> tool.annotations() != null
                        && Boolean.TRUE.equals(tool.annotations().destructiveHint()))));
    }

    /**
     * Every request needs a valid JWT: unauthenticated calls get 401 before MCP runs.
     *
     * @param http the security builder
     * @return the filter chain
     * @throws Exception if it cannot be built
     */
    @Bean
    SecurityFilterChain security(HttpSecurity http) throws Exception {
        return http.authorizeHttpRequests(authorize -> authorize.anyRequest().authenticated())
                .oauth2ResourceServer(resource -> resource.jwt(Customizer.withDefaults()))
                .csrf(csrf -> csrf.disable())
                .build();
    }

    /**
     * Verifies tokens with this example's own key.
     *
     * @return the decoder
     */
    @Bean
    JwtDecoder jwtDecoder() {
        return NimbusJwtDecoder.withPublicKey((RSAPublicKey) signingKey.getPublic()).build();
    }

    /**
     * Mints a token, as an identity provider would.
     *
     * @param agent the agent id ({@code sub})
     * @param scopes its scopes
     * @param lifetime how long it is valid
     * @return the signed JWT
     */
    public String token(String agent, String scopes, Duration lifetime) {
        RSAKey key = new RSAKey.Builder((RSAPublicKey) signingKey.getPublic())
                .privateKey((RSAPrivateKey) signingKey.getPrivate()).keyID("example").build();
        JwtEncoder encoder = new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key)));
        JwtClaimsSet claims = JwtClaimsSet.builder().subject(agent).claim("scope", scopes)
                .id(agent + "-" + Instant.now().toEpochMilli()).issuedAt(Instant.now())
                .expiresAt(Instant.now().plus(lifetime)).build();
        return encoder.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.RS256).keyId("example")
                .build(), claims)).getTokenValue();
    }

    @EventListener(ApplicationReadyEvent.class)
    void printTokens() {
        System.out.println("Guarded Spring AI order server ready on /mcp. Example tokens (valid 1 hour):");
        System.out.println("  support-bot:   " + token("support-bot", "orders:read orders:write", Duration.ofHours(1)));
        System.out.println("  billing-agent: " + token("billing-agent", "orders:read refunds", Duration.ofHours(1)));
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
