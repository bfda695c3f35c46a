package io.mcpguard.pipeline;

import io.mcpguard.Decision;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.approval.internal.Approvals;
import io.mcpguard.audit.AuditRecord;
import io.mcpguard.audit.internal.AuditTrail;
import io.mcpguard.breaker.internal.Breakers;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.identity.AgentResolver;
import io.mcpguard.policy.ArgumentBoundary;
import io.mcpguard.policy.Primitive;
import io.mcpguard.policy.internal.Rules;
import io.mcpguard.quota.internal.Quotas;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.support.LogSafe;
import io.mcpguard.telemetry.internal.GuardTelemetry;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.schema.JsonSchemaValidator;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.util.ToolInputValidator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guard pipeline, written once. Every use of a guarded primitive passes the same ordered steps:
 * {@code identity -> scope -> arguments -> boundaries -> quota -> budgets -> approval -> concurrency -> breaker ->
 * audit -> run -> outcome}, inside one span. Approval comes before the concurrency slot and breaker permit, so a call
 * waiting for a person holds neither. {@link #start} runs the admission steps and answers {@link Start.Refused}, the admitted {@link Call}
 * the executor settles when the handler ends, or {@link Start.Waiting}; the sync and async executors only differ in how
 * they run the handler and wait. Unstable API.
 *
 * <p>Fails closed: a resolver, matcher or validator that throws denies; an unknown caller sees and uses nothing and
 * is answered exactly as for a missing name.
 */
public final class Pipeline implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    /** Whose probes the probes of callers the resolver does not know are counted as. */
    static final String UNKNOWN_PROBER = "(unknown)";

    /** Names longer than this are cut in spans and audit records, so that probes cannot bloat the trail. */
    public static final int MAX_RECORDED_NAME = 200;

    private final Policy policy;
    private final AgentResolver resolver;
    private final JsonSchemaValidator validator;
    private final Catalog catalog;
    private final Quotas quotas;
    private final Breakers breakers;
    private final Approvals approvals;
    private final GuardTelemetry telemetry;
    private final AuditTrail audit;
    private final Clock clock;
    private final Set<String> warnedUnguarded = ConcurrentHashMap.newKeySet();
    private final Probes probes;
    private volatile ExecutorService executor;

    /**
     * The parts a pipeline is made of.
     *
     * @param policy the immutable policy
     * @param resolver who the caller is
     * @param validator the JSON schema validator for tool arguments
     * @param quotas quota and concurrency state
     * @param breakers breakers and timeouts
     * @param approvals the approval gate
     * @param telemetry spans and metrics
     * @param audit the audit trail, or {@code null} for none
     * @param clock the guard's clock
     */
    public record Parts(Policy policy, AgentResolver resolver, JsonSchemaValidator validator, Quotas quotas,
            Breakers breakers, Approvals approvals, GuardTelemetry telemetry, AuditTrail audit, Clock clock) {
    }

    /**
     * Creates a pipeline.
     *
     * @param parts its parts
     */
    public Pipeline(Parts parts) {
        this.policy = Objects.requireNonNull(parts.policy(), "policy");
        this.resolver = Objects.requireNonNull(parts.resolver(), "resolver");
        this.validator = Objects.requireNonNull(parts.validator(), "validator");
        this.quotas = Objects.requireNonNull(parts.quotas(), "quotas");
        this.breakers = Objects.requireNonNull(parts.breakers(), "breakers");
        this.approvals = Objects.requireNonNull(parts.approvals(), "approvals");
        this.telemetry = Objects.requireNonNull(parts.telemetry(), "telemetry");
        this.audit = parts.audit();
        this.clock = Objects.requireNonNull(parts.clock(), "clock");
        this.catalog = new Catalog(policy);
        this.probes = new Probes(policy.probeLimit(), clock, this::aggregated);
    }

    // ---- the catalog ----

    /**
     * Registers a primitive served through the guard (only such primitives are ever listed or used), resolving its
     * limits and approval facts once.
     *
     * @param primitive what the policy sees of it
     * @param definition its SDK definition
     * @return the registered target
     */
    public Target register(Primitive primitive, Object definition) {
        boolean tool = primitive.kind() == Primitive.Kind.TOOL;
        Target target = new Target(primitive, definition, quotas.forPrimitive(primitive),
                breakers.forPrimitive(primitive), tool ? approvals.forTool(primitive.tool()) : null,
                tool ? boundaries(primitive.tool()) : List.of(), tool ? definitionSha256(definition) : null);
        catalog.put(target);
        return target;
    }

    /** The boundaries that apply to a tool; a boundary whose matcher throws applies (restrictive). */
    private List<ArgumentBoundary> boundaries(McpSchema.Tool tool) {
        List<ArgumentBoundary> out = new ArrayList<>();
        for (ArgumentBoundary boundary : policy.boundaries()) {
            Boolean selects = Rules.selects(boundary.tools(), tool, boundary.canonical());
            if (selects == null || selects) {
                out.add(boundary);
            }
        }
        return List.copyOf(out);
    }

    /** The SHA-256 of a definition's RFC 8785 JSON form, so that approvals bind to what the tool was. */
    static String definitionSha256(Object definition) {
        Object json = McpJsonDefaults.getMapper().convertValue(definition, Object.class);
        return CanonicalJson.sha256(CanonicalJson.ofExact(json));
    }

    /**
     * Forgets a primitive (remove it from the SDK server too).
     *
     * @param kind its kind
     * @param name its name, URI or template text
     * @return whether it was registered
     */
    public boolean unregister(Primitive.Kind kind, String name) {
        return catalog.remove(kind, name);
    }

    /**
     * Returns the catalog of what the guard serves.
     *
     * @return the catalog
     */
    public Catalog catalog() {
        return catalog;
    }

    /**
     * Returns the executor that runs synchronous handlers with a timeout and blocking elicitations.
     *
     * @return the executor
     */
    public ExecutorService executor() {
        ExecutorService e = executor;
        if (e == null) {
            synchronized (this) {
                e = executor;
                if (e == null) {
                    AtomicInteger n = new AtomicInteger();
                    e = Executors.newCachedThreadPool(runnable -> {
                        Thread thread = new Thread(runnable, "mcp-guard-tool-" + n.incrementAndGet());
                        thread.setDaemon(true);
                        return thread;
                    });
                    executor = e;
                }
            }
        }
        return e;
    }

    /**
     * Returns the approval mode calls wait in.
     *
     * @return the mode
     */
    public io.mcpguard.approval.ApprovalMode approvalMode() {
        return approvals.mode();
    }

    // ---- identity ----

    /**
     * Resolves the caller; a resolver that throws or answers nothing gives {@code null} (unknown: sees nothing).
     *
     * @param context the transport context
     * @return the verified identity, or {@code null}
     */
    public AgentIdentity identify(McpTransportContext context) {
        try {
            Optional<AgentIdentity> agent = resolver.resolve(context == null ? McpTransportContext.EMPTY : context);
            return agent == null ? null : agent.orElse(null);
        } catch (RuntimeException e) {
            log.warn("Agent resolver failed; treating the caller as unknown (fail closed)", LogSafe.throwable(e));
            return null;
        }
    }

    // ---- lists ----

    /**
     * The SDK's per-tool {@code tools/list} filter decision: listed only if registered through the guard and visible
     * to the caller. (The transport gate answers lists as a whole, see {@link #recordList}.)
     *
     * @param context the request's transport context
     * @param tool the tool
     * @return whether the caller sees the tool
     */
    public boolean listed(McpTransportContext context, McpSchema.Tool tool) {
        Target target = catalog.tool(tool.name());
        if (target == null) {
            if (warnedUnguarded.add(tool.name())) {
                log.warn("Tool '{}' was registered without mcp-guard: it is hidden from tools/list, but the SDK "
                        + "still dispatches calls to it unguarded. Register it through McpGuard.install or wrap.",
                        LogSafe.text(tool.name()));
            }
            return false;
        }
        AgentIdentity agent = identify(context);
        boolean visible = catalog.view(agent).allows(target);
        telemetry.listDecision(context, agent, tool.name(), visible, catalog.size(Primitive.Kind.TOOL));
        return visible;
    }

    /**
     * Records a list the transport gate answered as a whole: its span, metric and audit record.
     *
     * @param method the list method
     * @param context the transport context
     * @param agent the caller, or {@code null}
     * @param listed entries listed
     * @param hidden entries hidden
     */
    public void recordList(String method, McpTransportContext context, AgentIdentity agent, long listed,
            long hidden) {
        telemetry.listed(method, context, agent, listed, hidden);
    }

    // ---- a call ----

    /**
     * Runs the admission steps of one call, or goes on with the decision the transport gate already reached for it
     * ({@link Preadmitted}).
     *
     * @param call the call the handler was given
     * @return refused, the admitted call (possibly the gate's), or waiting for an approver
     */
    public Start begin(Call call) {
        if (call.context().get(Preadmitted.CONTEXT_KEY) instanceof Preadmitted pre) {
            Start decided = pre.claim(call);
            if (decided != null) {
                return decided;
            }
        }
        return start(call);
    }

    /**
     * Returns whether a call of this tool may wait for a person in the waiting mode, so that the transport gate holds
     * it rather than a request thread. Tools whose rules accept the client user's confirmation are not held: that
     * confirmation travels through the SDK's session.
     *
     * @param target the tool
     * @return {@code true} if the gate should admit calls of it ahead of the SDK
     */
    public boolean waitsInGate(Target target) {
        if (approvals.mode() != io.mcpguard.approval.ApprovalMode.WAIT
                || target.primitive().kind() != Primitive.Kind.TOOL || target.approval() == null) {
            return false;
        }
        Approvals.ToolApproval facts = target.approval();
        for (io.mcpguard.approval.ApprovalRule rule : facts.rules()) {
            if (rule.kind() == io.mcpguard.approval.ApprovalKind.CLIENT_USER) {
                return false;
            }
        }
        if (target.quotas().hasBudgets() || facts.undecidable() != null) {
            return true;
        }
        for (io.mcpguard.approval.ApprovalRule rule : facts.rules()) {
            if (!rule.isNever()) {
                return true;
            }
        }
        return facts.rules().isEmpty() && facts.reversibility() == io.mcpguard.approval.Reversibility.IRREVERSIBLE
                && policy.irreversibleNeedsApproval();
    }

    /**
     * Runs the admission steps of a call the transport gate holds while it waits (see {@link #waitsInGate}): in the
     * waiting mode, only such calls wait for a person; the gate notices a client that cancels or leaves.
     *
     * @param call the call, built by the gate
     * @return refused, a ticket to run with, or waiting for an approver
     */
    public Start startInGate(Call call) {
        call.heldByGate();
        return start(call);
    }

    /**
     * Runs the admission steps of one call.
     *
     * @param call the call
     * @return refused, a ticket to run with, or waiting for an approver
     */
    public Start start(Call call) {
        Target target = call.target();
        String recordedName = recorded(call.name());
        GuardTelemetry.Observation obs = telemetry.startCall(call.context(), call.sessionId(),
                call.operation().method(), recordedName, call.meta(),
                call.operation() == Operation.TOOL_CALL ? call.arguments() : null);
        AgentIdentity agent = identify(call.context());
        CallRecord record = audit == null ? null : new CallRecord(this, agent, call, recordedName, obs);
        call.observed(obs, record);
        call.identified(agent);
        if (agent == null) {
            return hidden(call, obs, record, Start.Refused.UNKNOWN_AGENT);
        }
        obs.agent(agent, target.approval() == null ? null : target.approval().reversibility().code());
        if (!catalog.view(agent).allows(target)) {
            return hidden(call, obs, record, Start.Refused.OUT_OF_SCOPE);
        }
        boolean toolCall = call.operation() == Operation.TOOL_CALL;
        if (toolCall) {
            String invalid = validateArguments((McpSchema.Tool) target.definition(), call.arguments());
            if (invalid != null) {
                return refused(obs, record, new Decision.Deny(ReasonCode.INVALID_ARGUMENTS,
                        Decision.Step.ARGUMENTS, invalid), null);
            }
            for (ArgumentBoundary boundary : target.boundaries()) {
                if (!boundary.permits(call.arguments(), agent)) {
                    return refused(obs, record, new Decision.Deny(ReasonCode.ARGUMENT_BOUNDARY,
                            Decision.Step.BOUNDARY, boundary.refusal(target.name()), null, boundary.name()), null);
                }
            }
        }
        Object admitted = target.quotas().admit(agent.agentId());
        if (admitted instanceof Decision.Deny deny) {
            return refused(obs, record, deny, null);
        }
        Quotas.Permit permit = (Quotas.Permit) admitted;
        call.permitted(permit);
        if (permit.quotaRemaining() >= 0) {
            obs.quotaRemaining(permit.quotaRemaining());
        }
        if (!toolCall) {
            return acquire(call, null);
        }
        Quotas.BudgetCheck budget = target.quotas().budgets(permit, agent, call.arguments());
        if (budget.refused() != null) {
            call.neverRan();
            return refused(obs, record, budget.refused(), null);
        }
        Approvals.Need need;
        try {
            need = approvals.need(target.approval(), call.arguments(), agent, budget.askReason());
        } catch (RuntimeException e) {
            log.warn("Deciding whether '{}' needs approval failed; a person must approve (fail closed)",
                    LogSafe.text(target.name()), LogSafe.throwable(e));
            need = new Approvals.Need(io.mcpguard.approval.ApprovalKind.PERSON, 1, "the approval rules failed");
        }
        if (need == null) {
            return acquire(call, null);
        }
        call.onApproval(budget.onApproval());
        Approvals.Gated gated;
        try {
            String name = target.name();
            gated = approvals.gate(new Approvals.Action(agent, (McpSchema.Tool) target.definition(),
                    target.definitionSha256(), () -> {
                        Target now = catalog.tool(name);
                        return now == null ? null : now.definitionSha256();
                    }, call.arguments(), target.approval(), need, call.elicitor(), obs.traceId(),
                    () -> quotas.tryApprovalRequest(agent.agentId()), call.heldInGate()));
        } catch (RuntimeException e) {
            log.warn("Approval gate failed for tool '{}'; denying (fail closed)", LogSafe.text(target.name()), LogSafe.throwable(e));
            gated = new Approvals.Gated(null, CompletableFuture.completedFuture(new Approvals.Outcome(
                    new Decision.Deny(ReasonCode.APPROVAL_DENIED, Decision.Step.APPROVAL, "Call to '"
                            + target.name() + "' was not approved: the approval gate failed."), null, 0)));
        }
        CompletableFuture<Approvals.Outcome> outcome = gated.outcome();
        if (outcome.isDone()) {
            return approved(call, outcome.join());
        }
        String approvalId = gated.approvalId();
        return new Start.Waiting(approvalId, outcome.thenApply(o -> approved(call, o)), why -> {
            approvals.abandon(approvalId, why);
            call.neverRan();
        });
    }

    private Start approved(Call call, Approvals.Outcome outcome) {
        call.observation().approval(outcome.approvalId(), outcome.waitMillis());
        if (!outcome.approved()) {
            call.neverRan();
            return refused(call.observation(), call.record(), outcome.refusal(), outcome.approvalId());
        }
        try {
            call.permit().force(call.onApproval());
        } catch (RuntimeException e) {
            log.warn("Limit store failed to record an approved budget overrun; refusing (fail closed)", LogSafe.throwable(e));
            call.neverRan();
            return refused(call.observation(), call.record(), new Decision.Deny(ReasonCode.BUDGET_EXCEEDED,
                    Decision.Step.BUDGET, "Limits cannot be checked right now; the call is refused. Retry later.",
                    java.time.Duration.ofSeconds(1)), outcome.approvalId());
        }
        return acquire(call, outcome.approvalId());
    }

    /** After approval: a concurrency slot and a breaker permit, then the audit record before the call runs. */
    private Start acquire(Call call, String approvalId) {
        Target target = call.target();
        String agentId = call.agent().agentId();
        Decision.Deny slots = target.quotas().acquireSlots(call.permit(), agentId);
        if (slots != null) {
            call.neverRan();
            return refused(call.observation(), call.record(), slots, approvalId);
        }
        Object acquired = target.breaker().acquire(agentId);
        if (acquired instanceof Decision.Deny deny) {
            call.neverRan();
            return refused(call.observation(), call.record(), deny, approvalId);
        }
        call.admitted((Breakers.Permit) acquired);
        return ready(call, approvalId);
    }

    private Start ready(Call call, String approvalId) {
        CallRecord record = call.record();
        if (record != null && !record.beforeRun(approvalId, readOnly(call.target()))) {
            call.neverRan();
            Decision.Deny deny = new Decision.Deny(ReasonCode.AUDIT_UNAVAILABLE, Decision.Step.AUDIT,
                    call.target().label() + " cannot be used right now: the audit trail cannot record the call.",
                    java.time.Duration.ofSeconds(1));
            call.observation().refused(deny);
            call.observation().end(true, null);
            return new Start.Refused(deny, approvalId, false);
        }
        return call;
    }

    /** Whether a use only reads: a read-only tool, or any resource, template or prompt use. */
    private static boolean readOnly(Target target) {
        return target.primitive().kind() != Primitive.Kind.TOOL || target.approval() != null
                && target.approval().reversibility() == io.mcpguard.approval.Reversibility.READ_ONLY;
    }

    private static Start refused(GuardTelemetry.Observation obs, CallRecord record, Decision.Deny deny,
            String approvalId) {
        obs.refused(deny);
        if (record != null) {
            record.decided(deny, approvalId);
        }
        log.debug("Refused: {} at step {}", deny.reason().code(), deny.step().code());
        obs.end(true, null);
        return new Start.Refused(deny, approvalId, false);
    }

    private Start hidden(Call call, GuardTelemetry.Observation obs, CallRecord record, Start.Refused refused) {
        AgentIdentity agent = call.agent();
        Probes.Verdict verdict = probes.probe(agent == null ? UNKNOWN_PROBER : agent.agentId(), call.name());
        // The SDK dispatched the name, so the answer cannot change here: past the first ones a window's probes are
        // summed up in one aggregate record instead of one record each.
        if (record != null && verdict == Probes.Verdict.RECORD) {
            record.decided(refused.deny(), null);
        }
        if (obs != GuardTelemetry.Observation.NOOP) {
            obs.refused(refused.deny());
            obs.end(notFound(call.operation(), call.target().primitive().kind(), call.name()));
        }
        return refused;
    }

    /**
     * Returns the SDK's error for a name it does not know, as the operation and the kind of reference give it.
     *
     * @param operation the operation
     * @param kind the kind of primitive referred to
     * @param name the name or URI
     * @return the error
     */
    public static McpError notFound(Operation operation, Primitive.Kind kind, String name) {
        if (operation == Operation.COMPLETE && kind != Primitive.Kind.PROMPT) {
            return NotFound.resource(name);
        }
        return operation == Operation.RESOURCE_SUBSCRIBE ? NotFound.resource(name) : NotFound.of(operation, name);
    }

    // ---- what the transport gate answered itself ----

    /**
     * Counts a use of a name the caller may not see (hidden or missing: the gate cannot and does not tell), before
     * the gate answers it: record it one by one, sum it up in the window's aggregate, or refuse it (too many).
     *
     * @param agent the verified caller
     * @param name the name or URI
     * @return what to do
     */
    public Probes.Verdict probe(AgentIdentity agent, String name) {
        return probes.probe(agent.agentId(), name);
    }

    /**
     * Returns how long until the caller's probe window ends (the retry hint of a refused probe).
     *
     * @return the window's length, an upper bound
     */
    public java.time.Duration probeWindow() {
        return policy.probeLimit().window();
    }

    private void aggregated(Probes.Window window) {
        log.info("Agent '{}' made {} more probes ({} refused) between {} and {}; sample: {}",
                LogSafe.text(window.agentId()), window.probes(), window.refused(), window.start(), window.end(),
                LogSafe.text(String.join(",", window.sample()), 1200));
        if (audit == null) {
            return;
        }
        StringBuilder sample = new StringBuilder();
        for (String name : window.sample()) {
            if (sample.length() > 0) {
                sample.append(',');
            }
            sample.append(name);
        }
        audit.record(new AuditRecord.ProbesAggregated(new AuditRecord.Context(clock.instant(),
                UNKNOWN_PROBER.equals(window.agentId()) ? null : window.agentId(), null, null, null, null, null,
                policy.fingerprint(), null, null), window.start(), window.end(), window.probes(), window.refused(),
                sample.toString()));
    }

    /**
     * Records a use the transport gate answered itself as a missing name (the name is missing, or hidden from the
     * caller): a span, the decision metric and an audit record, written after the answer is on its way.
     *
     * @param operation the operation
     * @param context the transport context
     * @param sessionId the MCP session id, or {@code null}
     * @param name the name or URI as requested
     * @param arguments the arguments, or {@code null}
     * @param meta the request's {@code _meta}, or {@code null}
     * @param kind the kind the name refers to (for the span's error code)
     */
    public void recordUnanswered(Operation operation, McpTransportContext context, String sessionId, String name,
            Map<String, Object> arguments, Map<String, Object> meta, Primitive.Kind kind) {
        String recordedName = recorded(name);
        GuardTelemetry.Observation obs = telemetry.startCall(context, sessionId, operation.method(), recordedName,
                meta, operation == Operation.TOOL_CALL ? arguments : null);
        AgentIdentity agent = identify(context);
        boolean exists = exists(operation, kind, name);
        Decision.Deny deny;
        if (agent == null) {
            deny = new Decision.Deny(ReasonCode.UNKNOWN_AGENT, Decision.Step.IDENTITY, NotFound.UNKNOWN_TOOL_MESSAGE);
        } else if (exists) {
            obs.agent(agent, null);
            deny = new Decision.Deny(ReasonCode.OUT_OF_SCOPE, Decision.Step.SCOPE, NotFound.UNKNOWN_TOOL_MESSAGE);
        } else {
            obs.agent(agent, null);
            deny = new Decision.Deny(ReasonCode.UNKNOWN_TOOL, Decision.Step.DISPATCH, NotFound.UNKNOWN_TOOL_MESSAGE);
        }
        obs.refused(deny);
        if (audit != null) {
            new CallRecord(this, agent, operation, recordedName, arguments, obs).decided(deny, null);
        }
        obs.end(notFound(operation, kind, recordedName));
    }

    /**
     * Records a request the transport gate refused for naming another agent's session (answered as a missing session).
     *
     * @param agent the caller
     * @param method the JSON-RPC method, or the HTTP method for streams and deletions
     * @param what {@code request}, {@code notification}, {@code response}, {@code stream} or {@code delete}
     * @param owner the agent that opened the session
     */
    public void recordForeignSession(AgentIdentity agent, String method, String what, String owner) {
        if (audit == null) {
            return;
        }
        audit.record(new AuditRecord.TransportRefused(new AuditRecord.Context(clock.instant(), agent.agentId(),
                agent.credentialId(), agent.runId().orElse(null), recorded(method), null, null,
                policy.fingerprint(), null, null), "foreign_session", what, owner));
        log.info("Agent '{}' named a session of agent '{}' ({} {}); answered as a missing session",
                LogSafe.text(agent.agentId()), LogSafe.text(owner), what, LogSafe.text(method));
    }

    private boolean exists(Operation operation, Primitive.Kind kind, String name) {
        return switch (operation) {
            case TOOL_CALL -> catalog.tool(name) != null;
            case PROMPT_GET -> catalog.prompt(name) != null;
            case COMPLETE -> kind == Primitive.Kind.PROMPT ? catalog.prompt(name) != null
                    : catalog.template(name) != null || catalog.resource(name) != null;
            case RESOURCE_READ, RESOURCE_SUBSCRIBE -> catalog.resource(name) != null || anyTemplateServes(name);
        };
    }

    private boolean anyTemplateServes(String uri) {
        for (Target template : catalog.snapshotTemplates()) {
            if (template.serves(uri)) {
                return true;
            }
        }
        return false;
    }

    private static String recorded(String name) {
        return name.length() <= MAX_RECORDED_NAME ? name : name.substring(0, MAX_RECORDED_NAME) + "...";
    }

    // ---- steps ----

    private String validateArguments(McpSchema.Tool tool, Map<String, Object> arguments) {
        try {
            McpSchema.CallToolResult invalid = ToolInputValidator.validate(tool, arguments, true, validator);
            if (invalid == null) {
                return null;
            }
            return invalid.content().isEmpty() || !(invalid.content().get(0) instanceof McpSchema.TextContent text)
                    ? "Tool (" + tool.name() + ") input validation failed"
                    : text.text();
        } catch (RuntimeException e) {
            log.warn("Argument validation failed with an exception for tool '{}'; refusing the call",
                    LogSafe.text(tool.name()), LogSafe.throwable(e));
            return "Tool (" + tool.name() + ") input validation failed";
        }
    }

    /**
     * Returns a target's circuit breaker, for metrics and operations.
     *
     * @param target the target
     * @return the breaker, or {@code null}
     */
    public io.github.resilience4j.circuitbreaker.CircuitBreaker breakerOf(Target target) {
        return target.breaker().breaker();
    }

    // ---- shared with the ticket and records ----

    Breakers breakers() {
        return breakers;
    }

    AuditTrail audit() {
        return audit;
    }

    Clock clock() {
        return clock;
    }

    String policyFingerprint() {
        return policy.fingerprint();
    }

    /**
     * Drops idle state: full quota buckets, idle counters, expired approvals.
     *
     * @return how many quota and concurrency entries were dropped
     */
    public int sweep() {
        approvals.sweep();
        probes.sweep(false);
        int dropped = 0;
        for (Target tool : catalog.snapshotTools()) {
            dropped += tool.breaker().sweepAgents();
        }
        return dropped + quotas.sweep();
    }

    @Override
    public void close() {
        probes.sweep(true);
        ExecutorService e = executor;
        if (e != null) {
            e.shutdownNow();
        }
    }

    /** The audit records of one call: its decision before it runs, its outcome after. */
    static final class CallRecord {

        private final Pipeline pipeline;
        private final AgentIdentity agent;
        private final String method;
        private final String target;
        private final String argumentsSha256;
        private final GuardTelemetry.Observation obs;
        private long startNanos;

        CallRecord(Pipeline pipeline, AgentIdentity agent, Call call, String target,
                GuardTelemetry.Observation obs) {
            this(pipeline, agent, call.operation(), target, call.arguments(), obs);
        }

        CallRecord(Pipeline pipeline, AgentIdentity agent, Operation operation, String target,
                Map<String, Object> arguments, GuardTelemetry.Observation obs) {
            this.pipeline = pipeline;
            this.agent = agent;
            this.method = operation.method();
            this.target = target;
            this.obs = obs;
            String hash;
            try {
                hash = CanonicalJson.sha256(CanonicalJson.ofExact(arguments == null ? Map.of() : arguments));
            } catch (RuntimeException e) {
                hash = "unhashable";
            }
            this.argumentsSha256 = hash;
        }

        private AuditRecord.Context context() {
            return new AuditRecord.Context(pipeline.clock().instant(), agent == null ? null : agent.agentId(),
                    agent == null ? null : agent.credentialId(), agent == null ? null : agent.runId().orElse(null),
                    method, target, argumentsSha256, pipeline.policyFingerprint(), obs.traceId(), obs.spanId());
        }

        void decided(Decision.Deny deny, String approvalId) {
            String decision = deny.reason() == ReasonCode.APPROVAL_PENDING ? "pending" : "deny";
            pipeline.audit().record(new AuditRecord.CallDecided(context(), decision, deny.reason().code(),
                    deny.step().code(), approvalId, deny.rule()));
        }

        boolean beforeRun(String approvalId, boolean readOnly) {
            startNanos = System.nanoTime();
            AuditRecord.Context context = context();
            return pipeline.audit().recordBeforeRun(
                    new AuditRecord.CallDecided(context, "allow", null, null, approvalId),
                    () -> new AuditRecord.CallDecided(context, "deny", ReasonCode.AUDIT_UNAVAILABLE.code(),
                            Decision.Step.AUDIT.code(), approvalId), readOnly);
        }

        void completed(String outcome, String errorId) {
            pipeline.audit().record(new AuditRecord.CallCompleted(context(), outcome, errorId,
                    AuditTrail.millis(startNanos)));
        }
    }
}
