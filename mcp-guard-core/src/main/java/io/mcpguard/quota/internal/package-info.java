/** GCRA buckets and in-flight counters behind the policy's quotas and concurrency limits. Unstable API. */
package io.mcpguard.quota.internal;
