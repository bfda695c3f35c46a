package io.mcpguard.pipeline;

import io.mcpguard.Decision;
import java.util.concurrent.CompletableFuture;

/**
 * What the admission steps decided for one call: refused, ready to run (the {@link Call} itself, admitted, to settle
 * when the handler ends), or waiting for a person's decision.
 */
public sealed interface Start permits Start.Refused, Call, Start.Waiting {

    /**
     * The call is refused; its span and audit records are written.
     *
     * @param deny the refusal
     * @param approvalId the approval it concerns, or {@code null}
     * @param hidden whether it must be answered exactly as a missing name (unknown caller, out of scope)
     */
    record Refused(Decision.Deny deny, String approvalId, boolean hidden) implements Start {

        /** An unknown caller: answered as a missing name. */
        static final Refused UNKNOWN_AGENT = new Refused(new Decision.Deny(io.mcpguard.ReasonCode.UNKNOWN_AGENT,
                Decision.Step.IDENTITY, NotFound.UNKNOWN_TOOL_MESSAGE), null, true);

        /** A caller without a grant: answered as a missing name. */
        static final Refused OUT_OF_SCOPE = new Refused(new Decision.Deny(io.mcpguard.ReasonCode.OUT_OF_SCOPE,
                Decision.Step.SCOPE, NotFound.UNKNOWN_TOOL_MESSAGE), null, true);
    }

    /**
     * The call waits for an approver (the waiting mode); the future completes with {@link Refused} or {@link Ready}.
     *
     * @param next what follows the decision: {@link Refused} or the admitted {@link Call}
     * @param abandon called when the caller stops waiting: releases what the call holds
     */
    record Waiting(CompletableFuture<Start> next, Runnable abandon) implements Start {
    }
}
