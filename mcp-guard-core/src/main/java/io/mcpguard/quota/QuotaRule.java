package io.mcpguard.quota;

import io.mcpguard.policy.PromptMatcher;
import io.mcpguard.policy.ResourceMatcher;
import io.mcpguard.policy.Selection;
import io.mcpguard.policy.ToolMatcher;
import java.time.Duration;
import java.util.Objects;

/**
 * A rate quota: at most {@code limit} calls per {@code window}, counted per agent, per tool, or per (agent, tool)
 * pair, for the tools the rule selects. Immutable.
 *
 * <p>Quotas use the generic cell rate algorithm (GCRA, a token bucket kept as one timestamp): a full bucket holds
 * {@code limit} calls, which may come as one burst; it refills smoothly at {@code limit / window}. So no burst ever
 * exceeds {@code limit}, the sustained rate is {@code limit} per {@code window}, and over any interval of length
 * {@code t} at most {@code limit + t * limit / window} calls pass. See {@code docs/quotas.md}.
 */
public final class QuotaRule {

    private final LimitKey key;
    private final int limit;
    private final Duration window;
    private final Selection selection;

    private QuotaRule(LimitKey key, int limit, Duration window, Selection selection) {
        this.key = Objects.requireNonNull(key, "key");
        if (limit < 1) {
            throw new IllegalArgumentException("quota limit must be at least 1, got " + limit);
        }
        Objects.requireNonNull(window, "window");
        if (window.compareTo(Duration.ofMillis(1)) < 0 || window.compareTo(Duration.ofDays(366)) > 0) {
            throw new IllegalArgumentException("quota window must be between 1 ms and 366 days, got " + window);
        }
        if (window.toNanos() / limit < 1) {
            throw new IllegalArgumentException("quota of " + limit + " per " + window + " is finer than 1 ns per call");
        }
        this.limit = limit;
        this.window = window;
        this.selection = Objects.requireNonNull(selection, "selection");
    }

    /**
     * At most {@code limit} calls per {@code window} for each (agent, tool) pair.
     *
     * @param limit calls per window, at least 1
     * @param window the window, 1 ms to 366 days
     * @return a rule over all tools; narrow it with {@link #forTools}
     */
    public static QuotaRule perAgentAndTool(int limit, Duration window) {
        return new QuotaRule(LimitKey.AGENT_AND_TOOL, limit, window, Selection.ALL_TOOLS);
    }

    /**
     * At most {@code limit} calls per {@code window} for each agent, across the selected tools together.
     *
     * @param limit calls per window, at least 1
     * @param window the window
     * @return a rule over all tools; narrow it with {@link #forTools}
     */
    public static QuotaRule perAgent(int limit, Duration window) {
        return new QuotaRule(LimitKey.AGENT, limit, window, Selection.ALL_TOOLS);
    }

    /**
     * At most {@code limit} calls per {@code window} for each selected tool, across all agents.
     *
     * @param limit calls per window, at least 1
     * @param window the window
     * @return a rule over all tools; narrow it with {@link #forTools}
     */
    public static QuotaRule perTool(int limit, Duration window) {
        return new QuotaRule(LimitKey.TOOL, limit, window, Selection.ALL_TOOLS);
    }

    /**
     * Returns this rule restricted to the tools a matcher selects, e.g. lower limits for irreversible tools.
     *
     * @param tools the matcher
     * @return a new rule
     */
    public QuotaRule forTools(ToolMatcher tools) {
        return new QuotaRule(key, limit, window, selection.withTools(tools));
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
     * Returns the calls allowed per window (also the largest burst).
     *
     * @return the limit
     */
    public int limit() {
        return limit;
    }

    /**
     * Returns the window.
     *
     * @return the window
     */
    public Duration window() {
        return window;
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
    public QuotaRule forResources(ResourceMatcher resources) {
        return with(selection.withResources(resources));
    }

    /**
     * Returns this rule also applying to the prompts a matcher selects.
     *
     * @param prompts the matcher
     * @return a new rule
     */
    public QuotaRule forPrompts(PromptMatcher prompts) {
        return with(selection.withPrompts(prompts));
    }

    /**
     * Returns the canonical text of the rule, for the policy's fingerprint.
     *
     * @return e.g. {@code quota agent+tool 5/PT1M tools=names(issue_refund)}
     */
    public String canonical() {
        return "quota " + key.code() + " " + limit + "/" + window + " " + selection.canonical();
    }

    private QuotaRule with(Selection s) {
        return new QuotaRule(key, limit, window, s);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
