/** The tamper-evident audit trail: records of every guard decision, sinks, the hash chain, its verifier and queries. */
package io.mcpguard.audit;
