/** Spans and metrics on the OpenTelemetry API, with a shared no-op when telemetry is off. Unstable API. */
package io.mcpguard.telemetry.internal;
