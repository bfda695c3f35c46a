/** OpenTelemetry names (MCP semantic conventions plus the guard's own) and the options for what is recorded. */
package io.mcpguard.telemetry;
