/** Reversibility of tools and the human approval gate for irreversible and over-threshold calls. */
package io.mcpguard.approval;
