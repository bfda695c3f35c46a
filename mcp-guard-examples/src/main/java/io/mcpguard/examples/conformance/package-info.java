/** The fixture server the MCP conformance suite runs against, served through mcp-guard. */
package io.mcpguard.examples.conformance;
