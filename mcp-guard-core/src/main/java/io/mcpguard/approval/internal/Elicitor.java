package io.mcpguard.approval.internal;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.concurrent.CompletionStage;

/**
 * The channel to the client's user on the calling session (MCP elicitation), for rules that accept the client user's
 * confirmation. Never given to approvers: a person's approval does not travel through the calling client. Unstable
 * API.
 */
public interface Elicitor {

    /**
     * Returns whether the client declared the elicitation capability.
     *
     * @return true if the client can be asked
     */
    boolean supported();

    /**
     * Sends an elicitation request to the client.
     *
     * @param request the request
     * @return the client's answer
     */
    CompletionStage<McpSchema.ElicitResult> elicit(McpSchema.ElicitRequest request);
}
