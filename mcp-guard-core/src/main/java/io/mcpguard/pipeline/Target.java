package io.mcpguard.pipeline;

import io.mcpguard.approval.internal.Approvals;
import io.mcpguard.breaker.internal.Breakers;
import io.mcpguard.policy.ArgumentBoundary;
import io.mcpguard.policy.Primitive;
import io.mcpguard.quota.internal.Quotas;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A primitive the guard serves, with everything the pipeline resolved for it once, at registration: its quotas and
 * concurrency limits, breaker and timeout, and for tools the approval facts. Immutable.
 */
public final class Target {

    private static final Pattern VARIABLE = Pattern.compile("\\{([^/]+?)\\}");

    private final Primitive primitive;
    private final Object definition;
    private final Quotas.Target quotas;
    private final Breakers.Target breaker;
    private final Approvals.ToolApproval approval;
    private final List<ArgumentBoundary> boundaries;
    private final String definitionSha256;
    private final Pattern uriPattern;

    Target(Primitive primitive, Object definition, Quotas.Target quotas, Breakers.Target breaker,
            Approvals.ToolApproval approval, List<ArgumentBoundary> boundaries, String definitionSha256) {
        this.primitive = Objects.requireNonNull(primitive, "primitive");
        this.definition = Objects.requireNonNull(definition, "definition");
        this.quotas = quotas;
        this.breaker = breaker;
        this.approval = approval;
        this.boundaries = boundaries;
        this.definitionSha256 = definitionSha256;
        this.uriPattern = primitive.kind() == Primitive.Kind.RESOURCE_TEMPLATE ? templatePattern(primitive.name())
                : null;
    }

    /**
     * The pattern the SDK's default URI template manager matches a template with: each {@code {var}} matches one or
     * more characters other than {@code /}, everything else literally.
     */
    static Pattern templatePattern(String template) {
        StringBuilder regex = new StringBuilder("^");
        Matcher variable = VARIABLE.matcher(template);
        int last = 0;
        while (variable.find()) {
            regex.append(Pattern.quote(template.substring(last, variable.start()))).append("([^/]+?)");
            last = variable.end();
        }
        if (last < template.length()) {
            regex.append(Pattern.quote(template.substring(last)));
        }
        return Pattern.compile(regex.append('$').toString());
    }

    /**
     * Returns what the policy sees of this primitive.
     *
     * @return the primitive
     */
    public Primitive primitive() {
        return primitive;
    }

    /**
     * Returns the name, URI or template text.
     *
     * @return the name
     */
    public String name() {
        return primitive.name();
    }

    /**
     * Returns the SDK definition: a {@code Tool}, {@code Resource}, {@code ResourceTemplate} or {@code Prompt}.
     *
     * @return the definition
     */
    public Object definition() {
        return definition;
    }

    Quotas.Target quotas() {
        return quotas;
    }

    Breakers.Target breaker() {
        return breaker;
    }

    /**
     * Returns the primitive's breakers and timeout, for operations (read-only use).
     *
     * @return the breaker state
     */
    public Breakers.Target breakerState() {
        return breaker;
    }

    Approvals.ToolApproval approval() {
        return approval;
    }

    List<ArgumentBoundary> boundaries() {
        return boundaries;
    }

    /**
     * Returns the SHA-256 of a tool's definition (RFC 8785 form), which approvals bind to.
     *
     * @return 64 hex digits, or {@code null} for other primitives
     */
    public String definitionSha256() {
        return definitionSha256;
    }

    /**
     * Returns whether this template serves the URI, as the SDK's default URI template manager decides.
     *
     * @param uri the URI
     * @return {@code true} for a template that matches it
     */
    public boolean serves(String uri) {
        return uriPattern != null && uriPattern.matcher(uri).matches();
    }

    /**
     * Returns how messages name this primitive, e.g. {@code Tool 'get_order'} or {@code Resource 'orders://1'}.
     *
     * @return the label
     */
    public String label() {
        return switch (primitive.kind()) {
            case TOOL -> "Tool";
            case RESOURCE, RESOURCE_TEMPLATE -> "Resource";
            case PROMPT -> "Prompt";
        } + " '" + primitive.name() + "'";
    }

    @Override
    public String toString() {
        return primitive.kind().code() + " " + primitive.name();
    }
}
