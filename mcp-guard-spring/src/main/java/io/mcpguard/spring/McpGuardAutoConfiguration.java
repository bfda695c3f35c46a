package io.mcpguard.spring;

import io.mcpguard.GuardEventListener;
import io.mcpguard.McpGuard;
import io.mcpguard.Policy;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.audit.AuditSink;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.policy.ArgumentCondition;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.QuotaRule;
import io.mcpguard.telemetry.McpTelemetryNames;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpTransportContextExtractor;
import io.modelcontextprotocol.spec.McpSchema;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.ai.mcp.customizer.McpAsyncServerCustomizer;
import org.springframework.ai.mcp.customizer.McpSyncServerCustomizer;
import org.springframework.ai.mcp.server.common.autoconfigure.McpServerAutoConfiguration;
import org.springframework.ai.mcp.server.common.autoconfigure.McpServerStdioDisabledCondition;
import org.springframework.ai.mcp.server.common.autoconfigure.properties.McpServerStreamableHttpProperties;
import org.springframework.ai.mcp.server.webmvc.transport.WebMvcStreamableServerTransportProvider;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.servlet.function.ServerRequest;
import tools.jackson.databind.json.JsonMapper;

/**
 * Installs mcp-guard in a Spring AI MCP server: wraps every tool specification bean (sync, async and stateless,
 * including those Spring AI builds from {@code @McpTool} methods and {@code @Tool} callbacks), adds the per-caller
 * {@code tools/list} filter through a {@code @Primary} server customizer that still applies Spring AI's own, and
 * supplies the Streamable HTTP transport with a context extractor that turns the Spring Security principal into the
 * caller's agent identity. Every bean backs off when the application defines its own; {@code mcp-guard.enabled=false}
 * turns it all off.
 */
@AutoConfiguration(beforeName = {
        "org.springframework.ai.mcp.server.webmvc.autoconfigure.McpServerStreamableHttpWebMvcAutoConfiguration",
        "org.springframework.ai.mcp.server.common.autoconfigure.McpServerAutoConfiguration",
        "org.springframework.ai.mcp.server.common.autoconfigure.McpServerStatelessAutoConfiguration"})
@ConditionalOnClass({McpGuard.class, McpSchema.class})
@ConditionalOnProperty(prefix = "mcp-guard", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(McpGuardProperties.class)
public class McpGuardAutoConfiguration {

    /**
     * The policy from {@code mcp-guard.*} properties plus every {@link McpGuardPolicyCustomizer}.
     *
     * @param properties the properties
     * @param customizers the customizers
     * @return the immutable policy
     */
    @Bean
    @ConditionalOnMissingBean
    public Policy mcpGuardPolicy(McpGuardProperties properties, ObjectProvider<McpGuardPolicyCustomizer> customizers) {
        Policy.Builder builder = PolicyProperties.toBuilder(properties);
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder.build();
    }

    /**
     * Reads the identity the transport's context extractor stored.
     *
     * @return the resolver
     */
    @Bean
    @ConditionalOnMissingBean
    public AgentResolver mcpGuardAgentResolver() {
        return AgentResolver.fromContext();
    }

    /**
     * The guard. Picks up the application's {@link ApprovalHandler}, {@link OpenTelemetry}, {@link AuditSink} and
     * {@link GuardEventListener} beans.
     *
     * @param policy the policy
     * @param resolver the identity resolver
     * @param properties the properties
     * @param approvals an approval handler bean, if any (default: deny all)
     * @param openTelemetry an OpenTelemetry bean, if any (default: no-op)
     * @param audit an audit sink bean, if any (default: SLF4J)
     * @param listeners event listener beans
     * @return the guard
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public McpGuard mcpGuard(Policy policy, AgentResolver resolver, McpGuardProperties properties,
            ObjectProvider<ApprovalHandler> approvals, ObjectProvider<OpenTelemetry> openTelemetry,
            ObjectProvider<AuditSink> audit, ObjectProvider<GuardEventListener> listeners) {
        McpGuard.Builder builder = McpGuard.builder().policy(policy).agentResolver(resolver)
                .approvalMode(properties.approvals().mode()).approvalTimeout(properties.approvals().timeout());
        approvals.ifAvailable(builder::approvals);
        openTelemetry.ifAvailable(builder::openTelemetry);
        audit.ifAvailable(builder::audit);
        listeners.orderedStream().forEach(builder::eventListener);
        return builder.build();
    }

    /**
     * Wraps every tool specification list bean, and applies {@code @ToolReversibility} from {@code @McpTool} methods.
     *
     * @param guard the guard, looked up when the first list is wrapped
     * @return the post-processor
     */
    @Bean
    static BeanPostProcessor mcpGuardToolSpecificationPostProcessor(ObjectProvider<McpGuard> guard) {
        return new ToolSpecificationPostProcessor(guard);
    }

    /**
     * The one synchronous server customizer Spring AI applies: it runs every other customizer (such as Spring AI's
     * own {@code immediateExecution} for servlet apps), then installs the guard's list filter and moves argument
     * validation after the scope check.
     *
     * @param guard the guard
     * @param others the other customizers
     * @return the customizer
     */
    @Bean
    @Primary
    @ConditionalOnClass(McpSyncServerCustomizer.class)
    public McpSyncServerCustomizer mcpGuardSyncServerCustomizer(McpGuard guard,
            ObjectProvider<McpSyncServerCustomizer> others) {
        McpSyncServerCustomizer self = new McpSyncServerCustomizer() {
            @Override
            public void customize(io.modelcontextprotocol.server.McpServer.SyncSpecification<?> spec) {
                others.orderedStream().filter(other -> other != this).forEach(other -> other.customize(spec));
                spec.validateToolInputs(false);
                spec.addToolFilter(guard.syncToolFilter());
            }
        };
        return self;
    }

    /**
     * The asynchronous counterpart of {@link #mcpGuardSyncServerCustomizer}.
     *
     * @param guard the guard
     * @param others the other customizers
     * @return the customizer
     */
    @Bean
    @Primary
    @ConditionalOnClass(McpAsyncServerCustomizer.class)
    public McpAsyncServerCustomizer mcpGuardAsyncServerCustomizer(McpGuard guard,
            ObjectProvider<McpAsyncServerCustomizer> others) {
        return new McpAsyncServerCustomizer() {
            @Override
            public void customize(io.modelcontextprotocol.server.McpServer.AsyncSpecification<?> spec) {
                others.orderedStream().filter(other -> other != this).forEach(other -> other.customize(spec));
                spec.validateToolInputs(false);
                spec.addToolFilter(guard.asyncToolFilter());
            }
        };
    }

    /** The Streamable HTTP transport with the Spring Security identity extractor. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass({WebMvcStreamableServerTransportProvider.class, SecurityContextHolder.class})
    @Conditional({McpServerStdioDisabledCondition.class, McpServerAutoConfiguration.EnabledStreamableServerCondition.class})
    @EnableConfigurationProperties(McpServerStreamableHttpProperties.class)
    static class StreamableTransportConfiguration {

        /**
         * Maps Spring Security authentications to agent identities.
         *
         * @param properties the properties
         * @return the mapper
         */
        @Bean
        @ConditionalOnMissingBean
        AuthenticationAgentMapper mcpGuardAgentMapper(McpGuardProperties properties) {
            return new ClaimsAgentMapper(properties.identity());
        }

        /**
         * Spring AI's transport, as Spring AI would build it, plus the identity extractor.
         *
         * @param jsonMapper Spring AI's MCP JSON mapper
         * @param serverProperties Spring AI's transport properties
         * @param mapper the identity mapping
         * @param properties the guard's properties
         * @return the transport
         */
        @Bean
        @ConditionalOnMissingBean
        WebMvcStreamableServerTransportProvider webMvcStreamableServerTransportProvider(
                @Qualifier("mcpServerJsonMapper") JsonMapper jsonMapper,
                McpServerStreamableHttpProperties serverProperties, AuthenticationAgentMapper mapper,
                McpGuardProperties properties) {
            return WebMvcStreamableServerTransportProvider.builder()
                    .jsonMapper(new JacksonMcpJsonMapper(jsonMapper))
                    .mcpEndpoint(serverProperties.getMcpEndpoint())
                    .keepAliveInterval(serverProperties.getKeepAliveInterval())
                    .disallowDelete(serverProperties.isDisallowDelete())
                    .contextExtractor(securityContextExtractor(mapper, properties.identity().runIdHeader()))
                    .build();
        }
    }

    /**
     * A context extractor that stores the identity of the request's Spring Security principal (never a token) in
     * the MCP transport context. Requests without an authenticated principal get an empty context: unknown agent.
     *
     * @param mapper the identity mapping
     * @param runIdHeader a header whose value becomes the run id, or {@code null}
     * @return the extractor
     */
    public static McpTransportContextExtractor<ServerRequest> securityContextExtractor(
            AuthenticationAgentMapper mapper, String runIdHeader) {
        return request -> {
            Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
            if (authentication == null || !authentication.isAuthenticated()
                    || "anonymousUser".equals(authentication.getPrincipal())) {
                return McpTransportContext.EMPTY;
            }
            Optional<AgentIdentity> identity;
            try {
                identity = mapper.map(authentication);
            } catch (RuntimeException e) {
                identity = Optional.empty();
            }
            if (identity.isEmpty()) {
                return McpTransportContext.EMPTY;
            }
            AgentIdentity agent = identity.get();
            if (runIdHeader != null) {
                String run = request.headers().firstHeader(runIdHeader);
                if (run != null && run.matches("[\\x21-\\x7E]{1,256}")) {
                    agent = agent.forRun(run);
                }
            }
            Map<String, Object> values = new HashMap<>();
            values.put(AgentIdentity.CONTEXT_KEY, agent);
            values.put(McpTelemetryNames.CONTEXT_NETWORK_TRANSPORT, "tcp");
            request.remoteAddress().ifPresent(address ->
                    values.put(McpTelemetryNames.CONTEXT_CLIENT_ADDRESS, address.getAddress().getHostAddress()));
            return McpTransportContext.create(values);
        };
    }

    /** Wraps tool specification lists with the guard. */
    static final class ToolSpecificationPostProcessor implements BeanPostProcessor {

        private final ObjectProvider<McpGuard> guard;
        private final Map<String, Reversibility> declared = new java.util.concurrent.ConcurrentHashMap<>();

        ToolSpecificationPostProcessor(ObjectProvider<McpGuard> guard) {
            this.guard = guard;
        }

        @Override
        public Object postProcessAfterInitialization(Object bean, String beanName) {
            if (!(bean instanceof List<?> list)) {
                recordDeclaredReversibility(bean);
                return bean;
            }
            if (list.isEmpty()) {
                return bean;
            }
            Object first = list.get(0);
            if (first instanceof McpServerFeatures.SyncToolSpecification) {
                return list.stream().map(spec -> (McpServerFeatures.SyncToolSpecification) spec)
                        .map(spec -> guard.getObject().wrap(new McpServerFeatures.SyncToolSpecification(
                                declare(spec.tool()), spec.callHandler())))
                        .toList();
            }
            if (first instanceof McpServerFeatures.AsyncToolSpecification) {
                return list.stream().map(spec -> (McpServerFeatures.AsyncToolSpecification) spec)
                        .map(spec -> guard.getObject().wrap(new McpServerFeatures.AsyncToolSpecification(
                                declare(spec.tool()), spec.callHandler())))
                        .toList();
            }
            if (first instanceof McpStatelessServerFeatures.SyncToolSpecification) {
                return list.stream().map(spec -> (McpStatelessServerFeatures.SyncToolSpecification) spec)
                        .map(spec -> guard.getObject().wrap(new McpStatelessServerFeatures.SyncToolSpecification(
                                declare(spec.tool()), spec.callHandler())))
                        .toList();
            }
            if (first instanceof McpStatelessServerFeatures.AsyncToolSpecification) {
                return list.stream().map(spec -> (McpStatelessServerFeatures.AsyncToolSpecification) spec)
                        .map(spec -> guard.getObject().wrap(new McpStatelessServerFeatures.AsyncToolSpecification(
                                declare(spec.tool()), spec.callHandler())))
                        .toList();
            }
            return bean;
        }

        private McpSchema.Tool declare(McpSchema.Tool tool) {
            Reversibility reversibility = declared.get(tool.name());
            return reversibility == null ? tool : reversibility.annotate(tool);
        }

        private void recordDeclaredReversibility(Object bean) {
            Class<?> type = org.springframework.aop.support.AopUtils.getTargetClass(bean);
            if (type.getName().startsWith("org.springframework.") || type.getName().startsWith("java.")) {
                return;
            }
            for (var method : type.getMethods()) {
                Optional<Reversibility> reversibility = Reversibility.declaredOn(method);
                if (reversibility.isEmpty()) {
                    continue;
                }
                String name = method.getName();
                var mcpTool = mcpToolName(method);
                declared.put(mcpTool.orElse(name), reversibility.get());
            }
        }

        private static Optional<String> mcpToolName(java.lang.reflect.Method method) {
            try {
                var annotation = method.getAnnotation(org.springframework.ai.mcp.annotation.McpTool.class);
                return annotation == null || annotation.name().isBlank() ? Optional.empty()
                        : Optional.of(annotation.name());
            } catch (NoClassDefFoundError e) {
                return Optional.empty();
            }
        }
    }

    /** Builds a policy from the properties. */
    static final class PolicyProperties {

        private PolicyProperties() {
        }

        static Policy.Builder toBuilder(McpGuardProperties p) {
            Policy.Builder b = Policy.builder();
            if (p.scopes() != null) {
                p.scopes().forEach((scope, tools) -> b.scope(scope, matchers(tools)));
            }
            if (p.agents() != null) {
                p.agents().forEach((agent, tools) -> b.agent(agent, matchers(tools)));
            }
            if (p.quotas() != null) {
                for (var q : p.quotas()) {
                    QuotaRule rule = switch (key(q.per())) {
                        case "agent" -> QuotaRule.perAgent(q.limit(), q.window());
                        case "tool" -> QuotaRule.perTool(q.limit(), q.window());
                        default -> QuotaRule.perAgentAndTool(q.limit(), q.window());
                    };
                    b.quota(rule.forTools(matcher(q.tools())));
                }
            }
            if (p.concurrency() != null) {
                for (var c : p.concurrency()) {
                    ConcurrencyRule rule = switch (key(c.per())) {
                        case "tool" -> ConcurrencyRule.perTool(c.max());
                        case "agent-and-tool" -> ConcurrencyRule.perAgentAndTool(c.max());
                        default -> ConcurrencyRule.perAgent(c.max());
                    };
                    b.concurrency(rule.forTools(matcher(c.tools())));
                }
            }
            if (p.timeouts() != null) {
                p.timeouts().forEach(t -> b.timeout(t.timeout(), matcher(t.tools())));
            }
            if (p.breaker() != null && p.breaker().enabled()) {
                var br = p.breaker();
                b.circuitBreaker(BreakerRule.forTools(matcher(br.tools()))
                        .failureRateThreshold(br.failureRateThreshold()).slidingWindowSize(br.slidingWindowSize())
                        .minimumNumberOfCalls(br.minimumNumberOfCalls()).waitInOpenState(br.waitInOpenState())
                        .permittedCallsInHalfOpenState(br.permittedCallsInHalfOpenState()));
            }
            var approvals = p.approvals();
            b.irreversibleNeedsApproval(approvals.irreversibleNeedsApproval());
            b.approvalRequests(approvals.requestsPerHour(), Duration.ofHours(1));
            if (approvals.rules() != null) {
                for (var r : approvals.rules()) {
                    ApprovalRule rule = ApprovalRule.forTools(matcher(r.tools()));
                    if (r.argument() != null) {
                        if (r.above() == null) {
                            throw new IllegalArgumentException("mcp-guard.approvals.rules: argument '" + r.argument()
                                    + "' needs 'above'");
                        }
                        rule = rule.when(ArgumentCondition.numberAbove(r.argument(), r.above()));
                    }
                    b.approval(rule);
                }
            }
            if (p.reversibility() != null) {
                p.reversibility().forEach((tools, value) -> b.reversibility(matcher(List.of(tools)),
                        Reversibility.fromCode(value.replace('-', '_')).orElseThrow(() -> new IllegalArgumentException(
                                "mcp-guard.reversibility." + tools + ": '" + value
                                        + "' is not read_only, reversible or irreversible"))));
            }
            return b;
        }

        private static String key(String per) {
            String k = per == null ? "agent-and-tool" : per.toLowerCase(Locale.ROOT).replace('_', '-');
            if (!List.of("agent-and-tool", "agent", "tool").contains(k)) {
                throw new IllegalArgumentException("mcp-guard: 'per' must be agent-and-tool, agent or tool, got '"
                        + per + "'");
            }
            return k;
        }

        private static ToolMatcher matcher(List<String> tools) {
            if (tools == null || tools.isEmpty()) {
                return ToolMatcher.all();
            }
            ToolMatcher[] matchers = matchers(tools);
            return matchers.length == 1 ? matchers[0]
                    : ToolMatcher.where("any of " + tools, tool -> java.util.Arrays.stream(matchers)
                            .anyMatch(m -> m.matches(tool)));
        }

        private static ToolMatcher[] matchers(List<String> tools) {
            return tools.stream().map(t -> t.contains("*") || t.contains("?") ? ToolMatcher.glob(t)
                    : ToolMatcher.names(t)).toArray(ToolMatcher[]::new);
        }
    }
}
