package io.mcpguard.approval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
 * A queue of pending approval requests with an API to list, approve and deny them: the basis of an operator console
 * or a chat-ops bot. Thread-safe. Requests the guard stops waiting for (timeout, cancelled call) leave the queue.
 *
 * <pre>{@code
 * ApprovalQueue approvals = ApprovalQueue.create();
 * approvals.onRequest(request -> notifyOnCall(request));         // e.g. post to a channel
 * McpGuard.builder().approvals(approvals)...;
 * approvals.approve("A-1f2e...", "alice@example.com", "refund checked against the ticket");
 * }</pre>
 */
public final class ApprovalQueue implements ApprovalHandler {

    private static final Logger log = LoggerFactory.getLogger(ApprovalQueue.class);

    /** The most requests held at once unless configured otherwise; more are denied at once. */
    public static final int DEFAULT_CAPACITY = 10_000;

    private final int capacity;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<ApprovalRequest>> listeners = new CopyOnWriteArrayList<>();

    private record Pending(ApprovalRequest request, CompletableFuture<ApprovalDecision> decision) {
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
                log.warn("Approval request listener failed for {}", request.id(), e);
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
        pending.values().forEach(p -> out.add(p.request()));
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
        return p == null ? Optional.empty() : Optional.of(p.request());
    }

    /**
     * Approves a waiting request.
     *
     * @param id the approval id
     * @param approver who approves
     * @param reason why
     * @return {@code false} if no such request was waiting
     */
    public boolean approve(String id, String approver, String reason) {
        return decide(id, ApprovalDecision.approve(approver, reason));
    }

    /**
     * Denies a waiting request.
     *
     * @param id the approval id
     * @param approver who denies
     * @param reason why
     * @return {@code false} if no such request was waiting
     */
    public boolean deny(String id, String approver, String reason) {
        return decide(id, ApprovalDecision.deny(approver, reason));
    }

    private boolean decide(String id, ApprovalDecision decision) {
        Pending p = pending.remove(id);
        return p != null && p.decision().complete(decision);
    }
}
