package io.mcpguard.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.mcpguard.GuardEventListener;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalDecision;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/** Conditions, back-off, property binding and the disabled switch, without a web server. */
class McpGuardAutoConfigurationTest {

    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(McpGuardAutoConfiguration.class))
            .withPropertyValues("mcp-guard.scopes.orders=get_order,list_*");

    static final AgentIdentity AGENT = AgentIdentity.builder("billing-agent").scopes("orders").build();

    /** A stateless tool list bean: its wrapped handlers can be called directly with a transport context. */
    @Configuration(proxyBeanMethods = false)
    static class Tools {
        @Bean
        List<McpStatelessServerFeatures.SyncToolSpecification> tools() {
            return List.of(new McpStatelessServerFeatures.SyncToolSpecification(
                    McpSchema.Tool.builder().name("get_order").inputSchema(Map.of("type", "object")).build(),
                    (context, request) -> McpSchema.CallToolResult.builder().addTextContent("ran").isError(false)
                            .build()));
        }
    }

    static String call(List<McpStatelessServerFeatures.SyncToolSpecification> tools) {
        var result = tools.get(0).callHandler().apply(McpTransportContext.create(Map.of(AgentIdentity.CONTEXT_KEY,
                AGENT)), new McpSchema.CallToolRequest("get_order", Map.of()));
        return Boolean.TRUE.equals(result.isError()) ? String.valueOf(result.meta().get("io.mcpguard/reason")) : "ok";
    }

    @Test
    void aGuardAndAPolicyAreBuiltFromProperties() {
        runner.withPropertyValues(
                        "mcp-guard.agents.ops-admin=*",
                        "mcp-guard.quotas[0].per=agent", "mcp-guard.quotas[0].limit=100",
                        "mcp-guard.quotas[0].window=1m",
                        "mcp-guard.concurrency[0].max=4",
                        "mcp-guard.timeouts[0].timeout=10s",
                        "mcp-guard.breaker.minimum-number-of-calls=5",
                        "mcp-guard.approvals.rules[0].tools=issue_refund",
                        "mcp-guard.approvals.rules[0].argument=amount",
                        "mcp-guard.approvals.rules[0].above=100",
                        "mcp-guard.reversibility.get_order=read_only")
                .run(context -> {
                    assertThat(context).hasSingleBean(McpGuard.class).hasSingleBean(Policy.class);
                    assertThat(context.getBean(Policy.class).canonicalForm()).contains(
                            "scope orders -> glob(list_*) | names(get_order)",
                            "agent ops-admin -> glob(*)",
                            "quota agent 100/PT1M tools=glob(*)",
                            "concurrency agent 4 tools=glob(*)",
                            "1. timeout PT10S tools=glob(*)",
                            "1. breaker rate=50.0% window=20 min=5 open=PT30S halfOpen=3 tools=glob(*)",
                            "1. reversibility read_only tools=names(get_order)",
                            "approval tools=names(issue_refund) when amount > 100");
                });
    }

    @Test
    void aPolicyBeanReplacesTheProperties() {
        Policy mine = Policy.builder().scope("mine", ToolMatcher.names("x")).build();
        runner.withBean(Policy.class, () -> mine)
                .run(context -> assertThat(context.getBean(McpGuard.class).policy()).isSameAs(mine));
    }

    @Test
    void aGuardBeanReplacesTheAutoConfiguredOne() {
        McpGuard mine = McpGuard.builder().policy(Policy.denyAll()).build();
        runner.withBean(McpGuard.class, () -> mine)
                .run(context -> assertThat(context.getBean(McpGuard.class)).isSameAs(mine));
    }

    @Test
    void policyCustomizersAddToTheProperties() {
        runner.withBean(McpGuardPolicyCustomizer.class, () -> policy -> policy.agent("auditor", ToolMatcher.all()))
                .run(context -> assertThat(context.getBean(Policy.class).canonicalForm())
                        .contains("scope orders ->", "agent auditor -> glob(*)"));
    }

    @Test
    void theDisabledSwitchTurnsEverythingOff() {
        runner.withPropertyValues("mcp-guard.enabled=false").withUserConfiguration(Tools.class)
                .run(context -> {
                    assertThat(context).doesNotHaveBean(McpGuard.class).doesNotHaveBean(Policy.class);
                    @SuppressWarnings("unchecked")
                    var tools = (List<McpStatelessServerFeatures.SyncToolSpecification>) context.getBean("tools");
                    assertThat(call(tools)).as("not wrapped").isEqualTo("ok");
                });
    }

    @Test
    void toolListBeansAreWrappedAndTheApplicationsApprovalHandlerIsUsed() {
        // No annotations: irreversible by the specification's defaults, so the call needs approval.
        runner.withUserConfiguration(Tools.class).run(context -> {
            @SuppressWarnings("unchecked")
            var tools = (List<McpStatelessServerFeatures.SyncToolSpecification>) context.getBean("tools");
            assertThat(call(tools)).isEqualTo("approval_denied");
        });
        runner.withUserConfiguration(Tools.class)
                .withBean(ApprovalHandler.class, () -> request -> CompletableFuture.completedFuture(
                        ApprovalDecision.approve("bot", "test")))
                .run(context -> {
                    @SuppressWarnings("unchecked")
                    var tools = (List<McpStatelessServerFeatures.SyncToolSpecification>) context.getBean("tools");
                    assertThat(call(tools)).isEqualTo("ok");
                });
    }

    @Test
    void theApplicationsAuditSinkAndEventListenersArePickedUp() {
        List<AuditRecord> records = new CopyOnWriteArrayList<>();
        List<Object> events = new CopyOnWriteArrayList<>();
        runner.withUserConfiguration(Tools.class)
                .withPropertyValues("mcp-guard.approvals.irreversible-needs-approval=false",
                        "mcp-guard.quotas[0].limit=1", "mcp-guard.quotas[0].window=1h")
                .withBean(AuditSink.class, () -> records::add)
                .withBean(GuardEventListener.class, () -> events::add)
                .run(context -> {
                    @SuppressWarnings("unchecked")
                    var tools = (List<McpStatelessServerFeatures.SyncToolSpecification>) context.getBean("tools");
                    assertThat(call(tools)).isEqualTo("ok");
                    assertThat(call(tools)).isEqualTo("quota_exceeded");
                    context.getBean(McpGuard.class).close();
                    assertThat(records).extracting(AuditRecord::type)
                            .contains("call.decision", "call.outcome");
                    assertThat(events).hasSize(1);
                });
    }

    @Test
    void aBadPropertyStopsStartupWithTheBadValueNamed() {
        runner.withPropertyValues("mcp-guard.scopes.broken=get order").run(context -> assertThat(context)
                .hasFailed().getFailure().rootCause().hasMessageContaining("invalid tool name 'get order'"));
    }

    @Test
    void theDefaultMapperReadsAgentAndScopesFromJwtClaimsAndSkipsWhatDoesNotFit() {
        var mapper = new ClaimsAgentMapper(new McpGuardProperties.Identity("sub", List.of("scope", "scp"), "SCOPE_",
                null));
        Jwt jwt = Jwt.withTokenValue("secret-token-value").header("alg", "RS256").subject("billing-agent")
                .claim("scope", "orders:read refunds").claim("scp", List.of("extra", "bad scope\"x"))
                .claim("jti", "t-1").issuedAt(Instant.now()).expiresAt(Instant.now().plusSeconds(60)).build();
        var auth = new JwtAuthenticationToken(jwt, List.of(new SimpleGrantedAuthority("SCOPE_admin"),
                new SimpleGrantedAuthority("ROLE_user")));

        AgentIdentity agent = mapper.map(auth).orElseThrow();

        assertThat(agent.agentId()).isEqualTo("billing-agent");
        assertThat(agent.scopes()).containsExactlyInAnyOrder("orders:read", "refunds", "extra", "admin");
        assertThat(agent.credentialId()).isEqualTo("jwt:t-1");
        assertThat(agent.toString()).doesNotContain("secret-token-value");
        Jwt anonymous = Jwt.withTokenValue("t").header("alg", "RS256").claim("scope", "x").build();
        assertThat(mapper.map(new JwtAuthenticationToken(anonymous))).as("no subject, no agent").isEmpty();
    }

    @Test
    void anApplicationMapperReplacesTheDefaultAndTheTransportCarriesTheIdentityExtractor() {
        var web = new org.springframework.boot.test.context.runner.WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(McpGuardAutoConfiguration.class,
                        org.springframework.ai.mcp.server.common.autoconfigure.McpServerJsonMapperAutoConfiguration.class))
                .withPropertyValues("mcp-guard.scopes.orders=get_order", "spring.ai.mcp.server.protocol=STREAMABLE");
        web.run(context -> {
            assertThat(context).hasSingleBean(ClaimsAgentMapper.class).hasSingleBean(
                    org.springframework.ai.mcp.server.webmvc.transport.WebMvcStreamableServerTransportProvider.class);
        });
        // Custom or nested claims (e.g. Keycloak's realm_access.roles) through the application's own mapper.
        AuthenticationAgentMapper nested = auth -> {
            Jwt jwt = (Jwt) auth.getPrincipal();
            @SuppressWarnings("unchecked")
            var roles = (List<String>) ((Map<String, Object>) jwt.getClaims().get("realm_access")).get("roles");
            return java.util.Optional.of(AgentIdentity.builder(jwt.getSubject()).scopes(roles).build());
        };
        web.withBean(AuthenticationAgentMapper.class, () -> nested).run(context -> {
            assertThat(context.getBean(AuthenticationAgentMapper.class)).isSameAs(nested);
            assertThat(context).doesNotHaveBean(ClaimsAgentMapper.class);
        });
    }
}
