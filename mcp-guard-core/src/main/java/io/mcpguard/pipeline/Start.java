package io.mcpguard.pipeline;

import io.mcpguard.Decision;
import java.util.concurrent.CompletableFuture;

/**
 * What the admission steps decided for one call: refused, ready to run, or waiting for a person's decision.
 */
public sealed interface Start permits Start.Refused, Start.Ready, Start.Waiting {

    /**
     * The call is refused; its span and audit records are written.
     *
     * @param deny the refusal
     * @param approvalId the approval it concerns, or {@code null}
     * @param hidden whether it must be answered exactly as a missing name (unknown caller, out of scope)
     */
    record Refused(Decision.Deny deny, String approvalId, boolean hidden) implements Start {
    }

    /**
     * The call may run; settle the ticket when it ends.
     *
     * @param ticket the ticket
     */
    record Ready(Ticket ticket) implements Start {
    }

    /**
     * The call waits for an approver (the waiting mode); the future completes with {@link Refused} or {@link Ready}.
     *
     * @param next what follows the decision
     * @param abandon called when the caller stops waiting: releases what the call holds
     */
    record Waiting(CompletableFuture<Start> next, Runnable abandon) implements Start {
    }
}
