package io.mcpguard.approval.internal;

import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.approval.ApprovalDecision;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalKind;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalQueue;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.ApprovalState;
import io.mcpguard.approval.ApprovalStore;
import io.mcpguard.approval.ClientConfirmationRisk;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.internal.Rules;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.support.LogSafe;
import io.mcpguard.support.Texts;
import io.modelcontextprotocol.spec.McpSchema;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approval gate: decides whether a call needs approval and whose, asks, and binds the answer to the exact action
 * (an RFC 8785 digest over agent, client, tool and its definition, arguments and policy), once. Every change of state
 * is an event and so an audit record. Fails closed. Unstable API.
 */
public final class Approvals {

    private static final Logger log = LoggerFactory.getLogger(Approvals.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The {@code _meta} key of the approval id on pending and refused results. */
    public static final String META_APPROVAL_ID = "io.mcpguard/approvalId";

    /** The approver recorded for the guard's own decisions (timeouts, failed handlers). */
    public static final String GUARD = "mcp-guard";

    private final Policy policy;
    private final ApprovalHandler handler;
    private final ApprovalStore store;
    private final ApprovalMode mode;
    private final Duration timeout;
    private final Duration pendingRetryHint;
    private final int maxWaitingPerAgent;
    private final Clock clock;
    private final GuardEventListener events;
    private final Map<String, CompletableFuture<ApprovalDecision>> asked = new ConcurrentHashMap<>();
    private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> waitingPerAgent = new ConcurrentHashMap<>();

    /**
     * The gate's settings.
     *
     * @param policy the policy
     * @param handler who decides person approvals
     * @param store where approvals live
     * @param mode how calls wait
     * @param timeout how long a request stays open, and then how long an approval waits for its call
     * @param pendingRetryHint DEFER: the retry hint on a pending answer
     * @param maxWaitingPerAgent WAIT: how many calls one agent may have waiting at once
     * @param clock the guard's clock
     * @param events where every change goes
     */
    public record Settings(Policy policy, ApprovalHandler handler, ApprovalStore store, ApprovalMode mode,
            Duration timeout, Duration pendingRetryHint, int maxWaitingPerAgent, Clock clock,
            GuardEventListener events) {
    }

    /**
     * Creates the gate.
     *
     * @param settings its settings
     */
    public Approvals(Settings settings) {
        this.policy = settings.policy();
        this.handler = settings.handler();
        this.store = settings.store();
        this.mode = settings.mode();
        this.timeout = settings.timeout();
        this.pendingRetryHint = settings.pendingRetryHint();
        this.maxWaitingPerAgent = settings.maxWaitingPerAgent();
        this.clock = settings.clock();
        this.events = settings.events();
        if (handler instanceof ApprovalQueue queue) {
            queue.onIgnoredAnswer(ignored -> changed(ignored.request(), ApprovalState.ANSWER_IGNORED,
                    List.of(ignored.approver()), "answer not counted: " + ignored.answer().name()
                            .toLowerCase(java.util.Locale.ROOT), Duration.between(ignored.request().requestedAt(),
                                    clock.instant())));
        }
    }

    /**
     * Returns the mode calls wait in.
     *
     * @return the mode
     */
    public ApprovalMode mode() {
        return mode;
    }

    /**
     * Returns the store.
     *
     * @return the approval store
     */
    public ApprovalStore store() {
        return store;
    }

    // ---- what a tool needs ----

    /**
     * What the gate knows of one tool: its reversibility and the approval rules that select it.
     *
     * @param reversibility the tool's reversibility after policy overrides
     * @param rules the approval rules selecting it (empty: the reversibility default applies)
     * @param undecidable why the tool's rules could not be read (a matcher threw): every call then needs a person's
     *        approval; {@code null} normally
     */
    public record ToolApproval(Reversibility reversibility, List<ApprovalRule> rules, String undecidable) {
    }

    /**
     * Resolves the approval facts of a tool. A matcher that throws never exempts: an override whose matcher fails
     * makes the tool irreversible, and an approval rule whose matcher fails makes every call need a person.
     *
     * @param tool the tool's definition
     * @return its approval facts
     * @throws IllegalStateException if a rule lets the client's user confirm an irreversible tool without naming the
     *         risk
     */
    public ToolApproval forTool(McpSchema.Tool tool) {
        Reversibility reversibility = null;
        boolean overrideFailed = false;
        for (Policy.ReversibilityOverride override : policy.reversibilityOverrides()) {
            Boolean selects = Rules.selects(override.tools(), tool,
                    "reversibility " + override.reversibility().code());
            if (selects == null) {
                overrideFailed = true;
            } else if (selects && reversibility == null) {
                reversibility = override.reversibility();
            }
        }
        if (overrideFailed) {
            reversibility = Reversibility.IRREVERSIBLE;
        } else if (reversibility == null) {
            reversibility = Reversibility.of(tool);
        }
        List<ApprovalRule> rules = new ArrayList<>();
        String undecidable = null;
        for (ApprovalRule rule : policy.approvalRules()) {
            Boolean selects = Rules.selects(rule.tools(), tool, rule.canonical());
            if (selects == null) {
                undecidable = "the tool matcher of '" + rule.canonical() + "' failed: every call needs approval";
            } else if (selects) {
                if (rule.kind() == ApprovalKind.CLIENT_USER && reversibility == Reversibility.IRREVERSIBLE
                        && !rule.accepts(ClientConfirmationRisk.AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS)) {
                    throw new IllegalStateException("approval rule '" + rule.canonical() + "' lets the client's user "
                            + "confirm calls of the irreversible tool '" + tool.name() + "', which the calling agent's "
                            + "own client can answer. Require a person (remove confirmedByClientUser()), or accept "
                            + "the risk in words: acceptingRisk(ClientConfirmationRisk."
                            + "AGENT_CAN_CONFIRM_ITS_OWN_IRREVERSIBLE_CALLS)");
                }
                rules.add(rule);
            }
        }
        return new ToolApproval(reversibility, List.copyOf(rules), undecidable);
    }

    /**
     * Why a call needs approval, and whose.
     *
     * @param kind who must approve
     * @param approvers how many distinct approvers
     * @param rule why (the rule, the budget, or the reversibility default)
     */
    public record Need(ApprovalKind kind, int approvers, String rule) {
    }

    /**
     * Returns whether and whose approval a call needs, or {@code null} if none. A person's approval needed by any
     * rule (or a budget) wins over a client user's confirmation.
     *
     * @param facts the tool's approval facts
     * @param arguments the call's arguments
     * @param agent the caller
     * @param budget why a budget needs a person, or {@code null}
     * @return the need, or {@code null}
     */
    public Need need(ToolApproval facts, Map<String, Object> arguments, AgentIdentity agent, String budget) {
        if (facts.undecidable() != null) {
            return new Need(ApprovalKind.PERSON, 1, facts.undecidable());
        }
        Need person = null;
        Need client = null;
        if (!facts.rules().isEmpty()) {
            for (ApprovalRule rule : facts.rules()) {
                if (!rule.needsApproval(arguments, agent)) {
                    continue;
                }
                if (rule.kind() == ApprovalKind.PERSON) {
                    if (person == null || rule.requiredApprovers() > person.approvers()) {
                        person = new Need(ApprovalKind.PERSON, rule.requiredApprovers(), rule.canonical());
                    }
                } else if (client == null) {
                    client = new Need(ApprovalKind.CLIENT_USER, 1, rule.canonical());
                }
            }
        } else if (facts.reversibility() == Reversibility.IRREVERSIBLE && policy.irreversibleNeedsApproval()) {
            person = new Need(ApprovalKind.PERSON, 1, "irreversible tools need approval");
        }
        if (budget != null) {
            person = person == null ? new Need(ApprovalKind.PERSON, 1, budget)
                    : new Need(ApprovalKind.PERSON, person.approvers(), person.rule() + "; " + budget);
        }
        return person != null ? person : client;
    }

    // ---- one call ----

    /**
     * What the gate needs to know of one call.
     *
     * @param agent the verified caller
     * @param tool the tool
     * @param toolSha256 the SHA-256 of the tool's definition when the call was admitted
     * @param currentToolSha256 the SHA-256 of the tool's definition now (re-read when an approval is used)
     * @param arguments the arguments
     * @param facts the tool's approval facts
     * @param need why and whose approval is needed
     * @param elicitor the channel to the client's user, or {@code null}
     * @param traceId the call's trace id, or the empty string
     * @param allowance counts a new approval request against the agent's limit: {@code null} if allowed
     * @param holdable whether the caller can hold the call while a person decides and notice a client that cancels
     *        or leaves (the transport gate can; a handler thread inside the SDK cannot): only such calls wait in the
     *        waiting mode, every other call is deferred
     */
    public record Action(AgentIdentity agent, McpSchema.Tool tool, String toolSha256,
            Supplier<String> currentToolSha256, Map<String, Object> arguments, ToolApproval facts, Need need,
            Elicitor elicitor, String traceId, Supplier<Decision.Deny> allowance, boolean holdable) {
    }

    /**
     * The gate's answer for one call: run it, or refuse it with this decision.
     *
     * @param refusal the refusal, or {@code null} when approved
     * @param approvalId the approval id, or {@code null} if no request was made
     * @param waitMillis how long the call waited for the answer
     */
    public record Outcome(Decision.Deny refusal, String approvalId, long waitMillis) {

        static Outcome approved(String approvalId, long waitMillis) {
            return new Outcome(null, approvalId, waitMillis);
        }

        /**
         * Returns whether the call may run.
         *
         * @return true if approved
         */
        public boolean approved() {
            return refusal == null;
        }
    }

    /**
     * A call at the gate: its approval id (once a request exists) and the outcome, complete at once unless the call
     * waits.
     *
     * @param approvalId the approval id, or {@code null}
     * @param outcome the outcome
     */
    public record Gated(String approvalId, CompletableFuture<Outcome> outcome) {

        static Gated done(Outcome outcome) {
            return new Gated(outcome.approvalId(), CompletableFuture.completedFuture(outcome));
        }
    }

    /** The action digest and what it is made of, computed once per call. */
    private record Bound(Action action, String canonical, String sha256, String digest) {

        String key() {
            return action.agent().agentId() + '\u0000' + action.tool().name() + '\u0000' + sha256;
        }
    }

    /**
     * Returns the digest an approval of this action binds to: SHA-256 of the RFC 8785 form of agent id, client id,
     * tool name, tool definition hash, arguments and policy fingerprint.
     *
     * @param agent the caller
     * @param tool the tool's name
     * @param toolSha256 the tool definition's hash
     * @param arguments the arguments
     * @param policySha256 the policy's fingerprint
     * @return 64 hex digits
     * @throws IllegalArgumentException for arguments RFC 8785 cannot represent
     */
    public static String actionDigest(AgentIdentity agent, String tool, String toolSha256,
            Map<String, Object> arguments, String policySha256) {
        Map<String, Object> action = new LinkedHashMap<>();
        action.put("agentId", agent.agentId());
        action.put("clientId", agent.clientId());
        action.put("tool", tool);
        action.put("toolSha256", toolSha256);
        action.put("arguments", arguments == null ? Map.of() : arguments);
        action.put("policySha256", policySha256);
        return CanonicalJson.sha256(CanonicalJson.of(action));
    }

    /**
     * Decides a call that needs approval. DEFER answers at once (pending, approved once, or denied); WAIT and client
     * confirmations complete when the decision comes, the call is abandoned, or the timeout denies.
     *
     * @param action the call
     * @return the approval id and outcome; the outcome never fails
     */
    public Gated gate(Action action) {
        Bound bound;
        try {
            String canonical = CanonicalJson.of(action.arguments() == null ? Map.of() : action.arguments());
            bound = new Bound(action, canonical, CanonicalJson.sha256(canonical), actionDigest(action.agent(),
                    action.tool().name(), action.toolSha256(), action.arguments(), policy.fingerprint()));
        } catch (RuntimeException e) {
            log.warn("Arguments of a call to '{}' cannot be bound to an approval; denying (fail closed)",
                    LogSafe.text(action.tool().name()), LogSafe.throwable(e));
            return Gated.done(new Outcome(new Decision.Deny(ReasonCode.APPROVAL_DENIED, Decision.Step.APPROVAL,
                    "Call to '" + action.tool().name() + "' was not approved: its arguments cannot be bound to an "
                            + "approval (RFC 8785 cannot represent them exactly)."), null, 0));
        }
        if (action.need().kind() == ApprovalKind.CLIENT_USER) {
            return confirmByClient(bound);
        }
        if (mode == ApprovalMode.DEFER || !action.holdable()) {
            // A call nobody can watch while it waits (no gate in front, stdio, a tool whose rules also accept the
            // client's confirmation) is deferred: waiting would hold a thread and run the call for a client that
            // may have cancelled or left.
            return Gated.done(deferred(bound));
        }
        return waiting(bound);
    }

    private ApprovalRequest newRequest(Bound bound, Instant now) {
        Action action = bound.action();
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        String id = "A-" + HexFormat.of().formatHex(bytes);
        return new ApprovalRequest(id, action.agent(), action.tool().name(), bound.canonical(), bound.sha256(),
                action.toolSha256(), policy.fingerprint(), bound.digest(), action.facts().reversibility(),
                action.need().rule(), action.need().approvers(), action.traceId() == null ? "" : action.traceId(),
                now, now.plus(timeout));
    }

    private void requested(ApprovalRequest request, ApprovalKind kind) {
        events.onEvent(new GuardEvent.ApprovalRequested(request.requestedAt(), request.agent().agentId(),
                request.tool(), request.id(), request.argumentsSha256(), request.actionDigest(), request.rule(),
                kind.code(), request.requiredApprovers()));
        log.info("Approval {} requested from {}: agent '{}' tool '{}' action {} ({})", request.id(), kind.code(),
                LogSafe.text(request.agent().agentId()), LogSafe.text(request.tool()), request.actionDigest(),
                LogSafe.text(request.rule()));
    }

    private void changed(ApprovalRequest request, ApprovalState state, List<String> approvers, String reason,
            Duration waited) {
        events.onEvent(new GuardEvent.ApprovalChanged(clock.instant(), request.agent().agentId(), request.tool(),
                request.id(), state, approvers, reason, waited));
        log.info("Approval {} {}{}: {}", request.id(), state.code(),
                approvers.isEmpty() ? "" : " by '" + LogSafe.text(String.join(",", approvers)) + "'",
                LogSafe.text(reason));
    }

    private Duration since(ApprovalRequest request) {
        Duration d = Duration.between(request.requestedAt(), clock.instant());
        return d.isNegative() ? Duration.ZERO : d;
    }

    private CompletableFuture<ApprovalDecision> ask(ApprovalRequest request) {
        try {
            CompletionStage<ApprovalDecision> stage = handler.requestApproval(request);
            if (stage == null) {
                return CompletableFuture.failedFuture(new IllegalStateException("approval handler returned null"));
            }
            return stage.toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Checks a handler's answer and records it: the entry becomes granted or denied. A self-approval or too few
     * distinct approvers deny.
     */
    private Optional<ApprovalStore.Entry> decide(ApprovalRequest request, ApprovalDecision decision,
            Throwable failure) {
        Instant now = clock.instant();
        ApprovalState to;
        List<String> approvers;
        String reason;
        if (failure != null || decision == null) {
            if (failure instanceof java.util.concurrent.CancellationException) {
                return Optional.empty(); // withdrawn by the guard (timeout, abandoned): already recorded
            }
            log.warn("Approval {} handler failed or answered nothing; denying (fail closed)", request.id(), LogSafe.throwable(failure));
            to = ApprovalState.DENIED;
            approvers = List.of(GUARD);
            reason = "the approval handler failed";
        } else if (!decision.approved()) {
            to = ApprovalState.DENIED;
            approvers = decision.distinctApprovers();
            reason = decision.reason();
        } else {
            approvers = decision.distinctApprovers();
            List<String> self = new ArrayList<>();
            for (String approver : approvers) {
                if (request.agent().isSelf(approver)) {
                    self.add(approver);
                }
            }
            if (!self.isEmpty()) {
                changed(request, ApprovalState.ANSWER_IGNORED, self, "an agent cannot approve its own call",
                        since(request));
                to = ApprovalState.DENIED;
                reason = "self-approval refused: an agent or its principal cannot approve its own call";
                approvers = List.of(GUARD);
            } else if (approvers.size() < request.requiredApprovers()) {
                to = ApprovalState.DENIED;
                reason = "needs " + request.requiredApprovers() + " distinct approvers, got " + approvers.size();
                approvers = List.of(GUARD);
            } else {
                to = ApprovalState.GRANTED;
                reason = decision.reason();
            }
        }
        Optional<ApprovalStore.Entry> entry = store.transition(request.id(), ApprovalState.PENDING, to, approvers,
                reason, now, to == ApprovalState.GRANTED ? now.plus(timeout) : null);
        entry.ifPresent(e -> changed(request, to, e.approvers(), reason, since(request)));
        return entry;
    }

    /**
     * Uses a granted approval for the call about to run: the digest must still match (the tool's definition now, the
     * policy, the client), and the approval is consumed exactly once.
     */
    private Outcome consume(ApprovalStore.Entry entry, Bound bound, long waitMillis) {
        ApprovalRequest request = entry.request();
        String current;
        try {
            current = actionDigest(bound.action().agent(), bound.action().tool().name(),
                    bound.action().currentToolSha256().get(), bound.action().arguments(), policy.fingerprint());
        } catch (RuntimeException e) {
            current = null;
        }
        if (current == null || !current.equals(request.actionDigest())) {
            store.transition(request.id(), ApprovalState.GRANTED, ApprovalState.VOIDED, null,
                    "the action changed since it was approved", clock.instant(), null)
                    .ifPresent(e -> changed(request, ApprovalState.VOIDED, List.of(GUARD),
                            "the action changed since it was approved (tool definition, policy or client)",
                            since(request)));
            return new Outcome(new Decision.Deny(ReasonCode.APPROVAL_ACTION_CHANGED, Decision.Step.APPROVAL,
                    "Call to '" + request.tool() + "' was not run: the action changed since approval "
                            + request.id() + " was given (tool definition, policy or client). A new approval is "
                            + "needed."), request.id(), waitMillis);
        }
        Optional<ApprovalStore.Entry> used = store.transition(request.id(), ApprovalState.GRANTED,
                ApprovalState.CONSUMED, null, null, clock.instant(), null);
        if (used.isEmpty()) {
            return null; // another call used it first
        }
        changed(request, ApprovalState.CONSUMED, List.of(), "the approved call runs", since(request));
        return Outcome.approved(request.id(), waitMillis);
    }

    // ---- DEFER: answer at once; the agent retries the identical call ----

    private Outcome deferred(Bound bound) {
        String key = bound.key();
        String tool = bound.action().tool().name();
        for (int attempt = 0; attempt < 8; attempt++) {
            Instant now = clock.instant();
            Optional<ApprovalStore.Entry> open = store.open(key, now);
            ApprovalStore.Entry entry;
            if (open.isPresent()) {
                entry = open.get();
            } else {
                Decision.Deny limited = bound.action().allowance().get();
                if (limited != null) {
                    return new Outcome(limited, null, 0);
                }
                ApprovalRequest candidate = newRequest(bound, now);
                Optional<ApprovalStore.Entry> created = store.createFor(key, candidate, now);
                if (created.isEmpty()) {
                    return storeFull(tool);
                }
                entry = created.get();
                if (entry.request().id().equals(candidate.id())) {
                    requested(candidate, ApprovalKind.PERSON);
                    CompletableFuture<ApprovalDecision> future = ask(candidate);
                    asked.put(candidate.id(), future);
                    future.whenComplete((decision, failure) -> {
                        asked.remove(candidate.id());
                        decide(candidate, decision, failure);
                    });
                    if (!future.isDone()) {
                        return pending(tool, candidate.id());
                    }
                    // A handler that decides at once (a rule engine, the deny-all default) answers this very call.
                    entry = store.get(candidate.id()).orElse(entry);
                }
            }
            switch (entry.state()) {
                case PENDING -> {
                    return pending(tool, entry.request().id());
                }
                case DENIED -> {
                    return new Outcome(refusal(ReasonCode.APPROVAL_DENIED, tool, entry.request().id(),
                            entry.reason()), entry.request().id(), 0);
                }
                case GRANTED -> {
                    Outcome used = consume(entry, bound, 0);
                    if (used != null) {
                        return used;
                    }
                }
                default -> {
                    // expired, used or voided meanwhile: look again
                }
            }
        }
        return storeFull(tool);
    }

    private Outcome storeFull(String tool) {
        return new Outcome(new Decision.Deny(ReasonCode.APPROVAL_DENIED, Decision.Step.APPROVAL,
                "Call to '" + tool + "' was not approved: approvals cannot be requested right now."), null, 0);
    }

    private Outcome pending(String tool, String approvalId) {
        Decision.Deny deny = new Decision.Deny(ReasonCode.APPROVAL_PENDING, Decision.Step.APPROVAL,
                "Call to '" + tool + "' needs a person's approval (approval " + approvalId + "). Retry the identical "
                        + "call once it is approved; other arguments need their own approval.",
                pendingRetryHint);
        return new Outcome(deny, approvalId, 0);
    }

    private static Decision.Deny refusal(ReasonCode code, String tool, String approvalId, String reason) {
        String message = code == ReasonCode.APPROVAL_TIMEOUT
                ? "Call to '" + tool + "' was not approved in time (" + reason + "; approval " + approvalId + ")."
                : "Call to '" + tool + "' was not approved: " + reason + " (approval " + approvalId + ").";
        return new Decision.Deny(code, Decision.Step.APPROVAL, message);
    }

    // ---- WAIT: the call is held until the decision ----

    /** A waiting call: settled once, by the decision, the timeout, or abandonment. */
    private final class Waiter {
        final Bound bound;
        final ApprovalRequest request;
        final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        final AtomicBoolean settled = new AtomicBoolean();
        final long startNanos = System.nanoTime();
        volatile CompletableFuture<?> question;

        Waiter(Bound bound, ApprovalRequest request) {
            this.bound = bound;
            this.request = request;
        }

        long waited() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        }

        boolean settle() {
            if (!settled.compareAndSet(false, true)) {
                return false;
            }
            waiters.remove(request.id(), this);
            AtomicInteger count = waitingPerAgent.get(request.agent().agentId());
            if (count != null && count.decrementAndGet() <= 0) {
                waitingPerAgent.remove(request.agent().agentId(), count);
            }
            CompletableFuture<?> q = question;
            if (q != null) {
                q.cancel(true); // withdrawn from the approvers if still open
            }
            return true;
        }
    }

    private Gated waiting(Bound bound) {
        String tool = bound.action().tool().name();
        String agentId = bound.action().agent().agentId();
        AtomicInteger count = waitingPerAgent.computeIfAbsent(agentId, k -> new AtomicInteger());
        if (count.incrementAndGet() > maxWaitingPerAgent) {
            if (count.decrementAndGet() <= 0) {
                waitingPerAgent.remove(agentId, count);
            }
            return Gated.done(new Outcome(new Decision.Deny(ReasonCode.APPROVAL_WAIT_LIMITED, Decision.Step.APPROVAL,
                    "Call to '" + tool + "' cannot wait for approval: this agent already has " + maxWaitingPerAgent
                            + " calls waiting. Retry when one is decided.", pendingRetryHint), null, 0));
        }
        Decision.Deny limited = bound.action().allowance().get();
        Instant now = clock.instant();
        ApprovalRequest request = newRequest(bound, now);
        Optional<ApprovalStore.Entry> created = limited != null ? Optional.empty() : store.create(request, now);
        if (created.isEmpty()) {
            if (count.decrementAndGet() <= 0) {
                waitingPerAgent.remove(agentId, count);
            }
            return Gated.done(limited != null ? new Outcome(limited, null, 0) : storeFull(tool));
        }
        Waiter waiter = new Waiter(bound, request);
        waiters.put(request.id(), waiter);
        requested(request, ApprovalKind.PERSON);
        CompletableFuture<ApprovalDecision> question = ask(request);
        waiter.question = question;
        question.whenComplete((decision, failure) -> {
            if (failure instanceof java.util.concurrent.CancellationException && waiter.settled.get()) {
                return;
            }
            if (!waiter.settle()) {
                return;
            }
            Optional<ApprovalStore.Entry> entry = decide(request, decision, failure);
            waiter.outcome.complete(afterWait(entry, waiter));
        });
        CompletableFuture.delayedExecutor(timeout.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
            if (waiter.settle()) {
                waiter.outcome.complete(expired(request, waiter.waited()));
            }
        });
        return new Gated(request.id(), waiter.outcome);
    }

    private Outcome afterWait(Optional<ApprovalStore.Entry> entry, Waiter waiter) {
        String tool = waiter.request.tool();
        if (entry.isEmpty()) {
            return new Outcome(refusal(ReasonCode.APPROVAL_DENIED, tool, waiter.request.id(), "no longer pending"),
                    waiter.request.id(), waiter.waited());
        }
        if (entry.get().state() != ApprovalState.GRANTED) {
            return new Outcome(refusal(ReasonCode.APPROVAL_DENIED, tool, waiter.request.id(), entry.get().reason()),
                    waiter.request.id(), waiter.waited());
        }
        Outcome used = consume(entry.get(), waiter.bound, waiter.waited());
        return used != null ? used : new Outcome(refusal(ReasonCode.APPROVAL_DENIED, tool, waiter.request.id(),
                "already used"), waiter.request.id(), waiter.waited());
    }

    private Outcome expired(ApprovalRequest request, long waitedMillis) {
        String reason = "no decision within " + Texts.duration(timeout);
        store.transition(request.id(), ApprovalState.PENDING, ApprovalState.EXPIRED, List.of(GUARD), reason,
                clock.instant(), null).ifPresent(e -> changed(request, ApprovalState.EXPIRED, List.of(GUARD), reason,
                        since(request)));
        return new Outcome(refusal(ReasonCode.APPROVAL_TIMEOUT, request.tool(), request.id(), reason), request.id(),
                waitedMillis);
    }

    /**
     * The caller stopped waiting (cancelled, disconnected, or its transport gave up): the call will never run, and
     * the approval is recorded as abandoned and withdrawn from the approvers.
     *
     * @param approvalId the approval id
     * @param why what happened, for the record
     * @return whether a waiting call was abandoned
     */
    public boolean abandon(String approvalId, String why) {
        Waiter waiter = approvalId == null ? null : waiters.get(approvalId);
        if (waiter == null || !waiter.settle()) {
            return approvalId != null && unused(approvalId, why);
        }
        ApprovalRequest request = waiter.request;
        for (ApprovalState from : new ApprovalState[] {ApprovalState.PENDING, ApprovalState.GRANTED}) {
            if (store.transition(request.id(), from, ApprovalState.ABANDONED, null, why, clock.instant(), null)
                    .isPresent()) {
                changed(request, ApprovalState.ABANDONED, List.of(), why, since(request));
                break;
            }
        }
        waiter.outcome.complete(new Outcome(refusal(ReasonCode.APPROVAL_DENIED, request.tool(), request.id(),
                "abandoned: " + why), request.id(), waiter.waited()));
        return true;
    }

    /**
     * An approval was used up for a held call whose client then turned out to be gone before it could run (the
     * transport gate checks before it dispatches): the call never runs, and the record says so.
     */
    private boolean unused(String approvalId, String why) {
        Optional<ApprovalStore.Entry> entry = store.transition(approvalId, ApprovalState.CONSUMED,
                ApprovalState.ABANDONED, null, why, clock.instant(), null);
        entry.ifPresent(e -> changed(e.request(), ApprovalState.ABANDONED, List.of(), why, since(e.request())));
        return entry.isPresent();
    }

    /**
     * Returns how many calls wait for a decision.
     *
     * @return the count
     */
    public int waitingCount() {
        return waiters.size();
    }

    // ---- the client user's confirmation (elicitation): weaker, opt-in ----

    private static final Map<String, Object> SCHEMA = Map.of(
            "type", "object",
            "properties", Map.of("approve", Map.of("type", "boolean", "title", "Approve this call",
                    "description", "Run this exact call once")),
            "required", List.of("approve"));

    private Gated confirmByClient(Bound bound) {
        Action action = bound.action();
        String tool = action.tool().name();
        Elicitor elicitor = action.elicitor();
        if (elicitor == null || !elicitor.supported()) {
            return Gated.done(new Outcome(new Decision.Deny(ReasonCode.APPROVAL_DENIED, Decision.Step.APPROVAL,
                    "Call to '" + tool + "' needs the confirmation of the client's user, and this "
                            + (elicitor == null ? "call has no live session to ask through."
                                    : "client does not support elicitation.")), null, 0));
        }
        Decision.Deny limited = action.allowance().get();
        if (limited != null) {
            return Gated.done(new Outcome(limited, null, 0));
        }
        Instant now = clock.instant();
        ApprovalRequest request = newRequest(bound, now);
        if (store.create(request, now).isEmpty()) {
            return Gated.done(storeFull(tool));
        }
        requested(request, ApprovalKind.CLIENT_USER);
        String message = "Agent '" + action.agent().agentId() + "' wants to run the "
                + request.reversibility().code() + " tool '" + tool + "' with arguments " + bound.canonical()
                + " (approval " + request.id() + "). Approve this exact call once?";
        Waiter waiter = new Waiter(bound, request);
        waiters.put(request.id(), waiter);
        waitingPerAgent.computeIfAbsent(action.agent().agentId(), k -> new AtomicInteger()).incrementAndGet();
        CompletableFuture<McpSchema.ElicitResult> question;
        try {
            question = elicitor.elicit(McpSchema.ElicitRequest.builder(message, SCHEMA).build())
                    .toCompletableFuture();
        } catch (RuntimeException e) {
            question = CompletableFuture.failedFuture(e);
        }
        waiter.question = question;
        String approver = "client-user:" + action.agent().agentId();
        question.whenComplete((result, failure) -> {
            if (!waiter.settle()) {
                return;
            }
            boolean approved = failure == null && result != null
                    && result.action() == McpSchema.ElicitResult.Action.ACCEPT && result.content() != null
                    && Boolean.TRUE.equals(result.content().get("approve"));
            String reason = approved ? "confirmed by the client's user through elicitation"
                    : failure != null ? "the client did not answer"
                    : result == null ? "no answer"
                    : "answered " + result.action().name().toLowerCase(java.util.Locale.ROOT);
            ApprovalState to = approved ? ApprovalState.GRANTED : ApprovalState.DENIED;
            Instant at = clock.instant();
            Optional<ApprovalStore.Entry> entry = store.transition(request.id(), ApprovalState.PENDING, to,
                    List.of(approver), reason, at, approved ? at.plus(timeout) : null);
            entry.ifPresent(e -> changed(request, to, List.of(approver), reason, since(request)));
            waiter.outcome.complete(afterWait(entry, waiter));
        });
        CompletableFuture.delayedExecutor(timeout.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
            if (waiter.settle()) {
                waiter.outcome.complete(expired(request, waiter.waited()));
            }
        });
        return new Gated(request.id(), waiter.outcome);
    }

    // ---- housekeeping ----

    /**
     * Expires what is past its time (records each), withdrawing expired requests from the approvers.
     */
    public void sweep() {
        for (ApprovalStore.Entry entry : store.sweep(clock.instant())) {
            ApprovalRequest request = entry.request();
            CompletableFuture<ApprovalDecision> future = asked.remove(request.id());
            if (future != null) {
                future.cancel(true);
            }
            changed(request, ApprovalState.EXPIRED, List.of(GUARD), entry.state() == ApprovalState.GRANTED
                    ? "approved but not used within " + Texts.duration(timeout)
                    : "no decision within " + Texts.duration(timeout), since(request));
        }
    }

    /**
     * Returns how many approvals the store holds.
     *
     * @return the count
     */
    public int deferredCount() {
        return store.size();
    }
}
