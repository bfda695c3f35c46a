package io.mcpguard.policy;

/**
 * Selects MCP primitives for a grant in a {@link io.mcpguard.Policy}: tools ({@link ToolMatcher}), resources and
 * resource templates ({@link ResourceMatcher}) or prompts ({@link PromptMatcher}). Every matcher is immutable and has
 * a canonical text that enters the policy's fingerprint.
 */
public sealed interface PrimitiveMatcher permits ToolMatcher, ResourceMatcher, PromptMatcher {

    /**
     * Returns the canonical text of this matcher, used in the policy's fingerprint.
     *
     * @return the canonical form, prefixed by the kind it selects for resources and prompts
     */
    String canonical();
}
