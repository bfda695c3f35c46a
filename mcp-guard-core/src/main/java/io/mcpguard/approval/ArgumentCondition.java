package io.mcpguard.approval;

import io.mcpguard.support.CanonicalJson;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A condition over a call's arguments that makes the call need approval, such as {@code amount > 100}. Immutable.
 *
 * <p>Conditions read typed values safely and fail closed: a missing argument, a value of the wrong type, or a
 * condition that throws all count as "needs approval". Below the threshold, with a well-typed value, the agent acts
 * alone.
 */
public final class ArgumentCondition {

    private final String description;
    private final Predicate<Map<String, Object>> needsApproval;

    private ArgumentCondition(String description, Predicate<Map<String, Object>> needsApproval) {
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("an argument condition needs a non-blank description");
        }
        this.description = description.strip();
        this.needsApproval = Objects.requireNonNull(needsApproval, "needsApproval");
    }

    /**
     * Needs approval when the numeric argument is greater than the threshold (or missing, or not a number).
     *
     * @param argument the argument's name
     * @param threshold the largest value the agent may use alone
     * @return the condition
     */
    public static ArgumentCondition numberAbove(String argument, BigDecimal threshold) {
        checkName(argument);
        Objects.requireNonNull(threshold, "threshold");
        return new ArgumentCondition(argument + " > " + threshold.stripTrailingZeros().toPlainString(), args -> {
            BigDecimal value = number(args.get(argument));
            return value == null || value.compareTo(threshold) > 0;
        });
    }

    /**
     * Needs approval when the numeric argument is greater than the threshold (or missing, or not a number).
     *
     * @param argument the argument's name
     * @param threshold the largest value the agent may use alone
     * @return the condition
     */
    public static ArgumentCondition numberAbove(String argument, long threshold) {
        return numberAbove(argument, BigDecimal.valueOf(threshold));
    }

    /**
     * Needs approval when the string argument is one of the values (or missing, or not a string).
     *
     * @param argument the argument's name
     * @param values the values that need approval
     * @return the condition
     */
    public static ArgumentCondition stringIn(String argument, String... values) {
        checkName(argument);
        Set<String> set = Set.of(values);
        return new ArgumentCondition(argument + " in " + new java.util.TreeSet<>(set), args -> {
            Object value = args.get(argument);
            return !(value instanceof String s) || set.contains(s);
        });
    }

    /**
     * Needs approval when the boolean argument is true (or missing, or not a boolean), e.g. {@code force}.
     *
     * @param argument the argument's name
     * @return the condition
     */
    public static ArgumentCondition flagSet(String argument) {
        checkName(argument);
        return new ArgumentCondition(argument + " == true", args -> !(args.get(argument) instanceof Boolean b) || b);
    }

    /**
     * A custom condition. The description enters the policy's fingerprint: give distinct conditions distinct
     * descriptions. The predicate must be side-effect free; if it throws, the call needs approval.
     *
     * @param description a short, stable description
     * @param needsApproval true when the call needs approval
     * @return the condition
     */
    public static ArgumentCondition of(String description, Predicate<Map<String, Object>> needsApproval) {
        return new ArgumentCondition(description, needsApproval);
    }

    /**
     * Evaluates the condition, failing closed.
     *
     * @param arguments the call's arguments (may be {@code null})
     * @return whether the call needs approval
     */
    public boolean needsApproval(Map<String, Object> arguments) {
        try {
            return needsApproval.test(arguments == null ? Map.of() : arguments);
        } catch (RuntimeException e) {
            return true;
        }
    }

    /**
     * Returns the description.
     *
     * @return e.g. {@code amount > 100}
     */
    public String description() {
        return description;
    }

    @Override
    public String toString() {
        return description;
    }

    private static BigDecimal number(Object value) {
        if (value instanceof Number n) {
            return CanonicalJson.decimal(n);
        }
        return null;
    }

    private static void checkName(String argument) {
        if (argument == null || argument.isBlank()) {
            throw new IllegalArgumentException("argument name must not be blank");
        }
    }
}
