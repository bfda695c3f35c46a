/**
 * The guard chain and its helpers. Public only where another mcp-guard package must reach it; not a stable API, and
 * it may change in any release.
 */
package io.mcpguard.internal;
