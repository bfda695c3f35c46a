package io.mcpguard.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelcontextprotocol.server.transport.HeaderAccessor;
import io.modelcontextprotocol.server.transport.ServerTransportSecurityException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApiKeyAuthenticatorTest {

    static final String SUPPORT_KEY = "sk-support-0123456789abcdef";
    static final String BILLING_KEY = "sk-billing-fedcba9876543210";

    static final ApiKeyAuthenticator KEYS = ApiKeyAuthenticator.builder()
            .key("key-support-1", SUPPORT_KEY, AgentIdentity.builder("support-bot").scopes("orders:read").build())
            .hashedKey("key-billing-1", ApiKeyAuthenticator.hash(BILLING_KEY),
                    AgentIdentity.builder("billing-agent").scopes("refunds").build())
            .build();

    @Test
    void knownKeyResolvesToItsAgentWithTheKeyIdAsCredential() {
        AgentIdentity agent = KEYS.authenticate("Bearer " + SUPPORT_KEY).orElseThrow();

        assertThat(agent.agentId()).isEqualTo("support-bot");
        assertThat(agent.scopes()).containsExactly("orders:read");
        assertThat(agent.credentialId()).isEqualTo("key-support-1");
        assertThat(agent.toString()).doesNotContain(SUPPORT_KEY);
    }

    @Test
    void preHashedKeysWorkWithoutTheSecretInConfiguration() {
        assertThat(KEYS.authenticate("Bearer " + BILLING_KEY)).get()
                .extracting(AgentIdentity::agentId).isEqualTo("billing-agent");
        assertThat(ApiKeyAuthenticator.hash(BILLING_KEY)).matches("sha256:[0-9a-f]{64}");
    }

    @Test
    void bearerSchemeIsCaseInsensitiveButTheKeyIsNot() {
        assertThat(KEYS.authenticate("bearer " + SUPPORT_KEY)).isPresent();
        assertThat(KEYS.authenticate("Bearer " + SUPPORT_KEY.toUpperCase())).isEmpty();
    }

    @Test
    void missingMalformedAndUnknownCredentialsResolveToNobody() {
        for (String header : new String[] {null, "", "Bearer", "Bearer ", SUPPORT_KEY, "Basic " + SUPPORT_KEY,
                "Bearer " + SUPPORT_KEY + " extra", "Bearer " + SUPPORT_KEY + "x", "Bearer sk-unknown-0000000000000",
                "Bearer " + "a".repeat(5000)}) {
            assertThat(KEYS.authenticate(header)).as("header %s", header).isEmpty();
        }
    }

    @Test
    void headerValidatorRefusesWith401BeforeMcpRuns() {
        var validator = KEYS.headerValidator();

        for (Map<String, List<String>> headers : List.<Map<String, List<String>>>of(
                Map.of(),
                Map.of("Authorization", List.of("Bearer nope-nope-nope-nope-nope")),
                Map.of("Authorization", List.of("Bearer " + SUPPORT_KEY, "Bearer " + BILLING_KEY)))) {
            assertThatThrownBy(() -> validator.validate(accessor(headers)))
                    .isInstanceOf(ServerTransportSecurityException.class)
                    .satisfies(e -> assertThat(((ServerTransportSecurityException) e).getStatusCode())
                            .isEqualTo(401));
        }
    }

    @Test
    void keyTableMistakesAreCaughtWhenBuilt() {
        var agent = AgentIdentity.builder("a").build();
        assertThatThrownBy(() -> ApiKeyAuthenticator.builder().key("k", "short", agent))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shorter than 16");
        assertThatThrownBy(() -> ApiKeyAuthenticator.builder().key("k", "has spaces in the key!!", agent))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bearer token");
        assertThatThrownBy(() -> ApiKeyAuthenticator.builder().hashedKey("k", "md5:abc", agent))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sha256:");
        assertThatThrownBy(() -> ApiKeyAuthenticator.builder()
                .key("k1", SUPPORT_KEY, agent).key("k2", SUPPORT_KEY, agent))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same key");
        assertThatThrownBy(() -> ApiKeyAuthenticator.builder()
                .key("k1", SUPPORT_KEY, agent).key("k1", BILLING_KEY, agent))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> ApiKeyAuthenticator.builder().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("at least one key");
    }

    static HeaderAccessor accessor(Map<String, List<String>> headers) {
        return new HeaderAccessor() {
            @Override
            public List<String> getHeader(String name) {
                return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                        .map(Map.Entry::getValue).findFirst().orElse(null);
            }

            @Override
            public List<String> getHeaderNames() {
                return List.copyOf(headers.keySet());
            }
        };
    }
}
