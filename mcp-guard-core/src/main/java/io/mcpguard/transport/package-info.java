/**
 * The transport gate in front of the SDK's HTTP transports: authentication before any body byte, body limits, one
 * reading of each request with the SDK's own parser, sessions bound to the identity that opened them, the answers to
 * lists and to every name a caller may not see, and error bodies without SDK or server internals. One component
 * ({@link io.mcpguard.transport.McpGate}) with two shells: a servlet wrapping a transport servlet and a
 * {@code jakarta.servlet.Filter}. Also the stdio lifecycle.
 */
package io.mcpguard.transport;
