/** The approval gate: which calls need a person, asking the handler, binding and using the answer once. Unstable API. */
package io.mcpguard.approval.internal;
