package io.mcpguard.spring;

import io.mcpguard.Policy;

/**
 * Adds to the policy built from {@code mcp-guard.*} properties, in code, before it is built (and frozen). Every
 * customizer bean is applied, in order. Define a {@link Policy} bean instead to replace the properties altogether.
 */
@FunctionalInterface
public interface McpGuardPolicyCustomizer {

    /**
     * Adds grants, limits or approval rules.
     *
     * @param policy the builder, with the properties already applied
     */
    void customize(Policy.Builder policy);
}
