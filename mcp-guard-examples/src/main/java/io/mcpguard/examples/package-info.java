/** Runnable guarded MCP servers and the demo that drives them. */
package io.mcpguard.examples;
