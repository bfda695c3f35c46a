package io.mcpguard.policy.internal;

import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.Selection;
import io.mcpguard.policy.ToolMatcher;
import io.mcpguard.support.LogSafe;
import io.modelcontextprotocol.spec.McpSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates user-supplied matchers so that one that throws always leaves the restrictive outcome: it grants nothing,
 * and it makes every limit it could select apply. Unstable API.
 */
public final class Rules {

    private static final Logger log = LoggerFactory.getLogger(Rules.class);

    private Rules() {
    }

    /**
     * Whether the policy grants the primitive to the caller; a matcher that throws grants nothing.
     *
     * @param policy the policy
     * @param agent the caller
     * @param primitive the primitive
     * @return {@code true} only if granted without failure
     */
    public static boolean granted(Policy policy, AgentIdentity agent, Primitive primitive) {
        try {
            return policy.permits(agent, primitive);
        } catch (RuntimeException e) {
            log.warn("A grant matcher failed for {} '{}'; not granted (fail closed)", primitive.kind().code(),
                    LogSafe.text(primitive.name()), LogSafe.throwable(e));
            return false;
        }
    }

    /**
     * Whether a limit rule applies to the primitive; a matcher that throws makes it apply.
     *
     * @param selection the rule's selection
     * @param primitive the primitive
     * @param rule the rule's canonical text, for the log
     * @return {@code true} if it applies (or could not be decided)
     */
    public static boolean applies(Selection selection, Primitive primitive, String rule) {
        try {
            return primitive.selectedBy(selection);
        } catch (RuntimeException e) {
            log.warn("The matcher of '{}' failed for {} '{}'; applying the rule (fail closed)", rule,
                    primitive.kind().code(), LogSafe.text(primitive.name()), LogSafe.throwable(e));
            return true;
        }
    }

    /**
     * Whether a tool matcher selects a tool; {@code null} when it throws, so the caller picks the restrictive reading.
     *
     * @param matcher the matcher
     * @param tool the tool
     * @param rule the rule's text, for the log
     * @return the answer, or {@code null} if the matcher failed
     */
    public static Boolean selects(ToolMatcher matcher, McpSchema.Tool tool, String rule) {
        try {
            return matcher.matches(tool);
        } catch (RuntimeException e) {
            log.warn("The tool matcher of '{}' failed for tool '{}'; taking the restrictive reading", rule,
                    LogSafe.text(tool.name()), LogSafe.throwable(e));
            return null;
        }
    }
}
