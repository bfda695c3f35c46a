/** JMH benchmarks of the guard's cost per call and a loopback load benchmark; results live in docs/performance.md. */
package io.mcpguard.benchmarks;
