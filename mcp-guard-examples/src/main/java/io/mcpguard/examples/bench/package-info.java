/** Measurement programs run on demand; their results are written down in docs/. */
package io.mcpguard.examples.bench;
