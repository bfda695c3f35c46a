package io.mcpguard;

import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.breaker.BreakerRule;
import io.mcpguard.breaker.TimeoutRule;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.ArgumentBoundary;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.PrimitiveMatcher;
import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.quota.BudgetRule;
import io.mcpguard.quota.ConcurrencyRule;
import io.mcpguard.quota.QuotaRule;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What each agent may see and call: one immutable value, built once in code.
 *
 * <p>Access is denied by default. A tool, resource (or resource template) or prompt is granted to a caller when one
 * of the caller's scopes, or the caller's agent id, has a grant whose {@link ToolMatcher}, {@link ResourceMatcher} or
 * {@link PromptMatcher} selects it. The same decision filters the lists ({@code tools/list}, {@code resources/list},
 * {@code resources/templates/list}, {@code prompts/list}) and protects the use ({@code tools/call},
 * {@code resources/read}, {@code resources/subscribe}, {@code prompts/get}, {@code completion/complete}); it never
 * depends on arguments.
 *
 * <p>There is no API to change a policy, or a guard's policy, after it is built: a new policy means a new guard. The
 * defence cannot be altered by anything that arrives at run time.
 *
 * <p>The policy also holds the limits that keep runaway agents in check: rate quotas, concurrency limits, per-tool
 * call timeouts and circuit breakers. They apply only to calls the scopes already allow.
 *
 * <pre>{@code
 * Policy policy = Policy.builder()
 *     .scope("orders:read", ToolMatcher.names("get_order", "list_orders"))
 *     .scope("refunds", ToolMatcher.glob("refund_*"))
 *     .agent("ops-admin", ToolMatcher.all())
 *     .quota(QuotaRule.perAgentAndTool(60, Duration.ofMinutes(1)))
 *     .quota(QuotaRule.perAgentAndTool(5, Duration.ofMinutes(1)).forTools(ToolMatcher.glob("refund_*")))
 *     .concurrency(ConcurrencyRule.perAgent(4))
 *     .timeout(Duration.ofSeconds(10), ToolMatcher.all())
 *     .circuitBreaker(BreakerRule.forTools(ToolMatcher.all()))
 *     .build();
 * }</pre>
 */
public final class Policy {

    /** How many approval requests an agent may cause per window, unless the policy says otherwise. */
    public static final int DEFAULT_APPROVAL_REQUEST_LIMIT = 20;

    /** The window of {@link #DEFAULT_APPROVAL_REQUEST_LIMIT}. */
    public static final Duration DEFAULT_APPROVAL_REQUEST_WINDOW = Duration.ofHours(1);

    /** The version tag of the canonical form; it changes only if the form itself changes. */
    public static final String CANONICAL_FORM_VERSION = "mcp-guard-policy/1";

    private static final Pattern AGENT_ID = Pattern.compile("[\\x21-\\x7E]{1,256}");

    private final Map<String, List<PrimitiveMatcher>> scopes;
    private final Map<String, List<PrimitiveMatcher>> agents;
    private final List<QuotaRule> quotas;
    private final List<ConcurrencyRule> concurrency;
    private final List<TimeoutRule> timeouts;
    private final List<BreakerRule> breakers;
    private final List<ReversibilityOverride> reversibility;
    private final List<ApprovalRule> approvals;
    private final List<ArgumentBoundary> boundaries;
    private final List<BudgetRule> budgets;
    private final boolean irreversibleNeedsApproval;
    private final int approvalRequestLimit;
    private final Duration approvalRequestWindow;
    private final io.mcpguard.quota.ProbeLimit probeLimit;
    private final String canonicalForm;
    private final String fingerprint;

    private Policy(Builder b) {
        this.scopes = Map.copyOf(b.scopes);
        this.agents = Map.copyOf(b.agents);
        this.quotas = List.copyOf(b.quotas);
        this.concurrency = List.copyOf(b.concurrency);
        this.timeouts = List.copyOf(b.timeouts);
        this.breakers = List.copyOf(b.breakers);
        this.reversibility = List.copyOf(b.reversibility);
        this.approvals = List.copyOf(b.approvals);
        this.boundaries = List.copyOf(b.boundaries);
        this.budgets = List.copyOf(b.budgets);
        this.irreversibleNeedsApproval = b.irreversibleNeedsApproval;
        this.approvalRequestLimit = b.approvalRequestLimit;
        this.approvalRequestWindow = b.approvalRequestWindow;
        this.probeLimit = b.probeLimit;
        this.canonicalForm = canonicalize();
        this.fingerprint = sha256Hex(canonicalForm);
    }

    /**
     * Starts a policy.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A policy that grants nothing: every caller sees no tool and can call none.
     *
     * @return the deny-all policy
     */
    public static Policy denyAll() {
        return new Policy(new Builder());
    }

    /**
     * Decides whether the caller may see and call the tool. Never throws for a well-formed policy: a matcher that
     * throws is treated as "not granted" by the guard.
     *
     * @param agent the verified caller
     * @param tool the tool's definition
     * @return {@code true} if granted
     */
    public boolean permits(AgentIdentity agent, McpSchema.Tool tool) {
        return permits(agent, Primitive.tool(tool));
    }

    /**
     * Decides whether the caller may see and use a primitive: a tool, a static resource, a resource template (and
     * the URIs it serves) or a prompt. A tool predicate that throws propagates; the guard treats it as "not granted".
     *
     * @param agent the verified caller
     * @param primitive the primitive
     * @return {@code true} if granted
     */
    public boolean permits(AgentIdentity agent, Primitive primitive) {
        List<PrimitiveMatcher> direct = agents.get(agent.agentId());
        if (direct != null && anyMatches(direct, primitive)) {
            return true;
        }
        for (String scope : agent.scopes()) {
            List<PrimitiveMatcher> granted = scopes.get(scope);
            if (granted != null && anyMatches(granted, primitive)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns whether any grant names the agent id directly (its visibility then depends on more than its scopes).
     *
     * @param agentId the agent id
     * @return {@code true} if {@link Builder#agent} granted it something
     */
    public boolean grantsAgentDirectly(String agentId) {
        return agents.containsKey(agentId);
    }

    private static boolean anyMatches(List<PrimitiveMatcher> matchers, Primitive primitive) {
        for (int i = 0, n = matchers.size(); i < n; i++) {
            if (primitive.selectedBy(matchers.get(i))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns the grants by scope.
     *
     * @return an unmodifiable map from scope to its matchers
     */
    public Map<String, List<PrimitiveMatcher>> scopes() {
        return scopes;
    }

    /**
     * Returns the grants made directly to agent ids.
     *
     * @return an unmodifiable map from agent id to its matchers
     */
    public Map<String, List<PrimitiveMatcher>> agents() {
        return agents;
    }

    /**
     * Returns the rate quotas, in declaration order. Every rule that selects a tool applies to it.
     *
     * @return an unmodifiable list
     */
    public List<QuotaRule> quotas() {
        return quotas;
    }

    /**
     * Returns the concurrency limits, in declaration order. Every rule that selects a tool applies to it.
     *
     * @return an unmodifiable list
     */
    public List<ConcurrencyRule> concurrency() {
        return concurrency;
    }

    /**
     * Returns the call timeouts, in declaration order. The first rule that selects a tool applies to it.
     *
     * @return an unmodifiable list
     */
    public List<TimeoutRule> timeouts() {
        return timeouts;
    }

    /**
     * Returns the circuit breaker rules, in declaration order. The first rule that selects a tool applies to it.
     *
     * @return an unmodifiable list
     */
    public List<BreakerRule> circuitBreakers() {
        return breakers;
    }

    /**
     * A reversibility the policy assigns to the tools a matcher selects, overriding what the tools declare.
     *
     * @param tools the tools
     * @param reversibility their reversibility
     */
    public record ReversibilityOverride(ToolMatcher tools, Reversibility reversibility) {

        /**
         * Checks the parts.
         *
         * @param tools the tools
         * @param reversibility the reversibility
         */
        public ReversibilityOverride {
            Objects.requireNonNull(tools, "tools");
            Objects.requireNonNull(reversibility, "reversibility");
        }
    }

    /**
     * Returns the policy's reversibility overrides, in declaration order; the first that selects a tool applies.
     *
     * @return an unmodifiable list
     */
    public List<ReversibilityOverride> reversibilityOverrides() {
        return reversibility;
    }

    /**
     * Returns the approval rules, in declaration order.
     *
     * @return an unmodifiable list
     */
    public List<ApprovalRule> approvalRules() {
        return approvals;
    }

    /**
     * Returns the argument boundaries, in declaration order.
     *
     * @return the boundaries
     */
    public List<ArgumentBoundary> boundaries() {
        return boundaries;
    }

    /**
     * Returns the budgets, in declaration order.
     *
     * @return the budgets
     */
    public List<BudgetRule> budgets() {
        return budgets;
    }

    /**
     * Returns whether calls to irreversible tools that no approval rule selects need approval (default true).
     *
     * @return the default for irreversible tools
     */
    public boolean irreversibleNeedsApproval() {
        return irreversibleNeedsApproval;
    }

    /**
     * Returns how many approval requests each agent may cause per {@link #approvalRequestWindow()}.
     *
     * @return the limit
     */
    public int approvalRequestLimit() {
        return approvalRequestLimit;
    }

    /**
     * Returns the window of {@link #approvalRequestLimit()}.
     *
     * @return the window
     */
    public Duration approvalRequestWindow() {
        return approvalRequestWindow;
    }

    /**
     * Returns how many uses of names it may not see (probes) each agent may make, and how many are recorded one by
     * one.
     *
     * @return the probe limit
     */
    public io.mcpguard.quota.ProbeLimit probeLimit() {
        return probeLimit;
    }

    /**
     * Returns whether the policy sets any quota, budget, concurrency limit, timeout or breaker.
     *
     * @return {@code true} if any limit is configured
     */
    public boolean hasLimits() {
        return !(quotas.isEmpty() && concurrency.isEmpty() && timeouts.isEmpty() && breakers.isEmpty()
                && budgets.isEmpty());
    }

    /**
     * Returns the canonical text of the policy: sorted, one grant a line, prefixed with
     * {@link #CANONICAL_FORM_VERSION}. Predicates enter by their description.
     *
     * @return the canonical form
     */
    public String canonicalForm() {
        return canonicalForm;
    }

    /**
     * Returns the SHA-256 of the canonical form, as 64 lower-case hex digits: the same policy gives the same
     * fingerprint in every run and on every machine. It is stamped on spans and audit records.
     *
     * @return the fingerprint
     */
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public String toString() {
        return "Policy[" + scopes.size() + " scopes, " + agents.size() + " agents, sha256=" + fingerprint + "]";
    }

    private String canonicalize() {
        StringBuilder out = new StringBuilder(CANONICAL_FORM_VERSION).append('\n');
        new TreeMap<>(scopes).forEach((scope, matchers) -> out.append("scope ").append(scope).append(" -> ")
                .append(String.join(" | ", canonical(matchers))).append('\n'));
        new TreeMap<>(agents).forEach((agent, matchers) -> out.append("agent ").append(agent).append(" -> ")
                .append(String.join(" | ", canonical(matchers))).append('\n'));
        // Limits: every quota and concurrency rule applies, so their order does not matter (sorted); the first
        // matching timeout and breaker rule wins, so their order does (kept, numbered).
        quotas.stream().map(QuotaRule::canonical).sorted().forEach(line -> out.append(line).append('\n'));
        concurrency.stream().map(ConcurrencyRule::canonical).sorted().forEach(line -> out.append(line).append('\n'));
        for (int i = 0; i < timeouts.size(); i++) {
            out.append(i + 1).append(". ").append(timeouts.get(i).canonical()).append('\n');
        }
        for (int i = 0; i < breakers.size(); i++) {
            out.append(i + 1).append(". ").append(breakers.get(i).canonical()).append('\n');
        }
        for (int i = 0; i < reversibility.size(); i++) {
            out.append(i + 1).append(". reversibility ").append(reversibility.get(i).reversibility().code())
                    .append(" tools=").append(reversibility.get(i).tools().canonical()).append('\n');
        }
        approvals.stream().map(ApprovalRule::canonical).sorted().forEach(line -> out.append(line).append('\n'));
        // Every boundary and budget applies: order does not matter.
        boundaries.stream().map(ArgumentBoundary::canonical).sorted().forEach(line -> out.append(line).append('\n'));
        budgets.stream().map(BudgetRule::canonical).sorted().forEach(line -> out.append(line).append('\n'));
        if (!irreversibleNeedsApproval) {
            out.append("approval irreversible-by-default off\n");
        }
        if (approvalRequestLimit != DEFAULT_APPROVAL_REQUEST_LIMIT
                || !approvalRequestWindow.equals(DEFAULT_APPROVAL_REQUEST_WINDOW)) {
            out.append("approval requests ").append(approvalRequestLimit).append('/').append(approvalRequestWindow)
                    .append(" per agent\n");
        }
        if (!probeLimit.equals(io.mcpguard.quota.ProbeLimit.defaults())) {
            out.append(probeLimit.canonical()).append('\n');
        }
        return out.toString();
    }

    private static List<String> canonical(List<PrimitiveMatcher> matchers) {
        return matchers.stream().map(PrimitiveMatcher::canonical).sorted().toList();
    }

    private static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /**
     * Builds a {@link Policy}. Each argument is checked when given ({@link IllegalArgumentException} naming the bad
     * value); {@link #build()} checks the whole ({@link IllegalStateException}).
     */
    public static final class Builder {

        private final Map<String, List<PrimitiveMatcher>> scopes = new LinkedHashMap<>();
        private final Map<String, List<PrimitiveMatcher>> agents = new LinkedHashMap<>();
        private final List<QuotaRule> quotas = new ArrayList<>();
        private final List<ConcurrencyRule> concurrency = new ArrayList<>();
        private final List<TimeoutRule> timeouts = new ArrayList<>();
        private final List<BreakerRule> breakers = new ArrayList<>();
        private final List<ReversibilityOverride> reversibility = new ArrayList<>();
        private final List<ApprovalRule> approvals = new ArrayList<>();
        private final List<ArgumentBoundary> boundaries = new ArrayList<>();
        private final List<BudgetRule> budgets = new ArrayList<>();
        private boolean irreversibleNeedsApproval = true;
        private int approvalRequestLimit = DEFAULT_APPROVAL_REQUEST_LIMIT;
        private Duration approvalRequestWindow = DEFAULT_APPROVAL_REQUEST_WINDOW;
        private io.mcpguard.quota.ProbeLimit probeLimit = io.mcpguard.quota.ProbeLimit.defaults();

        private Builder() {
        }

        /**
         * Assigns a reversibility to the selected tools, overriding what their definitions declare (annotations of
         * servers you do not control are hints, not truth). The first declared override that selects a tool applies.
         *
         * @param tools the tools
         * @param reversibility their reversibility
         * @return this builder
         */
        public Builder reversibility(ToolMatcher tools, Reversibility reversibility) {
            this.reversibility.add(new ReversibilityOverride(tools, reversibility));
            return this;
        }

        /**
         * Adds an approval rule. When any rule selects a tool, the rules decide for it (approval if any selecting
         * rule's condition holds); otherwise its reversibility does.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder approval(ApprovalRule rule) {
            approvals.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /**
         * Sets whether calls to irreversible tools no approval rule selects need approval. Default {@code true}.
         *
         * @param needsApproval the default for irreversible tools
         * @return this builder
         */
        public Builder irreversibleNeedsApproval(boolean needsApproval) {
            this.irreversibleNeedsApproval = needsApproval;
            return this;
        }

        /**
         * Sets how many uses of names it may not see (hidden or missing tools, resources, prompts) each agent may
         * make per window, and how many of them are recorded one by one; see {@link io.mcpguard.quota.ProbeLimit}.
         * Default {@link io.mcpguard.quota.ProbeLimit#defaults()}.
         *
         * @param limit the probe limit
         * @return this builder
         */
        public Builder probes(io.mcpguard.quota.ProbeLimit limit) {
            this.probeLimit = Objects.requireNonNull(limit, "limit");
            return this;
        }

        /**
         * Limits how many approval requests each agent may cause, so that an agent cannot flood approvers. Default
         * {@value Policy#DEFAULT_APPROVAL_REQUEST_LIMIT} per hour.
         *
         * @param limit requests per window, at least 1
         * @param window the window, 1 ms to 366 days
         * @return this builder
         */
        public Builder approvalRequests(int limit, Duration window) {
            QuotaRule.perAgent(limit, window); // same checks as any quota
            this.approvalRequestLimit = limit;
            this.approvalRequestWindow = window;
            return this;
        }

        /**
         * Adds a hard argument boundary: calls of the selected tools whose arguments do not satisfy it are refused,
         * before any quota, budget or approval. Every boundary that selects a tool applies.
         *
         * @param boundary the boundary (names are unique per policy)
         * @return this builder
         */
        public Builder boundary(ArgumentBoundary boundary) {
            Objects.requireNonNull(boundary, "boundary");
            for (ArgumentBoundary existing : boundaries) {
                if (existing.name().equals(boundary.name())) {
                    throw new IllegalArgumentException("boundary '" + boundary.name() + "' is declared twice");
                }
            }
            boundaries.add(boundary);
            return this;
        }

        /**
         * Adds a cumulative budget over an argument. Every budget that selects a tool applies.
         *
         * @param budget the budget (names are unique per policy)
         * @return this builder
         */
        public Builder budget(BudgetRule budget) {
            Objects.requireNonNull(budget, "budget");
            for (BudgetRule existing : budgets) {
                if (existing.name().equals(budget.name())) {
                    throw new IllegalArgumentException("budget '" + budget.name() + "' is declared twice");
                }
            }
            budgets.add(budget);
            return this;
        }

        /**
         * Adds a rate quota. Every quota that selects a tool applies; a call must pass all of them. Calls are counted
         * only once identity, scope and arguments allowed them.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder quota(QuotaRule rule) {
            quotas.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /**
         * Adds a concurrency limit. Every rule that selects a tool applies.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder concurrency(ConcurrencyRule rule) {
            concurrency.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /**
         * Adds a call timeout for the selected tools. The first declared timeout that selects a tool applies.
         *
         * @param timeout the longest a call may run, 1 ms to 1 day
         * @param tools the tools
         * @return this builder
         */
        public Builder timeout(Duration timeout, ToolMatcher tools) {
            timeouts.add(new TimeoutRule(timeout, tools));
            return this;
        }

        /**
         * Adds a circuit breaker rule. The first declared rule that selects a tool gives that tool its breaker.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder circuitBreaker(BreakerRule rule) {
            breakers.add(Objects.requireNonNull(rule, "rule"));
            return this;
        }

        /**
         * Grants the tools, resources and prompts selected by the matchers to every caller holding the scope.
         *
         * @param scope the scope token (RFC 6749 syntax), given once per policy
         * @param matchers at least one matcher ({@link ToolMatcher}, {@link ResourceMatcher}, {@link PromptMatcher})
         * @return this builder
         * @throws IllegalArgumentException for a malformed or repeated scope, or no matcher
         */
        public Builder scope(String scope, PrimitiveMatcher... matchers) {
            AgentIdentity.checkScope(scope);
            put(scopes, "scope", scope, matchers);
            return this;
        }

        /**
         * Grants the tools, resources and prompts selected by the matchers to one agent id, whatever its scopes.
         *
         * @param agentId the agent id, given once per policy
         * @param matchers at least one matcher
         * @return this builder
         * @throws IllegalArgumentException for a malformed or repeated agent id, or no matcher
         */
        public Builder agent(String agentId, PrimitiveMatcher... matchers) {
            if (agentId == null || !AGENT_ID.matcher(agentId).matches()) {
                throw new IllegalArgumentException("invalid agent id " + (agentId == null ? "null" : "'" + agentId + "'")
                        + ": expected 1 to 256 visible ASCII characters without spaces");
            }
            put(agents, "agent", agentId, matchers);
            return this;
        }

        private static void put(Map<String, List<PrimitiveMatcher>> into, String kind, String key,
                PrimitiveMatcher[] matchers) {
            if (matchers == null || matchers.length == 0) {
                throw new IllegalArgumentException(kind + " '" + key
                        + "' grants nothing: give at least one tool, resource or prompt matcher");
            }
            List<PrimitiveMatcher> list = new ArrayList<>(matchers.length);
            for (PrimitiveMatcher matcher : matchers) {
                list.add(Objects.requireNonNull(matcher, () -> kind + " '" + key + "' has a null matcher"));
            }
            if (into.putIfAbsent(key, List.copyOf(list)) != null) {
                throw new IllegalArgumentException(kind + " '" + key
                        + "' is granted twice: give all of its matchers in one call");
            }
        }

        /**
         * Builds the immutable policy.
         *
         * @return the policy
         * @throws IllegalStateException if the policy grants nothing (use {@link Policy#denyAll()} for that)
         */
        public Policy build() {
            if (scopes.isEmpty() && agents.isEmpty()) {
                throw new IllegalStateException(
                        "the policy grants no tool to anyone; use Policy.denyAll() if that is intended");
            }
            return new Policy(this);
        }
    }
}
