/**
 * Small helpers with no guard decision in them, shared by the concern packages: canonical JSON and digests, the
 * monotonic clock, and text for messages and log lines. Unstable API.
 */
package io.mcpguard.support;
