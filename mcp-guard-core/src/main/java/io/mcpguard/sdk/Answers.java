package io.mcpguard.sdk;

import io.mcpguard.Decision;
import io.mcpguard.ReasonCode;
import io.mcpguard.ResultMeta;
import io.mcpguard.pipeline.Call;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.pipeline.Pipeline;
import io.mcpguard.pipeline.Start;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the pipeline's refusals and failures are answered for one kind of result. Tools answer with {@code isError}
 * results (the session and the agent's plan survive); resources, prompts and completions have no such result and
 * answer with JSON-RPC errors. A hidden name is always answered with the SDK's own error for a missing one.
 *
 * @param <R> the result type
 */
abstract class Answers<R> {

    /** The JSON-RPC code of the guard's refusals of resources, prompts and completions (implementation range). */
    static final int REFUSED = -32000;

    static final Answers<McpSchema.CallToolResult> TOOL = new Answers<>() {
        @Override
        McpSchema.CallToolResult visible(Decision.Deny deny, String approvalId) {
            return toolResult(deny, approvalId);
        }

        @Override
        McpSchema.CallToolResult failed(Call call, String errorId) {
            return McpSchema.CallToolResult.builder()
                    .content(List.of(new McpSchema.TextContent("Tool '" + call.target().name()
                            + "' failed. The server logged the cause under reference " + errorId + ".")))
                    .isError(true)
                    .meta(Map.of(ResultMeta.REASON, ReasonCode.TOOL_ERROR.code(), ResultMeta.ERROR_ID, errorId))
                    .build();
        }

        @Override
        boolean isError(McpSchema.CallToolResult result) {
            return Boolean.TRUE.equals(result.isError());
        }

        @Override
        boolean deliberate(Throwable failure) {
            return false; // every exception of a tool is sanitized
        }
    };

    static final Answers<McpSchema.ReadResourceResult> RESOURCE = new ErrorAnswers<>("Resource read");
    static final Answers<McpSchema.GetPromptResult> PROMPT = new ErrorAnswers<>("Prompt");
    static final Answers<McpSchema.CompleteResult> COMPLETION = new ErrorAnswers<>("Completion");

    /**
     * Answers a refusal: the SDK's missing-name error for hidden ones, otherwise the kind's refusal.
     *
     * @param call the call
     * @param refused the refusal
     * @return the answer
     * @throws McpError when the answer is an error
     */
    final R refused(Call call, Start.Refused refused) {
        if (refused.hidden()) {
            throw Pipeline.notFound(call.operation(), call.target().primitive().kind(), call.name());
        }
        return visible(refused.deny(), refused.approvalId());
    }

    abstract R visible(Decision.Deny deny, String approvalId);

    abstract R failed(Call call, String errorId);

    abstract boolean isError(R result);

    /** Whether a handler's exception is a deliberate protocol answer to pass on unchanged. */
    abstract boolean deliberate(Throwable failure);

    static McpSchema.CallToolResult toolResult(Decision.Deny deny, String approvalId) {
        return McpSchema.CallToolResult.builder()
                .content(List.of(new McpSchema.TextContent(deny.message())))
                .isError(true)
                .meta(meta(deny, approvalId))
                .build();
    }

    static Map<String, Object> meta(Decision.Deny deny, String approvalId) {
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put(ResultMeta.REASON, deny.reason().code());
        if (deny.retryAfter() != null) {
            long nanos = deny.retryAfter().toNanos();
            // Rounded up: retrying at the hint must not arrive a fraction too early.
            meta.put(ResultMeta.RETRY_AFTER_MS, nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000);
        }
        if (deny.rule() != null) {
            meta.put(ResultMeta.RULE, deny.rule());
        }
        if (approvalId != null) {
            meta.put(ResultMeta.APPROVAL_ID, approvalId);
        }
        return Collections.unmodifiableMap(meta);
    }

    /** Resources, prompts and completions: refusals and failures are JSON-RPC errors. */
    private static final class ErrorAnswers<R> extends Answers<R> {

        private final String what;

        ErrorAnswers(String what) {
            this.what = what;
        }

        @Override
        R visible(Decision.Deny deny, String approvalId) {
            throw NotFound.answer(new McpSchema.JSONRPCResponse.JSONRPCError(REFUSED, deny.message(),
                    meta(deny, approvalId)));
        }

        @Override
        R failed(Call call, String errorId) {
            throw NotFound.answer(new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INTERNAL_ERROR,
                    what + " failed. The server logged the cause under reference " + errorId + ".",
                    Map.of(ResultMeta.REASON, ReasonCode.TOOL_ERROR.code(), ResultMeta.ERROR_ID, errorId)));
        }

        @Override
        boolean isError(R result) {
            return false;
        }

        @Override
        boolean deliberate(Throwable failure) {
            return failure instanceof McpError error && error.getJsonRpcError() != null;
        }
    }
}
