/** Scopes, tool matchers and the MCP tool-name rules that policies are checked against. */
package io.mcpguard.policy;
