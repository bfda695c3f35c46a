/** Circuit breakers per tool (Resilience4j) and per-tool call timeouts. */
package io.mcpguard.breaker;
