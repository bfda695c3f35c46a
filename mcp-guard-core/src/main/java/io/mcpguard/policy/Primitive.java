package io.mcpguard.policy;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.Objects;

/**
 * One MCP primitive as grants and rules see it: a tool (with its definition), a static resource (by URI), a resource
 * template (by its URI template text) or a prompt (by name). Immutable.
 *
 * @param kind what it is
 * @param name the tool or prompt name, the resource URI, or the template text
 * @param tool the tool's definition for tools, {@code null} otherwise
 */
public record Primitive(Kind kind, String name, McpSchema.Tool tool) {

    /** The kinds of primitive a policy grants. */
    public enum Kind {
        /** A tool, used by {@code tools/call}. */
        TOOL("tool"),
        /** A static resource, used by {@code resources/read} of its URI. */
        RESOURCE("resource"),
        /** A resource template, used by {@code resources/read} of the URIs it serves. */
        RESOURCE_TEMPLATE("resource_template"),
        /** A prompt, used by {@code prompts/get}. */
        PROMPT("prompt");

        private final String code;

        Kind(String code) {
            this.code = code;
        }

        /**
         * Returns the stable wire form.
         *
         * @return e.g. {@code resource_template}
         */
        public String code() {
            return code;
        }
    }

    /**
     * Checks the parts.
     *
     * @param kind the kind
     * @param name the name
     * @param tool the tool's definition, required for tools only
     */
    public Primitive {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        if ((kind == Kind.TOOL) != (tool != null)) {
            throw new IllegalArgumentException("a tool primitive carries its definition; others carry none");
        }
    }

    /**
     * A tool.
     *
     * @param tool its definition
     * @return the primitive
     */
    public static Primitive tool(McpSchema.Tool tool) {
        return new Primitive(Kind.TOOL, tool.name(), tool);
    }

    /**
     * A static resource.
     *
     * @param uri its URI
     * @return the primitive
     */
    public static Primitive resource(String uri) {
        return new Primitive(Kind.RESOURCE, uri, null);
    }

    /**
     * A resource template.
     *
     * @param uriTemplate its URI template text
     * @return the primitive
     */
    public static Primitive template(String uriTemplate) {
        return new Primitive(Kind.RESOURCE_TEMPLATE, uriTemplate, null);
    }

    /**
     * A prompt.
     *
     * @param name its name
     * @return the primitive
     */
    public static Primitive prompt(String name) {
        return new Primitive(Kind.PROMPT, name, null);
    }

    /**
     * Returns whether a matcher of any kind selects this primitive. A tool predicate may throw; callers that need a
     * fail-closed answer catch it.
     *
     * @param matcher the matcher
     * @return {@code true} if selected
     */
    public boolean selectedBy(PrimitiveMatcher matcher) {
        return switch (kind) {
            case TOOL -> matcher instanceof ToolMatcher t && t.matches(tool);
            case RESOURCE -> matcher instanceof ResourceMatcher r && r.matches(name, false);
            case RESOURCE_TEMPLATE -> matcher instanceof ResourceMatcher r && r.matches(name, true);
            case PROMPT -> matcher instanceof PromptMatcher p && p.matches(name);
        };
    }

    /**
     * Returns whether a rule's selection covers this primitive. A tool predicate may throw.
     *
     * @param selection the selection
     * @return {@code true} if selected
     */
    public boolean selectedBy(Selection selection) {
        return switch (kind) {
            case TOOL -> selection.tools() != null && selection.tools().matches(tool);
            case RESOURCE -> selection.resources() != null && selection.resources().matches(name, false);
            case RESOURCE_TEMPLATE -> selection.resources() != null && selection.resources().matches(name, true);
            case PROMPT -> selection.prompts() != null && selection.prompts().matches(name);
        };
    }
}
