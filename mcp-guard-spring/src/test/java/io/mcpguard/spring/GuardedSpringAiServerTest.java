package io.mcpguard.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import io.mcpguard.McpGuard;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.web.SecurityFilterChain;

/**
 * A real Spring AI MCP server (Spring Boot, WebMvc Streamable HTTP) on a random port, guarded by the
 * auto-configuration. Spring Security validates real JWTs signed with a locally generated key.
 */
@SpringBootTest(classes = GuardedSpringAiServerTest.App.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
                "spring.ai.mcp.server.protocol=STREAMABLE",
                "spring.ai.mcp.server.name=orders",
                "mcp-guard.scopes[orders\\:read]=get_order,list_orders,order_count,purge_cache",
                "mcp-guard.scopes[weather]=current_weather",
                "mcp-guard.reversibility.current_weather=read_only",
                "mcp-guard.scopes[refunds]=issue_refund",
                "mcp-guard.quotas[0].limit=3",
                "mcp-guard.quotas[0].window=1m",
                "mcp-guard.quotas[0].tools=get_order",
                "mcp-guard.approvals.rules[0].tools=issue_refund",
                "mcp-guard.approvals.rules[0].argument=amount",
                "mcp-guard.approvals.rules[0].above=100"})
class GuardedSpringAiServerTest {

    static final KeyPair RSA = rsa();

    @LocalServerPort
    int port;

    @Autowired
    McpGuard guard;

    final List<McpSyncClient> clients = new ArrayList<>();

    @AfterEach
    void close() {
        clients.forEach(McpSyncClient::close);
    }

    static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String token(String subject, String scope) {
        RSAKey key = new RSAKey.Builder((RSAPublicKey) RSA.getPublic()).privateKey((RSAPrivateKey) RSA.getPrivate())
                .keyID("test").build();
        JwtEncoder encoder = new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key)));
        JwtClaimsSet claims = JwtClaimsSet.builder().subject(subject).claim("scope", scope)
                .id("token-" + subject).issuedAt(Instant.now()).expiresAt(Instant.now().plusSeconds(600)).build();
        return encoder.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.RS256).keyId("test").build(),
                claims)).getTokenValue();
    }

    McpSyncClient client(String subject, String scope) {
        var transport = HttpClientStreamableHttpTransport.builder("http://localhost:" + port).endpoint("/mcp")
                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + token(subject, scope)))
                .build();
        McpSyncClient client = McpClient.sync(transport).build();
        clients.add(client);
        client.initialize();
        return client;
    }

    static List<String> names(McpSyncClient client) {
        return client.listTools().tools().stream().map(McpSchema.Tool::name).sorted().toList();
    }

    static String reason(McpSchema.CallToolResult result) {
        return Boolean.TRUE.equals(result.isError()) ? String.valueOf(result.meta().get("io.mcpguard/reason")) : "ok";
    }

    @Test
    void twoAgentsWithDifferentJwtScopesSeeDifferentTools() {
        assertThat(names(client("support-bot", "orders:read")))
                .containsExactly("get_order", "list_orders", "order_count", "purge_cache");
        assertThat(names(client("billing-agent", "orders:read refunds")))
                .containsExactly("get_order", "issue_refund", "list_orders", "order_count", "purge_cache");
        assertThat(names(client("refund-only", "refunds"))).containsExactly("issue_refund");
        assertThat(names(client("no-scopes", ""))).isEmpty();
    }

    @Test
    void anOutOfScopeCallIsRefusedExactlyLikeAnUnknownTool() {
        McpSyncClient support = client("support-bot", "orders:read");

        McpError hidden = catchThrowableOfType(McpError.class,
                () -> support.callTool(new CallToolRequest("issue_refund", Map.of("orderId", "o-1", "amount", 5))));
        McpError unknown = catchThrowableOfType(McpError.class,
                () -> support.callTool(new CallToolRequest("transfer_funds", Map.of("amount", 5))));

        assertThat(hidden.getJsonRpcError().code()).isEqualTo(unknown.getJsonRpcError().code()).isEqualTo(-32602);
        assertThat(hidden.getJsonRpcError().message()).isEqualTo(unknown.getJsonRpcError().message());
        assertThat(hidden.getJsonRpcError().data()).isEqualTo("Tool not found: issue_refund");
        assertThat(unknown.getJsonRpcError().data()).isEqualTo("Tool not found: transfer_funds");
    }

    @Test
    void aQuotaFromPropertiesApplies() {
        McpSyncClient client = client("quota-bot", "orders:read");
        for (int i = 0; i < 3; i++) {
            assertThat(reason(client.callTool(new CallToolRequest("get_order", Map.of("orderId", "o-1")))))
                    .isEqualTo("ok");
        }
        assertThat(reason(client.callTool(new CallToolRequest("get_order", Map.of("orderId", "o-1")))))
                .isEqualTo("quota_exceeded");
    }

    @Test
    void anApprovalRuleFromPropertiesApplies() {
        McpSyncClient billing = client("billing-agent", "orders:read refunds");

        assertThat(reason(billing.callTool(new CallToolRequest("issue_refund",
                Map.of("orderId", "o-1", "amount", 50))))).isEqualTo("ok");
        assertThat(reason(billing.callTool(new CallToolRequest("issue_refund",
                Map.of("orderId", "o-1", "amount", 500))))).isEqualTo("approval_denied");
    }

    @Test
    void requestsWithoutAValidTokenAreRefusedBeforeMcpRuns() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                + "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"x\",\"version\":\"1\"}}}";
        for (String authorization : new String[] {null, "Bearer not-a-jwt", "Bearer " + forged()}) {
            var request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/mcp"))
                    .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            assertThat(http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode())
                    .as("authorization %s", authorization).isEqualTo(401);
        }
    }

    /** A token signed with another key. */
    static String forged() {
        KeyPair other = rsa();
        RSAKey key = new RSAKey.Builder((RSAPublicKey) other.getPublic()).privateKey((RSAPrivateKey) other.getPrivate())
                .keyID("test").build();
        return new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key))).encode(JwtEncoderParameters.from(
                JwsHeader.with(SignatureAlgorithm.RS256).keyId("test").build(),
                JwtClaimsSet.builder().subject("ops-admin").claim("scope", "orders:read refunds")
                        .expiresAt(Instant.now().plusSeconds(600)).build())).getTokenValue();
    }

    @Test
    void theGuardBeanIsTheOneInstalled() {
        assertThat(guard.policy().canonicalForm()).contains("scope orders:read -> names(get_order) | names(list_orders)"
                + " | names(order_count) | names(purge_cache)",
                "approval tools=names(issue_refund) when amount > 100");
    }

    @Test
    void toolReversibilityOnMcpToolMethodsOverridesSpringAisDestructiveDefault() {
        McpSyncClient support = client("annotated-bot", "orders:read");

        var listed = support.listTools().tools().stream()
                .collect(java.util.stream.Collectors.toMap(McpSchema.Tool::name, t -> t));
        assertThat(listed.get("order_count").annotations().readOnlyHint()).isTrue();
        assertThat(listed.get("order_count").meta()).containsEntry("io.mcpguard/reversibility", "read_only");
        assertThat(reason(support.callTool(new CallToolRequest("order_count", Map.of())))).isEqualTo("ok");
        // No classification: Spring AI's default destructiveHint=true stands, so it is irreversible and needs approval.
        assertThat(reason(support.callTool(new CallToolRequest("purge_cache", Map.of()))))
                .isEqualTo("approval_denied");
    }

    @Test
    void toolCallbacksFromSpringAisToolAnnotationAreGuardedToo() {
        McpSyncClient forecaster = client("forecaster", "weather");
        McpSyncClient support = client("support-bot", "orders:read");

        assertThat(names(forecaster)).containsExactly("current_weather");
        assertThat(names(support)).doesNotContain("current_weather");
        var result = forecaster.callTool(new CallToolRequest("current_weather", Map.of("city", "Oslo")));
        assertThat(reason(result)).isEqualTo("ok");
        assertThat(((McpSchema.TextContent) result.content().get(0)).text()).contains("Oslo");
        assertThat(catchThrowableOfType(McpError.class, () -> support.callTool(new CallToolRequest(
                "current_weather", Map.of("city", "Oslo")))).getJsonRpcError().message())
                .isEqualTo("Unknown tool: invalid_tool_name");
    }

    /** A tool written with Spring AI's {@code @Tool}, exposed through a callback provider. */
    static class WeatherTools {

        @org.springframework.ai.tool.annotation.Tool(name = "current_weather", description = "Current weather")
        public String currentWeather(String city) {
            return "Sunny in " + city;
        }
    }

    /** Tools written with Spring AI's annotations. */
    @org.springframework.stereotype.Component
    static class AnnotatedTools {

        @org.springframework.ai.mcp.annotation.McpTool(name = "order_count", description = "Count orders")
        @io.mcpguard.approval.ToolReversibility(io.mcpguard.approval.Reversibility.READ_ONLY)
        public int orderCount() {
            return 3;
        }

        @org.springframework.ai.mcp.annotation.McpTool(name = "purge_cache", description = "Purge the order cache")
        public String purgeCache() {
            return "purged";
        }
    }

    /** The application under test: tools, Spring Security with a JWT resource server. */
    @SpringBootApplication
    @org.springframework.context.annotation.Import(AnnotatedTools.class)
    static class App {

        @Bean
        List<SyncToolSpecification> orderTools() {
            return List.of(tool("get_order", true), tool("list_orders", true), tool("issue_refund", false));
        }

        static SyncToolSpecification tool(String name, boolean readOnly) {
            var definition = McpSchema.Tool.builder().name(name).inputSchema(Map.of("type", "object"))
                    .annotations(McpSchema.ToolAnnotations.builder().readOnlyHint(readOnly)
                            .destructiveHint(!readOnly).build())
                    .build();
            return new SyncToolSpecification(definition, (exchange, request) -> McpSchema.CallToolResult.builder()
                    .addTextContent(name + " done").isError(false).build());
        }

        @Bean
        org.springframework.ai.tool.ToolCallbackProvider weatherTools() {
            return org.springframework.ai.tool.method.MethodToolCallbackProvider.builder()
                    .toolObjects(new WeatherTools()).build();
        }

        @Bean
        SecurityFilterChain security(HttpSecurity http) throws Exception {
            return http.authorizeHttpRequests(authorize -> authorize.anyRequest().authenticated())
                    .oauth2ResourceServer(resource -> resource.jwt(Customizer.withDefaults()))
                    .csrf(csrf -> csrf.disable())
                    .build();
        }

        @Bean
        JwtDecoder jwtDecoder() {
            return NimbusJwtDecoder.withPublicKey((RSAPublicKey) RSA.getPublic()).build();
        }
    }
}
