package io.mcpguard.approval;

import io.modelcontextprotocol.spec.McpSchema;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How undoable a tool's effect is. Reading data is {@link #READ_ONLY}; changing it in a way that can be put back is
 * {@link #REVERSIBLE}; paying money out or deleting a customer is {@link #IRREVERSIBLE}. By default every irreversible
 * call waits for a human's approval.
 *
 * <p>mcp-guard's classification travels on the tool definition in {@code _meta["io.mcpguard/reversibility"]} and is
 * mirrored onto the MCP {@code ToolAnnotations} by {@link #annotate(McpSchema.Tool)} so clients see a consistent
 * picture. A tool without it is classified from its MCP annotations with the specification's defaults (see
 * {@link #of(McpSchema.Tool)}). Annotations of servers you do not control are hints, not truth: override them in the
 * policy ({@code Policy.Builder.reversibility}).
 */
public enum Reversibility {

    /** Reads only; no effect on the world. */
    READ_ONLY("read_only"),

    /** Changes state in a way that can be undone. */
    REVERSIBLE("reversible"),

    /** Changes state in a way that cannot be undone (money out, data destroyed, messages sent). */
    IRREVERSIBLE("irreversible");

    /** The {@code _meta} key that carries the classification on a tool definition. */
    public static final String META_KEY = "io.mcpguard/reversibility";

    private final String code;

    Reversibility(String code) {
        this.code = code;
    }

    /**
     * Returns the stable wire form, e.g. {@code irreversible}.
     *
     * @return the code
     */
    public String code() {
        return code;
    }

    /**
     * Parses a wire form.
     *
     * @param code e.g. {@code irreversible}
     * @return the value, or empty if unknown
     */
    public static Optional<Reversibility> fromCode(String code) {
        if (code == null) {
            return Optional.empty();
        }
        for (Reversibility r : values()) {
            if (r.code.equals(code.toLowerCase(Locale.ROOT))) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /**
     * Classifies a tool: by its mcp-guard classification if it has one, otherwise from its MCP annotations with the
     * specification's defaults ({@code readOnlyHint} false, {@code destructiveHint} true): read-only if
     * {@code readOnlyHint} is true; otherwise irreversible unless {@code destructiveHint} is explicitly false. A tool
     * with no annotations at all is therefore irreversible.
     *
     * @param tool the tool's definition
     * @return its reversibility
     */
    public static Reversibility of(McpSchema.Tool tool) {
        if (tool.meta() != null && tool.meta().get(META_KEY) instanceof String code) {
            Optional<Reversibility> declared = fromCode(code);
            if (declared.isPresent()) {
                return declared.get();
            }
        }
        McpSchema.ToolAnnotations a = tool.annotations();
        if (a != null && Boolean.TRUE.equals(a.readOnlyHint())) {
            return READ_ONLY;
        }
        if (a != null && Boolean.FALSE.equals(a.destructiveHint())) {
            return REVERSIBLE;
        }
        return IRREVERSIBLE;
    }

    /**
     * Returns the tool definition marked with this classification: {@code _meta["io.mcpguard/reversibility"]} set
     * and the MCP annotations made consistent ({@code readOnlyHint}, {@code destructiveHint}; read-only tools are
     * also {@code idempotentHint}). Other annotations and metadata are kept.
     *
     * @param tool the tool's definition
     * @return a new definition
     */
    public McpSchema.Tool annotate(McpSchema.Tool tool) {
        McpSchema.ToolAnnotations a = tool.annotations();
        var annotations = McpSchema.ToolAnnotations.builder()
                .title(a == null ? null : a.title())
                .readOnlyHint(this == READ_ONLY)
                .destructiveHint(this == IRREVERSIBLE)
                .idempotentHint(this == READ_ONLY ? Boolean.TRUE : a == null ? null : a.idempotentHint())
                .openWorldHint(a == null ? null : a.openWorldHint())
                .returnDirect(a == null ? null : a.returnDirect())
                .build();
        Map<String, Object> meta = tool.meta() == null ? new HashMap<>() : new HashMap<>(tool.meta());
        meta.put(META_KEY, code);
        return McpSchema.Tool.builder()
                .name(tool.name())
                .title(tool.title())
                .description(tool.description())
                .inputSchema(tool.inputSchema())
                .outputSchema(tool.outputSchema())
                .annotations(annotations)
                .meta(java.util.Collections.unmodifiableMap(meta))
                .icons(tool.icons())
                .build();
    }

    /**
     * Reads the {@link ToolReversibility} annotation of a method that implements a tool.
     *
     * @param method the method
     * @return its declared reversibility, or empty
     */
    public static Optional<Reversibility> declaredOn(Method method) {
        ToolReversibility declared = method.getAnnotation(ToolReversibility.class);
        return declared == null ? Optional.empty() : Optional.of(declared.value());
    }
}
