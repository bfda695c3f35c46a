package io.mcpguard.policy;

import io.mcpguard.support.LogSafe;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Selects prompts for a grant in a {@link io.mcpguard.Policy}, by exact name or glob. The same decision filters
 * {@code prompts/list} and protects {@code prompts/get} and prompt completions.
 */
public sealed interface PromptMatcher extends PrimitiveMatcher permits PromptMatcher.Names, PromptMatcher.Glob {

    /** The longest prompt name or glob accepted in a policy. */
    int MAX_NAME_LENGTH = 256;

    /**
     * Returns whether this matcher selects the prompt.
     *
     * @param name the prompt's name
     * @return {@code true} if selected
     */
    boolean matches(String name);

    /**
     * Selects prompts by exact name.
     *
     * @param names one or more names
     * @return a matcher
     */
    static PromptMatcher names(String... names) {
        Objects.requireNonNull(names, "names");
        if (names.length == 0) {
            throw new IllegalArgumentException("PromptMatcher.names needs at least one name");
        }
        return new Names(Set.copyOf(Arrays.asList(names)));
    }

    /**
     * Selects prompts whose name matches a glob.
     *
     * @param glob the glob
     * @return a matcher
     */
    static PromptMatcher glob(String glob) {
        return new Glob(glob);
    }

    /**
     * Selects every prompt.
     *
     * @return a matcher equivalent to {@code glob("*")}
     */
    static PromptMatcher all() {
        return glob("*");
    }

    /**
     * Checks a prompt name or glob given in a policy.
     *
     * @param name the value
     * @return the value
     */
    static String check(String name) {
        if (name == null || name.isBlank() || name.length() > MAX_NAME_LENGTH || LogSafe.hasControl(name)) {
            throw new IllegalArgumentException("invalid prompt name " + (name == null ? "null"
                    : "'" + LogSafe.text(name, 100) + "'") + ": 1 to " + MAX_NAME_LENGTH
                    + " characters without control characters");
        }
        return name;
    }

    /**
     * Exact names.
     *
     * @param names the names
     */
    record Names(Set<String> names) implements PromptMatcher {

        /**
         * Copies and checks.
         *
         * @param names the names
         */
        public Names {
            names = Set.copyOf(names);
            names.forEach(PromptMatcher::check);
        }

        @Override
        public boolean matches(String name) {
            return names.contains(name);
        }

        @Override
        public String canonical() {
            return "prompts.names(" + String.join(",", new TreeSet<>(names)) + ")";
        }
    }

    /**
     * A glob over names.
     *
     * @param glob the glob
     */
    record Glob(String glob) implements PromptMatcher {

        /**
         * Checks.
         *
         * @param glob the glob
         */
        public Glob {
            check(glob);
        }

        @Override
        public boolean matches(String name) {
            return Globs.matches(glob, name);
        }

        @Override
        public String canonical() {
            return "prompts.glob(" + glob + ")";
        }
    }
}
