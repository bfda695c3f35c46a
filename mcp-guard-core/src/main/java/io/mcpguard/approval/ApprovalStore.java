package io.mcpguard.approval;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where approval requests and their states live. The guard keeps them in memory by default
 * ({@link InMemoryApprovalStore}); replicas that must honour each other's approvals (an agent retrying a deferred call
 * on another replica, an approver's console serving several) share a store behind this interface.
 *
 * <p>Every state change is a compare-and-set: an approval is consumed at most once, however many replicas race for
 * it. Implementations must be thread-safe.
 */
public interface ApprovalStore {

    /**
     * One approval as stored.
     *
     * @param request what was asked
     * @param state where it stands
     * @param approvers who decided (empty while pending)
     * @param reason the last reason given (empty while pending)
     * @param changedAt when the state last changed
     * @param expiresAt when a pending request or an unused grant expires
     */
    record Entry(ApprovalRequest request, ApprovalState state, List<String> approvers, String reason,
            Instant changedAt, Instant expiresAt) {
        /**
         * Checks the parts.
         *
         * @param request the request
         * @param state the state
         * @param approvers the approvers
         * @param reason the reason
         * @param changedAt the change time
         * @param expiresAt the expiry
         */
        public Entry {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(state, "state");
            approvers = List.copyOf(approvers);
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(changedAt, "changedAt");
            Objects.requireNonNull(expiresAt, "expiresAt");
        }

        /**
         * Returns whether the entry has expired at the given time.
         *
         * @param now the time
         * @return {@code true} if it is past its expiry
         */
        public boolean expiredAt(Instant now) {
            return !expiresAt.isAfter(now);
        }
    }

    /**
     * For a deferred call: returns the latest unexpired entry for the action key if it is pending, granted or denied.
     *
     * @param actionKey what the agent can repeat: agent, tool and argument hash
     * @param now the guard's time
     * @return the open entry, or empty
     */
    Optional<Entry> open(String actionKey, Instant now);

    /**
     * For a deferred call: returns the open entry for the action key as {@link #open} does, or, if there is none,
     * stores the candidate as pending and returns it. Atomic per key: two racing calls get one request.
     *
     * @param actionKey what the agent can repeat: agent, tool and argument hash
     * @param candidate the request to store if none is open
     * @param now the guard's time
     * @return the open entry, or the stored candidate; empty if the store is full
     */
    Optional<Entry> createFor(String actionKey, ApprovalRequest candidate, Instant now);

    /**
     * For a waiting call: stores a new pending request.
     *
     * @param request the request
     * @param now the guard's time
     * @return the entry, or empty if the store is full
     */
    Optional<Entry> create(ApprovalRequest request, Instant now);

    /**
     * Returns an entry.
     *
     * @param id the approval id
     * @return the entry, or empty
     */
    Optional<Entry> get(String id);

    /**
     * Moves an entry from one state to another if it is in the first: the only way states change.
     *
     * @param id the approval id
     * @param from the state it must be in
     * @param to the new state
     * @param approvers who decided ({@code null}: unchanged)
     * @param reason why ({@code null}: unchanged)
     * @param at when
     * @param expiresAt the new expiry ({@code null}: unchanged)
     * @return the updated entry, or empty if it was not in {@code from}
     */
    Optional<Entry> transition(String id, ApprovalState from, ApprovalState to, List<String> approvers,
            String reason, Instant at, Instant expiresAt);

    /**
     * Expires what is past its expiry (pending and granted entries become {@link ApprovalState#EXPIRED}) and drops
     * entries that are final and old.
     *
     * @param now the guard's time
     * @return the entries this call expired, for the record
     */
    List<Entry> sweep(Instant now);

    /**
     * Returns the entries that are pending, oldest first.
     *
     * @return a snapshot
     */
    List<Entry> pending();

    /**
     * Returns how many entries are held.
     *
     * @return the count
     */
    int size();
}
