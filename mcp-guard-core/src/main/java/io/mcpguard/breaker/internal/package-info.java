/** Resilience4j circuit breakers and call timeouts per tool. Unstable API. */
package io.mcpguard.breaker.internal;
