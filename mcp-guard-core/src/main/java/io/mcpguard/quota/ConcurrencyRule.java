package io.mcpguard.quota;

import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.Selection;
import io.mcpguard.policy.ToolMatcher;
import java.time.Duration;
import java.util.Objects;

/**
 * A concurrency limit (bulkhead): at most {@code maxConcurrent} calls in flight at once, counted per agent, per tool,
 * or per (agent, tool) pair, for the tools the rule selects. A call over the limit is refused at once
 * ({@code concurrency_limited}); it never waits. Immutable.
 */
public final class ConcurrencyRule {

    /** The retry hint given with a refusal unless the rule sets another. */
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

    private final LimitKey key;
    private final int maxConcurrent;
    private final Selection selection;
    private final Duration retryAfter;

    private ConcurrencyRule(LimitKey key, int maxConcurrent, Selection selection, Duration retryAfter) {
        this.key = Objects.requireNonNull(key, "key");
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be at least 1, got " + maxConcurrent);
        }
        this.maxConcurrent = maxConcurrent;
        this.selection = Objects.requireNonNull(selection, "selection");
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (retryAfter.isNegative()) {
            throw new IllegalArgumentException("retryAfter must not be negative, got " + retryAfter);
        }
        this.retryAfter = retryAfter;
    }

    /**
     * At most {@code maxConcurrent} calls in flight per agent, across the selected tools.
     *
     * @param maxConcurrent the limit, at least 1
     * @return a rule over all tools
     */
    public static ConcurrencyRule perAgent(int maxConcurrent) {
        return new ConcurrencyRule(LimitKey.AGENT, maxConcurrent, Selection.ALL_TOOLS, DEFAULT_RETRY_AFTER);
    }

    /**
     * At most {@code maxConcurrent} calls in flight per tool, across all agents.
     *
     * @param maxConcurrent the limit, at least 1
     * @return a rule over all tools
     */
    public static ConcurrencyRule perTool(int maxConcurrent) {
        return new ConcurrencyRule(LimitKey.TOOL, maxConcurrent, Selection.ALL_TOOLS, DEFAULT_RETRY_AFTER);
    }

    /**
     * At most {@code maxConcurrent} calls in flight per (agent, tool) pair.
     *
     * @param maxConcurrent the limit, at least 1
     * @return a rule over all tools
     */
    public static ConcurrencyRule perAgentAndTool(int maxConcurrent) {
        return new ConcurrencyRule(LimitKey.AGENT_AND_TOOL, maxConcurrent, Selection.ALL_TOOLS, DEFAULT_RETRY_AFTER);
    }

    /**
     * Returns this rule restricted to the tools a matcher selects.
     *
     * @param tools the matcher
     * @return a new rule
     */
    public ConcurrencyRule forTools(ToolMatcher tools) {
        return new ConcurrencyRule(key, maxConcurrent, selection.withTools(tools), retryAfter);
    }

    /**
     * Returns this rule with another retry hint for refused calls.
     *
     * @param retryAfter the hint, not negative
     * @return a new rule
     */
    public ConcurrencyRule retryAfter(Duration retryAfter) {
        return new ConcurrencyRule(key, maxConcurrent, selection, retryAfter);
    }

    /**
     * Returns what the rule counts together.
     *
     * @return the key
     */
    public LimitKey key() {
        return key;
    }

    /**
     * Returns the largest number of calls in flight.
     *
     * @return the limit
     */
    public int maxConcurrent() {
        return maxConcurrent;
    }

    /**
     * Returns the tools the rule applies to.
     *
     * @return the matcher
     */
    public ToolMatcher tools() {
        return selection.tools();
    }

    /**
     * Returns everything the rule selects: tools, and resources and prompts if extended to them.
     *
     * @return the selection
     */
    public Selection selection() {
        return selection;
    }

    /**
     * Returns this rule also applying to the resources and templates a matcher selects (reads count like calls).
     *
     * @param resources the matcher
     * @return a new rule
     */
    public ConcurrencyRule forResources(ResourceMatcher resources) {
        return with(selection.withResources(resources));
    }

    /**
     * Returns this rule also applying to the prompts a matcher selects.
     *
     * @param prompts the matcher
     * @return a new rule
     */
    public ConcurrencyRule forPrompts(PromptMatcher prompts) {
        return with(selection.withPrompts(prompts));
    }

    /**
     * Returns the retry hint given with a refusal.
     *
     * @return the hint
     */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * Returns the canonical text of the rule, for the policy's fingerprint.
     *
     * @return e.g. {@code concurrency agent 4 tools=glob(*)}
     */
    public String canonical() {
        return "concurrency " + key.code() + " " + maxConcurrent + " " + selection.canonical();
    }

    private ConcurrencyRule with(Selection s) {
        return new ConcurrencyRule(key, maxConcurrent, s, retryAfter);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
