/** Rate quotas and concurrency limits per agent, per tool and per (agent, tool) pair. */
package io.mcpguard.quota;
