package io.mcpguard.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelcontextprotocol.server.transport.HeaderAccessor;
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
    void everythingTheOperatorConfiguredSurvivesAuthentication() {
        AgentIdentity configured = AgentIdentity.builder("acme-bot").scopes("reports").clientId("acme-client")
                .principals("alice@example.com").attribute("tenant", "acme").build();
        ApiKeyAuthenticator keys = ApiKeyAuthenticator.builder().key("k-acme", "sk-acme-0123456789abcdef", configured)
                .build();

        AgentIdentity agent = keys.authenticate("Bearer sk-acme-0123456789abcdef").orElseThrow();

        assertThat(agent.credentialId()).isEqualTo("k-acme");
        assertThat(agent.clientId()).isEqualTo("acme-client");
        assertThat(agent.principals()).containsExactly("alice@example.com");
        assertThat(agent.attributes()).containsExactly(java.util.Map.entry("tenant", "acme"));
        assertThat(agent.isSelf("ALICE@example.com")).isTrue();
        assertThat(agent.isSelf("acme-client")).isTrue();
        assertThat(agent.isSelf("bob@example.com")).isFalse();
        assertThat(agent.toString()).contains("attributes=[tenant]").doesNotContain("acme]");
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
    void requestsWithoutExactlyOneKnownKeyAreRefusedWith401AndABearerChallenge() {
        for (List<String> values : List.of(List.<String>of(), List.of("Bearer nope-nope-nope-nope-nope"),
                List.of("Bearer " + SUPPORT_KEY, "Bearer " + BILLING_KEY))) {
            HttpAuthenticator.Result result = KEYS.authenticate(request(values, null));
            assertThat(result).as("%s", values).isEqualTo(new HttpAuthenticator.Refused(401, "Bearer realm=\"mcp\""));
        }
        assertThat(KEYS.authenticate(request(List.of("Bearer " + SUPPORT_KEY), null)))
                .isInstanceOfSatisfying(HttpAuthenticator.Authenticated.class,
                        ok -> assertThat(ok.agent().agentId()).isEqualTo("support-bot"));
    }

    /** A servlet request, the boundary the authenticator reads headers from. */
    static jakarta.servlet.http.HttpServletRequest request(List<String> authorization, String runId) {
        var request = org.mockito.Mockito.mock(jakarta.servlet.http.HttpServletRequest.class);
        org.mockito.Mockito.when(request.getHeaders("Authorization"))
                .thenAnswer(i -> java.util.Collections.enumeration(authorization));
        org.mockito.Mockito.when(request.getHeader(org.mockito.ArgumentMatchers.anyString())).thenReturn(runId);
        return request;
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
