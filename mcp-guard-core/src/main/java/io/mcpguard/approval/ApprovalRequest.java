package io.mcpguard.approval;

import io.mcpguard.identity.AgentIdentity;
import java.time.Instant;
import java.util.Objects;

/**
 * What approvers are asked to decide: this agent wants to make this exact call. An approval covers only an action
 * with the same {@linkplain #actionDigest() digest}, once, before it expires.
 *
 * <p>The action digest is the SHA-256 of the RFC 8785 canonical JSON of the agent id, the agent's stable client id,
 * the tool's name, the SHA-256 of the tool's definition, the arguments and the policy's fingerprint. The guard
 * recomputes it when the approved call is about to run and refuses on any difference: a redefined tool, a changed
 * policy or another client voids the approval.
 *
 * @param id the approval id ({@code A-} and 32 hex digits, 128 bits from a secure random source), also given to the
 *        agent
 * @param agent the verified caller
 * @param tool the tool's name
 * @param canonicalArguments the arguments as RFC 8785 canonical JSON
 * @param argumentsSha256 the SHA-256 of {@code canonicalArguments}
 * @param toolSha256 the SHA-256 of the tool's canonical definition
 * @param policySha256 the policy's fingerprint
 * @param actionDigest the digest the approval binds to
 * @param reversibility the tool's reversibility
 * @param rule why approval is needed (the rule that fired, a budget, or the reversibility default)
 * @param requiredApprovers how many distinct persons must approve
 * @param traceId the call's trace id when tracing is on, otherwise the empty string
 * @param requestedAt when the request was made, by the guard's clock
 * @param expiresAt when it expires undecided
 */
public record ApprovalRequest(String id, AgentIdentity agent, String tool, String canonicalArguments,
        String argumentsSha256, String toolSha256, String policySha256, String actionDigest,
        Reversibility reversibility, String rule, int requiredApprovers, String traceId, Instant requestedAt,
        Instant expiresAt) {

    /**
     * Checks the parts.
     *
     * @param id the id
     * @param agent the agent
     * @param tool the tool
     * @param canonicalArguments the arguments
     * @param argumentsSha256 their hash
     * @param toolSha256 the tool definition's hash
     * @param policySha256 the policy's fingerprint
     * @param actionDigest the action digest
     * @param reversibility the reversibility
     * @param rule the rule
     * @param requiredApprovers the number of approvers
     * @param traceId the trace id
     * @param requestedAt the time
     * @param expiresAt the expiry
     */
    public ApprovalRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(tool, "tool");
        Objects.requireNonNull(canonicalArguments, "canonicalArguments");
        Objects.requireNonNull(argumentsSha256, "argumentsSha256");
        Objects.requireNonNull(toolSha256, "toolSha256");
        Objects.requireNonNull(policySha256, "policySha256");
        Objects.requireNonNull(actionDigest, "actionDigest");
        Objects.requireNonNull(reversibility, "reversibility");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(traceId, "traceId");
        Objects.requireNonNull(requestedAt, "requestedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (requiredApprovers < 1) {
            throw new IllegalArgumentException("requiredApprovers must be at least 1");
        }
    }

    @Override
    public String toString() {
        return "ApprovalRequest[id=" + id + ", agent=" + agent.agentId() + ", tool=" + tool + ", argumentsSha256="
                + argumentsSha256 + ", actionDigest=" + actionDigest + ", reversibility=" + reversibility.code()
                + ", rule=" + rule + ", approvers=" + requiredApprovers + "]";
    }
}
