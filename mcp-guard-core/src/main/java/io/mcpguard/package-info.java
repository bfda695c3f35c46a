/**
 * The entry point of mcp-guard ({@link io.mcpguard.McpGuard}), the immutable {@link io.mcpguard.Policy} and the few
 * types most users touch.
 */
package io.mcpguard;
