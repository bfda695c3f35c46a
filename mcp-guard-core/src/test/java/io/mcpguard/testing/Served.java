package io.mcpguard.testing;

import io.mcpguard.McpGuard;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpServerTransportProvider;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import io.modelcontextprotocol.spec.McpStreamableServerTransportProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * What a test server serves, written once and installed through the guard in any of the SDK's four server shapes:
 * each handler is a plain function, adapted to the shape's specification type (a {@code Mono} on a worker for the
 * async shapes).
 */
public final class Served {

    /** Every capability, so that the SDK routes every method to the guarded handlers. */
    public static final McpSchema.ServerCapabilities CAPABILITIES = McpSchema.ServerCapabilities.builder()
            .tools(true).resources(true, true).prompts(true).completions().logging().build();

    record ToolDef(McpSchema.Tool tool, Function<McpSchema.CallToolRequest, McpSchema.CallToolResult> handler) {
    }

    record ResourceDef(McpSchema.Resource resource,
            Function<McpSchema.ReadResourceRequest, McpSchema.ReadResourceResult> handler) {
    }

    record TemplateDef(McpSchema.ResourceTemplate template,
            Function<McpSchema.ReadResourceRequest, McpSchema.ReadResourceResult> handler) {
    }

    record PromptDef(McpSchema.Prompt prompt, Function<McpSchema.GetPromptRequest, McpSchema.GetPromptResult> handler) {
    }

    record CompletionDef(McpSchema.CompleteReference ref,
            Function<McpSchema.CompleteRequest, McpSchema.CompleteResult> handler) {
    }

    private final List<ToolDef> tools = new ArrayList<>();
    private final List<ResourceDef> resources = new ArrayList<>();
    private final List<TemplateDef> templates = new ArrayList<>();
    private final List<PromptDef> prompts = new ArrayList<>();
    private final List<CompletionDef> completions = new ArrayList<>();

    /**
     * Starts an empty set.
     *
     * @return the set
     */
    public static Served of() {
        return new Served();
    }

    /**
     * Serves a tool.
     *
     * @param tool the definition
     * @param handler the handler
     * @return this
     */
    public Served tool(McpSchema.Tool tool, Function<McpSchema.CallToolRequest, McpSchema.CallToolResult> handler) {
        tools.add(new ToolDef(tool, handler));
        return this;
    }

    /**
     * Serves echo tools (read-only, {@code <name>:<id>}).
     *
     * @param names their names
     * @return this
     */
    public Served echo(String... names) {
        for (String name : names) {
            tool(Tools.tool(name), request -> Tools.text(name + ":" + request.arguments().get("id")));
        }
        return this;
    }

    /**
     * Serves a static text resource.
     *
     * @param uri its URI
     * @param text its text
     * @return this
     */
    public Served resource(String uri, String text) {
        resources.add(new ResourceDef(McpSchema.Resource.builder().uri(uri).name(uri).mimeType("text/plain").build(),
                request -> new McpSchema.ReadResourceResult(List.of(
                        new McpSchema.TextResourceContents(request.uri(), "text/plain", text)))));
        return this;
    }

    /**
     * Serves a resource with a handler.
     *
     * @param resource the definition
     * @param handler the handler
     * @return this
     */
    public Served resource(McpSchema.Resource resource,
            Function<McpSchema.ReadResourceRequest, McpSchema.ReadResourceResult> handler) {
        resources.add(new ResourceDef(resource, handler));
        return this;
    }

    /**
     * Serves a text resource template that answers {@code <template>:<uri>}.
     *
     * @param uriTemplate the template text
     * @return this
     */
    public Served template(String uriTemplate) {
        templates.add(new TemplateDef(McpSchema.ResourceTemplate.builder().uriTemplate(uriTemplate).name(uriTemplate)
                .mimeType("text/plain").build(), request -> new McpSchema.ReadResourceResult(List.of(
                        new McpSchema.TextResourceContents(request.uri(), "text/plain",
                                uriTemplate + ":" + request.uri())))));
        return this;
    }

    /**
     * Serves a prompt that answers one user message {@code <name>:<arguments>}.
     *
     * @param name the prompt's name
     * @param arguments its argument names
     * @return this
     */
    public Served prompt(String name, String... arguments) {
        List<McpSchema.PromptArgument> args = new ArrayList<>();
        for (String argument : arguments) {
            args.add(new McpSchema.PromptArgument(argument, argument, false));
        }
        prompts.add(new PromptDef(new McpSchema.Prompt(name, "Prompt " + name, args),
                request -> new McpSchema.GetPromptResult("Prompt " + name, List.of(new McpSchema.PromptMessage(
                        McpSchema.Role.USER, new McpSchema.TextContent(name + ":" + request.arguments()))))));
        return this;
    }

    /**
     * Serves a completion for a prompt's argument, answering the given values.
     *
     * @param prompt the prompt's name
     * @param values the completion values
     * @return this
     */
    public Served promptCompletion(String prompt, String... values) {
        completions.add(new CompletionDef(new McpSchema.PromptReference(prompt), request ->
                new McpSchema.CompleteResult(new McpSchema.CompleteResult.CompleteCompletion(List.of(values),
                        values.length, false))));
        return this;
    }

    /**
     * Serves a completion for a template's variable, answering the given values.
     *
     * @param uriTemplate the template text
     * @param values the completion values
     * @return this
     */
    public Served templateCompletion(String uriTemplate, String... values) {
        completions.add(new CompletionDef(new McpSchema.ResourceReference(uriTemplate), request ->
                new McpSchema.CompleteResult(new McpSchema.CompleteResult.CompleteCompletion(List.of(values),
                        values.length, false))));
        return this;
    }

    private static <T> Mono<T> async(java.util.function.Supplier<T> work) {
        return Mono.fromSupplier(work).subscribeOn(Schedulers.boundedElastic());
    }

    /**
     * Builds a guarded synchronous stateful server.
     *
     * @param guard the guard
     * @param transport the transport
     * @return the server
     */
    public io.modelcontextprotocol.server.McpSyncServer sync(McpGuard guard, Object transport) {
        return sync(guard, transport, false);
    }

    private io.modelcontextprotocol.server.McpSyncServer sync(McpGuard guard, Object transport, boolean immediate) {
        McpServer.SyncSpecification<?> spec = transport instanceof McpStreamableServerTransportProvider streamable
                ? McpServer.sync(streamable) : McpServer.sync((McpServerTransportProvider) transport);
        spec.serverInfo("test", "1.0.0").capabilities(CAPABILITIES).immediateExecution(immediate);
        return guard.install(spec)
                .tools(tools.stream().map(t -> new McpServerFeatures.SyncToolSpecification(t.tool(),
                        (exchange, request) -> t.handler().apply(request))).toList())
                .resources(resources.stream().map(r -> new McpServerFeatures.SyncResourceSpecification(r.resource(),
                        (exchange, request) -> r.handler().apply(request))).toList())
                .resourceTemplates(templates.stream().map(t -> new McpServerFeatures.SyncResourceTemplateSpecification(
                        t.template(), (exchange, request) -> t.handler().apply(request))).toList())
                .prompts(prompts.stream().map(p -> new McpServerFeatures.SyncPromptSpecification(p.prompt(),
                        (exchange, request) -> p.handler().apply(request))).toList())
                .completions(completions.stream().map(c -> new McpServerFeatures.SyncCompletionSpecification(c.ref(),
                        (exchange, request) -> c.handler().apply(request))).toList())
                .build();
    }

    /**
     * Builds a guarded synchronous server on a servlet transport, running handlers on the request thread (see
     * design decision D4 on error responses from sync handlers on worker threads).
     *
     * @param guard the guard
     * @param transport the Streamable HTTP transport
     * @return the server
     */
    public io.modelcontextprotocol.server.McpSyncServer syncImmediate(McpGuard guard,
            McpStreamableServerTransportProvider transport) {
        return sync(guard, transport, true);
    }

    /**
     * Builds a guarded asynchronous stateful server.
     *
     * @param guard the guard
     * @param transport the transport
     * @return the server
     */
    public io.modelcontextprotocol.server.McpAsyncServer async(McpGuard guard, Object transport) {
        McpServer.AsyncSpecification<?> spec = transport instanceof McpStreamableServerTransportProvider streamable
                ? McpServer.async(streamable) : McpServer.async((McpServerTransportProvider) transport);
        spec.serverInfo("test", "1.0.0").capabilities(CAPABILITIES);
        return guard.install(spec)
                .tools(tools.stream().map(t -> new McpServerFeatures.AsyncToolSpecification(t.tool(),
                        (exchange, request) -> async(() -> t.handler().apply(request)))).toList())
                .resources(resources.stream().map(r -> new McpServerFeatures.AsyncResourceSpecification(r.resource(),
                        (exchange, request) -> async(() -> r.handler().apply(request)))).toList())
                .resourceTemplates(templates.stream().map(t -> new McpServerFeatures.AsyncResourceTemplateSpecification(
                        t.template(), (exchange, request) -> async(() -> t.handler().apply(request)))).toList())
                .prompts(prompts.stream().map(p -> new McpServerFeatures.AsyncPromptSpecification(p.prompt(),
                        (exchange, request) -> async(() -> p.handler().apply(request)))).toList())
                .completions(completions.stream().map(c -> new McpServerFeatures.AsyncCompletionSpecification(
                        c.ref(), (exchange, request) -> async(() -> c.handler().apply(request)))).toList())
                .build();
    }

    /**
     * Builds a guarded synchronous stateless server.
     *
     * @param guard the guard
     * @param transport the transport
     * @return the server
     */
    public io.modelcontextprotocol.server.McpStatelessSyncServer statelessSync(McpGuard guard,
            McpStatelessServerTransport transport) {
        return guard.install(McpServer.sync(transport).serverInfo("test", "1.0.0").capabilities(CAPABILITIES))
                .tools(tools.stream().map(t -> new McpStatelessServerFeatures.SyncToolSpecification(t.tool(),
                        (context, request) -> t.handler().apply(request))).toList())
                .resources(resources.stream().map(r -> new McpStatelessServerFeatures.SyncResourceSpecification(
                        r.resource(), (context, request) -> r.handler().apply(request))).toList())
                .resourceTemplates(templates.stream().map(t ->
                        new McpStatelessServerFeatures.SyncResourceTemplateSpecification(t.template(),
                                (context, request) -> t.handler().apply(request))).toList())
                .prompts(prompts.stream().map(p -> new McpStatelessServerFeatures.SyncPromptSpecification(p.prompt(),
                        (context, request) -> p.handler().apply(request))).toList())
                .completions(completions.stream().map(c -> new McpStatelessServerFeatures.SyncCompletionSpecification(
                        c.ref(), (context, request) -> c.handler().apply(request))).toList())
                .build();
    }

    /**
     * Builds a guarded asynchronous stateless server.
     *
     * @param guard the guard
     * @param transport the transport
     * @return the server
     */
    public io.modelcontextprotocol.server.McpStatelessAsyncServer statelessAsync(McpGuard guard,
            McpStatelessServerTransport transport) {
        return guard.install(McpServer.async(transport).serverInfo("test", "1.0.0").capabilities(CAPABILITIES))
                .tools(tools.stream().map(t -> new McpStatelessServerFeatures.AsyncToolSpecification(t.tool(),
                        (context, request) -> async(() -> t.handler().apply(request)))).toList())
                .resources(resources.stream().map(r -> new McpStatelessServerFeatures.AsyncResourceSpecification(
                        r.resource(), (context, request) -> async(() -> r.handler().apply(request)))).toList())
                .resourceTemplates(templates.stream().map(t ->
                        new McpStatelessServerFeatures.AsyncResourceTemplateSpecification(t.template(),
                                (context, request) -> async(() -> t.handler().apply(request)))).toList())
                .prompts(prompts.stream().map(p -> new McpStatelessServerFeatures.AsyncPromptSpecification(
                        p.prompt(), (context, request) -> async(() -> p.handler().apply(request)))).toList())
                .completions(completions.stream().map(c ->
                        new McpStatelessServerFeatures.AsyncCompletionSpecification(c.ref(),
                                (context, request) -> async(() -> c.handler().apply(request)))).toList())
                .build();
    }
}
