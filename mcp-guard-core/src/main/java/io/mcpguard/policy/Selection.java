package io.mcpguard.policy;

import java.util.Objects;

/**
 * Which primitives a limit rule (quota, concurrency limit, timeout, circuit breaker) applies to: tools by a
 * {@link ToolMatcher}, and optionally resources and prompts. Immutable. By default a rule applies to every tool and
 * to no resource or prompt; {@code forResources} and {@code forPrompts} extend it.
 *
 * @param tools the tools selected, or {@code null} for none
 * @param resources the resources and templates selected, or {@code null} for none
 * @param prompts the prompts selected, or {@code null} for none
 */
public record Selection(ToolMatcher tools, ResourceMatcher resources, PromptMatcher prompts) {

    /** Every tool, no resource, no prompt: the default of every limit rule. */
    public static final Selection ALL_TOOLS = new Selection(ToolMatcher.all(), null, null);

    /**
     * Checks that something is selected.
     *
     * @param tools the tools, or {@code null}
     * @param resources the resources, or {@code null}
     * @param prompts the prompts, or {@code null}
     */
    public Selection {
        if (tools == null && resources == null && prompts == null) {
            throw new IllegalArgumentException("a rule must select tools, resources or prompts");
        }
    }

    /**
     * Returns this selection with the given tools.
     *
     * @param matcher the tools
     * @return a new selection
     */
    public Selection withTools(ToolMatcher matcher) {
        return new Selection(Objects.requireNonNull(matcher, "tools"), resources, prompts);
    }

    /**
     * Returns this selection also selecting the given resources.
     *
     * @param matcher the resources
     * @return a new selection
     */
    public Selection withResources(ResourceMatcher matcher) {
        return new Selection(tools, Objects.requireNonNull(matcher, "resources"), prompts);
    }

    /**
     * Returns this selection also selecting the given prompts.
     *
     * @param matcher the prompts
     * @return a new selection
     */
    public Selection withPrompts(PromptMatcher matcher) {
        return new Selection(tools, resources, Objects.requireNonNull(matcher, "prompts"));
    }

    /**
     * Returns the canonical text, for fingerprints.
     *
     * @return e.g. {@code tools=glob(*)} or {@code tools=names(a) resources=resources.glob(*)}
     */
    public String canonical() {
        StringBuilder out = new StringBuilder();
        if (tools != null) {
            out.append("tools=").append(tools.canonical());
        }
        if (resources != null) {
            out.append(out.isEmpty() ? "" : " ").append("resources=").append(resources.canonical());
        }
        if (prompts != null) {
            out.append(out.isEmpty() ? "" : " ").append("prompts=").append(prompts.canonical());
        }
        return out.toString();
    }
}
