/** The order server as a Spring AI MCP application, guarded by the mcp-guard Spring Boot auto-configuration. */
package io.mcpguard.examples.spring;
