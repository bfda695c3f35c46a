package io.mcpguard.pipeline;

import io.mcpguard.Policy;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.internal.Rules;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the guard serves (tools, static resources, resource templates, prompts, registered through it) and what each
 * caller may see of it. A caller's {@link View} is computed once per distinct grant (scopes, or agent id when the
 * policy names it) and kept until the catalog changes, so that deciding visibility at call time is a set lookup whose
 * cost is the same for a hidden name and a missing one. Thread-safe.
 */
public final class Catalog {

    /** The most views kept at once; beyond it the cache starts over (views are cheap to recompute). */
    static final int MAX_VIEWS = 10_000;

    private final Policy policy;
    private final Map<String, Target> tools = new LinkedHashMap<>();
    private final Map<String, Target> resources = new LinkedHashMap<>();
    private final Map<String, Target> templates = new LinkedHashMap<>();
    private final Map<String, Target> prompts = new LinkedHashMap<>();
    private final Map<Object, View> views = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot = new Snapshot(0, Map.of(), Map.of(), Map.of(), Map.of());

    Catalog(Policy policy) {
        this.policy = policy;
    }

    /** An immutable copy of the catalog, replaced on every change. */
    record Snapshot(long version, Map<String, Target> tools, Map<String, Target> resources,
            Map<String, Target> templates, Map<String, Target> prompts) {
    }

    synchronized void put(Target target) {
        Primitive.Kind kind = target.primitive().kind();
        if (kind == Primitive.Kind.RESOURCE) {
            for (Target template : templates.values()) {
                if (template.serves(target.name())) {
                    checkShadow(template, target);
                }
            }
        } else if (kind == Primitive.Kind.RESOURCE_TEMPLATE) {
            for (Target resource : resources.values()) {
                if (target.serves(resource.name())) {
                    checkShadow(target, resource);
                }
            }
        }
        mapOf(kind).put(target.name(), target);
        publish();
    }

    /**
     * A static resource whose URI a template also serves must be granted wherever the template is: otherwise a caller
     * who sees only the template reads "not found" for that URI (the SDK would dispatch it to the static resource)
     * while any other URI the template serves answers, which tells it the hidden resource exists.
     */
    private void checkShadow(Target template, Target resource) {
        List<List<io.mcpguard.policy.PrimitiveMatcher>> grants = new ArrayList<>(policy.scopes().values());
        grants.addAll(policy.agents().values());
        for (List<io.mcpguard.policy.PrimitiveMatcher> grant : grants) {
            if (selects(grant, template.primitive()) && !selects(grant, resource.primitive())) {
                throw new IllegalStateException("resource '" + resource.name() + "' is also served by template '"
                        + template.name() + "', which some grant of the policy selects without the resource: a "
                        + "caller with that grant could tell the hidden resource exists. Grant the resource wherever "
                        + "the template is granted, or give it a URI the template does not serve.");
            }
        }
    }

    private static boolean selects(List<io.mcpguard.policy.PrimitiveMatcher> grant, Primitive primitive) {
        for (io.mcpguard.policy.PrimitiveMatcher matcher : grant) {
            if (primitive.selectedBy(matcher)) { // resource matchers are the guard's own and do not throw
                return true;
            }
        }
        return false;
    }

    synchronized boolean remove(Primitive.Kind kind, String name) {
        boolean removed = mapOf(kind).remove(name) != null;
        if (removed) {
            publish();
        }
        return removed;
    }

    private Map<String, Target> mapOf(Primitive.Kind kind) {
        return switch (kind) {
            case TOOL -> tools;
            case RESOURCE -> resources;
            case RESOURCE_TEMPLATE -> templates;
            case PROMPT -> prompts;
        };
    }

    private void publish() {
        snapshot = new Snapshot(snapshot.version() + 1, Collections.unmodifiableMap(new LinkedHashMap<>(tools)),
                Collections.unmodifiableMap(new LinkedHashMap<>(resources)),
                Collections.unmodifiableMap(new LinkedHashMap<>(templates)),
                Collections.unmodifiableMap(new LinkedHashMap<>(prompts)));
        views.clear();
    }

    /**
     * Returns a registered tool.
     *
     * @param name the tool's name
     * @return the tool, or {@code null}
     */
    public Target tool(String name) {
        return snapshot.tools().get(name);
    }

    /**
     * Returns a registered prompt.
     *
     * @param name the prompt's name
     * @return the prompt, or {@code null}
     */
    public Target prompt(String name) {
        return snapshot.prompts().get(name);
    }

    /**
     * Returns a registered static resource.
     *
     * @param uri its URI
     * @return the resource, or {@code null}
     */
    public Target resource(String uri) {
        return snapshot.resources().get(uri);
    }

    /**
     * Returns a registered resource template.
     *
     * @param uriTemplate its template text
     * @return the template, or {@code null}
     */
    public Target template(String uriTemplate) {
        return snapshot.templates().get(uriTemplate);
    }

    Iterable<Target> snapshotTools() {
        return snapshot.tools().values();
    }

    Iterable<Target> snapshotTemplates() {
        return snapshot.templates().values();
    }

    /**
     * Returns how many primitives of a kind are registered.
     *
     * @param kind the kind
     * @return the count
     */
    public int size(Primitive.Kind kind) {
        Snapshot s = snapshot;
        return switch (kind) {
            case TOOL -> s.tools().size();
            case RESOURCE -> s.resources().size();
            case RESOURCE_TEMPLATE -> s.templates().size();
            case PROMPT -> s.prompts().size();
        };
    }

    /**
     * Returns what a caller may see; {@link View#NONE} for an unknown caller.
     *
     * @param agent the verified caller, or {@code null}
     * @return the caller's view
     */
    public View view(AgentIdentity agent) {
        if (agent == null) {
            return View.NONE;
        }
        Snapshot s = snapshot;
        boolean direct = policy.grantsAgentDirectly(agent.agentId());
        Object key = direct ? agent.agentId() : agent.scopes();
        View view = views.get(key);
        // Keyed by the scopes, the lookup itself compared them; keyed by the agent id, its scopes may have changed.
        if (view != null && view.version == s.version() && (!direct || view.scopes.equals(agent.scopes()))) {
            return view;
        }
        view = compute(s, agent);
        if (views.size() >= MAX_VIEWS) {
            views.clear();
        }
        views.put(key, view);
        return view;
    }

    private View compute(Snapshot s, AgentIdentity agent) {
        return new View(s.version(), agent.scopes(), visible(s.tools(), agent), visible(s.resources(), agent),
                visible(s.templates(), agent), visible(s.prompts(), agent), s);
    }

    private List<Target> visible(Map<String, Target> targets, AgentIdentity agent) {
        List<Target> out = new ArrayList<>();
        for (Target target : targets.values()) {
            if (Rules.granted(policy, agent, target.primitive())) {
                out.add(target);
            }
        }
        return List.copyOf(out);
    }

    /**
     * What one caller may see: the visible tools, static resources, templates and prompts, in registration order.
     * Every lookup searches only what is visible, so a hidden name and a missing one cost the same work. Immutable.
     */
    public static final class View {

        /** The view of an unknown caller: nothing. */
        public static final View NONE = new View(-1, Set.of(), List.of(), List.of(), List.of(), List.of(),
                new Snapshot(-1, Map.of(), Map.of(), Map.of(), Map.of()));

        final long version;
        final Set<String> scopes;
        private final Map<String, Target> tools;
        private final Map<String, Target> resources;
        private final Map<String, Target> templates;
        private final Target[] templateOrder;
        private final Map<String, Target> prompts;
        private final Snapshot snapshot;

        View(long version, Set<String> scopes, List<Target> tools, List<Target> resources, List<Target> templates,
                List<Target> prompts, Snapshot snapshot) {
            this.version = version;
            this.scopes = scopes;
            this.tools = byName(tools);
            this.resources = byName(resources);
            this.templates = byName(templates);
            this.templateOrder = templates.toArray(Target[]::new);
            this.prompts = byName(prompts);
            this.snapshot = snapshot;
        }

        private static Map<String, Target> byName(List<Target> targets) {
            Map<String, Target> out = new LinkedHashMap<>();
            for (Target target : targets) {
                out.put(target.name(), target);
            }
            return Collections.unmodifiableMap(out);
        }

        /**
         * Returns whether the caller may see and use a registered primitive.
         *
         * @param target the primitive
         * @return {@code true} if visible
         */
        public boolean allows(Target target) {
            if (target == null) {
                return false;
            }
            Map<String, Target> visible = switch (target.primitive().kind()) {
                case TOOL -> tools;
                case RESOURCE -> resources;
                case RESOURCE_TEMPLATE -> templates;
                case PROMPT -> prompts;
            };
            return visible.get(target.name()) == target;
        }

        /**
         * Returns the visible tool of that name: a hidden and a missing name both give {@code null}, after the same
         * work (one lookup among the visible ones).
         *
         * @param name the name
         * @return the tool, or {@code null}
         */
        public Target tool(String name) {
            return tools.get(name);
        }

        /**
         * Returns the visible prompt of that name, or {@code null}.
         *
         * @param name the name
         * @return the prompt, or {@code null}
         */
        public Target prompt(String name) {
            return prompts.get(name);
        }

        /**
         * Returns a visible template by its exact template text (completion references name templates), or
         * {@code null}.
         *
         * @param uriTemplate the template text
         * @return the template, or {@code null}
         */
        public Target template(String uriTemplate) {
            return templates.get(uriTemplate);
        }

        /**
         * Resolves a URI the way the SDK dispatches {@code resources/read}, among what the caller may see: a visible
         * static resource with exactly this URI, else the first visible template serving it; {@code null} when none
         * does (hidden and missing alike, after the same work). A URI that a visible template serves but that the
         * server would serve from a hidden static resource of exactly that URI gives {@code null} too.
         *
         * @param uri the URI
         * @return the resource or template, or {@code null}
         */
        public Target resolveResource(String uri) {
            Target exact = resources.get(uri);
            if (exact != null) {
                return exact;
            }
            for (Target template : templateOrder) {
                if (template.serves(uri)) {
                    return snapshot.resources().containsKey(uri) ? null : template;
                }
            }
            return null;
        }

        /**
         * Returns the visible tools' definitions, in registration order.
         *
         * @return the tools
         */
        public List<McpSchema.Tool> tools() {
            return definitions(tools, McpSchema.Tool.class);
        }

        /**
         * Returns the visible static resources' definitions.
         *
         * @return the resources
         */
        public List<McpSchema.Resource> resources() {
            return definitions(resources, McpSchema.Resource.class);
        }

        /**
         * Returns the visible templates' definitions.
         *
         * @return the templates
         */
        public List<McpSchema.ResourceTemplate> resourceTemplates() {
            return definitions(templates, McpSchema.ResourceTemplate.class);
        }

        /**
         * Returns the visible prompts' definitions.
         *
         * @return the prompts
         */
        public List<McpSchema.Prompt> prompts() {
            return definitions(prompts, McpSchema.Prompt.class);
        }

        /**
         * Returns how many registered primitives of a kind this caller does not see.
         *
         * @param kind the kind
         * @return the count
         */
        public int hidden(Primitive.Kind kind) {
            return switch (kind) {
                case TOOL -> snapshot.tools().size() - tools.size();
                case RESOURCE -> snapshot.resources().size() - resources.size();
                case RESOURCE_TEMPLATE -> snapshot.templates().size() - templates.size();
                case PROMPT -> snapshot.prompts().size() - prompts.size();
            };
        }

        private static <T> List<T> definitions(Map<String, Target> targets, Class<T> type) {
            List<T> out = new ArrayList<>(targets.size());
            for (Target target : targets.values()) {
                out.add(type.cast(target.definition()));
            }
            return out;
        }
    }
}
