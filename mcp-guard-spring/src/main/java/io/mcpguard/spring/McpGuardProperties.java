package io.mcpguard.spring;

import io.mcpguard.approval.ApprovalMode;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code mcp-guard.*} properties. They build the guard's immutable {@code Policy}; a {@code Policy} bean or a
 * {@link McpGuardPolicyCustomizer} adds to or replaces them in code. Tool lists take exact names or globs
 * ({@code *}, {@code ?}).
 *
 * @param enabled whether the guard is installed (default true)
 * @param scopes tools granted per scope, e.g. {@code orders:read: [get_order, "list_*"]}
 * @param agents tools granted per agent id, whatever its scopes
 * @param quotas rate quotas
 * @param concurrency concurrency limits
 * @param timeouts per-tool call timeouts
 * @param breaker the circuit breaker for the selected tools
 * @param approvals the human approval gate
 * @param reversibility reversibility per tool pattern ({@code read_only}, {@code reversible}, {@code irreversible}),
 *     overriding what the tools declare
 * @param identity how a Spring Security {@code Authentication} becomes an agent identity
 */
@ConfigurationProperties("mcp-guard")
public record McpGuardProperties(
        @DefaultValue("true") boolean enabled,
        Map<String, List<String>> scopes,
        Map<String, List<String>> agents,
        List<Quota> quotas,
        List<Concurrency> concurrency,
        List<Timeout> timeouts,
        Breaker breaker,
        @DefaultValue Approvals approvals,
        Map<String, String> reversibility,
        @DefaultValue Identity identity) {

    /**
     * A rate quota.
     *
     * @param per {@code agent-and-tool}, {@code agent} or {@code tool}
     * @param limit calls per window
     * @param window the window, e.g. {@code 1m}
     * @param tools the tools it applies to (default all)
     */
    public record Quota(@DefaultValue("agent-and-tool") String per, int limit, Duration window, List<String> tools) {
    }

    /**
     * A concurrency limit.
     *
     * @param per {@code agent-and-tool}, {@code agent} or {@code tool}
     * @param max calls in flight
     * @param tools the tools it applies to (default all)
     */
    public record Concurrency(@DefaultValue("agent") String per, int max, List<String> tools) {
    }

    /**
     * A call timeout.
     *
     * @param timeout the timeout
     * @param tools the tools it applies to (default all)
     */
    public record Timeout(Duration timeout, List<String> tools) {
    }

    /**
     * A circuit breaker per selected tool.
     *
     * @param enabled whether to add it
     * @param failureRateThreshold percent
     * @param slidingWindowSize calls in the window
     * @param minimumNumberOfCalls calls before the rate counts
     * @param waitInOpenState how long it stays open
     * @param permittedCallsInHalfOpenState probes
     * @param tools the tools (default all)
     */
    public record Breaker(@DefaultValue("true") boolean enabled, @DefaultValue("50") float failureRateThreshold,
            @DefaultValue("20") int slidingWindowSize, @DefaultValue("10") int minimumNumberOfCalls,
            @DefaultValue("30s") Duration waitInOpenState, @DefaultValue("3") int permittedCallsInHalfOpenState,
            List<String> tools) {
    }

    /**
     * The approval gate.
     *
     * @param mode {@code defer} (default) or {@code wait}
     * @param timeout how long a request stays open (default 5m)
     * @param irreversibleNeedsApproval whether irreversible tools need approval by default (default true)
     * @param rules which calls need approval
     * @param requestsPerHour approval requests each agent may cause per hour (default 20)
     */
    public record Approvals(@DefaultValue("DEFER") ApprovalMode mode, @DefaultValue("5m") Duration timeout,
            @DefaultValue("true") boolean irreversibleNeedsApproval, List<ApprovalRuleProperties> rules,
            @DefaultValue("20") int requestsPerHour) {
    }

    /**
     * An approval rule: the tools always need approval, or only when a numeric argument is above a threshold.
     *
     * @param tools the tools
     * @param argument the numeric argument, or none for "always"
     * @param above the threshold above which approval is needed
     */
    public record ApprovalRuleProperties(List<String> tools, String argument, BigDecimal above) {
    }

    /**
     * Identity mapping from Spring Security.
     *
     * @param agentIdClaim the JWT claim that names the agent (default {@code sub}); other authentications use
     *     {@code Authentication.getName()}
     * @param scopeClaims JWT claims that hold scopes, space-separated strings or lists (default {@code scope, scp})
     * @param authorityPrefix authorities with this prefix also become scopes, prefix removed (default
     *     {@code SCOPE_}); empty to take every authority as a scope
     * @param runIdHeader a request header copied into the identity's run id (correlation only), or none
     */
    public record Identity(@DefaultValue("sub") String agentIdClaim, @DefaultValue({"scope", "scp"}) List<String> scopeClaims,
            @DefaultValue("SCOPE_") String authorityPrefix, String runIdHeader) {
    }
}
