/** Fail-closed evaluation of the policy's user-supplied matchers. Unstable API. */
package io.mcpguard.policy.internal;
