package io.mcpguard.approval;

import io.mcpguard.identity.AgentIdentity;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What an approver is asked to decide: this agent wants to make this exact call. The approval, if given, covers only
 * a call with the same agent, tool and argument hash, once.
 *
 * @param id the approval id, also given to the agent ({@code A-...})
 * @param agent the verified caller
 * @param tool the tool's name
 * @param canonicalArguments the arguments as canonical JSON (sorted keys, normalized numbers)
 * @param argumentsSha256 the SHA-256 of {@code canonicalArguments}, 64 hex digits
 * @param reversibility the tool's reversibility
 * @param rule why approval is needed (the rule that fired, or the reversibility default)
 * @param traceId the trace id of the call, when tracing is on; otherwise empty string
 * @param requestedAt when the request was made, by the guard's clock
 * @param elicitor the channel to the human at the client, when the call has a live session; {@code null} otherwise
 */
public record ApprovalRequest(String id, AgentIdentity agent, String tool, String canonicalArguments,
        String argumentsSha256, Reversibility reversibility, String rule, String traceId, Instant requestedAt,
        Elicitor elicitor) {

    /**
     * Checks the parts.
     *
     * @param id the id
     * @param agent the agent
     * @param tool the tool
     * @param canonicalArguments the arguments
     * @param argumentsSha256 their hash
     * @param reversibility the reversibility
     * @param rule the rule
     * @param traceId the trace id
     * @param requestedAt the time
     * @param elicitor the elicitation channel or null
     */
    public ApprovalRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(tool, "tool");
        Objects.requireNonNull(canonicalArguments, "canonicalArguments");
        Objects.requireNonNull(argumentsSha256, "argumentsSha256");
        Objects.requireNonNull(reversibility, "reversibility");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(traceId, "traceId");
        Objects.requireNonNull(requestedAt, "requestedAt");
    }

    /**
     * Returns the channel to the human at the client, if the call came through a live session.
     *
     * @return the elicitor, or empty (stateless servers, deferred approvals)
     */
    public Optional<Elicitor> elicitation() {
        return Optional.ofNullable(elicitor);
    }

    @Override
    public String toString() {
        // The elicitor is a live channel, not part of the request's value.
        return "ApprovalRequest[id=" + id + ", agent=" + agent.agentId() + ", tool=" + tool + ", argumentsSha256="
                + argumentsSha256 + ", reversibility=" + reversibility.code() + ", rule=" + rule + "]";
    }

    /** Asks the human at the client through MCP elicitation. */
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
}
