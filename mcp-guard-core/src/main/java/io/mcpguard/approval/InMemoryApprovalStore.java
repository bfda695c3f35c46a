package io.mcpguard.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The default {@link ApprovalStore}: approvals in this JVM's memory, for one replica. Bounded: beyond its capacity new
 * requests are refused (the calls are denied) until the sweeper frees room. Final entries are kept for
 * {@link #RETAIN_FINAL} after their last change, so that a late retry is answered with what happened.
 */
public final class InMemoryApprovalStore implements ApprovalStore {

    /** The most entries held unless configured otherwise. */
    public static final int DEFAULT_CAPACITY = 10_000;

    /** How long final entries are kept after their last change. */
    public static final Duration RETAIN_FINAL = Duration.ofMinutes(10);

    private final int capacity;
    private final Map<String, Entry> byId = new LinkedHashMap<>();
    private final Map<String, String> byAction = new HashMap<>();
    private final Map<String, String> actionOf = new HashMap<>();

    private InMemoryApprovalStore(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * Creates a store holding up to {@link #DEFAULT_CAPACITY} entries.
     *
     * @return the store
     */
    public static InMemoryApprovalStore create() {
        return new InMemoryApprovalStore(DEFAULT_CAPACITY);
    }

    /**
     * Creates a store holding up to {@code capacity} entries.
     *
     * @param capacity at least 1
     * @return the store
     */
    public static InMemoryApprovalStore withCapacity(int capacity) {
        return new InMemoryApprovalStore(capacity);
    }

    @Override
    public synchronized Optional<Entry> open(String actionKey, Instant now) {
        String id = byAction.get(actionKey);
        Entry open = id == null ? null : byId.get(id);
        if (open != null && !open.expiredAt(now) && (open.state() == ApprovalState.PENDING
                || open.state() == ApprovalState.GRANTED || open.state() == ApprovalState.DENIED)) {
            return Optional.of(open);
        }
        return Optional.empty();
    }

    @Override
    public synchronized Optional<Entry> createFor(String actionKey, ApprovalRequest candidate, Instant now) {
        Optional<Entry> open = open(actionKey, now);
        if (open.isPresent()) {
            return open;
        }
        Optional<Entry> created = create(candidate, now);
        created.ifPresent(e -> {
            byAction.put(actionKey, e.request().id());
            actionOf.put(e.request().id(), actionKey);
        });
        return created;
    }

    @Override
    public synchronized Optional<Entry> create(ApprovalRequest request, Instant now) {
        if (byId.size() >= capacity) {
            return Optional.empty();
        }
        if (byId.containsKey(request.id())) {
            throw new IllegalStateException("approval id used twice: " + request.id());
        }
        Entry entry = new Entry(request, ApprovalState.PENDING, List.of(), "", now, request.expiresAt());
        byId.put(request.id(), entry);
        return Optional.of(entry);
    }

    @Override
    public synchronized Optional<Entry> get(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    @Override
    public synchronized Optional<Entry> transition(String id, ApprovalState from, ApprovalState to,
            List<String> approvers, String reason, Instant at, Instant expiresAt) {
        Entry entry = byId.get(id);
        if (entry == null || entry.state() != from) {
            return Optional.empty();
        }
        Entry next = new Entry(entry.request(), to, approvers == null ? entry.approvers() : approvers,
                reason == null ? entry.reason() : reason, at, expiresAt == null ? entry.expiresAt() : expiresAt);
        byId.put(id, next);
        return Optional.of(next);
    }

    @Override
    public synchronized List<Entry> sweep(Instant now) {
        List<Entry> expired = new ArrayList<>();
        List<String> drop = new ArrayList<>();
        for (var e : byId.entrySet()) {
            Entry entry = e.getValue();
            if ((entry.state() == ApprovalState.PENDING || entry.state() == ApprovalState.GRANTED)
                    && entry.expiredAt(now)) {
                Entry next = new Entry(entry.request(), ApprovalState.EXPIRED, entry.approvers(), entry.reason(), now,
                        entry.expiresAt());
                e.setValue(next);
                expired.add(entry);
            } else if ((entry.state().isFinal() || entry.state() == ApprovalState.DENIED)
                    && !entry.changedAt().plus(RETAIN_FINAL).isAfter(now)) {
                drop.add(e.getKey());
            }
        }
        for (String id : drop) {
            byId.remove(id);
            String action = actionOf.remove(id);
            if (action != null) {
                byAction.remove(action, id);
            }
        }
        return expired;
    }

    @Override
    public synchronized List<Entry> pending() {
        List<Entry> out = new ArrayList<>();
        for (Entry entry : byId.values()) {
            if (entry.state() == ApprovalState.PENDING) {
                out.add(entry);
            }
        }
        out.sort(Comparator.comparing((Entry e) -> e.request().requestedAt()).thenComparing(e -> e.request().id()));
        return out;
    }

    @Override
    public synchronized int size() {
        return byId.size();
    }
}
