/**
 * The guard pipeline, written once: the ordered steps every use of a tool, resource or prompt passes (identity,
 * scope, arguments, quota, concurrency, breaker, approval, audit, run, outcome, with telemetry around them), the
 * catalog of what the guard serves and what each caller may see, and the SDK's exact answers for names it does not
 * know. Thin executors in {@code io.mcpguard.sdk} and the transport gate in {@code io.mcpguard.transport} adapt it.
 */
package io.mcpguard.pipeline;
