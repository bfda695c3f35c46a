package io.mcpguard.policy;

import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.support.CanonicalJson;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A condition over a call's arguments (and the caller's verified identity), such as {@code amount > 100} or
 * {@code path under /srv/reports}. Immutable. One language serves two uses, each failing in its restrictive direction:
 * <ul>
 * <li>an {@link io.mcpguard.approval.ApprovalRule} asks for approval <em>when</em> its condition holds, and also when it cannot be decided;
 * <li>an {@link ArgumentBoundary} refuses a call <em>unless</em> its condition holds: an undecidable condition
 * refuses.
 * </ul>
 * A condition cannot be decided when the argument is missing, has the wrong JSON type, or a custom predicate throws.
 *
 * <p>Every condition has a description, which enters the policy's fingerprint and audit records. Refusals name the
 * boundary and the argument, never the condition's values.
 */
public final class ArgumentCondition {

    /** What a condition says about one call. */
    public enum Verdict {
        /** The condition holds. */
        HOLDS,
        /** The condition does not hold. */
        FAILS,
        /** The argument is missing or mistyped, or the condition threw: neither use may treat it as a pass. */
        UNDECIDABLE
    }

    /** Evaluates a condition; may return {@code null} for "undecidable". */
    @FunctionalInterface
    private interface Test {
        Verdict test(Map<String, Object> arguments, AgentIdentity agent);
    }

    private final String description;
    private final List<String> arguments;
    private final Test test;

    private ArgumentCondition(String description, List<String> arguments, Test test) {
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("an argument condition needs a non-blank description");
        }
        this.description = description.strip();
        this.arguments = List.copyOf(arguments);
        this.test = Objects.requireNonNull(test, "test");
    }

    // ---- numbers ----

    /**
     * Holds when the numeric argument is greater than the threshold. For approval: "above this, ask".
     *
     * @param argument the argument's name
     * @param threshold the largest value the agent may use alone
     * @return the condition
     */
    public static ArgumentCondition numberAbove(String argument, BigDecimal threshold) {
        checkName(argument);
        Objects.requireNonNull(threshold, "threshold");
        return new ArgumentCondition(argument + " > " + plain(threshold), List.of(argument),
                (args, agent) -> compare(args.get(argument), threshold, c -> c > 0));
    }

    /**
     * Holds when the numeric argument is greater than the threshold.
     *
     * @param argument the argument's name
     * @param threshold the largest value the agent may use alone
     * @return the condition
     */
    public static ArgumentCondition numberAbove(String argument, long threshold) {
        return numberAbove(argument, BigDecimal.valueOf(threshold));
    }

    /**
     * Holds when the numeric argument is at most the cap. As a boundary: "never more than this".
     *
     * @param argument the argument's name
     * @param cap the largest value allowed
     * @return the condition
     */
    public static ArgumentCondition numberAtMost(String argument, BigDecimal cap) {
        checkName(argument);
        Objects.requireNonNull(cap, "cap");
        return new ArgumentCondition(argument + " <= " + plain(cap), List.of(argument),
                (args, agent) -> compare(args.get(argument), cap, c -> c <= 0));
    }

    /**
     * Holds when the numeric argument is at most the cap.
     *
     * @param argument the argument's name
     * @param cap the largest value allowed
     * @return the condition
     */
    public static ArgumentCondition numberAtMost(String argument, long cap) {
        return numberAtMost(argument, BigDecimal.valueOf(cap));
    }

    /**
     * Holds when the numeric argument is at least the floor (e.g. {@code amount >= 0}).
     *
     * @param argument the argument's name
     * @param floor the smallest value allowed
     * @return the condition
     */
    public static ArgumentCondition numberAtLeast(String argument, BigDecimal floor) {
        checkName(argument);
        Objects.requireNonNull(floor, "floor");
        return new ArgumentCondition(argument + " >= " + plain(floor), List.of(argument),
                (args, agent) -> compare(args.get(argument), floor, c -> c >= 0));
    }

    /**
     * Holds when the numeric argument is at least the floor.
     *
     * @param argument the argument's name
     * @param floor the smallest value allowed
     * @return the condition
     */
    public static ArgumentCondition numberAtLeast(String argument, long floor) {
        return numberAtLeast(argument, BigDecimal.valueOf(floor));
    }

    // ---- strings ----

    /**
     * Holds when the string argument is one of the values: for approval, "these values need a person"; as a
     * boundary, "only these values".
     *
     * @param argument the argument's name
     * @param values the values
     * @return the condition
     */
    public static ArgumentCondition stringIn(String argument, String... values) {
        checkName(argument);
        Set<String> set = Set.of(values);
        return new ArgumentCondition(argument + " in " + new TreeSet<>(set), List.of(argument), (args, agent) -> {
            Object value = args.get(argument);
            return value instanceof String s ? verdict(set.contains(s)) : Verdict.UNDECIDABLE;
        });
    }

    /**
     * Holds when the whole string argument matches the regular expression (e.g. {@code o-[0-9]{1,12}}).
     *
     * @param argument the argument's name
     * @param regex a {@link Pattern} that must match the whole value
     * @return the condition
     * @throws IllegalArgumentException if the expression does not compile
     */
    public static ArgumentCondition matches(String argument, String regex) {
        checkName(argument);
        Pattern pattern;
        try {
            pattern = Pattern.compile(Objects.requireNonNull(regex, "regex"));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid pattern for argument '" + argument + "': "
                    + e.getDescription(), e);
        }
        return new ArgumentCondition(argument + " matches /" + regex + "/", List.of(argument), (args, agent) -> {
            Object value = args.get(argument);
            return value instanceof String s ? verdict(pattern.matcher(s).matches()) : Verdict.UNDECIDABLE;
        });
    }

    /**
     * Holds when the path argument, once normalised, is one of the prefixes or lies below one. Normalisation
     * percent-decodes (repeatedly, so {@code %252e} cannot hide a dot), turns {@code \} into {@code /}, and resolves
     * {@code .} and {@code ..} segments; a path that is relative, climbs above the root, contains a control character
     * or is malformed cannot be decided. Prefixes match on segment boundaries: {@code /srv/reports} covers
     * {@code /srv/reports/q3.csv}, not {@code /srv/reports-old}. The guard sees strings, not the file system: a
     * symbolic link below a prefix is the tool's to refuse.
     *
     * @param argument the argument's name
     * @param prefixes absolute paths
     * @return the condition
     * @throws IllegalArgumentException if a prefix is not an absolute, normal path
     */
    public static ArgumentCondition pathUnder(String argument, String... prefixes) {
        checkName(argument);
        if (prefixes.length == 0) {
            throw new IllegalArgumentException("pathUnder needs at least one prefix");
        }
        List<String> normal = new ArrayList<>();
        for (String prefix : prefixes) {
            String n = normalisePath(prefix);
            if (n == null) {
                throw new IllegalArgumentException("path prefix " + (prefix == null ? "null" : "'" + prefix + "'")
                        + " is not an absolute path");
            }
            normal.add(n);
        }
        return new ArgumentCondition(argument + " under " + new TreeSet<>(normal), List.of(argument),
                (args, agent) -> {
                    Object value = args.get(argument);
                    String path = value instanceof String s ? normalisePath(s) : null;
                    if (path == null) {
                        return Verdict.UNDECIDABLE;
                    }
                    for (String prefix : normal) {
                        if (path.equals(prefix) || path.startsWith(prefix.equals("/") ? "/" : prefix + "/")) {
                            return Verdict.HOLDS;
                        }
                    }
                    return Verdict.FAILS;
                });
    }

    /**
     * Holds when the string argument equals a verified attribute of the caller's identity, e.g.
     * {@code equalsAttribute("tenantId", "tenant")}: an agent acts only within its own tenant. A caller without the
     * attribute cannot be decided.
     *
     * @param argument the argument's name
     * @param attribute the identity attribute's name
     * @return the condition
     */
    public static ArgumentCondition equalsAttribute(String argument, String attribute) {
        checkName(argument);
        checkName(attribute);
        return new ArgumentCondition(argument + " == identity." + attribute, List.of(argument), (args, agent) -> {
            String expected = agent == null ? null : agent.attributes().get(attribute);
            Object value = args.get(argument);
            if (expected == null || !(value instanceof String s)) {
                return Verdict.UNDECIDABLE;
            }
            return verdict(s.equals(expected));
        });
    }

    // ---- booleans and custom ----

    /**
     * Holds when the boolean argument is true, e.g. {@code force}.
     *
     * @param argument the argument's name
     * @return the condition
     */
    public static ArgumentCondition flagSet(String argument) {
        checkName(argument);
        return new ArgumentCondition(argument + " == true", List.of(argument), (args, agent) ->
                args.get(argument) instanceof Boolean b ? verdict(b) : Verdict.UNDECIDABLE);
    }

    /**
     * A custom condition. The description enters the policy's fingerprint: give distinct conditions distinct
     * descriptions. The predicate must be side-effect free; if it throws, the condition cannot be decided (approval
     * asks, a boundary refuses).
     *
     * @param description a short, stable description
     * @param holds whether the condition holds for the arguments
     * @return the condition
     */
    public static ArgumentCondition of(String description, Predicate<Map<String, Object>> holds) {
        Objects.requireNonNull(holds, "holds");
        return new ArgumentCondition(description, List.of(), (args, agent) -> verdict(holds.test(args)));
    }

    // ---- evaluation ----

    /**
     * Evaluates the condition. Never throws: a failure is {@link Verdict#UNDECIDABLE}.
     *
     * @param arguments the call's arguments (may be {@code null})
     * @param agent the verified caller (may be {@code null})
     * @return the verdict
     */
    public Verdict evaluate(Map<String, Object> arguments, AgentIdentity agent) {
        try {
            Verdict v = test.test(arguments == null ? Map.of() : arguments, agent);
            return v == null ? Verdict.UNDECIDABLE : v;
        } catch (RuntimeException | StackOverflowError e) {
            return Verdict.UNDECIDABLE;
        }
    }

    /**
     * Returns whether a call needs approval under this condition: when it holds or cannot be decided.
     *
     * @param arguments the call's arguments (may be {@code null})
     * @return whether the call needs approval
     */
    public boolean needsApproval(Map<String, Object> arguments) {
        return evaluate(arguments, null) != Verdict.FAILS;
    }

    /**
     * Returns the description.
     *
     * @return e.g. {@code amount > 100}
     */
    public String description() {
        return description;
    }

    /**
     * Returns the arguments the condition reads (empty for custom conditions).
     *
     * @return the argument names
     */
    public List<String> arguments() {
        return arguments;
    }

    @Override
    public String toString() {
        return description;
    }

    // ---- helpers ----

    private static Verdict verdict(boolean holds) {
        return holds ? Verdict.HOLDS : Verdict.FAILS;
    }

    private static Verdict compare(Object value, BigDecimal bound, java.util.function.IntPredicate holds) {
        if (!(value instanceof Number n)) {
            return Verdict.UNDECIDABLE;
        }
        BigDecimal decimal = CanonicalJson.decimal(n);
        return decimal == null ? Verdict.UNDECIDABLE : verdict(holds.test(decimal.compareTo(bound)));
    }

    private static String plain(BigDecimal value) {
        return value.stripTrailingZeros().toPlainString();
    }

    private static void checkName(String argument) {
        if (argument == null || argument.isBlank()) {
            throw new IllegalArgumentException("argument name must not be blank");
        }
    }

    /** The longest path the guard normalises; longer ones cannot be decided. */
    static final int MAX_PATH = 4096;

    /**
     * Normalises an absolute path, or returns {@code null} when it cannot be decided.
     *
     * @param raw the path as the agent sent it
     * @return e.g. {@code /srv/reports/q3.csv}, or {@code null}
     */
    static String normalisePath(String raw) {
        if (raw == null || raw.isEmpty() || raw.length() > MAX_PATH) {
            return null;
        }
        String path = raw;
        for (int round = 0; path.indexOf('%') >= 0; round++) {
            if (round == 4) {
                return null;
            }
            path = percentDecode(path);
            if (path == null) {
                return null;
            }
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                return null;
            }
        }
        path = path.replace('\\', '/');
        if (!path.startsWith("/")) {
            return null;
        }
        Deque<String> segments = new ArrayDeque<>();
        for (String segment : path.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                if (segments.isEmpty()) {
                    return null;
                }
                segments.removeLast();
            } else {
                segments.addLast(segment);
            }
        }
        return "/" + String.join("/", segments);
    }

    private static String percentDecode(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return null;
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
                    utf8 = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.writeBytes(utf8);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
