package io.mcpguard.sdk;

import io.mcpguard.approval.internal.Elicitor;
import io.mcpguard.approval.internal.Elicitors;
import io.mcpguard.pipeline.Call;
import io.mcpguard.pipeline.NotFound;
import io.mcpguard.pipeline.Operation;
import io.mcpguard.pipeline.Pipeline;
import io.mcpguard.pipeline.Target;
import io.mcpguard.policy.Primitive;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Map;
import java.util.Objects;

/**
 * Wraps each of the SDK's feature specifications so that its handler runs behind the pipeline. Every wrapper returns
 * a plain SDK specification of the same type; the primitive is registered in the guard's catalog (only registered
 * primitives are listed and used). Unstable API: use {@code McpGuard.wrap} and {@code McpGuard.install}.
 */
public final class Adapters {

    private final Pipeline pipeline;

    /**
     * Creates the adapters of a pipeline.
     *
     * @param pipeline the pipeline
     */
    public Adapters(Pipeline pipeline) {
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    }

    // ---- tools ----

    /**
     * Guards a synchronous tool.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.SyncToolSpecification tool(McpServerFeatures.SyncToolSpecification spec) {
        Target target = register(Primitive.tool(spec.tool()), spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpServerFeatures.SyncToolSpecification(spec.tool(), (exchange, request) -> Calls.sync(pipeline,
                toolCall(target, request, exchange.transportContext(), exchange.sessionId(), elicitor(exchange)),
                handler, exchange, request, Answers.TOOL));
    }

    /**
     * Guards an asynchronous tool.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpServerFeatures.AsyncToolSpecification tool(McpServerFeatures.AsyncToolSpecification spec) {
        Target target = register(Primitive.tool(spec.tool()), spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpServerFeatures.AsyncToolSpecification(spec.tool(), (exchange, request) -> Calls.async(pipeline,
                toolCall(target, request, exchange.transportContext(), exchange.sessionId(), elicitor(exchange)),
                handler, exchange, request, Answers.TOOL));
    }

    /**
     * Guards a stateless synchronous tool.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.SyncToolSpecification tool(
            McpStatelessServerFeatures.SyncToolSpecification spec) {
        Target target = register(Primitive.tool(spec.tool()), spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpStatelessServerFeatures.SyncToolSpecification(spec.tool(), (context, request) -> Calls.sync(
                pipeline, toolCall(target, request, context, null, null), handler, context, request,
                Answers.TOOL));
    }

    /**
     * Guards a stateless asynchronous tool.
     *
     * @param spec the tool
     * @return the guarded tool
     */
    public McpStatelessServerFeatures.AsyncToolSpecification tool(
            McpStatelessServerFeatures.AsyncToolSpecification spec) {
        Target target = register(Primitive.tool(spec.tool()), spec.tool());
        var handler = Objects.requireNonNull(spec.callHandler(), "callHandler");
        return new McpStatelessServerFeatures.AsyncToolSpecification(spec.tool(), (context, request) -> Calls.async(
                pipeline, toolCall(target, request, context, null, null), handler, context, request,
                Answers.TOOL));
    }

    private static Call toolCall(Target target, McpSchema.CallToolRequest request, McpTransportContext context,
            String sessionId, Elicitor elicitor) {
        return new Call(Operation.TOOL_CALL, target, request.name(), request.arguments(), request.meta(),
                context, sessionId, elicitor);
    }

    // ---- resources ----

    /**
     * Guards a synchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpServerFeatures.SyncResourceSpecification resource(McpServerFeatures.SyncResourceSpecification spec) {
        Target target = register(Primitive.resource(spec.resource().uri()), spec.resource());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpServerFeatures.SyncResourceSpecification(spec.resource(), (exchange, request) -> Calls.sync(
                pipeline, read(target, request, exchange.transportContext(), exchange.sessionId()),
                handler, exchange, request, Answers.RESOURCE));
    }

    /**
     * Guards an asynchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpServerFeatures.AsyncResourceSpecification resource(McpServerFeatures.AsyncResourceSpecification spec) {
        Target target = register(Primitive.resource(spec.resource().uri()), spec.resource());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpServerFeatures.AsyncResourceSpecification(spec.resource(), (exchange, request) -> Calls.async(
                pipeline, read(target, request, exchange.transportContext(), exchange.sessionId()),
                handler, exchange, request, Answers.RESOURCE));
    }

    /**
     * Guards a stateless synchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpStatelessServerFeatures.SyncResourceSpecification resource(
            McpStatelessServerFeatures.SyncResourceSpecification spec) {
        Target target = register(Primitive.resource(spec.resource().uri()), spec.resource());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpStatelessServerFeatures.SyncResourceSpecification(spec.resource(), (context, request) ->
                Calls.sync(pipeline, read(target, request, context, null), handler, context, request,
                        Answers.RESOURCE));
    }

    /**
     * Guards a stateless asynchronous static resource.
     *
     * @param spec the resource
     * @return the guarded resource
     */
    public McpStatelessServerFeatures.AsyncResourceSpecification resource(
            McpStatelessServerFeatures.AsyncResourceSpecification spec) {
        Target target = register(Primitive.resource(spec.resource().uri()), spec.resource());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpStatelessServerFeatures.AsyncResourceSpecification(spec.resource(), (context, request) ->
                Calls.async(pipeline, read(target, request, context, null), handler, context, request,
                        Answers.RESOURCE));
    }

    /**
     * Guards a synchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpServerFeatures.SyncResourceTemplateSpecification template(
            McpServerFeatures.SyncResourceTemplateSpecification spec) {
        Target target = register(Primitive.template(spec.resourceTemplate().uriTemplate()), spec.resourceTemplate());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpServerFeatures.SyncResourceTemplateSpecification(spec.resourceTemplate(), (exchange, request) ->
                Calls.sync(pipeline, read(target, request, exchange.transportContext(), exchange.sessionId()),
                        handler, exchange, request, Answers.RESOURCE));
    }

    /**
     * Guards an asynchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpServerFeatures.AsyncResourceTemplateSpecification template(
            McpServerFeatures.AsyncResourceTemplateSpecification spec) {
        Target target = register(Primitive.template(spec.resourceTemplate().uriTemplate()), spec.resourceTemplate());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpServerFeatures.AsyncResourceTemplateSpecification(spec.resourceTemplate(), (exchange, request) ->
                Calls.async(pipeline, read(target, request, exchange.transportContext(), exchange.sessionId()),
                        handler, exchange, request, Answers.RESOURCE));
    }

    /**
     * Guards a stateless synchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpStatelessServerFeatures.SyncResourceTemplateSpecification template(
            McpStatelessServerFeatures.SyncResourceTemplateSpecification spec) {
        Target target = register(Primitive.template(spec.resourceTemplate().uriTemplate()), spec.resourceTemplate());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpStatelessServerFeatures.SyncResourceTemplateSpecification(spec.resourceTemplate(),
                (context, request) -> Calls.sync(pipeline, read(target, request, context, null),
                        handler, context, request, Answers.RESOURCE));
    }

    /**
     * Guards a stateless asynchronous resource template.
     *
     * @param spec the template
     * @return the guarded template
     */
    public McpStatelessServerFeatures.AsyncResourceTemplateSpecification template(
            McpStatelessServerFeatures.AsyncResourceTemplateSpecification spec) {
        Target target = register(Primitive.template(spec.resourceTemplate().uriTemplate()), spec.resourceTemplate());
        var handler = Objects.requireNonNull(spec.readHandler(), "readHandler");
        return new McpStatelessServerFeatures.AsyncResourceTemplateSpecification(spec.resourceTemplate(),
                (context, request) -> Calls.async(pipeline, read(target, request, context, null),
                        handler, context, request, Answers.RESOURCE));
    }

    private static Call read(Target target, McpSchema.ReadResourceRequest request, McpTransportContext context,
            String sessionId) {
        return new Call(Operation.RESOURCE_READ, target, request.uri(), null, request.meta(), context,
                sessionId, null);
    }

    // ---- prompts ----

    /**
     * Guards a synchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpServerFeatures.SyncPromptSpecification prompt(McpServerFeatures.SyncPromptSpecification spec) {
        Target target = register(Primitive.prompt(spec.prompt().name()), spec.prompt());
        var handler = Objects.requireNonNull(spec.promptHandler(), "promptHandler");
        return new McpServerFeatures.SyncPromptSpecification(spec.prompt(), (exchange, request) -> Calls.sync(
                pipeline, get(target, request, exchange.transportContext(), exchange.sessionId()),
                handler, exchange, request, Answers.PROMPT));
    }

    /**
     * Guards an asynchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpServerFeatures.AsyncPromptSpecification prompt(McpServerFeatures.AsyncPromptSpecification spec) {
        Target target = register(Primitive.prompt(spec.prompt().name()), spec.prompt());
        var handler = Objects.requireNonNull(spec.promptHandler(), "promptHandler");
        return new McpServerFeatures.AsyncPromptSpecification(spec.prompt(), (exchange, request) -> Calls.async(
                pipeline, get(target, request, exchange.transportContext(), exchange.sessionId()),
                handler, exchange, request, Answers.PROMPT));
    }

    /**
     * Guards a stateless synchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpStatelessServerFeatures.SyncPromptSpecification prompt(
            McpStatelessServerFeatures.SyncPromptSpecification spec) {
        Target target = register(Primitive.prompt(spec.prompt().name()), spec.prompt());
        var handler = Objects.requireNonNull(spec.promptHandler(), "promptHandler");
        return new McpStatelessServerFeatures.SyncPromptSpecification(spec.prompt(), (context, request) ->
                Calls.sync(pipeline, get(target, request, context, null), handler, context, request,
                        Answers.PROMPT));
    }

    /**
     * Guards a stateless asynchronous prompt.
     *
     * @param spec the prompt
     * @return the guarded prompt
     */
    public McpStatelessServerFeatures.AsyncPromptSpecification prompt(
            McpStatelessServerFeatures.AsyncPromptSpecification spec) {
        Target target = register(Primitive.prompt(spec.prompt().name()), spec.prompt());
        var handler = Objects.requireNonNull(spec.promptHandler(), "promptHandler");
        return new McpStatelessServerFeatures.AsyncPromptSpecification(spec.prompt(), (context, request) ->
                Calls.async(pipeline, get(target, request, context, null), handler, context, request,
                        Answers.PROMPT));
    }

    private static Call get(Target target, McpSchema.GetPromptRequest request, McpTransportContext context,
            String sessionId) {
        return new Call(Operation.PROMPT_GET, target, request.name(), request.arguments(), request.meta(),
                context, sessionId, null);
    }

    // ---- completions ----

    /**
     * Guards a synchronous completion: it completes only for callers who may see the referenced prompt or template.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpServerFeatures.SyncCompletionSpecification completion(
            McpServerFeatures.SyncCompletionSpecification spec) {
        var handler = Objects.requireNonNull(spec.completionHandler(), "completionHandler");
        return new McpServerFeatures.SyncCompletionSpecification(spec.referenceKey(), (exchange, request) ->
                Calls.sync(pipeline, complete(request, exchange.transportContext(), exchange.sessionId()),
                        handler, exchange, request, Answers.COMPLETION));
    }

    /**
     * Guards an asynchronous completion.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpServerFeatures.AsyncCompletionSpecification completion(
            McpServerFeatures.AsyncCompletionSpecification spec) {
        var handler = Objects.requireNonNull(spec.completionHandler(), "completionHandler");
        return new McpServerFeatures.AsyncCompletionSpecification(spec.referenceKey(), (exchange, request) ->
                Calls.async(pipeline, complete(request, exchange.transportContext(), exchange.sessionId()),
                        handler, exchange, request, Answers.COMPLETION));
    }

    /**
     * Guards a stateless synchronous completion.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpStatelessServerFeatures.SyncCompletionSpecification completion(
            McpStatelessServerFeatures.SyncCompletionSpecification spec) {
        var handler = Objects.requireNonNull(spec.completionHandler(), "completionHandler");
        return new McpStatelessServerFeatures.SyncCompletionSpecification(spec.referenceKey(), (context, request) ->
                Calls.sync(pipeline, complete(request, context, null), handler, context, request,
                        Answers.COMPLETION));
    }

    /**
     * Guards a stateless asynchronous completion.
     *
     * @param spec the completion
     * @return the guarded completion
     */
    public McpStatelessServerFeatures.AsyncCompletionSpecification completion(
            McpStatelessServerFeatures.AsyncCompletionSpecification spec) {
        var handler = Objects.requireNonNull(spec.completionHandler(), "completionHandler");
        return new McpStatelessServerFeatures.AsyncCompletionSpecification(spec.referenceKey(), (context, request) ->
                Calls.async(pipeline, complete(request, context, null), handler, context, request,
                        Answers.COMPLETION));
    }

    /**
     * The completion's reference, resolved to the prompt or template it names; one not registered through the guard
     * is answered as missing.
     */
    private Call complete(McpSchema.CompleteRequest request, McpTransportContext context, String sessionId) {
        McpSchema.CompleteReference ref = request.ref();
        Target target = null;
        String name = null;
        if (ref instanceof McpSchema.PromptReference prompt) {
            name = prompt.name();
            target = pipeline.catalog().prompt(name);
            if (target == null) {
                throw NotFound.completionPrompt(name);
            }
        } else if (ref instanceof McpSchema.ResourceReference resource) {
            name = resource.uri();
            target = pipeline.catalog().template(name);
            if (target == null) {
                target = pipeline.catalog().resource(name);
            }
            if (target == null) {
                throw NotFound.resource(name);
            }
        } else {
            throw McpError.builder(McpSchema.ErrorCodes.INVALID_PARAMS).message("Completion ref must not be null")
                    .build();
        }
        Map<String, Object> arguments = request.argument() == null ? null
                : Map.of("name", String.valueOf(request.argument().name()), "value",
                        String.valueOf(request.argument().value()));
        return new Call(Operation.COMPLETE, target, name, arguments, request.meta(), context, sessionId, null);
    }

    private Target register(Primitive primitive, Object definition) {
        return pipeline.register(primitive, definition);
    }

    private Elicitor elicitor(McpSyncServerExchange exchange) {
        return Elicitors.of(exchange, pipeline.executor());
    }

    private static Elicitor elicitor(McpAsyncServerExchange exchange) {
        return Elicitors.of(exchange);
    }
}
