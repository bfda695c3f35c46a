package io.mcpguard.approval;

import io.mcpguard.support.LogSafe;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A queue of pending approval requests with an API to list, approve and deny them: the out-of-band channel behind an
 * operator console, a chat-ops bot or a ticketing hook. Thread-safe. Requests the guard stops waiting for (timeout,
 * abandoned call) leave the queue.
 *
 * <pre>{@code
 * ApprovalQueue approvals = ApprovalQueue.create();
 * approvals.onRequest(request -> notifyOnCall(request));         // e.g. post to a channel
 * McpGuard.builder().approvals(approvals)...;
 * approvals.approve("A-1f2e...", "alice@example.com", "refund checked against the ticket");
 * }</pre>
 *
 * <p>Whoever calls {@link #approve} must have authenticated the approver: the queue trusts the id it is given (an
 * operator console authenticates its users). It refuses, and reports to {@link #onIgnoredAnswer} listeners, an
 * approval by the requesting agent itself or one of its principals, and counts each approver once: a rule that needs
 * two approvers is decided by the second distinct one. A denial by anyone else decides at once.
 */
public final class ApprovalQueue implements ApprovalHandler {

    private static final Logger log = LoggerFactory.getLogger(ApprovalQueue.class);

    /** The most requests held at once unless configured otherwise; more are denied at once. */
    public static final int DEFAULT_CAPACITY = 10_000;

    /** What became of one answer. */
    public enum Answer {
        /** The answer decided the request. */
        DECIDED,
        /** The approval was counted; more distinct approvers are needed. */
        COUNTED,
        /** Refused: the approver is the requesting agent or one of its principals. */
        SELF_APPROVAL,
        /** Refused: this approver already approved this request. */
        ALREADY_COUNTED,
        /** No such request is waiting (decided, expired, abandoned, or never made). */
        NOT_PENDING
    }

    /**
     * An answer the queue did not count, for the audit trail.
     *
     * @param request the request it concerned
     * @param approver who answered
     * @param answer why it was not counted
     */
    public record IgnoredAnswer(ApprovalRequest request, String approver, Answer answer) {
    }

    private final int capacity;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<ApprovalRequest>> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<IgnoredAnswer>> ignoredListeners = new CopyOnWriteArrayList<>();

    private static final class Pending {
        final ApprovalRequest request;
        final CompletableFuture<ApprovalDecision> decision;
        final List<String> approvers = new ArrayList<>();
        final List<String> reasons = new ArrayList<>();

        Pending(ApprovalRequest request, CompletableFuture<ApprovalDecision> decision) {
            this.request = request;
            this.decision = decision;
        }
    }

    private ApprovalQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * Creates a queue holding up to {@link #DEFAULT_CAPACITY} requests.
     *
     * @return the queue
     */
    public static ApprovalQueue create() {
        return new ApprovalQueue(DEFAULT_CAPACITY);
    }

    /**
     * Creates a queue holding up to {@code capacity} requests; further requests are denied at once.
     *
     * @param capacity at least 1
     * @return the queue
     */
    public static ApprovalQueue withCapacity(int capacity) {
        return new ApprovalQueue(capacity);
    }

    /**
     * Registers a callback for each new request (to notify approvers). Called on the requesting thread; exceptions
     * are logged.
     *
     * @param listener the callback
     * @return this queue
     */
    public ApprovalQueue onRequest(Consumer<ApprovalRequest> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Registers a callback for answers the queue refused (self-approvals, repeats); the guard registers its audit
     * trail here when this queue is its handler.
     *
     * @param listener the callback
     * @return this queue
     */
    public ApprovalQueue onIgnoredAnswer(Consumer<IgnoredAnswer> listener) {
        ignoredListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    @Override
    public CompletionStage<ApprovalDecision> requestApproval(ApprovalRequest request) {
        CompletableFuture<ApprovalDecision> decision = new CompletableFuture<>();
        if (pending.size() >= capacity) {
            return CompletableFuture.completedFuture(
                    ApprovalDecision.deny("mcp-guard", "the approval queue is full"));
        }
        pending.put(request.id(), new Pending(request, decision));
        decision.whenComplete((d, e) -> pending.remove(request.id()));
        for (Consumer<ApprovalRequest> listener : listeners) {
            try {
                listener.accept(request);
            } catch (RuntimeException e) {
                log.warn("Approval request listener failed for {}", request.id(), LogSafe.throwable(e));
            }
        }
        return decision;
    }

    /**
     * Lists the requests waiting for a decision, oldest first.
     *
     * @return a snapshot
     */
    public List<ApprovalRequest> pending() {
        List<ApprovalRequest> out = new ArrayList<>();
        pending.values().forEach(p -> out.add(p.request));
        out.sort(Comparator.comparing(ApprovalRequest::requestedAt).thenComparing(ApprovalRequest::id));
        return out;
    }

    /**
     * Returns one waiting request.
     *
     * @param id the approval id
     * @return the request, or empty if it is not waiting
     */
    public Optional<ApprovalRequest> get(String id) {
        Pending p = pending.get(id);
        return p == null ? Optional.empty() : Optional.of(p.request);
    }

    /**
     * Approves a waiting request on behalf of an authenticated approver.
     *
     * @param id the approval id
     * @param approver who approves
     * @param reason why
     * @return what became of the answer
     */
    public Answer approve(String id, String approver, String reason) {
        return answer(id, approver, reason, true);
    }

    /**
     * Denies a waiting request on behalf of an authenticated approver.
     *
     * @param id the approval id
     * @param approver who denies
     * @param reason why
     * @return what became of the answer
     */
    public Answer deny(String id, String approver, String reason) {
        return answer(id, approver, reason, false);
    }

    private Answer answer(String id, String approver, String reason, boolean approve) {
        if (approver == null || approver.isBlank()) {
            throw new IllegalArgumentException("an answer names its approver");
        }
        Objects.requireNonNull(reason, "reason");
        Pending p = id == null ? null : pending.get(id);
        if (p == null) {
            return Answer.NOT_PENDING;
        }
        ApprovalDecision decided;
        synchronized (p) {
            if (p.decision.isDone()) {
                return Answer.NOT_PENDING;
            }
            if (approve && p.request.agent().isSelf(approver)) {
                return ignored(p, approver, Answer.SELF_APPROVAL);
            }
            if (!approve) {
                decided = ApprovalDecision.deny(approver.strip(), reason);
            } else {
                String folded = approver.strip().toLowerCase(Locale.ROOT);
                for (String counted : p.approvers) {
                    if (counted.toLowerCase(Locale.ROOT).equals(folded)) {
                        return ignored(p, approver, Answer.ALREADY_COUNTED);
                    }
                }
                p.approvers.add(approver.strip());
                p.reasons.add(reason);
                if (p.approvers.size() < p.request.requiredApprovers()) {
                    return Answer.COUNTED;
                }
                decided = ApprovalDecision.approve(p.approvers, String.join("; ", p.reasons));
            }
        }
        pending.remove(id, p);
        return p.decision.complete(decided) ? Answer.DECIDED : Answer.NOT_PENDING;
    }

    private Answer ignored(Pending p, String approver, Answer answer) {
        log.warn("Approval {}: answer by '{}' ignored ({})", p.request.id(),
                io.mcpguard.support.LogSafe.text(approver), answer);
        IgnoredAnswer ignored = new IgnoredAnswer(p.request, approver, answer);
        for (Consumer<IgnoredAnswer> listener : ignoredListeners) {
            try {
                listener.accept(ignored);
            } catch (RuntimeException e) {
                log.warn("Ignored-answer listener failed for {}", p.request.id(), LogSafe.throwable(e));
            }
        }
        return answer;
    }
}
