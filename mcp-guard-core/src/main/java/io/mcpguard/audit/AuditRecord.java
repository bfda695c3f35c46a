package io.mcpguard.audit;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One audited fact: a listing, a call's decision, an approval requested or resolved, a breaker state change, a call's
 * outcome. Immutable. Every record carries the same context (time, agent, credential id, run id, the MCP method and
 * its target, the SHA-256 of the canonical arguments, the policy fingerprint, trace and span ids); each type adds its
 * own facts. A "call" is any use of a primitive: {@code tools/call}, {@code resources/read}, {@code prompts/get}, ...
 *
 * <p>{@link #fields()} is the record's flat, ordered form: what sinks write and what the JSON Lines chain hashes.
 */
public sealed interface AuditRecord {

    /**
     * Returns the shared context.
     *
     * @return the context
     */
    Context context();

    /**
     * Returns the event type, e.g. {@code call.decision}.
     *
     * @return the type
     */
    String type();

    /**
     * Returns the event-specific facts, in a stable order.
     *
     * @return the facts (values are strings, numbers or booleans; absent facts are left out)
     */
    Map<String, Object> facts();

    /**
     * Returns the whole record as ordered fields: {@code time}, {@code type}, the context, then the facts.
     *
     * @return the fields
     */
    default Map<String, Object> fields() {
        Map<String, Object> out = new LinkedHashMap<>();
        Context c = context();
        out.put("time", c.time().toString());
        out.put("type", type());
        put(out, "agentId", c.agentId());
        put(out, "credentialId", c.credentialId());
        put(out, "runId", c.runId());
        put(out, "method", c.method());
        put(out, "target", c.target());
        put(out, "argumentsSha256", c.argumentsSha256());
        put(out, "policySha256", c.policyFingerprint());
        put(out, "traceId", c.traceId());
        put(out, "spanId", c.spanId());
        facts().forEach((k, v) -> put(out, k, v));
        return out;
    }

    private static void put(Map<String, Object> out, String key, Object value) {
        if (value != null && !"".equals(value)) {
            out.put(key, value);
        }
    }

    /**
     * What every record carries. Empty strings and {@code null} mean "not known".
     *
     * @param time when, by the guard's clock
     * @param agentId the verified agent, or {@code null} (unknown caller, breaker events)
     * @param credentialId the credential's id, never the secret
     * @param runId the agent's run id
     * @param method the MCP method, e.g. {@code tools/call}, {@code resources/read}
     * @param target the tool or prompt name, or the resource URI (cut to a bounded length)
     * @param argumentsSha256 SHA-256 of the call's canonical arguments
     * @param policyFingerprint SHA-256 of the policy
     * @param traceId the trace id, when tracing is on
     * @param spanId the span id, when tracing is on
     */
    record Context(Instant time, String agentId, String credentialId, String runId, String method, String target,
            String argumentsSha256, String policyFingerprint, String traceId, String spanId) {

        /**
         * Checks the parts.
         *
         * @param time when
         * @param agentId the agent
         * @param credentialId the credential id
         * @param runId the run id
         * @param method the MCP method
         * @param target the target
         * @param argumentsSha256 the argument hash
         * @param policyFingerprint the policy hash
         * @param traceId the trace id
         * @param spanId the span id
         */
        public Context {
            Objects.requireNonNull(time, "time");
        }
    }

    /**
     * A listing ({@code tools/list}, {@code resources/list}, {@code resources/templates/list}, {@code prompts/list}):
     * how many entries the caller saw and how many were hidden from it. The method is in the context.
     *
     * @param context the context
     * @param listed entries listed
     * @param hidden guarded entries hidden
     */
    record Listed(Context context, long listed, long hidden) implements AuditRecord {
        @Override
        public String type() {
            return "list";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("listed", listed);
            f.put("hidden", hidden);
            return f;
        }
    }

    /**
     * A call's decision, before the tool runs: {@code allow}, {@code deny} (reason, step) or {@code pending}.
     *
     * @param context the context
     * @param decision {@code allow}, {@code deny} or {@code pending}
     * @param reason the reason code, or {@code null} when allowed
     * @param step the step that decided, or {@code null} when allowed
     * @param approvalId the approval used or requested, or {@code null}
     * @param rule the boundary or budget that refused, or {@code null}
     */
    record CallDecided(Context context, String decision, String reason, String step, String approvalId, String rule)
            implements AuditRecord {

        /**
         * A decision that names no rule.
         *
         * @param context the context
         * @param decision the decision
         * @param reason the reason code
         * @param step the step
         * @param approvalId the approval id
         */
        public CallDecided(Context context, String decision, String reason, String step, String approvalId) {
            this(context, decision, reason, step, approvalId, null);
        }

        @Override
        public String type() {
            return "call.decision";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("decision", decision);
            if (reason != null) {
                f.put("reason", reason);
            }
            if (step != null) {
                f.put("step", step);
            }
            if (approvalId != null) {
                f.put("approvalId", approvalId);
            }
            if (rule != null) {
                f.put("rule", rule);
            }
            return f;
        }
    }

    /**
     * An approval was requested.
     *
     * @param context the context
     * @param approvalId the approval id
     * @param rule why approval was needed
     * @param actionDigest the digest the approval is bound to
     * @param kind who must approve ({@code person} or {@code client_user})
     * @param requiredApprovers how many distinct approvers
     */
    record ApprovalRequested(Context context, String approvalId, String rule, String actionDigest, String kind,
            int requiredApprovers) implements AuditRecord {
        @Override
        public String type() {
            return "approval.requested";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("approvalId", approvalId);
            f.put("rule", rule);
            f.put("actionDigest", actionDigest);
            f.put("kind", kind);
            f.put("approvers", requiredApprovers);
            return f;
        }
    }

    /**
     * An approval changed state ({@code approval.granted}, {@code .denied}, {@code .expired}, {@code .abandoned},
     * {@code .consumed}, {@code .voided}, {@code .answer_ignored}). A timeout or a failed handler is a denial by
     * {@code mcp-guard}.
     *
     * @param context the context
     * @param approvalId the approval id
     * @param state the new state's code
     * @param approvers who decided or answered, comma-separated, or empty
     * @param reason why
     * @param waitedMs how long since the request
     */
    record ApprovalChanged(Context context, String approvalId, String state, String approvers, String reason,
            long waitedMs) implements AuditRecord {
        @Override
        public String type() {
            return "approval." + state;
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("approvalId", approvalId);
            if (approvers != null && !approvers.isEmpty()) {
                f.put("approvers", approvers);
            }
            f.put("reason", reason);
            f.put("waitedMs", waitedMs);
            return f;
        }
    }

    /**
     * A tool's circuit breaker changed state.
     *
     * @param context the context (target set, no agent)
     * @param from the state before
     * @param to the state after
     */
    record BreakerStateChanged(Context context, String from, String to) implements AuditRecord {
        @Override
        public String type() {
            return "breaker.state";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("from", from);
            f.put("to", to);
            return f;
        }
    }

    /**
     * What a call that ran came to.
     *
     * @param context the context
     * @param outcome {@code success}, {@code tool_reported_error}, {@code tool_error} or {@code timeout}
     * @param errorId the reference under which a failure was logged, or {@code null}
     * @param durationMs how long the tool ran
     */
    record CallCompleted(Context context, String outcome, String errorId, long durationMs) implements AuditRecord {
        @Override
        public String type() {
            return "call.outcome";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("outcome", outcome);
            if (errorId != null) {
                f.put("errorId", errorId);
            }
            f.put("durationMs", durationMs);
            return f;
        }
    }

    /**
     * A request the transport gate refused for what it tried to reach, not for what it said: another agent's session
     * (an answer to an elicitation sent to it, its stream, its deletion). The request got the same answer as for a
     * session that does not exist.
     *
     * @param context the context (the caller; method is the JSON-RPC method or HTTP method)
     * @param reason a stable code, e.g. {@code foreign_session}
     * @param what what was sent: {@code request}, {@code notification}, {@code response}, {@code stream} or
     *        {@code delete}
     * @param sessionOwner the agent that opened the session
     */
    record TransportRefused(Context context, String reason, String what, String sessionOwner) implements AuditRecord {
        @Override
        public String type() {
            return "transport.refusal";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("reason", reason);
            f.put("what", what);
            if (sessionOwner != null) {
                f.put("sessionOwner", sessionOwner);
            }
            return f;
        }
    }

    /**
     * The probes of one agent in one window beyond those recorded one by one: uses of tools, resources or prompts it
     * may not see (hidden or missing alike), summed up so that the trail stays complete in meaning without growing
     * with the prober's rate.
     *
     * @param context the context (agent; no target)
     * @param windowStart when the window began
     * @param windowEnd when it ended
     * @param probes how many probes of the window this record covers (those not recorded one by one)
     * @param refused how many of them were refused for passing the probe limit
     * @param sample up to {@link io.mcpguard.quota.ProbeLimit#SAMPLE} of their names, comma-separated, each cut to
     *        a bounded length
     */
    record ProbesAggregated(Context context, Instant windowStart, Instant windowEnd, long probes, long refused,
            String sample) implements AuditRecord {
        @Override
        public String type() {
            return "probes.aggregated";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("windowStart", windowStart.toString());
            f.put("windowEnd", windowEnd.toString());
            f.put("probes", probes);
            f.put("refused", refused);
            f.put("sample", sample);
            return f;
        }
    }

    /**
     * Records were lost (the buffer was full or the sink failed) and the calls they belonged to were served anyway,
     * as the overflow policy allows: how many, and between when. Written by the trail itself before the first record
     * it manages to write again.
     *
     * @param context the context (no agent)
     * @param lost how many records were lost
     * @param from when the first of them was lost
     * @param to when the trail wrote again
     */
    record Gap(Context context, long lost, Instant from, Instant to) implements AuditRecord {
        @Override
        public String type() {
            return "audit.gap";
        }

        @Override
        public Map<String, Object> facts() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("lost", lost);
            f.put("from", from.toString());
            f.put("to", to.toString());
            return f;
        }
    }
}
