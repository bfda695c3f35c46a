package io.mcpguard.internal;

import io.mcpguard.policy.ToolMatcher;
import io.modelcontextprotocol.spec.McpSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies a matcher safely. Unstable API. */
final class Matching {

    private static final Logger log = LoggerFactory.getLogger(Matching.class);

    private Matching() {
    }

    /** A matcher that throws selects nothing for a grant, but everything for a limit: limits fail closed too. */
    static boolean selects(ToolMatcher matcher, McpSchema.Tool tool) {
        try {
            return matcher.matches(tool);
        } catch (RuntimeException e) {
            log.warn("Tool matcher {} failed for tool '{}'; applying the limit (fail closed)", matcher.canonical(),
                    tool.name(), e);
            return true;
        }
    }
}
