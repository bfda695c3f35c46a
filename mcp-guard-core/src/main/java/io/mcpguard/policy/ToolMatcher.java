package io.mcpguard.policy;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Selects tools for a grant in a {@link io.mcpguard.Policy}: by exact name, by glob, or by a predicate over the tool's
 * definition. Immutable; each has a canonical text form that enters the policy's fingerprint.
 *
 * <p>A predicate sees the tool definition the server registered (name, schema, annotations). It must not depend on
 * the caller or the arguments: the same answer decides both {@code tools/list} and {@code tools/call}. Annotations
 * are the server author's claims; for tools you did not write, treat them as hints.
 */
public sealed interface ToolMatcher extends PrimitiveMatcher permits ToolMatcher.Names, ToolMatcher.Glob, ToolMatcher.Where {

    /**
     * Returns whether this matcher selects the tool.
     *
     * @param tool the tool's definition
     * @return {@code true} if selected
     */
    boolean matches(McpSchema.Tool tool);

    /**
     * Selects tools by exact name (case-sensitive, as the SDK dispatches).
     *
     * @param names one or more valid MCP tool names
     * @return a matcher
     * @throws IllegalArgumentException if a name breaks the MCP tool-name rules or none is given
     */
    static ToolMatcher names(String... names) {
        Objects.requireNonNull(names, "names");
        if (names.length == 0) {
            throw new IllegalArgumentException("ToolMatcher.names needs at least one tool name");
        }
        return new Names(Set.copyOf(Arrays.stream(names).map(ToolNames::check).toList()));
    }

    /**
     * Selects tools whose name matches a glob: {@code *} matches any run of characters, {@code ?} exactly one.
     *
     * @param glob the glob, e.g. {@code orders_*}
     * @return a matcher
     * @throws IllegalArgumentException if the glob has characters outside the tool-name alphabet
     */
    static ToolMatcher glob(String glob) {
        return new Glob(ToolNames.checkGlob(glob));
    }

    /**
     * Selects every tool.
     *
     * @return a matcher equivalent to {@code glob("*")}
     */
    static ToolMatcher all() {
        return glob("*");
    }

    /**
     * Selects tools by a predicate over their definition. The description names the rule: it is what the policy's
     * fingerprint covers, so give each distinct rule a distinct description.
     *
     * @param description a short, stable description of the rule, e.g. {@code annotations.readOnlyHint == true}
     * @param predicate the rule; it must be side-effect free and must not throw
     * @return a matcher
     */
    static ToolMatcher where(String description, Predicate<McpSchema.Tool> predicate) {
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("ToolMatcher.where needs a non-blank description");
        }
        return new Where(description.strip(), Objects.requireNonNull(predicate, "predicate"));
    }

    /**
     * Selects tools whose annotations say {@code readOnlyHint: true}. Annotations are claims of the tool's author.
     *
     * @return a matcher
     */
    static ToolMatcher readOnly() {
        return where("annotations.readOnlyHint == true",
                tool -> tool.annotations() != null && Boolean.TRUE.equals(tool.annotations().readOnlyHint()));
    }

    /**
     * Exact names.
     *
     * @param names the names, immutable
     */
    record Names(Set<String> names) implements ToolMatcher {

        /**
         * Copies and checks the names.
         *
         * @param names the names
         */
        public Names {
            names = Set.copyOf(names);
            names.forEach(ToolNames::check);
        }

        @Override
        public boolean matches(McpSchema.Tool tool) {
            return names.contains(tool.name());
        }

        @Override
        public String canonical() {
            return "names(" + String.join(",", new TreeSet<>(names)) + ")";
        }
    }

    /**
     * A glob over names.
     *
     * @param glob the glob
     */
    record Glob(String glob) implements ToolMatcher {

        /**
         * Checks the glob.
         *
         * @param glob the glob
         */
        public Glob {
            ToolNames.checkGlob(glob);
        }

        @Override
        public boolean matches(McpSchema.Tool tool) {
            return Globs.matches(glob, tool.name());
        }

        @Override
        public String canonical() {
            return "glob(" + glob + ")";
        }
    }

    /**
     * A predicate over the tool's definition.
     *
     * @param description the stable description that enters the fingerprint
     * @param predicate the rule
     */
    record Where(String description, Predicate<McpSchema.Tool> predicate) implements ToolMatcher {

        /**
         * Checks the parts.
         *
         * @param description the description
         * @param predicate the rule
         */
        public Where {
            if (description == null || description.isBlank()) {
                throw new IllegalArgumentException("ToolMatcher.where needs a non-blank description");
            }
            Objects.requireNonNull(predicate, "predicate");
        }

        @Override
        public boolean matches(McpSchema.Tool tool) {
            return predicate.test(tool);
        }

        @Override
        public String canonical() {
            return "where(" + description + ")";
        }
    }

    /**
     * Returns the canonical forms of several matchers, sorted.
     *
     * @param matchers the matchers
     * @return their canonical forms in a stable order
     */
    static List<String> canonical(List<ToolMatcher> matchers) {
        return matchers.stream().map(ToolMatcher::canonical).sorted().toList();
    }
}
