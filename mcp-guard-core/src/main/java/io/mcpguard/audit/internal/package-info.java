/** The bounded buffer and writer thread between the guard and its audit sink. Unstable API. */
package io.mcpguard.audit.internal;
