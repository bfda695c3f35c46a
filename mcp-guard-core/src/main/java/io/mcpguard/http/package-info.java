/** HTTP helpers for the SDK's servlet transports. */
package io.mcpguard.http;
