/** Spring Boot auto-configuration of mcp-guard for Spring AI MCP servers: wiring only, no guard logic. */
package io.mcpguard.spring;
