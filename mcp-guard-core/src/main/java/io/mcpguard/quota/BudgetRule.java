package io.mcpguard.quota;

import io.mcpguard.policy.ToolMatcher;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A cumulative budget: the sum of a numeric argument over the admitted calls of the selected tools, within a sliding
 * window, per agent and/or per value of another argument. A call that would take the sum past the limit needs a
 * person's approval ({@link #thenRequireApproval()}) or is refused ({@link #thenRefuse()}). Immutable.
 *
 * <pre>{@code
 * // More than 250 EUR of refunds per agent per day needs a person.
 * BudgetRule.named("refunds-per-agent").sumOf("amount").forTools(names("issue_refund", "issue_credit"))
 *         .perAgent().atMost(250).per(Duration.ofDays(1)).thenRequireApproval()
 * // Never more than 500 EUR back on one order, whoever asks.
 * BudgetRule.named("refunds-per-order").sumOf("amount").forTools(names("issue_refund"))
 *         .perArgument("orderId").atMost(500).per(Duration.ofDays(30)).thenRefuse()
 * }</pre>
 *
 * <p>The running total is keyed on the verified agent (new sessions reset nothing) and counts every call admitted,
 * exactly under contention: the check and the charge are one atomic step of the {@link LimitStore}. A call that needs
 * approval is charged once approved, so that later calls see it. A missing, negative or non-numeric amount, or a
 * missing key argument, cannot be measured: a {@code thenRequireApproval} budget then asks, a {@code thenRefuse}
 * budget refuses.
 */
public final class BudgetRule {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    /** What a budget does when a call would exceed it. */
    public enum Overrun {
        /** The call needs a person's approval; once approved it is charged. */
        REQUIRE_APPROVAL("approve"),
        /** The call is refused ({@code budget_exceeded}). */
        REFUSE("refuse");

        private final String code;

        Overrun(String code) {
            this.code = code;
        }

        /**
         * Returns the stable name used in the canonical form.
         *
         * @return e.g. {@code approve}
         */
        public String code() {
            return code;
        }
    }

    private final String name;
    private final String amountArgument;
    private final ToolMatcher tools;
    private final boolean perAgent;
    private final String keyArgument;
    private final BigDecimal limit;
    private final Duration window;
    private final Overrun overrun;

    private BudgetRule(Builder b, Overrun overrun) {
        this.name = b.name;
        this.amountArgument = b.amountArgument;
        this.tools = b.tools;
        this.perAgent = b.perAgent;
        this.keyArgument = b.keyArgument;
        this.limit = b.limit;
        this.window = b.window;
        this.overrun = overrun;
    }

    /**
     * Starts a budget. Its name is shown to agents it stops and enters the policy's fingerprint.
     *
     * @param name 1 to 64 letters, digits, {@code _ . -}
     * @return a builder
     */
    public static Builder named(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid budget name " + (name == null ? "null" : "'" + name + "'")
                    + ": expected 1 to 64 letters, digits, '_', '.' or '-'");
        }
        return new Builder(name);
    }

    /** Builds a {@link BudgetRule}. */
    public static final class Builder {
        private final String name;
        private String amountArgument;
        private ToolMatcher tools;
        private boolean perAgent;
        private String keyArgument;
        private BigDecimal limit;
        private Duration window;

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Names the numeric argument whose values are summed.
         *
         * @param argument e.g. {@code amount}
         * @return this builder
         */
        public Builder sumOf(String argument) {
            this.amountArgument = checkArgument(argument);
            return this;
        }

        /**
         * Selects the tools whose calls count; one budget may span several tools.
         *
         * @param tools the matcher
         * @return this builder
         */
        public Builder forTools(ToolMatcher tools) {
            this.tools = Objects.requireNonNull(tools, "tools");
            return this;
        }

        /**
         * Keeps one total per verified agent.
         *
         * @return this builder
         */
        public Builder perAgent() {
            this.perAgent = true;
            return this;
        }

        /**
         * Keeps one total per value of an argument (e.g. per order id), across agents unless {@link #perAgent()} is
         * also set.
         *
         * @param argument the argument whose value keys the total
         * @return this builder
         */
        public Builder perArgument(String argument) {
            this.keyArgument = checkArgument(argument);
            return this;
        }

        /**
         * Sets the largest total allowed without approval (or at all, with {@link #thenRefuse()}).
         *
         * @param limit not negative
         * @return this builder
         */
        public Builder atMost(BigDecimal limit) {
            if (limit == null || limit.signum() < 0) {
                throw new IllegalArgumentException("a budget's limit must not be negative, got " + limit);
            }
            this.limit = limit;
            return this;
        }

        /**
         * Sets the largest total allowed.
         *
         * @param limit not negative
         * @return this builder
         */
        public Builder atMost(long limit) {
            return atMost(BigDecimal.valueOf(limit));
        }

        /**
         * Sets the sliding window the total is kept over.
         *
         * @param window 1 second to 366 days
         * @return this builder
         */
        public Builder per(Duration window) {
            Objects.requireNonNull(window, "window");
            if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofDays(366)) > 0) {
                throw new IllegalArgumentException("a budget's window must be between 1 s and 366 days, got "
                        + window);
            }
            this.window = window;
            return this;
        }

        /**
         * Completes the budget: a call that would exceed it needs a person's approval.
         *
         * @return the rule
         */
        public BudgetRule thenRequireApproval() {
            return build(Overrun.REQUIRE_APPROVAL);
        }

        /**
         * Completes the budget: a call that would exceed it is refused.
         *
         * @return the rule
         */
        public BudgetRule thenRefuse() {
            return build(Overrun.REFUSE);
        }

        private BudgetRule build(Overrun overrun) {
            String missing = amountArgument == null ? "sumOf(...)" : tools == null ? "forTools(...)"
                    : limit == null ? "atMost(...)" : window == null ? "per(...)"
                    : !perAgent && keyArgument == null ? "perAgent() or perArgument(...)" : null;
            if (missing != null) {
                throw new IllegalStateException("budget '" + name + "' needs " + missing);
            }
            if (amountArgument.equals(keyArgument)) {
                throw new IllegalStateException("budget '" + name + "' sums and keys on the same argument");
            }
            return new BudgetRule(this, overrun);
        }

        private static String checkArgument(String argument) {
            if (argument == null || argument.isBlank()) {
                throw new IllegalArgumentException("argument name must not be blank");
            }
            return argument;
        }
    }

    /**
     * Returns the budget's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the summed argument.
     *
     * @return its name
     */
    public String amountArgument() {
        return amountArgument;
    }

    /**
     * Returns the tools whose calls count.
     *
     * @return the matcher
     */
    public ToolMatcher tools() {
        return tools;
    }

    /**
     * Returns whether totals are kept per agent.
     *
     * @return {@code true} if per agent
     */
    public boolean perAgent() {
        return perAgent;
    }

    /**
     * Returns the argument whose value keys the total, if any.
     *
     * @return its name, or {@code null}
     */
    public String keyArgument() {
        return keyArgument;
    }

    /**
     * Returns the limit.
     *
     * @return the largest total
     */
    public BigDecimal limit() {
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
     * Returns what happens when a call would exceed the budget.
     *
     * @return the overrun policy
     */
    public Overrun overrun() {
        return overrun;
    }

    /**
     * Returns the canonical form, entered in the policy's fingerprint.
     *
     * @return e.g. {@code budget refunds sum(amount) tools=names(issue_refund) per agent <= 250 / PT24H approve}
     */
    public String canonical() {
        return "budget " + name + " sum(" + amountArgument + ") tools=" + tools.canonical() + " per "
                + (perAgent ? "agent" : "") + (perAgent && keyArgument != null ? "+" : "")
                + (keyArgument == null ? "" : "arg(" + keyArgument + ")") + " <= "
                + limit.stripTrailingZeros().toPlainString() + " / " + window + " " + overrun.code();
    }

    /**
     * Returns what an agent is told when the budget stops it: its name, limit and window (the running total is not
     * disclosed).
     *
     * @return e.g. {@code budget 'refunds' (at most 250 per 1 d per agent)}
     */
    public String describe() {
        return "budget '" + name + "' (at most " + limit.stripTrailingZeros().toPlainString() + " of '"
                + amountArgument + "' per " + io.mcpguard.support.Texts.duration(window)
                + (perAgent ? " per agent" : "") + (keyArgument == null ? "" : " per '" + keyArgument + "'") + ")";
    }

    @Override
    public String toString() {
        return canonical();
    }
}
