/** A small order and refund domain, served as MCP tools by the examples. */
package io.mcpguard.examples.orders;
