package io.mcpguard.telemetry.internal;

import io.mcpguard.support.LogSafe;
import static io.mcpguard.telemetry.McpTelemetryNames.*;

import io.mcpguard.Decision;
import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.telemetry.TelemetryOptions;
import io.opentelemetry.api.common.AttributeKey;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spans and metrics for the guard, on the OpenTelemetry API only. With {@link OpenTelemetry#noop()} (the default)
 * every observation is a shared no-op object: no span, no attribute, no allocation per call. Unstable API.
 */
public final class GuardTelemetry {

    private static final Logger log = LoggerFactory.getLogger(GuardTelemetry.class);
    private static final TextMapPropagator PROPAGATOR = TextMapPropagator.composite(
            W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance());
    private static final TextMapGetter<Map<String, Object>> META_GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, Object> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, Object> carrier, String key) {
            if (carrier == null) {
                return null;
            }
            Object value = carrier.get(key);
            return value instanceof String s && s.length() <= 8192 ? s : null;
        }
    };

    private final boolean enabled;
    private final Tracer tracer;
    private final DoubleHistogram duration;
    private final DoubleHistogram approvalWait;
    private final LongCounter decisions;
    private final TelemetryOptions options;
    private final String fingerprint;
    private final Map<McpTransportContext, ListObservation> lists = new IdentityHashMap<>();
    private final ListListener listListener;

    /** Told when a listing has been answered. */
    public interface ListListener {

        /**
         * One listing ended.
         *
         * @param method the list method, e.g. {@code tools/list}
         * @param agent the caller, or {@code null} if unknown
         * @param listed tools listed
         * @param hidden guarded tools hidden
         * @param traceId the list span's trace id, or empty
         * @param spanId the list span's id, or empty
         */
        void listed(String method, AgentIdentity agent, long listed, long hidden, String traceId, String spanId);
    }

    /**
     * Creates telemetry.
     *
     * @param openTelemetry the API instance; {@link OpenTelemetry#noop()} turns everything off
     * @param options what to record
     * @param policy the policy, for its fingerprint
     * @param listListener told about each finished listing (the audit trail), or {@code null}
     */
    public GuardTelemetry(OpenTelemetry openTelemetry, TelemetryOptions options, Policy policy,
            ListListener listListener) {
        this.enabled = openTelemetry != OpenTelemetry.noop();
        this.listListener = listListener;
        this.options = options;
        this.fingerprint = policy.fingerprint();
        this.tracer = openTelemetry.getTracer(INSTRUMENTATION_SCOPE, Versions.LIBRARY);
        Meter meter = openTelemetry.getMeter(INSTRUMENTATION_SCOPE);
        this.duration = meter.histogramBuilder(METRIC_OPERATION_DURATION).setUnit("s")
                .setDescription("Duration of MCP server operations as seen by mcp-guard")
                .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS).build();
        this.approvalWait = meter.histogramBuilder(METRIC_APPROVAL_WAIT).setUnit("s")
                .setDescription("Time calls waited for a human's approval")
                .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS).build();
        this.decisions = meter.counterBuilder(METRIC_DECISIONS).setUnit("{decision}")
                .setDescription("Guard decisions by decision, reason and tool").build();
    }

    /**
     * Starts observing one use of a primitive: {@code tools/call}, {@code resources/read}, {@code prompts/get},
     * {@code resources/subscribe} or {@code completion/complete}. The span is named {@code <method> <target>}.
     *
     * @param context the transport context
     * @param sessionId the MCP session id, or {@code null}
     * @param method the MCP method
     * @param target the tool or prompt name, or the resource URI
     * @param meta the request's {@code _meta} (may carry W3C trace context), or {@code null}
     * @param arguments the arguments, recorded only when opted in (tools), or {@code null}
     * @return the observation (a no-op when telemetry is off)
     */
    public Observation startCall(McpTransportContext context, String sessionId, String method, String target,
            Map<String, Object> meta, Object arguments) {
        if (!enabled) {
            return Observation.NOOP;
        }
        try {
            SpanBuilder builder = tracer.spanBuilder(method + " " + target).setSpanKind(SpanKind.SERVER);
            parent(builder, meta);
            AttributeKey<String> targetKey = targetKey(method);
            builder.setAttribute(MCP_METHOD_NAME, method)
                    .setAttribute(targetKey, target)
                    .setAttribute(POLICY_FINGERPRINT, fingerprint);
            if (targetKey == GEN_AI_TOOL_NAME) {
                builder.setAttribute(GEN_AI_OPERATION_NAME, "execute_tool");
            }
            if (sessionId != null) {
                builder.setAttribute(MCP_SESSION_ID, sessionId);
            }
            network(builder, context);
            if (options.recordArguments() && arguments != null) {
                builder.setAttribute(GEN_AI_TOOL_CALL_ARGUMENTS, redacted(arguments));
            }
            return new CallObservation(builder.startSpan(), method, targetKey, target, System.nanoTime());
        } catch (RuntimeException e) {
            log.warn("Starting a span failed; the call goes on without it", LogSafe.throwable(e));
            return Observation.NOOP;
        }
    }

    private static AttributeKey<String> targetKey(String method) {
        if (method.startsWith("resources/")) {
            return MCP_RESOURCE_URI;
        }
        if (method.startsWith("prompts/")) {
            return GEN_AI_PROMPT_NAME;
        }
        return GEN_AI_TOOL_NAME;
    }

    private void parent(SpanBuilder builder, Map<String, Object> meta) {
        Context ambient = Context.current();
        if (meta == null || meta.isEmpty()) {
            return;
        }
        Context extracted = PROPAGATOR.extract(Context.root(), meta, META_GETTER);
        SpanContext remote = Span.fromContext(extracted).getSpanContext();
        if (!remote.isValid()) {
            return;
        }
        builder.setParent(extracted);
        SpanContext local = Span.fromContext(ambient).getSpanContext();
        if (local.isValid()) {
            builder.addLink(local);
        }
    }

    private void network(SpanBuilder builder, McpTransportContext context) {
        String transport = options.networkTransport();
        if (transport == null && context != null && context.get(CONTEXT_NETWORK_TRANSPORT) instanceof String t) {
            transport = t;
        }
        if (transport != null) {
            builder.setAttribute(NETWORK_TRANSPORT, transport);
            if (transport.equals("tcp")) {
                builder.setAttribute(NETWORK_PROTOCOL_NAME, "http");
            }
        }
        if (context != null && context.get(CONTEXT_CLIENT_ADDRESS) instanceof String address) {
            builder.setAttribute(CLIENT_ADDRESS, address);
        }
    }

    private String redacted(Object value) {
        try {
            String text = CanonicalJson.ofExact(redact(value, 0));
            int max = options.maxAttributeLength();
            return text.length() <= max ? text : text.substring(0, max - 3) + "...";
        } catch (RuntimeException e) {
            return "[unrecordable]";
        }
    }

    private Object redact(Object value, int depth) {
        if (depth > CanonicalJson.MAX_DEPTH) {
            return "[too deep]";
        }
        Set<String> fields = options.redactedFields();
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new java.util.TreeMap<>();
            for (var entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                out.put(key, fields.contains(key.toLowerCase(Locale.ROOT)) ? "[REDACTED]"
                        : redact(entry.getValue(), depth + 1));
            }
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object item : list) {
                out.add(redact(item, depth + 1));
            }
            return out;
        }
        return value;
    }

    private static Object resultValue(McpSchema.CallToolResult result) {
        if (result.structuredContent() != null) {
            return result.structuredContent();
        }
        List<Object> texts = new ArrayList<>();
        for (McpSchema.Content content : result.content()) {
            texts.add(content instanceof McpSchema.TextContent t ? t.text() : "[" + content.type() + "]");
        }
        return texts;
    }

    /** What the chain reports about one call; the no-op does nothing. */
    public interface Observation {

        /** The shared no-op. */
        Observation NOOP = new Observation() {
        };

        /**
         * Makes the call's span current (so the handler's own spans become its children).
         *
         * @return the scope to close
         */
        default Scope makeCurrent() {
            return Scope.noop();
        }

        /**
         * Returns the call's context, to carry onto other threads.
         *
         * @return the context
         */
        default Context context() {
            return Context.current();
        }

        /**
         * Returns the trace id, or the empty string.
         *
         * @return 32 hex digits or empty
         */
        default String traceId() {
            return "";
        }

        /**
         * Returns the span id, or the empty string.
         *
         * @return 16 hex digits or empty
         */
        default String spanId() {
            return "";
        }

        /**
         * The caller was identified.
         *
         * @param agent the verified identity
         * @param reversibility the tool's reversibility code, or {@code null} for other primitives
         */
        default void agent(AgentIdentity agent, String reversibility) {
        }

        /**
         * Calls left in the tightest quota.
         *
         * @param remaining the count
         */
        default void quotaRemaining(long remaining) {
        }

        /**
         * The approval gate answered.
         *
         * @param approvalId the approval id, or {@code null}
         * @param waitMillis how long the call waited
         */
        default void approval(String approvalId, long waitMillis) {
        }

        /**
         * A step refused the call.
         *
         * @param deny the refusal
         */
        default void refused(Decision.Deny deny) {
        }

        /**
         * The tool failed; its cause was logged under this id.
         *
         * @param errorId the reference
         */
        default void failed(String errorId) {
        }

        /**
         * The call ended with a result.
         *
         * @param isError whether the result reports an error ({@code isError} of a tool result)
         * @param result the result sent to the agent, recorded only for tools when opted in; may be {@code null}
         */
        default void end(boolean isError, Object result) {
        }

        /**
         * The call ended with a JSON-RPC error (a hidden or unknown name, or a refusal of a resource or prompt).
         *
         * @param error the error sent to the agent
         */
        default void end(McpError error) {
        }
    }

    private final class CallObservation implements Observation {

        private final Span span;
        private final String method;
        private final AttributeKey<String> targetKey;
        private final String target;
        private final long startNanos;
        private String decision = "allow";
        private String reason = "none";

        CallObservation(Span span, String method, AttributeKey<String> targetKey, String target, long startNanos) {
            this.span = span;
            this.method = method;
            this.targetKey = targetKey;
            this.target = target;
            this.startNanos = startNanos;
        }

        @Override
        public Scope makeCurrent() {
            return span.makeCurrent();
        }

        @Override
        public Context context() {
            return Context.current().with(span);
        }

        @Override
        public String traceId() {
            return span.getSpanContext().getTraceId();
        }

        @Override
        public String spanId() {
            return span.getSpanContext().getSpanId();
        }

        @Override
        public void agent(AgentIdentity agent, String reversibility) {
            span.setAttribute(GEN_AI_AGENT_ID, agent.agentId());
            span.setAttribute(CREDENTIAL_ID, agent.credentialId());
            agent.runId().ifPresent(run -> span.setAttribute(GEN_AI_CONVERSATION_ID, run));
            if (reversibility != null) {
                span.setAttribute(REVERSIBILITY, reversibility);
            }
        }

        @Override
        public void quotaRemaining(long remaining) {
            span.setAttribute(QUOTA_REMAINING, remaining);
        }

        @Override
        public void approval(String approvalId, long waitMillis) {
            if (approvalId != null) {
                span.setAttribute(APPROVAL_ID, approvalId);
            }
            span.setAttribute(APPROVAL_WAIT_MS, waitMillis);
            approvalWait.record(waitMillis / 1000.0, Attributes.of(targetKey, target));
        }

        @Override
        public void refused(Decision.Deny deny) {
            decision = deny.reason().code().equals("approval_pending") ? "pending" : "deny";
            reason = deny.reason().code();
            span.setAttribute(STEP, deny.step().code());
        }

        @Override
        public void failed(String errorId) {
            reason = "tool_error";
            span.setAttribute(ERROR_ID, errorId);
            span.setAttribute(STEP, "handler");
        }

        @Override
        public void end(boolean isError, Object result) {
            String errorType = null;
            if (isError) {
                errorType = "tool_error";
                if ("none".equals(reason)) {
                    reason = "tool_reported_error";
                }
                span.setStatus(StatusCode.ERROR);
            }
            if (options.recordResults() && result instanceof McpSchema.CallToolResult toolResult) {
                span.setAttribute(GEN_AI_TOOL_CALL_RESULT, redacted(resultValue(toolResult)));
            }
            finish(errorType, null);
        }

        @Override
        public void end(McpError error) {
            String code = String.valueOf(error.getJsonRpcError() == null ? -32603 : error.getJsonRpcError().code());
            span.setAttribute(RPC_RESPONSE_STATUS_CODE, code);
            span.setStatus(StatusCode.ERROR);
            finish(code, code);
        }

        private void finish(String errorType, String rpcCode) {
            try {
                span.setAttribute(DECISION, decision);
                if (!"none".equals(reason)) {
                    span.setAttribute(REASON, reason);
                }
                if (errorType != null) {
                    span.setAttribute(ERROR_TYPE, errorType);
                }
                span.end();
                AttributesBuilder metric = Attributes.builder().put(MCP_METHOD_NAME, method).put(targetKey, target);
                if (errorType != null) {
                    metric.put(ERROR_TYPE, errorType);
                }
                duration.record((System.nanoTime() - startNanos) / 1e9, metric.build());
                decisions.add(1, Attributes.of(MCP_METHOD_NAME, method, DECISION, decision, REASON, reason,
                        targetKey, target));
            } catch (RuntimeException e) {
                log.warn("Ending a span failed; the call's outcome is unchanged", LogSafe.throwable(e));
            }
        }
    }

    // ---- tools/list: one span per list request, from the per-tool filter calls ----

    /**
     * Records one per-tool decision of a {@code tools/list}. The SDK asks the filter once per registered tool; the
     * guard opens the list's span on the first tool of a request (by its transport context) and ends it once it has
     * seen every tool it guards.
     *
     * @param context the request's transport context
     * @param agent the caller, or {@code null} if unknown
     * @param tool the tool's name
     * @param visible whether it is listed
     * @param guardedTools how many tools the guard serves
     */
    public void listDecision(McpTransportContext context, AgentIdentity agent, String tool, boolean visible,
            int guardedTools) {
        if (!enabled && listListener == null) {
            return;
        }
        try {
            trackList(context, agent, tool, visible, guardedTools);
        } catch (RuntimeException e) {
            // Telemetry never changes what the caller sees.
            log.warn("Recording a tools/list decision failed; the listing goes on", LogSafe.throwable(e));
        }
    }

    private void trackList(McpTransportContext context, AgentIdentity agent, String tool, boolean visible,
            int guardedTools) {
        ListObservation finished = null;
        List<ListObservation> abandoned = List.of();
        synchronized (lists) {
            if (lists.size() >= MAX_OPEN_LISTS) {
                // Lists that never saw all guarded tools (a tool removed from the server behind the guard's back):
                // end them rather than hold them.
                abandoned = new ArrayList<>(lists.values());
                lists.clear();
            }
            ListObservation list = lists.get(context);
            if (list == null || list.seen.contains(tool)) {
                if (list != null) {
                    list.end();
                }
                list = new ListObservation("tools/list", context, agent);
                lists.put(context, list);
            }
            list.seen.add(tool);
            if (visible) {
                list.listed++;
            } else {
                list.hidden++;
            }
            if (list.seen.size() >= guardedTools) {
                lists.remove(context);
                finished = list;
            }
        }
        abandoned.forEach(ListObservation::end);
        if (finished != null) {
            finished.end();
        }
    }

    private static final int MAX_OPEN_LISTS = 1024;

    /**
     * Records one list answered as a whole (by the transport gate): its span, metric and audit record.
     *
     * @param method the list method, e.g. {@code resources/list}
     * @param context the request's transport context
     * @param agent the caller, or {@code null} if unknown
     * @param listed entries listed
     * @param hidden guarded entries hidden
     */
    public void listed(String method, McpTransportContext context, AgentIdentity agent, long listed, long hidden) {
        if (!enabled && listListener == null) {
            return;
        }
        try {
            ListObservation list = new ListObservation(method, context, agent);
            list.listed = listed;
            list.hidden = hidden;
            list.end();
        } catch (RuntimeException e) {
            log.warn("Recording a {} failed; the listing goes on", method, LogSafe.throwable(e));
        }
    }

    private final class ListObservation {
        final String method;
        final Span span;
        final AgentIdentity agent;
        final long startNanos = System.nanoTime();
        final Set<String> seen = new java.util.HashSet<>();
        long listed;
        long hidden;

        ListObservation(String method, McpTransportContext context, AgentIdentity agent) {
            this.method = method;
            this.agent = agent;
            if (!enabled) {
                this.span = Span.getInvalid();
                return;
            }
            SpanBuilder builder = tracer.spanBuilder(method).setSpanKind(SpanKind.SERVER)
                    .setAttribute(MCP_METHOD_NAME, method)
                    .setAttribute(POLICY_FINGERPRINT, fingerprint);
            network(builder, context);
            if (agent != null) {
                builder.setAttribute(GEN_AI_AGENT_ID, agent.agentId());
            }
            this.span = builder.startSpan();
        }

        void end() {
            if (enabled) {
                span.setAttribute(LIST_LISTED, listed);
                span.setAttribute(LIST_HIDDEN, hidden);
                span.setAttribute(DECISION, "allow");
                span.end();
                duration.record((System.nanoTime() - startNanos) / 1e9,
                        Attributes.of(MCP_METHOD_NAME, method));
            }
            if (listListener != null) {
                try {
                    String trace = span.getSpanContext().isValid() ? span.getSpanContext().getTraceId() : "";
                    String id = span.getSpanContext().isValid() ? span.getSpanContext().getSpanId() : "";
                    listListener.listed(method, agent, listed, hidden, trace, id);
                } catch (RuntimeException e) {
                    log.warn("Recording a {} failed", method, LogSafe.throwable(e));
                }
            }
        }
    }
}
