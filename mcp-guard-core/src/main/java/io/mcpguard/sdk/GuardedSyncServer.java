package io.mcpguard.sdk;

import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The server builder of a synchronous server (stateful: stdio or Streamable HTTP), with every tool, resource, resource template, prompt and completion added through it
 * guarded. {@link #build()} builds the SDK server; {@link #spec()} reaches the SDK builder for everything else.
 */
public final class GuardedSyncServer {

    private final McpServer.SyncSpecification<?> spec;
    private final Adapters adapters;
    private final Predicate<Object> registeredWithSdk;

    /**
     * Wraps an SDK builder the guard already prepared (list filter, argument validation moved after the scope check).
     *
     * @param spec the SDK builder
     * @param adapters the guard's adapters
     * @param registeredWithSdk which guarded definitions go to the SDK server (all, except hidden ones on a server
     *        whose one caller is known in advance)
     */
    public GuardedSyncServer(McpServer.SyncSpecification<?> spec, Adapters adapters, Predicate<Object> registeredWithSdk) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.adapters = Objects.requireNonNull(adapters, "adapters");
        this.registeredWithSdk = Objects.requireNonNull(registeredWithSdk, "registeredWithSdk");
    }

    /**
     * Adds guarded tools.
     *
     * @param tools the tools
     * @return this builder
     */
    public GuardedSyncServer tools(List<McpServerFeatures.SyncToolSpecification> tools) {
        spec.tools(tools.stream().map(adapters::tool).filter(t -> registeredWithSdk.test(t.tool())).toList());
        return this;
    }

    /**
     * Adds guarded tools.
     *
     * @param tools the tools
     * @return this builder
     */
    public GuardedSyncServer tools(McpServerFeatures.SyncToolSpecification... tools) {
        return tools(Arrays.asList(tools));
    }

    /**
     * Adds guarded static resources.
     *
     * @param resources the resources
     * @return this builder
     */
    public GuardedSyncServer resources(List<McpServerFeatures.SyncResourceSpecification> resources) {
        spec.resources(resources.stream().map(adapters::resource).filter(r -> registeredWithSdk.test(r.resource()))
                .toList());
        return this;
    }

    /**
     * Adds guarded static resources.
     *
     * @param resources the resources
     * @return this builder
     */
    public GuardedSyncServer resources(McpServerFeatures.SyncResourceSpecification... resources) {
        return resources(Arrays.asList(resources));
    }

    /**
     * Adds guarded resource templates.
     *
     * @param templates the templates
     * @return this builder
     */
    public GuardedSyncServer resourceTemplates(List<McpServerFeatures.SyncResourceTemplateSpecification> templates) {
        spec.resourceTemplates(templates.stream().map(adapters::template)
                .filter(t -> registeredWithSdk.test(t.resourceTemplate())).toList());
        return this;
    }

    /**
     * Adds guarded resource templates.
     *
     * @param templates the templates
     * @return this builder
     */
    public GuardedSyncServer resourceTemplates(McpServerFeatures.SyncResourceTemplateSpecification... templates) {
        return resourceTemplates(Arrays.asList(templates));
    }

    /**
     * Adds guarded prompts.
     *
     * @param prompts the prompts
     * @return this builder
     */
    public GuardedSyncServer prompts(List<McpServerFeatures.SyncPromptSpecification> prompts) {
        spec.prompts(prompts.stream().map(adapters::prompt).filter(p -> registeredWithSdk.test(p.prompt())).toList());
        return this;
    }

    /**
     * Adds guarded prompts.
     *
     * @param prompts the prompts
     * @return this builder
     */
    public GuardedSyncServer prompts(McpServerFeatures.SyncPromptSpecification... prompts) {
        return prompts(Arrays.asList(prompts));
    }

    /**
     * Adds guarded completions: each completes only for callers who may see the prompt or template it refers to.
     *
     * @param completions the completions
     * @return this builder
     */
    public GuardedSyncServer completions(List<McpServerFeatures.SyncCompletionSpecification> completions) {
        spec.completions(completions.stream().map(adapters::completion).toList());
        return this;
    }

    /**
     * Adds guarded completions.
     *
     * @param completions the completions
     * @return this builder
     */
    public GuardedSyncServer completions(McpServerFeatures.SyncCompletionSpecification... completions) {
        return completions(Arrays.asList(completions));
    }

    /**
     * Returns the SDK builder, for settings the guard does not touch (server info, capabilities, timeouts...).
     * Primitives added to it directly are not guarded: they are hidden from lists, but the SDK would dispatch them.
     *
     * @return the SDK builder
     */
    public McpServer.SyncSpecification<?> spec() {
        return spec;
    }

    /**
     * Builds the SDK server.
     *
     * @return the server
     */
    public McpSyncServer build() {
        return spec.build();
    }
}
