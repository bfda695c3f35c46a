/**
 * Adapters of the guard pipeline to the MCP Java SDK's server feature specifications: tools, resources, resource
 * templates, prompts and completions, each in the SDK's four server shapes (sync, async, stateless sync, stateless
 * async), and the guarded server builders {@code McpGuard.install} returns.
 */
package io.mcpguard.sdk;
