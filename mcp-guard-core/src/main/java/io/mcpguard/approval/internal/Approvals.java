package io.mcpguard.approval.internal;

import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.GuardEventListener;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.approval.ApprovalDecision;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.identity.AgentIdentity;
import io.mcpguard.policy.internal.Rules;
import io.mcpguard.support.CanonicalJson;
import io.mcpguard.support.LogSafe;
import io.mcpguard.support.Texts;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approval gate: decides whether a call needs a human's approval, asks the handler, and binds the answer to the
 * exact call (agent, tool, SHA-256 of the canonical arguments), once. Fails closed. Unstable API.
 */
public final class Approvals {

    private static final Logger log = LoggerFactory.getLogger(Approvals.class);

    /** The {@code _meta} key of the approval id on pending and refused results. */
    public static final String META_APPROVAL_ID = "io.mcpguard/approvalId";

    private final Policy policy;
    private final ApprovalHandler handler;
    private final ApprovalMode mode;
    private final Duration timeout;
    private final Duration pendingRetryHint;
    private final Clock clock;
    private final GuardEventListener events;
    private final Map<String, Deferred> deferred = new ConcurrentHashMap<>();

    /**
     * Creates the gate.
     *
     * @param policy the policy
     * @param handler who decides
     * @param mode how calls wait
     * @param timeout WAIT: how long a call is held; DEFER: how long a request, and then an approval, stays valid
     * @param pendingRetryHint DEFER: the retry hint on a pending answer
     * @param clock the guard's clock
     * @param events where requests and decisions are published
     */
    public Approvals(Policy policy, ApprovalHandler handler, ApprovalMode mode, Duration timeout,
            Duration pendingRetryHint, Clock clock, GuardEventListener events) {
        this.policy = policy;
        this.handler = handler;
        this.mode = mode;
        this.timeout = timeout;
        this.pendingRetryHint = pendingRetryHint;
        this.clock = clock;
        this.events = events;
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
     * What the gate knows of one tool: its reversibility and the approval rules that select it.
     *
     * @param reversibility the tool's reversibility after policy overrides
     * @param rules the approval rules selecting it (empty: the reversibility default applies)
     * @param undecidable why the tool's rules could not be read (a matcher threw): every call then needs approval;
     *        {@code null} normally
     */
    public record ToolApproval(Reversibility reversibility, List<ApprovalRule> rules, String undecidable) {
    }

    /**
     * Resolves the approval facts of a tool. A matcher that throws never exempts: an override whose matcher fails
     * makes the tool irreversible, and an approval rule whose matcher fails makes every call need approval.
     *
     * @param tool the tool's definition
     * @return its approval facts
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
                rules.add(rule);
            }
        }
        return new ToolApproval(reversibility, List.copyOf(rules), undecidable);
    }

    /**
     * Returns why a call needs approval, or {@code null} if it does not.
     *
     * @param facts the tool's approval facts
     * @param arguments the call's arguments
     * @return the rule that fired, or {@code null}
     */
    public String reasonToAsk(ToolApproval facts, Map<String, Object> arguments) {
        if (facts.undecidable() != null) {
            return facts.undecidable();
        }
        if (!facts.rules().isEmpty()) {
            for (ApprovalRule rule : facts.rules()) {
                if (rule.needsApproval(arguments)) {
                    return rule.canonical();
                }
            }
            return null;
        }
        if (facts.reversibility() == Reversibility.IRREVERSIBLE && policy.irreversibleNeedsApproval()) {
            return "irreversible tools need approval";
        }
        return null;
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
     * What the gate needs to know of one call.
     *
     * @param agent the verified caller
     * @param tool the tool
     * @param arguments the arguments
     * @param facts the tool's approval facts
     * @param rule why approval is needed
     * @param elicitor the channel to the client, or {@code null}
     * @param traceId the call's trace id, or the empty string
     * @param allowance counts a new approval request against the agent's limit: {@code null} if allowed
     */
    public record Call(AgentIdentity agent, McpSchema.Tool tool, Map<String, Object> arguments, ToolApproval facts,
            String rule, ApprovalRequest.Elicitor elicitor, String traceId, Supplier<Decision.Deny> allowance) {
    }

    private record Bound(Call call, String canonical, String sha256) {

        String key() {
            return call.agent().agentId() + '\u0000' + call.tool().name() + '\u0000' + sha256;
        }
    }

    /**
     * Decides a call that needs approval. In DEFER mode the answer is complete at once (pending, approved once, or
     * denied); in WAIT mode it completes when the approver decides or the timeout denies.
     *
     * @param call the call
     * @return the outcome, never failing
     */
    public CompletableFuture<Outcome> gate(Call call) {
        Bound bound;
        try {
            String canonical = CanonicalJson.of(call.arguments() == null ? Map.of() : call.arguments());
            bound = new Bound(call, canonical, CanonicalJson.sha256(canonical));
        } catch (RuntimeException e) {
            log.warn("Arguments of a call to '{}' cannot be submitted for approval; denying (fail closed)",
                    LogSafe.text(call.tool().name()), e);
            return CompletableFuture.completedFuture(new Outcome(new Decision.Deny(ReasonCode.APPROVAL_DENIED,
                    Decision.Step.APPROVAL, "Call to '" + call.tool().name()
                            + "' was not approved: its arguments cannot be submitted for approval."), null, 0));
        }
        if (mode == ApprovalMode.DEFER) {
            return CompletableFuture.completedFuture(deferredGate(bound));
        }
        Decision.Deny limited = call.allowance().get();
        if (limited != null) {
            return CompletableFuture.completedFuture(new Outcome(limited, null, 0));
        }
        ApprovalRequest request = newRequest(bound);
        long start = System.nanoTime();
        CompletableFuture<ApprovalDecision> decision = ask(request);
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
        decision.whenComplete((d, failure) -> {
            if (settled.compareAndSet(false, true)) {
                outcome.complete(resolved(bound, request, d, failure, start));
            }
        });
        CompletableFuture.delayedExecutor(timeout.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
            if (settled.compareAndSet(false, true)) {
                decision.cancel(true); // the handler's request is withdrawn before the caller hears of the timeout
                outcome.complete(resolved(bound, request, null, new java.util.concurrent.TimeoutException(), start));
            }
        });
        return outcome;
    }

    private ApprovalRequest newRequest(Bound bound) {
        Call call = bound.call();
        String id = "A-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE)
                + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE).substring(0, 8);
        ApprovalRequest request = new ApprovalRequest(id, call.agent(), call.tool().name(), bound.canonical(),
                bound.sha256(), call.facts().reversibility(), call.rule(), call.traceId() == null ? ""
                        : call.traceId(), clock.instant(), call.elicitor());
        events.onEvent(new GuardEvent.ApprovalRequested(request.requestedAt(), call.agent().agentId(),
                call.tool().name(), id, bound.sha256(), call.rule()));
        log.info("Approval {} requested: agent '{}' tool '{}' arguments sha256 {} ({})", id,
                LogSafe.text(call.agent().agentId()), LogSafe.text(call.tool().name()), bound.sha256(),
                LogSafe.text(call.rule()));
        return request;
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

    private Outcome resolved(Bound bound, ApprovalRequest request, ApprovalDecision decision, Throwable failure,
            long startNanos) {
        Duration waited = Duration.ofNanos(System.nanoTime() - startNanos);
        boolean approved = failure == null && decision != null && decision.approved();
        String approver = decision != null && failure == null ? decision.approver() : "mcp-guard";
        String reason;
        ReasonCode code;
        if (decision != null && failure == null) {
            reason = decision.reason();
            code = ReasonCode.APPROVAL_DENIED;
        } else if (failure instanceof java.util.concurrent.TimeoutException) {
            reason = "no decision within " + Texts.duration(timeout);
            code = ReasonCode.APPROVAL_TIMEOUT;
        } else {
            reason = "the approval handler failed";
            code = ReasonCode.APPROVAL_DENIED;
            log.warn("Approval {} handler failed or answered nothing; denying (fail closed)", request.id(), failure);
        }
        String tool = bound.call().tool().name();
        events.onEvent(new GuardEvent.ApprovalResolved(clock.instant(), bound.call().agent().agentId(), tool,
                request.id(), approved, approver, reason, waited));
        log.info("Approval {} {} by '{}': {}", request.id(), approved ? "granted" : "refused", LogSafe.text(approver),
                LogSafe.text(reason));
        if (approved) {
            return Outcome.approved(request.id(), waited.toMillis());
        }
        return new Outcome(refusal(code, tool, request.id(), reason), request.id(), waited.toMillis());
    }

    private static Decision.Deny refusal(ReasonCode code, String tool, String approvalId, String reason) {
        String message = code == ReasonCode.APPROVAL_TIMEOUT
                ? "Call to '" + tool + "' was not approved in time (" + reason + "; approval " + approvalId + ")."
                : "Call to '" + tool + "' was not approved: " + reason + " (approval " + approvalId + ").";
        return new Decision.Deny(code, Decision.Step.APPROVAL, message);
    }

    // ---- DEFER: answer at once; the agent retries the identical call ----

    private enum State { PENDING, APPROVED, DENIED, USED }

    private static final class Deferred {
        final ApprovalRequest request;
        final AtomicReference<State> state = new AtomicReference<>(State.PENDING);
        final long startNanos = System.nanoTime();
        volatile ApprovalDecision decision;
        volatile Instant expiresAt;
        volatile CompletableFuture<ApprovalDecision> future;

        Deferred(ApprovalRequest request, Instant expiresAt) {
            this.request = request;
            this.expiresAt = expiresAt;
        }
    }

    private Outcome deferredGate(Bound bound) {
        String key = bound.key();
        String tool = bound.call().tool().name();
        Instant now = clock.instant();
        while (true) {
            Deferred existing = deferred.get(key);
            if (existing != null && !existing.expiresAt.isAfter(now)) {
                if (deferred.remove(key, existing)) {
                    expire(existing);
                }
                continue;
            }
            if (existing != null) {
                switch (existing.state.get()) {
                    case APPROVED -> {
                        if (existing.state.compareAndSet(State.APPROVED, State.USED)) {
                            deferred.remove(key, existing);
                            log.info("Approval {} used by the identical call", existing.request.id());
                            return Outcome.approved(existing.request.id(), 0);
                        }
                        continue;
                    }
                    case DENIED -> {
                        deferred.remove(key, existing);
                        ApprovalDecision d = existing.decision;
                        return new Outcome(refusal(ReasonCode.APPROVAL_DENIED, tool, existing.request.id(),
                                d == null ? "denied" : d.reason()), existing.request.id(), 0);
                    }
                    case USED -> {
                        deferred.remove(key, existing);
                        continue;
                    }
                    default -> {
                        return pending(tool, existing.request.id());
                    }
                }
            }
            Decision.Deny limited = bound.call().allowance().get();
            if (limited != null) {
                return new Outcome(limited, null, 0);
            }
            ApprovalRequest request = newRequest(bound);
            Deferred created = new Deferred(request, now.plus(timeout));
            if (deferred.putIfAbsent(key, created) != null) {
                continue;
            }
            CompletableFuture<ApprovalDecision> future = ask(request);
            created.future = future;
            future.whenComplete((decision, failure) -> settle(created, decision, failure));
            if (future.isDone()) {
                // A handler that decides at once (a rule engine, the deny-all default) answers this very call.
                continue;
            }
            return pending(tool, request.id());
        }
    }

    private void settle(Deferred entry, ApprovalDecision decision, Throwable failure) {
        boolean approved = failure == null && decision != null && decision.approved();
        entry.decision = decision;
        if (!entry.state.compareAndSet(State.PENDING, approved ? State.APPROVED : State.DENIED)) {
            return;
        }
        if (approved) {
            entry.expiresAt = clock.instant().plus(timeout);
        }
        String approver = decision == null ? "mcp-guard" : decision.approver();
        String reason = decision != null ? decision.reason() : "the approval handler failed";
        if (decision == null) {
            log.warn("Approval {} handler failed or answered nothing; denying (fail closed)", entry.request.id(),
                    failure);
        }
        events.onEvent(new GuardEvent.ApprovalResolved(clock.instant(), entry.request.agent().agentId(),
                entry.request.tool(), entry.request.id(), approved, approver, reason,
                Duration.ofNanos(System.nanoTime() - entry.startNanos)));
        log.info("Approval {} {} by '{}': {}", entry.request.id(), approved ? "granted" : "refused",
                LogSafe.text(approver), LogSafe.text(reason));
    }

    private Outcome pending(String tool, String approvalId) {
        Decision.Deny deny = new Decision.Deny(ReasonCode.APPROVAL_PENDING, Decision.Step.APPROVAL,
                "Call to '" + tool + "' needs a human's approval (approval " + approvalId + "). Retry the identical "
                        + "call once it is approved; other arguments need their own approval.",
                pendingRetryHint);
        return new Outcome(deny, approvalId, 0);
    }

    private void expire(Deferred entry) {
        if (entry.state.compareAndSet(State.PENDING, State.DENIED)) {
            CompletableFuture<ApprovalDecision> future = entry.future;
            if (future != null) {
                future.cancel(true);
            }
            events.onEvent(new GuardEvent.ApprovalResolved(clock.instant(), entry.request.agent().agentId(),
                    entry.request.tool(), entry.request.id(), false, "mcp-guard",
                    "no decision within " + Texts.duration(timeout),
                    Duration.ofNanos(System.nanoTime() - entry.startNanos)));
        }
    }

    /** Drops expired deferred approvals (denying those still pending). */
    public void sweep() {
        Instant now = clock.instant();
        for (var entry : deferred.entrySet()) {
            if (!entry.getValue().expiresAt.isAfter(now) && deferred.remove(entry.getKey(), entry.getValue())) {
                expire(entry.getValue());
            }
        }
    }

    /**
     * Returns how many deferred approvals are held (pending, or approved and not yet used).
     *
     * @return the count
     */
    public int deferredCount() {
        return deferred.size();
    }
}
