package io.mcpguard.breaker;

import io.mcpguard.policy.ToolMatcher;
import java.time.Duration;
import java.util.Objects;

/**
 * A call timeout for the selected tools. A call that runs longer is cancelled (a synchronous handler's thread is
 * interrupted; an asynchronous handler's subscription is cancelled), answered with {@code timeout}, and counted as a
 * failure by the tool's circuit breaker. Immutable.
 *
 * <p>A synchronous tool with a timeout runs on the guard's tool executor so that the caller can stop waiting; tools
 * without a timeout run on the caller's thread, with no hop.
 *
 * @param timeout the longest a call may run, 1 ms to 1 day
 * @param tools the tools the rule applies to
 */
public record TimeoutRule(Duration timeout, ToolMatcher tools) {

    /**
     * Checks the parts.
     *
     * @param timeout the timeout
     * @param tools the matcher
     */
    public TimeoutRule {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(tools, "tools");
        if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("timeout must be between 1 ms and 1 day, got " + timeout);
        }
    }

    /**
     * Returns the canonical text of the rule, for the policy's fingerprint.
     *
     * @return e.g. {@code timeout PT5S tools=glob(*)}
     */
    public String canonical() {
        return "timeout " + timeout + " tools=" + tools.canonical();
    }
}
