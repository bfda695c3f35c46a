package io.mcpguard.internal;

import io.mcpguard.Decision;
import io.mcpguard.GuardEvent;
import io.mcpguard.Policy;
import io.mcpguard.ReasonCode;
import io.mcpguard.approval.ApprovalDecision;
import io.mcpguard.approval.ApprovalHandler;
import io.mcpguard.approval.ApprovalMode;
import io.mcpguard.approval.ApprovalRequest;
import io.mcpguard.approval.ApprovalRule;
import io.mcpguard.approval.Reversibility;
import io.mcpguard.identity.AgentIdentity;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

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
    private final Limits limits;
    private final Map<String, Deferred> deferred = new ConcurrentHashMap<>();

    /**
     * Creates the gate.
     *
     * @param policy the policy
     * @param handler who decides
     * @param mode how calls wait
     * @param timeout WAIT: how long a call is held; DEFER: how long a request, and then an approval, stays valid
     * @param pendingRetryHint DEFER: the retry hint on a pending answer
     * @param limits the limits (approval-request quota, clock, events, sweeping)
     */
    public Approvals(Policy policy, ApprovalHandler handler, ApprovalMode mode, Duration timeout,
            Duration pendingRetryHint, Limits limits) {
        this.policy = policy;
        this.handler = handler;
        this.mode = mode;
        this.timeout = timeout;
        this.pendingRetryHint = pendingRetryHint;
        this.limits = limits;
        limits.addSweep(this::dropExpired);
    }

    /**
     * What the gate knows of one tool: its reversibility and the approval rules that select it.
     *
     * @param reversibility the tool's reversibility after policy overrides
     * @param rules the approval rules selecting it (empty: the reversibility default applies)
     */
    public record ToolApproval(Reversibility reversibility, List<ApprovalRule> rules) {
    }

    /**
     * Resolves the approval facts of a tool.
     *
     * @param tool the tool's definition
     * @return its approval facts
     */
    public ToolApproval forTool(McpSchema.Tool tool) {
        Reversibility reversibility = policy.reversibilityOverrides().stream()
                .filter(o -> Matching.selects(o.tools(), tool)).map(Policy.ReversibilityOverride::reversibility)
                .findFirst().orElseGet(() -> Reversibility.of(tool));
        List<ApprovalRule> rules = new ArrayList<>();
        for (ApprovalRule rule : policy.approvalRules()) {
            if (Matching.selects(rule.tools(), tool)) {
                rules.add(rule);
            }
        }
        return new ToolApproval(reversibility, List.copyOf(rules));
    }

    /**
     * Returns why a call needs approval, or {@code null} if it does not.
     *
     * @param facts the tool's approval facts
     * @param arguments the call's arguments
     * @return the rule that fired, or {@code null}
     */
    public String reasonToAsk(ToolApproval facts, Map<String, Object> arguments) {
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

    private record Call(AgentIdentity agent, String tool, String canonical, String sha256, Reversibility reversibility,
            String rule, ApprovalRequest.Elicitor elicitor, String traceId) {

        String key() {
            return agent.agentId() + '\u0000' + tool + '\u0000' + sha256;
        }
    }

    private Call describe(AgentIdentity agent, McpSchema.Tool tool, Map<String, Object> arguments,
            ToolApproval facts, String rule, ApprovalRequest.Elicitor elicitor, String traceId) {
        String canonical = CanonicalJson.of(arguments == null ? Map.of() : arguments);
        return new Call(agent, tool.name(), canonical, CanonicalJson.sha256(canonical), facts.reversibility(), rule,
                elicitor, traceId == null ? "" : traceId);
    }

    /**
     * Synchronous gate: asks and waits (WAIT) or answers from the deferred store (DEFER).
     *
     * @param agent the verified caller
     * @param tool the tool
     * @param arguments the arguments
     * @param facts the tool's approval facts
     * @param rule why approval is needed
     * @param elicitor the channel to the client, or {@code null}
     * @param traceId the call's trace id, or the empty string
     * @return the outcome
     */
    public Outcome gateSync(AgentIdentity agent, McpSchema.Tool tool, Map<String, Object> arguments,
            ToolApproval facts, String rule, ApprovalRequest.Elicitor elicitor, String traceId) {
        Call call = describe(agent, tool, arguments, facts, rule, elicitor, traceId);
        if (mode == ApprovalMode.DEFER) {
            return deferredGate(call);
        }
        Decision.Deny limited = countRequest(call);
        if (limited != null) {
            return new Outcome(limited, null, 0);
        }
        ApprovalRequest request = newRequest(call);
        long start = System.nanoTime();
        CompletableFuture<ApprovalDecision> future = ask(request);
        try {
            ApprovalDecision decision = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return resolved(call, request, decision, null, start);
        } catch (TimeoutException e) {
            future.cancel(true);
            return resolved(call, request, null, e, start);
        } catch (ExecutionException e) {
            return resolved(call, request, null, e.getCause(), start);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            return resolved(call, request, null, e, start);
        }
    }

    /**
     * Asynchronous gate; see {@link #gateSync}.
     *
     * @param agent the verified caller
     * @param tool the tool
     * @param arguments the arguments
     * @param facts the tool's approval facts
     * @param rule why approval is needed
     * @param elicitor the channel to the client, or {@code null}
     * @param traceId the call's trace id, or the empty string
     * @return the outcome, when decided
     */
    public Mono<Outcome> gateAsync(AgentIdentity agent, McpSchema.Tool tool, Map<String, Object> arguments,
            ToolApproval facts, String rule, ApprovalRequest.Elicitor elicitor, String traceId) {
        Call call = describe(agent, tool, arguments, facts, rule, elicitor, traceId);
        if (mode == ApprovalMode.DEFER) {
            return Mono.just(deferredGate(call));
        }
        Decision.Deny limited = countRequest(call);
        if (limited != null) {
            return Mono.just(new Outcome(limited, null, 0));
        }
        ApprovalRequest request = newRequest(call);
        long start = System.nanoTime();
        CompletableFuture<ApprovalDecision> future = ask(request);
        return Mono.fromFuture(future, true)
                .timeout(timeout)
                .map(decision -> resolved(call, request, decision, null, start))
                .onErrorResume(e -> Mono.just(resolved(call, request, null, e, start)))
                .switchIfEmpty(Mono.fromSupplier(() -> resolved(call, request, null, null, start)));
    }

    private Decision.Deny countRequest(Call call) {
        long retry = limits.tryApprovalRequest(call.agent().agentId());
        if (retry == 0) {
            return null;
        }
        Duration retryAfter = Duration.ofNanos(retry);
        return new Decision.Deny(ReasonCode.APPROVAL_RATE_LIMITED, Decision.Step.APPROVAL,
                "Too many approval requests: at most " + policy.approvalRequestLimit() + " per "
                        + Texts.duration(policy.approvalRequestWindow()) + " for each agent. Retry in "
                        + Texts.duration(retryAfter) + ".",
                retryAfter);
    }

    private ApprovalRequest newRequest(Call call) {
        String id = "A-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE)
                + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE).substring(0, 8);
        ApprovalRequest request = new ApprovalRequest(id, call.agent(), call.tool(), call.canonical(), call.sha256(),
                call.reversibility(), call.rule(), call.traceId(), limits.now(), call.elicitor());
        limits.publish(new GuardEvent.ApprovalRequested(request.requestedAt(), call.agent().agentId(), call.tool(),
                id, call.sha256(), call.rule()));
        log.info("Approval {} requested: agent '{}' tool '{}' arguments sha256 {} ({})", id, call.agent().agentId(),
                call.tool(), call.sha256(), call.rule());
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

    private Outcome resolved(Call call, ApprovalRequest request, ApprovalDecision decision, Throwable failure,
            long startNanos) {
        Duration waited = Duration.ofNanos(System.nanoTime() - startNanos);
        boolean approved = decision != null && decision.approved();
        String approver = decision != null ? decision.approver() : "mcp-guard";
        String reason;
        ReasonCode code;
        if (decision != null) {
            reason = decision.reason();
            code = ReasonCode.APPROVAL_DENIED;
        } else if (failure instanceof TimeoutException) {
            reason = "no decision within " + Texts.duration(timeout);
            code = ReasonCode.APPROVAL_TIMEOUT;
        } else {
            reason = "the approval handler failed";
            code = ReasonCode.APPROVAL_DENIED;
            log.warn("Approval {} handler failed or answered nothing; denying (fail closed)", request.id(), failure);
        }
        limits.publish(new GuardEvent.ApprovalResolved(limits.now(), call.agent().agentId(), call.tool(),
                request.id(), approved, approver, reason, waited));
        log.info("Approval {} {} by '{}': {}", request.id(), approved ? "granted" : "refused", approver, reason);
        if (approved) {
            return Outcome.approved(request.id(), waited.toMillis());
        }
        return new Outcome(refusal(code, call.tool(), request.id(), reason), request.id(), waited.toMillis());
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

    private Outcome deferredGate(Call call) {
        String key = call.key();
        Instant now = limits.now();
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
                        return new Outcome(refusal(ReasonCode.APPROVAL_DENIED, call.tool(), existing.request.id(),
                                d == null ? "denied" : d.reason()), existing.request.id(), 0);
                    }
                    case USED -> {
                        deferred.remove(key, existing);
                        continue;
                    }
                    default -> {
                        return pending(call.tool(), existing.request.id());
                    }
                }
            }
            Decision.Deny limited = countRequest(call);
            if (limited != null) {
                return new Outcome(limited, null, 0);
            }
            ApprovalRequest request = newRequest(call);
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
            return pending(call.tool(), request.id());
        }
    }

    private void settle(Deferred entry, ApprovalDecision decision, Throwable failure) {
        boolean approved = failure == null && decision != null && decision.approved();
        entry.decision = decision;
        if (!entry.state.compareAndSet(State.PENDING, approved ? State.APPROVED : State.DENIED)) {
            return;
        }
        if (approved) {
            entry.expiresAt = limits.now().plus(timeout);
        }
        String approver = decision == null ? "mcp-guard" : decision.approver();
        String reason = decision != null ? decision.reason() : "the approval handler failed";
        if (decision == null) {
            log.warn("Approval {} handler failed or answered nothing; denying (fail closed)", entry.request.id(),
                    failure);
        }
        limits.publish(new GuardEvent.ApprovalResolved(limits.now(), entry.request.agent().agentId(),
                entry.request.tool(), entry.request.id(), approved, approver, reason,
                Duration.ofNanos(System.nanoTime() - entry.startNanos)));
        log.info("Approval {} {} by '{}': {}", entry.request.id(), approved ? "granted" : "refused", approver, reason);
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
            limits.publish(new GuardEvent.ApprovalResolved(limits.now(), entry.request.agent().agentId(),
                    entry.request.tool(), entry.request.id(), false, "mcp-guard",
                    "no decision within " + Texts.duration(timeout),
                    Duration.ofNanos(System.nanoTime() - entry.startNanos)));
        }
    }

    private void dropExpired() {
        Instant now = limits.now();
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
