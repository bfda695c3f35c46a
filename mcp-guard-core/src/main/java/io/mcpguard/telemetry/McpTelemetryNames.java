package io.mcpguard.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import java.util.List;

/**
 * Every span, attribute and metric name mcp-guard emits, in one place. Standard names follow the OpenTelemetry
 * semantic conventions for MCP (GenAI conventions, status Development); the guard's decisions use the
 * {@code mcp_guard.*} namespace, for which no convention exists. Documented in {@code docs/telemetry.md}.
 */
public final class McpTelemetryNames {

    private McpTelemetryNames() {
    }

    /** The instrumentation scope name. */
    public static final String INSTRUMENTATION_SCOPE = "io.mcpguard";

    /** {@code mcp.method.name}: {@code tools/call} or {@code tools/list}. */
    public static final AttributeKey<String> MCP_METHOD_NAME = AttributeKey.stringKey("mcp.method.name");
    /** {@code mcp.session.id}: the MCP session, on stateful servers. */
    public static final AttributeKey<String> MCP_SESSION_ID = AttributeKey.stringKey("mcp.session.id");
    /** {@code gen_ai.tool.name}. */
    public static final AttributeKey<String> GEN_AI_TOOL_NAME = AttributeKey.stringKey("gen_ai.tool.name");
    /** The URI of the resource a {@code resources/read} or {@code resources/subscribe} names. */
    public static final AttributeKey<String> MCP_RESOURCE_URI = AttributeKey.stringKey("mcp.resource.uri");

    /** The name of the prompt a {@code prompts/get} names. */
    public static final AttributeKey<String> GEN_AI_PROMPT_NAME = AttributeKey.stringKey("gen_ai.prompt.name");

    /** How many entries a list answer held. */
    public static final AttributeKey<Long> LIST_LISTED = AttributeKey.longKey("mcp_guard.list.listed");

    /** How many guarded entries a list answer hid from the caller. */
    public static final AttributeKey<Long> LIST_HIDDEN = AttributeKey.longKey("mcp_guard.list.hidden");

    /** {@code gen_ai.operation.name}: {@code execute_tool} on tool calls. */
    public static final AttributeKey<String> GEN_AI_OPERATION_NAME = AttributeKey.stringKey("gen_ai.operation.name");
    /** {@code gen_ai.agent.id}: the verified agent id. */
    public static final AttributeKey<String> GEN_AI_AGENT_ID = AttributeKey.stringKey("gen_ai.agent.id");
    /** {@code gen_ai.conversation.id}: the agent's run id, when its credentials carry one. */
    public static final AttributeKey<String> GEN_AI_CONVERSATION_ID = AttributeKey.stringKey("gen_ai.conversation.id");
    /** {@code gen_ai.tool.call.arguments}: opt-in, redacted, capped. */
    public static final AttributeKey<String> GEN_AI_TOOL_CALL_ARGUMENTS =
            AttributeKey.stringKey("gen_ai.tool.call.arguments");
    /** {@code gen_ai.tool.call.result}: opt-in, redacted, capped. */
    public static final AttributeKey<String> GEN_AI_TOOL_CALL_RESULT = AttributeKey.stringKey("gen_ai.tool.call.result");
    /** {@code error.type}: {@code tool_error} for {@code isError} results, the JSON-RPC code for errors. */
    public static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    /** {@code rpc.response.status_code}: the JSON-RPC error code, when one is returned. */
    public static final AttributeKey<String> RPC_RESPONSE_STATUS_CODE = AttributeKey.stringKey("rpc.response.status_code");
    /** {@code network.transport}: {@code tcp} (HTTP) or {@code pipe} (stdio), when known. */
    public static final AttributeKey<String> NETWORK_TRANSPORT = AttributeKey.stringKey("network.transport");
    /** {@code network.protocol.name}: {@code http} for the HTTP transports. */
    public static final AttributeKey<String> NETWORK_PROTOCOL_NAME = AttributeKey.stringKey("network.protocol.name");
    /** {@code client.address}: the peer address, for HTTP. */
    public static final AttributeKey<String> CLIENT_ADDRESS = AttributeKey.stringKey("client.address");

    /** {@code mcp_guard.decision}: {@code allow}, {@code deny} or {@code pending}. */
    public static final AttributeKey<String> DECISION = AttributeKey.stringKey("mcp_guard.decision");
    /** {@code mcp_guard.reason}: the stable reason code of a refusal or failure. */
    public static final AttributeKey<String> REASON = AttributeKey.stringKey("mcp_guard.reason");
    /** {@code mcp_guard.step}: the chain step that decided. */
    public static final AttributeKey<String> STEP = AttributeKey.stringKey("mcp_guard.step");
    /** {@code mcp_guard.policy.fingerprint}: SHA-256 of the policy. */
    public static final AttributeKey<String> POLICY_FINGERPRINT = AttributeKey.stringKey("mcp_guard.policy.fingerprint");
    /** {@code mcp_guard.credential.id}: the id of the credential the agent presented. */
    public static final AttributeKey<String> CREDENTIAL_ID = AttributeKey.stringKey("mcp_guard.credential.id");
    /** {@code mcp_guard.reversibility}: {@code read_only}, {@code reversible} or {@code irreversible}. */
    public static final AttributeKey<String> REVERSIBILITY = AttributeKey.stringKey("mcp_guard.reversibility");
    /** {@code mcp_guard.approval.id}. */
    public static final AttributeKey<String> APPROVAL_ID = AttributeKey.stringKey("mcp_guard.approval.id");
    /** {@code mcp_guard.approval.wait_ms}: how long the call waited for its approval. */
    public static final AttributeKey<Long> APPROVAL_WAIT_MS = AttributeKey.longKey("mcp_guard.approval.wait_ms");
    /** {@code mcp_guard.quota.remaining}: calls left in the tightest quota after this one. */
    public static final AttributeKey<Long> QUOTA_REMAINING = AttributeKey.longKey("mcp_guard.quota.remaining");
    /** {@code mcp_guard.error.id}: the reference under which a tool failure was logged. */
    public static final AttributeKey<String> ERROR_ID = AttributeKey.stringKey("mcp_guard.error.id");
    /** Transport-context key under which the HTTP context extractors record {@code network.transport}. */
    public static final String CONTEXT_NETWORK_TRANSPORT = "io.mcpguard.network.transport";
    /** Transport-context key under which the HTTP context extractors record the client's address. */
    public static final String CONTEXT_CLIENT_ADDRESS = "io.mcpguard.client.address";

    /** The MCP operation duration histogram, seconds. */
    public static final String METRIC_OPERATION_DURATION = "mcp.server.operation.duration";
    /** The bucket boundaries the MCP conventions advise for {@link #METRIC_OPERATION_DURATION}. */
    public static final List<Double> DURATION_BUCKETS = List.of(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
            30.0, 60.0, 120.0, 300.0);
    /** Counter of guard decisions, by decision, reason and tool. */
    public static final String METRIC_DECISIONS = "mcp_guard.decisions";
    /** Histogram of approval waits, seconds. */
    public static final String METRIC_APPROVAL_WAIT = "mcp_guard.approval.wait";
}
